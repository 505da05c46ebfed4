"""The app controller: owns the model session, runs batches on a worker, keeps the results.

Qt signals tell the views what changed; the views never touch the core directly except through here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Qt, Signal

from desktop_app.core.batch import BatchRow, write_csv
from desktop_app.core.imageio import (
    SUPPORTED_FORMATS_TEXT,
    ImageLoadError,
    frame_count,
    iter_image_files,
    load_image,
)
from desktop_app.core.inference import ModelError, ModelSession
from desktop_app.core.model_card import ModelCard
from desktop_app.ui.results_table import ResultsModel
from desktop_app.ui.worker import ClassifyWorker

#: Longest side of the image kept for display (the model gets its own resized copy).
DISPLAY_MAX_SIDE = 1600


class AppController(QObject):
    """Model loading, batch classification with cancel, CSV export."""

    model_loaded = Signal(object)  # ModelSession
    model_failed = Signal(str)  # user-facing message
    batch_started = Signal(int)  # number of files
    row_added = Signal(int)  # position of the new row in arrival order
    progress = Signal(int, int)  # done, total
    batch_finished = Signal(bool)  # True when cancelled
    notice = Signal(str)  # short message for the status bar

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: ModelSession | None = None
        self.model_error: str | None = None
        self.results = ResultsModel()
        self._worker: ClassifyWorker | None = None
        self._total = 0

    # --- model ---------------------------------------------------------------------------------------------------
    def load_model(self, path: str | os.PathLike[str]) -> bool:
        """Open a model (the UI's only way to open one); on failure keep running without a model."""
        self.cancel(wait=True)
        try:
            session = ModelSession.open(path)
        except ModelError as error:
            self.session, self.model_error = None, str(error)
            self.results.reset(())
            self.model_failed.emit(str(error))
            return False
        self.session, self.model_error = session, None
        self.results.reset(session.labels)
        self.model_loaded.emit(session)
        return True

    def model_card(self) -> ModelCard | None:
        return ModelCard.from_info(self.session.info) if self.session is not None else None

    # --- batches -------------------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._worker is not None and self._worker.isRunning()

    def open_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Classify files and folders (replacing the current results); returns the number of files queued."""
        if self.session is None:
            self.notice.emit("No model loaded — use File › Open model… first.")
            return 0
        files = list(iter_image_files(paths))
        if not files:
            self.notice.emit(f"No image files found (supported: {SUPPORTED_FORMATS_TEXT}).")
            return 0
        self.cancel(wait=True)
        self.results.reset(self.session.labels)
        worker = ClassifyWorker(self.session, files, self)
        queued = Qt.ConnectionType.QueuedConnection  # slots run on the UI thread
        worker.row_ready.connect(lambda row, w=worker: self._on_row(w, row), queued)
        worker.progress.connect(lambda done, total, w=worker: self._on_progress(w, done, total), queued)
        worker.failed.connect(lambda message, w=worker: self._on_failed(w, message), queued)
        worker.finished.connect(lambda w=worker: self._on_finished(w), queued)
        self._worker, self._total = worker, len(files)
        self.batch_started.emit(len(files))
        worker.start()
        return len(files)

    def cancel(self, wait: bool = False) -> None:
        """Ask the running batch to stop (rows already done are kept)."""
        worker = self._worker
        if worker is not None and worker.isRunning():
            worker.cancel()
            if wait:
                worker.wait()

    def rows(self) -> list[BatchRow]:
        return self.results.rows()

    def _on_row(self, worker: ClassifyWorker, row: BatchRow) -> None:
        if worker is self._worker:
            self.results.add_row(row)
            self.row_added.emit(self.results.rowCount() - 1)

    def _on_progress(self, worker: ClassifyWorker, done: int, total: int) -> None:
        if worker is self._worker:
            self.progress.emit(done, total)

    def _on_failed(self, worker: ClassifyWorker, message: str) -> None:
        if worker is self._worker:
            self.notice.emit(f"Batch stopped by an unexpected error: {message}")

    def _on_finished(self, worker: ClassifyWorker) -> None:
        if worker is self._worker:
            self._worker = None
            self.batch_finished.emit(worker.cancelled)
        worker.deleteLater()

    # --- results -------------------------------------------------------------------------------------------------
    def export_csv(self, path: str | os.PathLike[str]) -> int:
        """Write the current results to ``path``; returns the number of rows."""
        labels = self.session.labels if self.session is not None else ()
        return write_csv(self.rows(), labels, path)

    def classify_frame(self, position: int, frame: int) -> BatchRow:
        """Classify another frame of the multi-frame file in row ``position`` and put the result in that row."""
        row = self.results.row_at(position)
        if self.session is None:
            return row
        try:
            prediction = self.session.classify([load_image(row.path, frame=frame)])[0]
            new_row = BatchRow(row.index, row.path, prediction=prediction, frame=frame)
        except ImageLoadError as error:
            new_row = BatchRow(row.index, row.path, error=str(error), frame=frame)
        self.results.replace_row(position, new_row)
        return new_row

    @staticmethod
    def frame_count(path: str | os.PathLike[str]) -> int:
        """Frames in the file (several for a DICOM cine loop or an animated GIF); 1 if it cannot be read."""
        try:
            return frame_count(Path(path))
        except ImageLoadError:
            return 1

    @staticmethod
    def display_image(path: str | os.PathLike[str], frame: int = 0) -> Image.Image:
        """Load a file for display (the same loader the model uses), at most DISPLAY_MAX_SIDE pixels."""
        image = load_image(Path(path), frame=frame)
        if max(image.size) > DISPLAY_MAX_SIDE:
            image.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE), Image.Resampling.LANCZOS)
        return image
