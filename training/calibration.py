"""Temperature scaling (Guo et al., 2017): one scalar T fitted on validation logits, numpy only."""

from __future__ import annotations

import math

import numpy as np

#: Range searched for the temperature.
TEMPERATURE_BOUNDS = (0.05, 20.0)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (numerically stable), float64."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exponentials = np.exp(scaled)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def negative_log_likelihood(logits: np.ndarray, y_true: np.ndarray, temperature: float = 1.0) -> float:
    """Mean NLL of the true classes under ``softmax(logits / temperature)``."""
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    shifted = scaled - scaled.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    labels = np.asarray(y_true, dtype=np.int64)
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


def logits_from_probabilities(probabilities: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Log-probabilities, usable as logits when a model only exposes its softmax output."""
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), floor, 1.0))


def fit_temperature(
    logits: np.ndarray,
    y_true: np.ndarray,
    bounds: tuple[float, float] = TEMPERATURE_BOUNDS,
    tolerance: float = 1e-6,
) -> float:
    """Temperature T minimising the NLL of ``softmax(logits / T)``: golden-section search on log T within ``bounds``.

    The NLL is convex in 1/T, hence unimodal in log T, so the search finds the global minimum in the range.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(y_true, dtype=np.int64)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(f"logits must be [N, C] matching y_true [N]; got {logits.shape} and {labels.shape}")
    if len(labels) == 0:
        raise ValueError("cannot fit a temperature on zero samples")
    if labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must lie in 0..{logits.shape[1] - 1}")

    def loss(log_temperature: float) -> float:
        return negative_log_likelihood(logits, labels, math.exp(log_temperature))

    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    low, high = math.log(bounds[0]), math.log(bounds[1])
    inner_low = high - ratio * (high - low)
    inner_high = low + ratio * (high - low)
    loss_low, loss_high = loss(inner_low), loss(inner_high)
    while high - low > tolerance:
        if loss_low <= loss_high:
            high, inner_high, loss_high = inner_high, inner_low, loss_low
            inner_low = high - ratio * (high - low)
            loss_low = loss(inner_low)
        else:
            low, inner_low, loss_low = inner_low, inner_high, loss_high
            inner_high = low + ratio * (high - low)
            loss_high = loss(inner_high)
    best = (low + high) / 2.0
    # The ends of the range are candidates too (golden section never evaluates them).
    candidates = [best, math.log(bounds[0]), math.log(bounds[1])]
    return float(math.exp(min(candidates, key=loss)))
