"""Metrics against hand-computed cases and brute force, ECE, plots and metrics.json."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.report import (
    CONFUSION_MATRIX_PNG,
    METRICS_FILE,
    RELIABILITY_DIAGRAM_PNG,
    ROC_CURVES_PNG,
    TRAINING_CURVES_PNG,
    binary_roc_auc,
    brier_score,
    compute_metrics,
    expected_calibration_error,
    negative_log_likelihood,
    roc_curve,
    write_report,
)

LABELS = ("benign", "malignant", "normal")


def test_metrics_small_hand_computed_case() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2])
    probs = np.array(
        [
            [0.8, 0.1, 0.1],  # 0 -> 0
            [0.6, 0.3, 0.1],  # 0 -> 0
            [0.2, 0.7, 0.1],  # 0 -> 1
            [0.3, 0.6, 0.1],  # 1 -> 1
            [0.5, 0.4, 0.1],  # 1 -> 0
            [0.1, 0.2, 0.7],  # 2 -> 2
        ]
    )
    metrics = compute_metrics(y_true, probs, LABELS)

    assert metrics["n"] == 6
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["confusion_matrix"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    benign, malignant, normal = (metrics["per_class"][label] for label in LABELS)
    assert (benign["precision"], benign["recall"], benign["support"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
    assert benign["f1"] == pytest.approx(2 / 3)
    assert (malignant["precision"], malignant["recall"]) == (pytest.approx(1 / 2), pytest.approx(1 / 2))
    assert normal == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # Normal vs rest: its only positive has the highest normal score -> AUC 1.
    assert metrics["roc_auc_ovr"]["normal"] == pytest.approx(1.0)
    # Benign scores: positives 0.8, 0.6, 0.2; negatives 0.3, 0.5, 0.1 -> 7 of 9 pairs ordered.
    assert metrics["roc_auc_ovr"]["benign"] == pytest.approx(7 / 9)
    json.dumps(metrics)  # JSON-serialisable


def _brute_force_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    wins = 0.0
    for p, n in product(scores[positive], scores[~positive]):
        wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (positive.sum() * (~positive).sum())


def test_auc_matches_pairwise_definition_with_ties() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        positive = rng.random(60) < 0.4
        scores = np.round(rng.random(60), 1)  # many ties
        assert binary_roc_auc(positive, scores) == pytest.approx(_brute_force_auc(positive, scores))


def test_roc_curve_area_equals_auc() -> None:
    rng = np.random.default_rng(1)
    positive = rng.random(200) < 0.3
    scores = np.round(rng.random(200) + 0.3 * positive, 2)
    false_rate, true_rate = roc_curve(positive, scores)
    assert (false_rate[0], true_rate[0], false_rate[-1], true_rate[-1]) == (0.0, 0.0, 1.0, 1.0)
    area = float(np.sum(np.diff(false_rate) * (true_rate[1:] + true_rate[:-1]) / 2.0))
    assert area == pytest.approx(binary_roc_auc(positive, scores))


def test_undefined_auc_is_none() -> None:
    metrics = compute_metrics(np.array([0, 0, 1]), np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.3, 0.7, 0.0]]),
                              LABELS)
    assert metrics["roc_auc_ovr"]["normal"] is None
    assert metrics["macro_roc_auc"] == pytest.approx(1.0)
    assert metrics["per_class"]["normal"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_nll_and_brier_hand_computed() -> None:
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [1.0, 0.0, 0.0]])
    y_true = np.array([0, 1, 1])
    # NLL: -(ln 0.5 + ln 0.8 + ln 1e-12) / 3 (the probability floor keeps a certain miss finite).
    assert negative_log_likelihood(y_true, probs) == pytest.approx(-(np.log(0.5) + np.log(0.8) + np.log(1e-12)) / 3)
    # Brier: (0.25 + 0.0625 + 0.0625) + (0.01 + 0.04 + 0.01) + (1 + 1 + 0), over three images.
    assert brier_score(y_true, probs) == pytest.approx((0.375 + 0.06 + 2.0) / 3)
    metrics = compute_metrics(y_true, probs, LABELS)
    assert metrics["nll"] == pytest.approx(negative_log_likelihood(y_true, probs))
    assert metrics["brier"] == pytest.approx(brier_score(y_true, probs))
    # Both are proper: the true distribution scores better than a sharpened one, unlike a 1-bin "accuracy" view.
    rng = np.random.default_rng(3)
    true_probs = np.tile([0.6, 0.3, 0.1], (20000, 1))
    labels = (rng.random(len(true_probs))[:, None] > np.cumsum(true_probs, axis=1)).sum(axis=1)
    sharpened = np.tile([0.8, 0.15, 0.05], (20000, 1))
    assert negative_log_likelihood(labels, true_probs) < negative_log_likelihood(labels, sharpened)
    assert brier_score(labels, true_probs) < brier_score(labels, sharpened)


def test_ece_of_calibrated_predictions_is_near_zero() -> None:
    rng = np.random.default_rng(5)
    logits = rng.normal(0.0, 2.0, size=(40000, 3))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = (rng.random(len(probs))[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    assert expected_calibration_error(labels, probs) < 0.015


def test_ece_of_overconfident_predictions() -> None:
    # Every prediction says 0.9 for its top class, but only 60% are right: ECE = 0.3.
    probs = np.tile([0.9, 0.05, 0.05], (10, 1))
    labels = np.array([0] * 6 + [1] * 4)
    assert expected_calibration_error(labels, probs) == pytest.approx(0.3)
    # Two bins: 0.9 confident & all right (gap 0.1), 0.5 confident & half right (gap 0).
    probs = np.array([[0.9, 0.1]] * 4 + [[0.5, 0.5]] * 4)
    labels = np.array([0, 0, 0, 0, 0, 1, 0, 1])
    assert expected_calibration_error(labels, probs, n_bins=10) == pytest.approx(0.5 * 0.1)


def test_write_report_files_and_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    y_true = np.repeat([0, 1, 2], 10)
    logits = rng.normal(size=(30, 3)) + 2.0 * np.eye(3)[y_true]
    uncalibrated = np.exp(3 * logits) / np.exp(3 * logits).sum(axis=1, keepdims=True)
    calibrated = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    history = {"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.95], "val_macro_f1": [0.3, 0.5, 0.55]}

    result = write_report(tmp_path / "run", y_true, uncalibrated, calibrated, LABELS, history)

    stored = json.loads((tmp_path / "run" / METRICS_FILE).read_text())
    assert stored == result
    assert stored["test"]["n"] == 30
    assert stored["ece_after_calibration"] == pytest.approx(expected_calibration_error(y_true, calibrated))
    assert stored["ece_before_calibration"] == pytest.approx(expected_calibration_error(y_true, uncalibrated))
    assert stored["test"]["accuracy"] == pytest.approx(np.mean(calibrated.argmax(axis=1) == y_true))
    for name in (TRAINING_CURVES_PNG, CONFUSION_MATRIX_PNG, ROC_CURVES_PNG, RELIABILITY_DIAGRAM_PNG):
        with Image.open(tmp_path / "run" / name) as image:
            assert image.format == "PNG" and image.width > 100 and image.height > 100


def test_write_report_without_history(tmp_path: Path) -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    write_report(tmp_path, np.array([0, 1]), probs, probs, LABELS, None)
    assert (tmp_path / TRAINING_CURVES_PNG).is_file()


def test_metrics_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        compute_metrics(np.array([0, 1]), np.zeros((3, 3)), LABELS)
    with pytest.raises(ValueError):
        compute_metrics(np.array([0, 1]), np.zeros((2, 2)), LABELS)
