"""``python -m training decide``: a cost-weighted rule stored in a model, its metrics restated, its graph untouched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from tests.bench.test_calibration_scores import LABELS, _data_and_split
from tests.tiny_model import make_tiny_model
from training.__main__ import main
from training.card import render_card
from training.evaluate import evaluate


def test_decide_stores_the_rule_and_restates_the_metrics(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data, split = _data_and_split(tmp_path)
    original = make_tiny_model(tmp_path / "m.onnx", labels=LABELS,
                               extra_metadata={contract.META_METRICS: json.dumps({"accuracy": 0.5, "note": "kept"})})
    out = tmp_path / "out" / "model.onnx"
    assert main(["decide", "--model", str(original), "--data", str(data), "--split", str(split),
                 "--class-cost", "malignant=1e6", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out

    session = ModelSession.open(out)  # the sidecar written beside it verifies
    assert session.info.integrity is not None and session.info.integrity.verified
    assert session.info.decision.costs == (1.0, 1e6, 1.0)
    assert session.info.version == "tiny-test-0+cost-weighted"
    assert onnx.load(str(out)).graph == onnx.load(str(original)).graph  # the probabilities are the model's own

    stored = json.loads(session.info.metadata[contract.META_METRICS])
    scored, plain = evaluate(out, data, split, "test"), evaluate(original, data, split, "test")
    assert stored["accuracy"] == pytest.approx(scored["accuracy"]) == pytest.approx(1 / 3)
    assert stored["per_class"]["malignant"]["recall"] == 1.0 != plain["per_class"]["malignant"]["recall"]
    assert stored["macro_roc_auc"] == pytest.approx(plain["macro_roc_auc"])
    assert stored["validation"]["n"] == 6 and stored["note"] == "kept"
    assert "answers (the counts above and below): cost-weighted" in render_card(out, "python -m training decide")
    assert "answers (the counts" not in render_card(original, "python -m training train")

    # One rule per model: deciding again is refused with the reason; so is a malformed cost.
    assert main(["decide", "--model", str(out), "--data", str(data), "--split", str(split),
                 "--class-cost", "malignant=3", "--out", str(tmp_path / "again.onnx")]) == 2
    assert "already has a decision rule" in capsys.readouterr().err
    for bad in ("malignant", "malignant=high", "=3", "cancer=3"):
        assert main(["decide", "--model", str(original), "--data", str(data), "--split", str(split),
                     "--class-cost", bad, "--out", str(tmp_path / "bad.onnx")]) == 2
        assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "bad.onnx").exists()


#: Between the tiny model's (seed 3) benign/malignant probability ratios on the images below (3.5 to 3.8).
COST = 3.7


def test_the_rule_moves_answers_only_where_cost_times_probability_wins(tmp_path: Path) -> None:
    data, split = _data_and_split(tmp_path)
    original = make_tiny_model(tmp_path / "m.onnx", labels=LABELS, seed=3)
    out = tmp_path / "costly.onnx"
    assert main(["decide", "--model", str(original), "--data", str(data), "--split", str(split),
                 "--class-cost", f"malignant={COST}", "--out", str(out)]) == 0
    plain, costly = ModelSession.open(original), ModelSession.open(out)
    images = np.random.default_rng(1).integers(0, 255, (20, 32, 32, 3)).astype(np.float32)
    moved = []
    for before, after in zip(plain.run(images), costly.run(images)):
        np.testing.assert_array_equal(before.probabilities, after.probabilities)
        assert after.predicted_index == int(np.argmax(before.probabilities * [1, COST, 1]))
        moved.append(after.predicted_index != before.predicted_index)
    assert any(moved) and not all(moved)  # the tiny model's benign/malignant odds straddle the cost here
