"""Calibration fitted on validation, numpy only.

Temperature scaling (Guo et al., 2017): one scalar T fitted on validation logits. Class offsets: T and a logit offset
for chosen classes (``softmax(z / T + b)``), fitted together on the exported model's validation probabilities
(``z = log p``). Offsets are kept at or below zero, so they only make their classes less likely: with the offset on
"normal" alone, calibration can turn a "normal" answer into "benign" or "malignant" but never takes a "malignant"
answer away (see ``training.recalibrate``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

#: Range searched for the temperature.
TEMPERATURE_BOUNDS = (0.05, 20.0)


#: Range searched for each class offset (logit units; 0 = no change).
OFFSET_BOUNDS = (-6.0, 0.0)
#: Probabilities are floored here before their logarithm (in numpy and in the ONNX graph alike).
PROBABILITY_FLOOR = 1e-12


def _scaled(logits: np.ndarray, temperature: float, offsets: np.ndarray | None) -> np.ndarray:
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    return scaled if offsets is None else scaled + np.asarray(offsets, dtype=np.float64)


def softmax(logits: np.ndarray, temperature: float = 1.0, offsets: np.ndarray | None = None) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature + offsets`` (numerically stable), float64."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scaled = _scaled(logits, temperature, offsets)
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exponentials = np.exp(scaled)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def negative_log_likelihood(logits: np.ndarray, y_true: np.ndarray, temperature: float = 1.0,
                            offsets: np.ndarray | None = None) -> float:
    """Mean NLL of the true classes under ``softmax(logits / temperature + offsets)``."""
    scaled = _scaled(logits, temperature, offsets)
    shifted = scaled - scaled.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    labels = np.asarray(y_true, dtype=np.int64)
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


def logits_from_probabilities(probabilities: np.ndarray, floor: float = PROBABILITY_FLOOR) -> np.ndarray:
    """Log-probabilities, usable as logits when a model only exposes its softmax output."""
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), floor, 1.0))


def fit_temperature(
    logits: np.ndarray,
    y_true: np.ndarray,
    bounds: tuple[float, float] = TEMPERATURE_BOUNDS,
    tolerance: float = 1e-6,
    offsets: np.ndarray | None = None,
) -> float:
    """Temperature T minimising the NLL of ``softmax(logits / T + offsets)``: golden-section search on log T.

    The NLL is convex in 1/T, hence unimodal in log T, so the search finds the global minimum in ``bounds``.
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
        return negative_log_likelihood(logits, labels, math.exp(log_temperature), offsets)

    return float(math.exp(_golden_section_minimum(loss, math.log(bounds[0]), math.log(bounds[1]), tolerance)))


def fit_temperature_and_offsets(
    logits: np.ndarray,
    y_true: np.ndarray,
    offset_classes: Sequence[int],
    bounds: tuple[float, float] = OFFSET_BOUNDS,
    tolerance: float = 1e-5,
    max_sweeps: int = 50,
) -> tuple[float, np.ndarray]:
    """(T, offsets) minimising the NLL of ``softmax(logits / T + offsets)``; offsets stay 0 outside ``offset_classes``.

    The NLL is jointly convex in (1/T, offsets); minimising over T for each candidate offset keeps it convex in the
    offsets, so golden-section search per class (cyclic, until no offset moves) finds the minimum within ``bounds``.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(y_true, dtype=np.int64)
    num_classes = logits.shape[1] if logits.ndim == 2 else 0
    if any(not 0 <= index < num_classes for index in offset_classes):
        raise ValueError(f"offset classes {list(offset_classes)} must lie in 0..{num_classes - 1}")
    offsets = np.zeros(num_classes)

    def profile(index: int, value: float) -> float:
        trial = offsets.copy()
        trial[index] = value
        return negative_log_likelihood(logits, labels, fit_temperature(logits, labels, offsets=trial), trial)

    for _ in range(max_sweeps if offset_classes else 0):
        moved = 0.0
        for index in offset_classes:
            best = _golden_section_minimum(functools.partial(profile, index), *bounds, tolerance)
            moved = max(moved, abs(best - offsets[index]))
            offsets[index] = best
        if moved < tolerance * 10 or len(offset_classes) == 1:
            break
    return fit_temperature(logits, labels, offsets=offsets), offsets


def _golden_section_minimum(loss: Callable[[float], float], low: float, high: float, tolerance: float) -> float:
    """Argmin of a unimodal ``loss`` on [low, high]; the ends are candidates too (golden section never tries them)."""
    ends = (low, high)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
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
    return min(((low + high) / 2.0, *ends), key=loss)


def recalibrated(probabilities: np.ndarray, temperature: float, offsets: np.ndarray) -> np.ndarray:
    """``softmax(log(max(p, floor)) / T + offsets)``: what ``training.recalibrate`` appends to a model's graph."""
    return softmax(logits_from_probabilities(probabilities), temperature, offsets)
