"""Accuracy and macro-F1 of the fp32 model vs its int8 quantization on the held-out split, plus agreement.

    python bench/compare_models.py --fp32 assets/model.onnx --int8 assets/model_int8.onnx \
        --data /work/shared/data/busi --split runs/<run>/split.csv [--subset test]

Both models classify the same images through the app's path (``desktop_app.core``: loader, preprocessing,
onnxruntime session); metrics come from the training code's ``training.report.compute_metrics``. The images of
``--subset`` (default ``test``) in ``--split`` are used; without ``--split`` every image under ``--data`` is
(only meaningful for data the model never saw). Writes ``bench/out/compare_models.json`` and prints the drops in
points (percentage points), the quantity the int8 acceptance rule (drop <= 1 point) is about.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import write_result
from desktop_app.core.batch import classify_files
from desktop_app.core.imageio import iter_image_files
from desktop_app.core.inference import ModelSession


def add_held_out_arguments(parser: argparse.ArgumentParser, data_help: str = "image root the split's paths are "
                           "relative to", result_name: str | None = None) -> None:
    """--data, --split and --subset (what ``held_out`` takes), and --name of the result file when it has one."""
    parser.add_argument("--data", type=Path, required=True, help=data_help)
    parser.add_argument("--split", type=Path, help="split.csv (path,label,group,split)")
    parser.add_argument("--subset", default="test", help="split rows to use (default test)")
    if result_name is not None:
        parser.add_argument("--name", default=result_name, help=f"result name under bench/out/ (default {result_name})")


def held_out(data: Path, split_csv: Path | None, subset: str) -> list[tuple[Path, str]]:
    """(path, label) pairs of the chosen subset; labels are the class folder names without a split file."""
    if split_csv is None:
        return [(path, path.parent.name) for path in iter_image_files([data])]
    with open(split_csv, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("split") == subset]
    if not rows:
        raise SystemExit(f"{split_csv}: no rows with split == {subset}")
    pairs = []
    for row in rows:
        path = Path(row["path"])
        pairs.append((path if path.is_absolute() else data / path, row["label"]))
    return pairs


def devices_of(data: Path) -> dict[Path, str]:
    """Image path -> device, from the data set's MANIFEST.tsv."""
    from training.data import discover_busbra

    return {sample.path: sample.device or "unknown" for sample in discover_busbra(data).samples}


def evaluate(model: Path, pairs: list[tuple[Path, str]]) -> tuple[dict, np.ndarray, tuple[str, ...]]:
    from training.report import compute_metrics

    session = ModelSession.open(model)
    labels = session.labels
    rows = list(classify_files(session, [p for p, _ in pairs]))
    failed = [row.error for row in rows if not row.ok]
    if failed:
        raise SystemExit(f"{len(failed)} images could not be classified, e.g. {failed[0]}")
    unknown = sorted({label for _, label in pairs} - set(labels))
    if unknown:
        raise SystemExit(f"labels {unknown} are not among the model's classes {list(labels)}")
    y_true = np.array([labels.index(label) for _, label in pairs])
    probabilities = np.stack([row.prediction.probabilities for row in rows])
    metrics = compute_metrics(y_true, probabilities, labels, np.array([row.prediction.predicted_index for row in rows]))
    metrics["model_version"] = session.info.version
    return metrics, probabilities, labels


def answers(model: Path, probabilities: np.ndarray) -> np.ndarray:
    """The class indices ``model`` answers for these probabilities: its decision rule (desktop_app.core.decision)."""
    return np.asarray(ModelSession.open(model).info.decision_rule.decide(probabilities))


def evaluate_both(first: Path, second: Path, pairs: list[tuple[Path, str]]
                  ) -> tuple[tuple[dict, np.ndarray], tuple[dict, np.ndarray], tuple[str, ...]]:
    """(metrics, probabilities) of each model on the same images, and their class names (which must agree)."""
    metrics_first, probabilities_first, labels = evaluate(first, pairs)
    metrics_second, probabilities_second, labels_second = evaluate(second, pairs)
    if labels != labels_second:
        raise SystemExit(f"the models name different classes: {labels} vs {labels_second}")
    return (metrics_first, probabilities_first), (metrics_second, probabilities_second), labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fp32", type=Path, required=True)
    parser.add_argument("--int8", type=Path, required=True)
    add_held_out_arguments(parser)
    args = parser.parse_args(argv)

    pairs = held_out(args.data, args.split, args.subset)
    (fp32, p32), (int8, p8), _ = evaluate_both(args.fp32, args.int8, pairs)
    keys = ("accuracy", "macro_f1", "macro_roc_auc", "ece", "nll", "brier")
    result = {
        "images": len(pairs),
        "subset": args.subset if args.split else "all images under --data",
        "split": str(args.split) if args.split else None,
        "fp32": {
            "model": str(args.fp32),
            **{k: fp32[k] for k in (*keys, "model_version", "confusion_matrix")},
        },
        "int8": {
            "model": str(args.int8),
            **{k: int8[k] for k in (*keys, "model_version", "confusion_matrix")},
        },
        "drop_points": {
            k: round(100 * (fp32[k] - int8[k]), 2) for k in ("accuracy", "macro_f1") if fp32[k] is not None
        },
        # The answers the metrics score: each model's own decision rule, not the highest probability.
        "prediction_agreement": float(np.mean(answers(args.fp32, p32) == answers(args.int8, p8))),
        "max_abs_probability_diff": float(np.max(np.abs(p32 - p8))),
    }
    print(write_result("compare_models", result))
    print(json.dumps({k: v for k, v in result.items() if k not in ("fp32", "int8")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
