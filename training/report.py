"""Evaluation report: metrics (numpy only, no scikit-learn) and PNG plots (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training import calibration

#: File names written by :func:`write_report` into the run folder.
METRICS_FILE = "metrics.json"
TRAINING_CURVES_PNG = "training_curves.png"
CONFUSION_MATRIX_PNG = "confusion_matrix.png"
ROC_CURVES_PNG = "roc_curves.png"
RELIABILITY_DIAGRAM_PNG = "reliability_diagram.png"
#: Test metrics a model stores in its metadata (``training.export`` writes them, ``training.recalibrate`` rewrites them).
STORED_TEST_METRICS = ("n", "accuracy", "macro_f1", "per_class", "confusion_matrix", "roc_auc_ovr", "macro_roc_auc",
                       "ece", "nll", "brier")


def _as_labels_and_probs(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probabilities = np.asarray(probs, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"probs must be [N, C] matching y_true [N]; got {probabilities.shape}, {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= probabilities.shape[1]):
        raise ValueError(f"y_true must lie in 0..{probabilities.shape[1] - 1}")
    return labels, probabilities


def _reliability_bins(
    y_true: np.ndarray, probs: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width confidence bin: count, mean confidence, accuracy (NaN where empty)."""
    labels, probabilities = _as_labels_and_probs(y_true, probs)
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    # Bin i holds confidences in (i/n, (i+1)/n]; a confidence of exactly 0 goes to bin 0.
    index = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return counts, mean_confidence, accuracy


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE: sum over equal-width confidence bins of (bin share) x |accuracy - mean confidence|."""
    counts, mean_confidence, accuracy = _reliability_bins(y_true, probs, n_bins)
    total = counts.sum()
    if total == 0:
        return float("nan")
    filled = counts > 0
    return float(np.sum(counts[filled] / total * np.abs(accuracy[filled] - mean_confidence[filled])))


def negative_log_likelihood(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean -log p(true class) (natural log; probabilities floored as the calibration floors them): a proper score."""
    labels, probabilities = _as_labels_and_probs(y_true, probs)
    return calibration.negative_log_likelihood(calibration.logits_from_probabilities(probabilities), labels)


