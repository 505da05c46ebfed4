"""bench/calibration_scores.py: scores before and after a model's class offsets, and their bootstrap."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from bench import calibration_scores
from tests.tiny_model import make_tiny_model
from training.recalibrate import append_class_offsets, apply_record
from training.report import compute_metrics

LABELS = ["benign", "malignant", "normal"]
RECORD = {"temperature": 0.8, "offsets": {"benign": 0.0, "malignant": 0.0, "normal": -1.5}, "floor": 1e-12}


def _data_and_split(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    data, rows = tmp_path / "data", []
    for label in LABELS:
        (data / label).mkdir(parents=True)
        for index in range(6):
            Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(data / label / f"{index}.png")
            rows.append({"path": f"{label}/{index}.png", "label": label, "group": f"{label}{index}",
                         "split": ("train", "val", "test")[index % 3]})
    split = tmp_path / "split.csv"
    with open(split, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "group", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return data, split


def test_scores_both_stages_of_a_model_with_offsets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, split = _data_and_split(tmp_path)
    plain = make_tiny_model(tmp_path / "plain.onnx", seed=3)
    model = onnx.load(str(plain))
    append_class_offsets(model, RECORD, LABELS)
    with_offsets = tmp_path / "with_offsets.onnx"
    onnx.save(model, str(with_offsets))
    written: dict = {}
    monkeypatch.setattr(calibration_scores, "write_result",
                        lambda name, result: written.setdefault(name, result) and tmp_path / f"{name}.json")

    assert calibration_scores.main(["--models", str(plain), str(with_offsets), "--data", str(data),
                                    "--split", str(split), "--bootstrap", "50"]) == 0
    plain_row, offsets_row = json.loads(json.dumps(written["calibration_scores"]))["models"]

    images, y_true = calibration_scores.load_subset(data, split, "test", LABELS, (32, 32))
    own = calibration_scores.stage_probabilities(plain, images)[calibration_scores.AFTER]
    before, after = offsets_row["test"]["before_offsets"], offsets_row["test"]["output"]
    # The stage before the offsets is the plain model; the stage after is the offsets' formula applied to it.
    assert plain_row["test"].keys() == {"output"}  # no offsets, one stage
    assert before == pytest.approx(plain_row["test"]["output"], abs=1e-6)
    expected = compute_metrics(y_true, apply_record(own, RECORD, LABELS), LABELS)
    for key in calibration_scores.SCORES:
        assert after[key] == pytest.approx(expected[key], abs=1e-5), key
    assert len(y_true) == 6 and offsets_row["val"].keys() == {"before_offsets", "output"}
    assert 0.0 <= offsets_row["test_bootstrap"]["offsets_lower"]["nll"] <= 1.0
    assert "offsets_lower" not in plain_row["test_bootstrap"]


def test_bootstrap_share_where_offsets_lower_the_scores() -> None:
    y_true = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    honest = np.tile([0.5, 0.5], (8, 1))
    wrong = np.array([[0.1, 0.9] if label == 0 else [0.9, 0.1] for label in y_true])
    # Offsets that turned confident mistakes into honest coin flips lower NLL in every resample ...
    result = calibration_scores.bootstrap(y_true, {"before_offsets": wrong, "output": honest}, rounds=40)
    assert result["offsets_lower"]["nll"] == 1.0
    assert result["output"]["nll_sd"] == pytest.approx(0.0)
    # ... and identical stages never count as lowered.
    same = calibration_scores.bootstrap(y_true, {"before_offsets": honest, "output": honest}, rounds=40)
    assert same["offsets_lower"] == {"ece": 0.0, "nll": 0.0}
