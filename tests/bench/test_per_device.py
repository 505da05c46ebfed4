"""bench/per_device.py: held-out metrics grouped by the manifest's scanner column."""

from __future__ import annotations

import numpy as np
import pytest

from bench import per_device
from tests.bench.busbra_like import make_busbra_like

LABELS = ("benign", "malignant", "normal")


def test_rows_group_images_by_device_then_all() -> None:
    truth = np.array([0, 1, 1, 0, 1])
    probabilities = np.array([[.9, .1, 0], [.2, .8, 0], [.7, .3, 0], [.6, .4, 0], [.1, .9, 0]])
    devices = ["GE", "GE", "GE", "Toshiba", "Toshiba"]
    rows = per_device.per_device_rows(probabilities, truth, devices, LABELS)
    assert [(row["device"], row["images"]) for row in rows] == [("GE", 3), ("Toshiba", 2), ("all", 5)]
    assert rows[0]["accuracy"] == pytest.approx(2 / 3) and rows[0]["malignant_recall"] == pytest.approx(0.5)
    assert rows[1]["accuracy"] == pytest.approx(1.0)
    assert rows[2]["accuracy"] == pytest.approx(4 / 5)
    # A decision rule's answers are counted, not the highest probabilities: here everything called malignant.
    rows = per_device.per_device_rows(probabilities, truth, devices, LABELS, answers=np.ones(5, dtype=int))
    assert rows[2]["accuracy"] == pytest.approx(3 / 5) and rows[2]["malignant_recall"] == 1.0


def test_run_reads_devices_from_the_manifest(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.tiny_model import make_tiny_model

    data = make_busbra_like(tmp_path / "busbra", ["Toshiba"] * 2 + ["GE Logiq"] * 4)
    model = make_tiny_model(tmp_path / "one" / "model.onnx", seed=1)
    written = {}
    monkeypatch.setattr(per_device, "write_result", lambda name, result: written.setdefault(name, result))
    assert per_device.main(["--models", str(model), "--data", str(data)]) == 0
    rows = written["per_device"]["models"]["one"]["rows"]
    assert [(row["device"], row["images"]) for row in rows] == [("GE Logiq", 4), ("Toshiba", 2), ("all", 6)]