def brier_score(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean over images of the squared distance between the probabilities and the one-hot truth (0 best, 2 worst)."""
    labels, probabilities = _as_labels_and_probs(y_true, probs)
    one_hot = np.eye(probabilities.shape[1])[labels]
    return float(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """[C, C] counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def binary_roc_auc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney statistic, ties count one half); None without both classes."""
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_positive = int(positive.sum())
    n_negative = int(len(positive) - n_positive)
    if n_positive == 0 or n_negative == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # Average ranks (1-based) over runs of tied scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(scores)]))
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + 1 + end) / 2.0
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)


def roc_curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_positive = scores[order], positive[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    true_positives = np.cumsum(sorted_positive)[last_of_run]
    false_positives = (last_of_run + 1) - true_positives
    n_positive, n_negative = max(int(positive.sum()), 1), max(int((~positive).sum()), 1)
    return (
        np.r_[0.0, false_positives / n_negative],
        np.r_[0.0, true_positives / n_positive],
    )


def _safe_ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def compute_metrics(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str],
                    predictions: np.ndarray | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support, confusion matrix, one-vs-rest ROC-AUC, n, and
    calibration: ECE, NLL and Brier score (the last two are proper scores, far less noisy than ECE on ~100 images).

    ``predictions`` are the answers (class indices) the counts are taken from: by default the class of highest
    probability; a model's decision rule (desktop_app.core.decision) may give others. AUC and calibration read the
    probabilities either way.

    Every value is a plain Python number/list/dict (JSON-serialisable). Precision/recall/F1 of a class with no
    predictions / no samples is 0 (as scikit-learn's ``zero_division=0``); an undefined AUC is None and is left out
    of ``macro_roc_auc`` (None if no class has one).
    """
    labels = list(labels)
    y, probabilities = _as_labels_and_probs(y_true, probs)
    if probabilities.shape[1] != len(labels):
        raise ValueError(f"probs has {probabilities.shape[1]} columns but {len(labels)} labels were given")
    if predictions is None:
        predictions = probabilities.argmax(axis=1) if len(y) else np.zeros(0, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if predictions.shape != y.shape:
        raise ValueError(f"{predictions.shape[0] if predictions.ndim else 0} answers for {len(y)} images")
    matrix = confusion_matrix(y, predictions, len(labels))
    per_class: dict[str, dict[str, float | int]] = {}
    for index, label in enumerate(labels):
        true_positives = float(matrix[index, index])
        predicted = float(matrix[:, index].sum())
        support = int(matrix[index, :].sum())
        precision = _safe_ratio(true_positives, predicted)
        recall = _safe_ratio(true_positives, support)
        f1 = _safe_ratio(2 * precision * recall, precision + recall)
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    aucs = {label: binary_roc_auc(y == index, probabilities[:, index]) for index, label in enumerate(labels)}
    defined = [auc for auc in aucs.values() if auc is not None]
    return {
        "n": len(y),
        "accuracy": _safe_ratio(float(np.trace(matrix)), float(len(y))),
        "macro_f1": float(np.mean([scores["f1"] for scores in per_class.values()])) if labels else 0.0,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "labels": labels,
        "roc_auc_ovr": aucs,
        "macro_roc_auc": float(np.mean(defined)) if defined else None,
        "ece": expected_calibration_error(y, probabilities) if len(y) else None,
        "nll": negative_log_likelihood(y, probabilities) if len(y) else None,
        "brier": brier_score(y, probabilities) if len(y) else None,
    }


#: One held-out set for :func:`restated_metrics`: (true class indices, probabilities, answers or None = argmax).
HeldOutScores = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]


def restated_metrics(headline: dict[str, Any], labels: Sequence[str], test: HeldOutScores,
                     validation: HeldOutScores, extra: HeldOutScores | None = None) -> dict[str, Any]:
    """A model's stored metrics (``headline``) with the held-out figures recomputed after a change to its outputs
    or its answers (``python -m training recalibrate`` and ``decide``); other entries are kept."""
    restated = dict(headline)
    scored = compute_metrics(*test[:2], labels, test[2])
    restated.update({key: scored[key] for key in STORED_TEST_METRICS})
    restated["ece_after_calibration"] = scored["ece"]
    scored = compute_metrics(*validation[:2], labels, validation[2])
    restated["validation"] = {key: scored[key] for key in ("n", "accuracy", "macro_f1")}
    if extra is not None:
        scored = compute_metrics(*extra[:2], labels, extra[2])
        restated["extra_test"] = {key: scored[key] for key in ("n", "accuracy", "macro_f1", "per_class",
                                                               "macro_roc_auc")}
    return json.loads(json.dumps(restated, default=float))


