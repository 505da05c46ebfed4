"""bench/compare_models.py: agreement counts the answers the metrics score (each model's decision rule)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import compare_models
from desktop_app.core import contract
from tests.bench.split_data import write_split_data
from tests.tiny_model import make_tiny_model


def test_agreement_uses_each_models_decision_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    split = write_split_data(data, tmp_path / "split.csv", {"test": 6})
    pairs = compare_models.held_out(data, split, "test")
    plain = make_tiny_model(tmp_path / "plain.onnx", seed=3)
    _, probabilities, labels = compare_models.evaluate(plain, pairs)
    # Same weights, so the same probabilities, but malignant answered wherever cost x p(malignant) is highest; the
    # cost is the median of what each image would need, so the rule moves about half of the answers.
    malignant = labels.index("malignant")
    needed = np.delete(probabilities, malignant, axis=1).max(axis=1) / probabilities[:, malignant]
    record = {"rule": "cost_weighted", "class_costs": {"malignant": float(np.median(needed[needed > 1]))}}
    costly = make_tiny_model(
        tmp_path / "costly.onnx", seed=3, extra_metadata={contract.META_DECISION: json.dumps(record)}
    )
    monkeypatch.setattr(compare_models, "write_result", lambda name, result: tmp_path / f"{name}.json")
    assert (
        compare_models.main(
            ["--fp32", str(plain), "--int8", str(costly), "--data", str(data), "--split", str(split)]
        )
        == 0
    )
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.index("{") :])

    same = compare_models.answers(plain, probabilities) == compare_models.answers(costly, probabilities)
    assert result["max_abs_probability_diff"] == pytest.approx(0.0, abs=1e-6)
    assert 0 < same.mean() < 1  # the rule moves some answers, so the probe can tell the two counts apart
    assert result["prediction_agreement"] == pytest.approx(same.mean())
