"""Temperature scaling and class offsets: softmax, NLL, recovery of a known temperature and offsets."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibration import (
    OFFSET_BOUNDS,
    TEMPERATURE_BOUNDS,
    fit_temperature,
    fit_temperature_and_offsets,
    logits_from_probabilities,
    negative_log_likelihood,
    recalibrated,
    softmax,
)


def test_softmax_rows_sum_to_one_and_are_stable() -> None:
    logits = np.array([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]])
    probabilities = softmax(logits)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.isfinite(probabilities).all()
    assert probabilities[0, 0] == pytest.approx(1.0 / (1.0 + np.exp(-1.0)))
    assert np.allclose(probabilities[1], 1.0 / 3.0)


def test_temperature_flattens_and_sharpens() -> None:
    logits = np.array([[2.0, 0.0, -1.0]])
    assert softmax(logits, 2.0)[0, 0] < softmax(logits)[0, 0] < softmax(logits, 0.5)[0, 0]
    assert np.allclose(softmax(logits, 2.0), softmax(logits / 2.0))
    with pytest.raises(ValueError):
        softmax(logits, 0.0)


def _calibrated_sample(rng: np.random.Generator, count: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true label distribution, and labels drawn from it."""
    logits = rng.normal(0.0, 2.0, size=(count, classes))
    probabilities = softmax(logits)
    labels = (rng.random(count)[:, None] > np.cumsum(probabilities, axis=1)).sum(axis=1)
    return logits, labels


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.5])
def test_fit_recovers_known_temperature(true_temperature: float) -> None:
    rng = np.random.default_rng(7)
    calibrated_logits, labels = _calibrated_sample(rng, 20000, 3)
    # A model whose logits are T times too large (T > 1: over-confident) needs temperature T.
    model_logits = calibrated_logits * true_temperature
    fitted = fit_temperature(model_logits, labels)
    assert fitted == pytest.approx(true_temperature, rel=0.05)
    assert negative_log_likelihood(model_logits, labels, fitted) <= negative_log_likelihood(model_logits, labels, 1.0)


def test_fit_stays_within_bounds() -> None:
    # Every prediction right: the NLL keeps falling as T shrinks, so the lower bound is returned.
    logits = np.array([[3.0, 0.0], [0.0, 3.0]] * 10)
    labels = np.array([0, 1] * 10)
    assert fit_temperature(logits, labels) == pytest.approx(TEMPERATURE_BOUNDS[0], rel=1e-3)
    # Every prediction wrong: a flatter softmax is always better, so the upper bound is returned.
    assert fit_temperature(logits, 1 - labels) == pytest.approx(TEMPERATURE_BOUNDS[1], rel=1e-3)


def test_fit_from_log_probabilities() -> None:
    rng = np.random.default_rng(3)
    calibrated_logits, labels = _calibrated_sample(rng, 8000, 4)
    over_confident = softmax(calibrated_logits * 2.0)
    fitted = fit_temperature(logits_from_probabilities(over_confident), labels)
    assert fitted == pytest.approx(2.0, rel=0.07)


def test_fit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        fit_temperature(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError):
        fit_temperature(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError):
        fit_temperature(np.zeros((0, 2)), np.zeros(0, dtype=int))


def _sample_labels(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cumulative = probabilities.cumsum(axis=1)
    return (rng.uniform(size=(len(probabilities), 1)) > cumulative).sum(axis=1)


def test_fit_recovers_known_temperature_and_offset() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 2.0, size=(20000, 3))
    labels = _sample_labels(softmax(logits, 1.5, np.array([0.0, 0.0, -1.2])), rng)
    temperature, offsets = fit_temperature_and_offsets(logits, labels, [2])
    assert temperature == pytest.approx(1.5, rel=0.05)
    assert offsets[2] == pytest.approx(-1.2, abs=0.08)
    assert offsets[0] == 0.0 and offsets[1] == 0.0  # classes not chosen stay untouched


def test_fit_two_offsets_and_beats_temperature_alone() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0.0, 2.0, size=(3000, 3))
    labels = _sample_labels(softmax(logits, 1.0, np.array([0.0, -0.7, -1.5])), rng)
    temperature, offsets = fit_temperature_and_offsets(logits, labels, [1, 2])
    np.testing.assert_allclose(offsets, [0.0, -0.7, -1.5], atol=0.25)
    alone = fit_temperature(logits, labels)
    assert negative_log_likelihood(logits, labels, temperature, offsets) < negative_log_likelihood(logits, labels, alone)


def test_offsets_never_raise_a_class() -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(0.0, 2.0, size=(5000, 3))
    labels = _sample_labels(softmax(logits, 1.0, np.array([0.0, 0.0, 1.5])), rng)  # class 2 under-predicted
    _, offsets = fit_temperature_and_offsets(logits, labels, [2])
    assert offsets[2] == OFFSET_BOUNDS[1] == 0.0


def test_no_offset_classes_is_plain_temperature_scaling() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(0.0, 2.0, size=(2000, 3))
    labels = _sample_labels(softmax(logits, 2.0), rng)
    temperature, offsets = fit_temperature_and_offsets(logits, labels, [])
    assert not offsets.any()
    assert temperature == pytest.approx(fit_temperature(logits, labels))
    with pytest.raises(ValueError, match="offset classes"):
        fit_temperature_and_offsets(logits, labels, [3])


def test_lowering_normal_never_takes_a_malignant_answer_away() -> None:
    probabilities = np.random.default_rng(4).dirichlet([0.5, 0.5, 0.5], size=5000)
    corrected = recalibrated(probabilities, 0.8, np.array([0.0, 0.0, -2.0]))
    before, after = probabilities.argmax(axis=1), corrected.argmax(axis=1)
    assert np.all(after[before == 1] == 1) and np.all(after[before == 0] == 0)
    assert (after == 2).sum() < (before == 2).sum()
    np.testing.assert_allclose(corrected.sum(axis=1), 1.0)
    # No offset and T = 1 give back the probabilities (above the floor).
    np.testing.assert_allclose(recalibrated(probabilities, 1.0, np.zeros(3)), probabilities, atol=1e-9)
