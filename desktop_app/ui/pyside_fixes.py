"""Workarounds for bugs in the pinned PySide6, each probed at runtime so it switches itself off once fixed.

PySide6 6.12.0 on CPython 3.11: ``SignalInstance.emit()`` returns ``True`` without taking a reference, so every
``signal.emit(...)`` made from Python drops one reference to ``True``. After a few thousand emits (a 500-image
batch sends more than that) the interpreter aborts with "Fatal Python error: bool_dealloc". The fix wraps
``emit`` to give the reference back. On CPython >= 3.12 ``True`` is immortal and the probe finds nothing to fix.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBE_EMITS = 16
_installed = False


class _Probe(QObject):
    ping = Signal()


def emit_leaks_true_reference() -> bool:
    """True when a Python-side ``emit()`` loses a reference to ``True`` (measured, not guessed)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        _give_back(True, lost)
    return lost >= _PROBE_EMITS * 3 // 4


def _give_back(value: object, count: int = 1) -> None:
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))


def install() -> bool:
    """Patch ``SignalInstance.emit`` if the leak is present; returns whether the patch is active."""
    global _installed
    if _installed:
        return True
    if not emit_leaks_true_reference():
        return False
    original_emit = SignalInstance.emit

    def emit(self: SignalInstance, *args: object) -> object:
        result = original_emit(self, *args)
        if result is True or result is False:
            _give_back(result)  # an extra reference to a bool singleton is harmless; a missing one is fatal
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _installed = True
    return True
