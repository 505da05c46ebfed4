"""Runs a batch on a QThread and reports rows and progress with signals (queued to the UI thread)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from desktop_app.core.batch import classify_files
from desktop_app.core.inference import ModelSession


class ClassifyWorker(QThread):
    """Classifies ``paths`` off the UI thread; :meth:`cancel` stops it after the current chunk."""

    row_ready = Signal(object)  # BatchRow
    progress = Signal(int, int)  # done, total
    failed = Signal(str)  # an unexpected error stopped the whole batch

    def __init__(self, session: ModelSession, paths: Sequence[Path], parent: object = None) -> None:
        super().__init__(parent)
        self.session = session
        self.paths = list(paths)
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def run(self) -> None:
        try:
            for row in classify_files(
                self.session, self.paths, cancel=self.cancel_event, on_progress=self.progress.emit
            ):
                self.row_ready.emit(row)
        except Exception as error:  # noqa: BLE001 - reported to the user, the app keeps running
            self.failed.emit(f"{type(error).__name__}: {error}")
