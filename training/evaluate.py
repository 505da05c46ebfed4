"""Score any contract-following ONNX model on a labelled folder through onnxruntime (the app's own core)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from desktop_app.core.imageio import load_image
from desktop_app.core.inference import ModelSession
from desktop_app.core.preprocessing import preprocess_batch
from training import data as data_module
from training import report
from training import split as split_module


def labelled_samples(data_root: Path, split_csv: Path | None, subset: str, labels: list[str],
                     masks_root: Path | None = None) -> list:
    """The samples of ``data_root`` (only the ``subset`` rows of ``split_csv`` if given), checked against ``labels``."""
    dataset = data_module.discover_dataset(data_root, masks_root=masks_root)
    samples = list(dataset.samples)
    if split_csv is not None:
        split = split_module.read_split_csv(split_csv, dataset.root)
        samples = [s for s in samples if split.get(s.path) == subset]
        if not samples:
            raise data_module.DatasetError(f"no images of {data_root} are in the '{subset}' rows of {split_csv}")
    unknown = sorted({s.label for s in samples} - set(labels))
    if unknown:
        raise data_module.DatasetError(f"classes {unknown} in {data_root} are not among the model's labels {labels}")
    return samples


def labelled_images(data_root: Path, split_csv: Path | None, subset: str, labels: list[str],
                    input_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(model input [N, H, W, 3] by the app's preprocessing, label indices [N]) of a subset."""
    samples = labelled_samples(data_root, split_csv, subset, labels)
    images = preprocess_batch([load_image(s.path) for s in samples], input_size)
    return images, np.array([labels.index(s.label) for s in samples])


def evaluate(model_path: Path, data_root: Path, split_csv: Path | None = None, subset: str = "test",
             masks_root: Path | None = None, batch_size: int = 16) -> dict:
    """Metrics of ``model_path`` on ``data_root`` (optionally only the ``subset`` rows of ``split_csv``).

    Classes in the data must be a subset of the model's labels (e.g. a benign/malignant-only data set). The counts
    (accuracy, recall, ...) are of the model's answers, as the app gives them: its decision rule, if it has one.
    """
    session = ModelSession.open(model_path)
    labels = list(session.labels)
    samples = labelled_samples(data_root, split_csv, subset, labels, masks_root)
    probabilities, answers = [], []
    for start in range(0, len(samples), batch_size):
        images = [load_image(s.path) for s in samples[start:start + batch_size]]
        predictions = session.classify(images)
        probabilities.extend(p.probabilities for p in predictions)
        answers.extend(p.predicted_index for p in predictions)
    y_true = np.array([labels.index(s.label) for s in samples])
    metrics = report.compute_metrics(y_true, np.asarray(probabilities), labels, np.asarray(answers))
    metrics["model"] = {"path": str(model_path), "version": session.info.version,
                        "decision": session.info.decision_rule.describe()}
    metrics["data"] = {"root": str(data_root), "subset": subset if split_csv else "all", "n": len(samples)}
    return json.loads(json.dumps(metrics, default=float))