def _pyplot():  # returns the matplotlib.pyplot module
    """matplotlib.pyplot on the non-interactive Agg backend (imported only when a plot is drawn)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_training_curves(history: dict[str, list[float]], path: Path) -> None:
    """One panel per metric (loss, accuracy, macro_f1...), training and validation curves together."""
    plt = _pyplot()
    metrics = sorted({name.removeprefix("val_") for name, values in history.items() if len(values)})
    metrics = [name for name in metrics if name not in ("lr", "learning_rate")] or ["loss"]
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            values = history.get(key)
            if values:
                axis.plot(np.arange(1, len(values) + 1), values, style, marker="o", markersize=3, label=key)
        axis.set_title(metric)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_confusion_matrix(matrix: Sequence[Sequence[int]] | np.ndarray, labels: Sequence[str], path: Path) -> None:
    """Counts with row-normalised shading (rows = true class)."""
    plt = _pyplot()
    counts = np.asarray(matrix, dtype=np.int64)
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape, dtype=np.float64), where=row_totals > 0)
    size = 1.2 + 1.1 * len(labels)
    figure, axis = plt.subplots(figsize=(size + 1.0, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for row in range(counts.shape[0]):
        for column in range(counts.shape[1]):
            colour = "white" if shares[row, column] > 0.5 else "black"
            axis.text(column, row, f"{counts[row, column]}\n{shares[row, column]:.0%}", ha="center", va="center",
                      color=colour, fontsize=9)
    axis.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title("Confusion matrix (test)")
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="share of true class")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_roc_curves(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str], path: Path) -> None:
    """One-vs-rest ROC curve per class, AUC in the legend."""
    plt = _pyplot()
    y, probabilities = _as_labels_and_probs(y_true, probs)
    figure, axis = plt.subplots(figsize=(4.8, 4.4))
    for index, label in enumerate(labels):
        positive = y == index
        auc = binary_roc_auc(positive, probabilities[:, index])
        if auc is None:
            continue
        false_rate, true_rate = roc_curve(positive, probabilities[:, index])
        axis.plot(false_rate, true_rate, label=f"{label} (AUC {auc:.3f})")
    axis.plot([0, 1], [0, 1], ":", color="grey", linewidth=1)
    axis.set_xlabel("false-positive rate")
    axis.set_ylabel("true-positive rate")
    axis.set_title("ROC, one vs rest (test)")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.01)
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_reliability_diagram(
    y_true: np.ndarray, probs_before: np.ndarray, probs_after: np.ndarray, path: Path, n_bins: int = 15
) -> None:
    """Accuracy against confidence per bin, before and after calibration, with each ECE."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(8.4, 4.0), sharey=True)
    centres = (np.arange(n_bins) + 0.5) / n_bins
    for axis, probs, title in ((axes[0], probs_before, "before calibration"), (axes[1], probs_after, "after")):
        counts, mean_confidence, accuracy = _reliability_bins(y_true, probs, n_bins)
        filled = counts > 0
        axis.bar(centres[filled], accuracy[filled], width=1.0 / n_bins, edgecolor="black", alpha=0.7,
                 label="accuracy")
        axis.plot(mean_confidence[filled], accuracy[filled], "o", color="darkred", markersize=3,
                  label="(mean confidence, accuracy)")
        axis.plot([0, 1], [0, 1], ":", color="grey")
        ece = expected_calibration_error(y_true, probs, n_bins)
        axis.set_title(f"{title}: ECE {ece:.3f}")
        axis.set_xlabel("confidence (top class)")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _json_ready(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats (to None) so json.dump writes strict JSON."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        return _json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_report(
    run_dir: Path,
    y_true: np.ndarray,
    probs_uncalibrated: np.ndarray,
    probs_calibrated: np.ndarray,
    labels: Sequence[str],
    history: dict[str, list[float]] | None,
) -> dict[str, Any]:
    """Write ``metrics.json`` and the four PNG plots into ``run_dir``; return the metrics dict.

    ``metrics.json`` = {"test": metrics of the calibrated probabilities, "test_uncalibrated": ...,
    "ece_before_calibration": ..., "ece_after_calibration": ...}.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    test = compute_metrics(y_true, probs_calibrated, labels)
    uncalibrated = compute_metrics(y_true, probs_uncalibrated, labels)
    report = _json_ready(
        {
            "test": test,
            "test_uncalibrated": uncalibrated,
            "ece_before_calibration": uncalibrated["ece"],
            "ece_after_calibration": test["ece"],
        }
    )
    (run_dir / METRICS_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_training_curves(history or {}, run_dir / TRAINING_CURVES_PNG)
    plot_confusion_matrix(test["confusion_matrix"], labels, run_dir / CONFUSION_MATRIX_PNG)
    plot_roc_curves(y_true, probs_calibrated, labels, run_dir / ROC_CURVES_PNG)
    plot_reliability_diagram(y_true, probs_uncalibrated, probs_calibrated, run_dir / RELIABILITY_DIAGRAM_PNG)
    return report
