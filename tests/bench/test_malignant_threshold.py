"""bench/malignant_threshold.py: a malignant threshold fitted on validation, scored against the argmax rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import calibration_scores, malignant_threshold
from tests.bench.test_calibration_scores import LABELS, _data_and_split
from tests.tiny_model import make_tiny_model

MALIGNANT = LABELS.index("malignant")


def test_threshold_is_the_largest_that_catches_the_target_share_of_cancers() -> None:
    y_true = np.array([1, 1, 1, 1, 0, 2])
    probabilities = np.array([[0.1, 0.9, 0.0], [0.3, 0.6, 0.1], [0.6, 0.3, 0.1], [0.8, 0.1, 0.1],
                              [0.5, 0.5, 0.0], [0.1, 0.2, 0.7]])
    assert malignant_threshold.fit_threshold(probabilities, y_true, MALIGNANT, 0.5) == pytest.approx(0.6)
    assert malignant_threshold.fit_threshold(probabilities, y_true, MALIGNANT, 0.75) == pytest.approx(0.3)
    assert malignant_threshold.fit_threshold(probabilities, y_true, MALIGNANT, 1.0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no malignant image"):
        malignant_threshold.fit_threshold(probabilities[4:], y_true[4:], MALIGNANT, 0.85)


def test_the_threshold_rule_only_adds_malignant_answers() -> None:
    probabilities = np.array([[0.7, 0.25, 0.05], [0.2, 0.1, 0.7], [0.1, 0.8, 0.1], [0.5, 0.4, 0.1]])
    np.testing.assert_array_equal(malignant_threshold.decide(probabilities, MALIGNANT, None), [0, 2, 1, 0])
    np.testing.assert_array_equal(malignant_threshold.decide(probabilities, MALIGNANT, 0.25), [1, 2, 1, 1])
    # A threshold above the argmax's own malignant answers keeps them.
    np.testing.assert_array_equal(malignant_threshold.decide(probabilities, MALIGNANT, 0.95), [0, 2, 1, 0])
    scores = malignant_threshold.score(np.array([1, 2, 1, 0]), np.array([1, 2, 1, 1]), LABELS)
    assert scores["cancers_found"] == 2 and scores["cancers"] == 2 and scores["false_malignant"] == 1
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["weighted_errors"] == 1  # one benign called malignant, no cancer missed


def test_cost_weighted_rule_calls_malignant_when_its_probability_times_the_cost_wins() -> None:
    """With cost 3, malignant wins where 3 × p(malignant) beats every other class's probability."""
    probabilities = np.array([[0.70, 0.25, 0.05], [0.74, 0.24, 0.02], [0.2, 0.1, 0.7], [0.5, 0.4, 0.1]])
    np.testing.assert_array_equal(malignant_threshold.decide_cost_weighted(probabilities, LABELS, 3.0),
                                  [1, 0, 2, 1])
    np.testing.assert_array_equal(malignant_threshold.decide_cost_weighted(probabilities, LABELS, 1.0),
                                  probabilities.argmax(axis=1))
    scores = malignant_threshold.score(np.array([1, 0, 2, 1]), np.array([0, 0, 2, 1]), LABELS)
    assert scores["weighted_errors"] == malignant_threshold.MISSED_CANCER_COST  # one cancer missed, nothing else


def test_end_to_end_fits_on_validation_and_scores_both_rules(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    data, split = _data_and_split(tmp_path)
    model = make_tiny_model(tmp_path / "model.onnx", seed=3)
    written: dict = {}
    monkeypatch.setattr(malignant_threshold, "write_result",
                        lambda name, result: written.setdefault(name, result) and tmp_path / f"{name}.json")
    assert malignant_threshold.main(["--models", str(model), "--data", str(data), "--split", str(split),
                                     "--other-data", str(data), "--other-split", str(split),
                                     "--target-recall", "1.0"]) == 0
    row = json.loads(json.dumps(written["malignant_threshold"]))["models"][0]
    images, y_true = calibration_scores.load_subset(data, split, "val", LABELS, (32, 32))
    probabilities = calibration_scores.stage_probabilities(model, images)[calibration_scores.AFTER]
    assert row["threshold"] == pytest.approx(probabilities[y_true == MALIGNANT, MALIGNANT].min(), abs=1e-6)
    validation = row["busi_val"]["threshold"]
    assert validation["cancers_found"] == validation["cancers"] == 2  # target recall 1: every validation cancer
    assert row["busi_val"]["argmax"]["cancers_found"] <= validation["cancers_found"]
    assert row["busi_val"]["argmax"]["cancers_found"] <= row["busi_val"]["cost_weighted"]["cancers_found"]
    assert row["other_test"] == row["busi_test"]  # the same images through --other-data give the same scores


def test_other_data_needs_its_split(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        malignant_threshold.main(["--models", "m.onnx", "--data", str(tmp_path), "--split", "s.csv",
                                  "--other-data", str(tmp_path)])
