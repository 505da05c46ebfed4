"""Workaround for a reference-counting bug in the pinned PySide6, probed at runtime so it switches off once fixed.

PySide6 6.12.0 on CPython 3.11 returns ``None`` from void methods (``setText``, ``processEvents``, ...) and
``True`` from ``SignalInstance.emit()`` without taking a reference. Each such call made from Python drops one
reference to ``None``/``True``; a few thousand calls later (a 500-image batch, or minutes of use) CPython
aborts with "Fatal Python error: none_dealloc" or "bool_dealloc".

The fix gives ``None``, ``True`` and ``False`` a reserve of 2**40 references, which makes them effectively
immortal, as CPython 3.12 does for them (PEP 683). Extra references to these singletons are harmless: they are
never freed while the interpreter runs. Nothing is changed when the probe finds no leak (a fixed PySide6, or
CPython >= 3.12, where the singletons are immortal anyway).
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

#: References added to each singleton: at one leaked reference per call, more calls than a session can make.
RESERVE = 1 << 40
_PROBE_CALLS = 64
_SINGLETONS = (None, True, False)
_installed = False


class _Probe(QObject):
    ping = Signal()


def leaked_references() -> dict[str, int]:
    """References to None and True lost by ``_PROBE_CALLS`` void calls and emits (0 and 0 when fixed)."""
    probe = _Probe()
    none_before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    none_lost = none_before - sys.getrefcount(None)
    true_before = sys.getrefcount(True)
    for _ in range(_PROBE_CALLS):
        probe.ping.emit()
    true_lost = true_before - sys.getrefcount(True)
    return {"None": none_lost, "True": true_lost}


def _refcount_cell(obj: object) -> ctypes.c_ssize_t:
    """The object's ``ob_refcnt`` (first field of every object in a release build of CPython)."""
    return ctypes.c_ssize_t.from_address(id(obj))


def install() -> bool:
    """Give the singletons their reserve if the leak is present; returns whether the workaround is active."""
    global _installed
    if _installed:
        return True
    if (
        sys.implementation.name != "cpython"
        or sys.version_info >= (3, 12)
        or hasattr(sys, "gettotalrefcount")
    ):
        return False  # immortal singletons, or a debug build whose object layout differs
    lost = leaked_references()
    if max(lost.values()) < _PROBE_CALLS // 2:
        return False
    for singleton in _SINGLETONS:
        cell = _refcount_cell(singleton)
        cell.value += RESERVE + _PROBE_CALLS  # the reserve, plus what the probe itself took
    _installed = True
    return True


def is_installed() -> bool:
    return _installed
