"""What would it cost to call more images malignant? A validation-fitted malignant threshold, scored on test sets.

    python bench/malignant_threshold.py --models assets/model.onnx [runs/<run>/model.onnx ...] \
        --data ../shared/data/busi --split training/splits/busi_seed0.csv \
        [--other-data ../shared/data/busbra --other-split training/splits/busbra_seed0.csv] [--target-recall 0.85]

The app answers with the class of highest (calibrated) probability. This script fits a second rule on the BUSI
validation images: "malignant" whenever the malignant probability reaches a threshold t, else the highest class,
with t the largest value that calls at least ``--target-recall`` of the validation cancers malignant (the rule only
adds "malignant" answers, never removes one). Both rules are then scored on the BUSI test images and, with
``--other-data``, on the other data set's test images (e.g. BUS-BRA's held-out patients): accuracy, macro-F1 (BUSI),
cancers found, images wrongly called malignant and weighted errors (a missed cancer counted
``MISSED_CANCER_COST`` times: training/RESULTS.md, "Shipping criterion"). The test images never choose t. A third
rule needs no fitting: the cost-weighted (Bayes) decision for that cost, the class of highest probability × cost,
where only malignant's cost differs from 1 (with calibrated probabilities, the answer of least expected cost).
Writes ``bench/out/<name>.json``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.calibration_scores import AFTER, load_subset, stage_probabilities
from bench.common import model_labels_and_size, write_result
from desktop_app.core.decision import DecisionRule
from training.paired_change import MISSED_CANCER_COST, weighted_errors
from training.report import compute_metrics

MALIGNANT = "malignant"


def fit_threshold(probabilities: np.ndarray, y_true: np.ndarray, malignant: int, target_recall: float) -> float:
    """Largest malignant-probability threshold at which at least ``target_recall`` of the cancers reach it."""
    scores = np.sort(probabilities[y_true == malignant, malignant])[::-1]
    if not len(scores):
        raise ValueError("no malignant image to fit the threshold on")
    needed = min(len(scores), max(1, math.ceil(target_recall * len(scores) - 1e-9)))
    return float(scores[needed - 1])


def decide(probabilities: np.ndarray, malignant: int, threshold: float | None) -> np.ndarray:
    """Class index per image: the highest probability, or malignant where its probability reaches ``threshold``."""
    predictions = probabilities.argmax(axis=1)
    if threshold is not None:
        predictions = np.where(probabilities[:, malignant] >= threshold, malignant, predictions)
    return predictions


def decide_cost_weighted(probabilities: np.ndarray, labels: list[str], cost: float = MISSED_CANCER_COST) -> np.ndarray:
    """Class index per image of least expected cost when a missed cancer costs ``cost`` and any other error 1 (the
    rule a model carries as ``decision`` metadata: desktop_app.core.decision)."""
    return DecisionRule.cost_weighted(labels, {MALIGNANT: cost}).decide(probabilities)


def score(y_true: np.ndarray, predictions: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, macro-F1, cancers found (of how many) and non-cancers called malignant, for one rule's answers."""
    malignant = labels.index(MALIGNANT)
    metrics = compute_metrics(y_true, np.eye(len(labels))[predictions], labels)
    found, cancers = int(np.sum((predictions == malignant) & (y_true == malignant))), int(np.sum(y_true == malignant))
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "cancers_found": found,
        "cancers": cancers,
        "false_malignant": int(np.sum((predictions == malignant) & (y_true != malignant))),
        "weighted_errors": weighted_errors(len(y_true), metrics["accuracy"], (found, cancers)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--data", type=Path, required=True, help="BUSI-style root the split's paths are relative to")
    parser.add_argument("--split", type=Path, required=True, help="split.csv with val (fit) and test rows")
    parser.add_argument("--other-data", type=Path, help="a second data set scored on its test rows (e.g. BUS-BRA)")
    parser.add_argument("--other-split", type=Path, help="its split.csv")
    parser.add_argument("--target-recall", type=float, default=0.85,
                        help="share of validation cancers the threshold must catch (default 0.85)")
    parser.add_argument("--name", default="malignant_threshold", help="result name under bench/out/")
    args = parser.parse_args(argv)
    if (args.other_data is None) != (args.other_split is None):
        parser.error("--other-data and --other-split go together")
    if not 0 < args.target_recall <= 1:
        parser.error("--target-recall must be in (0, 1]")

    rows = []
    for model_path in args.models:
        labels, size = model_labels_and_size(model_path)
        malignant = labels.index(MALIGNANT)
        subsets = {"busi_val": (args.data, args.split, "val"), "busi_test": (args.data, args.split, "test")}
        if args.other_data is not None:
            subsets["other_test"] = (args.other_data, args.other_split, "test")
        outputs = {}
        for name, (data, split, subset) in subsets.items():
            images, y_true = load_subset(data, split, subset, labels, size)
            outputs[name] = (stage_probabilities(model_path, images)[AFTER], y_true)
        threshold = fit_threshold(*outputs["busi_val"], malignant, args.target_recall)
        row: dict = {"model": str(model_path), "threshold": threshold}
        print(f"{model_path}: malignant threshold {threshold:.3f} (fitted on BUSI validation)")
        for name, (probabilities, y_true) in outputs.items():
            answers = {"argmax": decide(probabilities, malignant, None),
                       "threshold": decide(probabilities, malignant, threshold),
                       "cost_weighted": decide_cost_weighted(probabilities, labels)}
            row[name] = {rule: score(y_true, predictions, labels) for rule, predictions in answers.items()}
            for rule, result in row[name].items():
                print(f"  {name:10s} {rule:13s} accuracy {result['accuracy']:.3f}  macro-F1 {result['macro_f1']:.3f}  "
                      f"cancers {result['cancers_found']}/{result['cancers']}  "
                      f"wrongly malignant {result['false_malignant']}  weighted errors {result['weighted_errors']}")
        rows.append(row)
    path = write_result(args.name, {"data": str(args.data), "split": str(args.split),
                                    "other_data": str(args.other_data or ""), "target_recall": args.target_recall,
                                    "models": rows})
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
