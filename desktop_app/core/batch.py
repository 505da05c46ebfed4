"""Classify many files: decoding overlapped with inference, per-file error rows, cancel, CSV/JSON rows.

The GUI worker and the CLI both call :func:`classify_files`, so they give the same numbers.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.core.imageio import ImageLoadError, load_image, quality_warnings
from desktop_app.core.inference import DEFAULT_CHUNK_SIZE, ModelSession, Prediction
from desktop_app.core.preprocessing import preprocess

#: Threads decoding files while the model runs (onnxruntime releases the GIL, Pillow mostly does too).
DEFAULT_DECODE_WORKERS = 2

STATUS_OK = "ok"
STATUS_ERROR = "error"


@dataclass(frozen=True, eq=False)
class BatchRow:
    """One file's outcome: a prediction, or an error message saying why the file could not be classified."""

    index: int
    path: Path
    prediction: Prediction | None = None
    error: str | None = None
    #: Frame of a multi-frame file (DICOM cine, animated GIF) that was classified; 0 = the first.
    frame: int = 0
    #: Why a classified image's result may be unreliable (tiny or extremely elongated image), from the loader.
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return STATUS_OK if self.prediction is not None else STATUS_ERROR

    @property
    def ok(self) -> bool:
        return self.prediction is not None


ProgressCallback = Callable[[int, int], None]


def _decode(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, tuple[str, ...]]:
    """File -> (model input [H, W, 3], quality notes); raises ImageLoadError for unreadable files."""
    image = load_image(path)
    return preprocess(image, size), tuple(quality_warnings(image))


def classify_files(
    session: ModelSession,
    paths: Sequence[str | os.PathLike[str]],
    cancel: threading.Event | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    decode_workers: int = DEFAULT_DECODE_WORKERS,
    on_progress: ProgressCallback | None = None,
) -> Iterator[BatchRow]:
    """Yield one :class:`BatchRow` per path, in order, until done or ``cancel`` is set.

    Files are decoded on a small thread pool one chunk ahead of the model, so decoding and inference overlap
    and memory stays bounded (about two chunks of decoded images). An unreadable file becomes an error row
    and the batch goes on. ``on_progress(done, total)`` is called after each chunk.
    """
    paths = [Path(p) for p in paths]
    total = len(paths)
    chunk_size = max(1, int(chunk_size))
    cancel = cancel or threading.Event()
    windows = [range(start, min(start + chunk_size, total)) for start in range(0, total, chunk_size)]
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, decode_workers), thread_name_prefix="decode") as pool:
        pending: deque[list[Future[tuple[np.ndarray, tuple[str, ...]]]]] = deque()
        next_window = 0

        def submit_next() -> None:
            nonlocal next_window
            if next_window < len(windows) and not cancel.is_set():
                window = windows[next_window]
                pending.append([pool.submit(_decode, paths[i], session.input_size) for i in window])
                next_window += 1

        submit_next()
        submit_next()  # one chunk of lookahead: decode k+1 while the model runs k
        try:
            for window in windows:
                if cancel.is_set():
                    return
                futures = pending.popleft()
                submit_next()
                arrays: list[np.ndarray] = []
                outcomes: list[tuple[str, ...] | str] = []  # an error message, or the quality notes
                for future, index in zip(futures, window):
                    try:
                        array, notes = future.result()
                    except ImageLoadError as error:
                        outcomes.append(str(error))
                    except Exception as error:  # noqa: BLE001 - any decode bug must fail the row only
                        outcomes.append(
                            f"{paths[index].name}: could not be read ({type(error).__name__}: {error})"
                        )
                    else:
                        arrays.append(array)
                        outcomes.append(notes)
                if cancel.is_set():
                    return
                predictions = iter(session.run(np.stack(arrays), chunk_size) if arrays else [])
                for outcome, index in zip(outcomes, window):
                    if isinstance(outcome, str):
                        yield BatchRow(index, paths[index], error=outcome)
                    else:
                        yield BatchRow(index, paths[index], prediction=next(predictions), notes=outcome)
                done += len(window)
                if on_progress is not None:
                    on_progress(done, total)
        finally:
            for futures in pending:
                for future in futures:
                    future.cancel()


def probability_column(label: str) -> str:
    """CSV/JSON column name of one class probability."""
    return f"p_{label}"


def csv_columns(labels: Sequence[str]) -> list[str]:
    """Header of the results CSV: file, predicted class, one probability per label, OOD, status, message."""
    return [
        "file",
        "predicted",
        "confidence",
        *(probability_column(label) for label in labels),
        "ood_score",
        "ood_flag",
        "status",
        "message",
    ]


def row_record(row: BatchRow, labels: Sequence[str]) -> dict[str, object]:
    """One row as a flat dict (the single definition behind the CSV, the JSON and the GUI table)."""
    record: dict[str, object] = {column: None for column in csv_columns(labels)}
    record["file"] = str(row.path)
    record["status"] = row.status
    record["message"] = row.error or ""
    prediction = row.prediction
    if prediction is not None:
        record["predicted"] = prediction.predicted_label
        record["confidence"] = prediction.confidence
        for label, probability in prediction.probability_by_label().items():
            record[probability_column(label)] = probability
        record["ood_score"] = prediction.ood_score
        record["ood_flag"] = prediction.is_ood
        messages = list(row.notes)
        if prediction.is_ood:
            messages.insert(0, f"image {prediction.ood_reason} (out of distribution)")
        if prediction.decided_by_cost:
            messages.append(f"answer by the model's cost-weighted rule; {prediction.most_probable_label} is more "
                            "probable")
        record["message"] = "; ".join(messages)
    return record


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def write_csv(
    rows: Iterable[BatchRow], labels: Sequence[str], destination: str | os.PathLike[str] | io.TextIOBase
) -> int:
    """Write the results CSV to a path or text stream; returns the number of rows written."""
    if isinstance(destination, (str, os.PathLike)):
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            return write_csv(rows, labels, handle)
    writer = csv.writer(destination, lineterminator="\n")
    writer.writerow(csv_columns(labels))
    count = 0
    for row in rows:
        record = row_record(row, labels)
        writer.writerow([_csv_value(record[column]) for column in csv_columns(labels)])
        count += 1
    return count
