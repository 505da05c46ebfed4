"""The PySide6 reference-leak workaround keeps long sessions from aborting the interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Many more leaking calls than None/True have references in a fresh interpreter (a few thousand).
STRESS = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
{setup}
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QApplication, QLabel

class Emitter(QThread):
    value = Signal(int)
    def run(self):
        for i in range(60_000):
            self.value.emit(i)

app = QApplication([])
label = QLabel()
for i in range(60_000):
    label.setText("x")  # a void method
    app.processEvents()
received = []
emitter = Emitter()
emitter.value.connect(received.append)
emitter.start()
emitter.wait()
app.processEvents()
print(len(received))
"""


def run_stress(setup: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", STRESS.format(setup=setup)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_long_session_of_void_calls_and_emits_does_not_abort() -> None:
    done = run_stress("import desktop_app.ui")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "60000"


def test_probe_reports_what_it_sees() -> None:
    from desktop_app.ui import pyside_fixes

    lost = pyside_fixes.leaked_references()
    assert set(lost) == {"None", "True"}
    # Either PySide6 leaks (and the workaround is active) or it does not (and nothing needed changing).
    assert pyside_fixes.is_installed() or max(lost.values()) < 8
