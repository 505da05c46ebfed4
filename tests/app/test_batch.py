"""Batch classification: order, error rows, overlap with decoding, cancel, CSV."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np

from desktop_app.core.batch import classify_files, csv_columns, write_csv
from desktop_app.core.imageio import iter_image_files, load_image
from desktop_app.core.inference import ModelSession
from tests.app.conftest import write_images


def test_rows_in_order_with_error_rows_and_same_numbers_as_classify(
    tiny_model: Path, image_folder: Path
) -> None:
    session = ModelSession.open(tiny_model)
    files = list(iter_image_files([image_folder]))
    assert [f.name for f in files] == [
        "case_000.png",
        "case_001.png",
        "case_002.png",
        "corrupt.png",
        "notes.jpg",
    ]
    progress: list[tuple[int, int]] = []
    rows = list(
        classify_files(session, files, chunk_size=2, on_progress=lambda d, t: progress.append((d, t)))
    )
    assert [row.path for row in rows] == files
    assert [row.status for row in rows] == ["ok", "ok", "ok", "error", "error"]
    assert rows[3].error and "corrupt.png" in rows[3].error
    assert rows[4].error and "notes.jpg" in rows[4].error
    expected = session.classify([load_image(f) for f in files[:3]])
    for row, prediction in zip(rows[:3], expected):
        np.testing.assert_allclose(row.prediction.probabilities, prediction.probabilities, rtol=1e-5)
    assert progress == [(2, 5), (4, 5), (5, 5)]


def test_cancel_stops_after_the_current_chunk(tiny_model: Path, tmp_path: Path) -> None:
    session = ModelSession.open(tiny_model)
    files = write_images(tmp_path, 12, size=(32, 32))
    cancel = threading.Event()
    rows = []
    for row in classify_files(session, files, cancel=cancel, chunk_size=4):
        rows.append(row)
        cancel.set()  # cancel as soon as the first row arrives
    assert len(rows) == 4  # the chunk already classified is delivered, nothing after it


def test_csv_has_one_column_per_label_and_error_rows(
    tiny_model: Path, image_folder: Path, tmp_path: Path
) -> None:
    session = ModelSession.open(tiny_model)
    rows = list(classify_files(session, list(iter_image_files([image_folder]))))
    out = tmp_path / "results.csv"
    assert write_csv(rows, session.labels, out) == 5
    with open(out, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert list(records[0]) == csv_columns(session.labels)
    assert [f"p_{label}" for label in session.labels] == list(records[0])[3:6]
    for record, row in zip(records, rows):
        assert record["file"] == str(row.path)
        assert record["status"] == row.status
        if row.ok:
            assert record["predicted"] == row.prediction.predicted_label
            for label, probability in row.prediction.probability_by_label().items():
                assert abs(float(record[f"p_{label}"]) - probability) < 1e-6
            assert record["message"] == ""
        else:
            assert record["predicted"] == "" and record["message"] == row.error
