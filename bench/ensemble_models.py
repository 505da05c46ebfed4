"""What averaging several models' probabilities would score on held-out images, for every combination of them.

    python bench/ensemble_models.py --models assets/model.onnx runs/A/model.onnx runs/B/model.onnx \
        --data ../shared/data/busi --split training/splits/busi_seed0.csv [--subset test] [--name NAME]

Each model classifies the images through the app's path (as in ``bench/compare_models.py``); an ensemble's
probabilities are the mean of its members' calibrated probabilities. Prints accuracy, macro-F1, malignant recall,
macro ROC-AUC and ECE of each single model and each combination, and writes ``bench/out/<name>.json`` (default
``ensemble_models``). An ensemble costs its members' inference time and size, so this measures whether that buys
anything before anyone builds one.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import write_result
from bench.compare_models import add_held_out_arguments, evaluate, held_out
from bench.paired_models import summary


def member_name(model: Path) -> str:
    """A short name for a model file: its run folder's name (``assets`` for the bundled one)."""
    return model.parent.name or model.stem


def ensemble_rows(probabilities: dict[str, np.ndarray], truth: np.ndarray, labels: tuple[str, ...]) -> list[dict]:
    """Metrics of every non-empty combination of members, singles first, then pairs, and so on."""
    from training.report import compute_metrics

    rows = []
    for size in range(1, len(probabilities) + 1):
        for members in itertools.combinations(probabilities, size):
            mean = np.mean([probabilities[name] for name in members], axis=0)
            rows.append({"members": list(members), **summary(compute_metrics(truth, mean, labels), labels)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="two or more contract ONNX models")
    add_held_out_arguments(parser, result_name="ensemble_models")
    args = parser.parse_args(argv)
    names = [member_name(model) for model in args.models]
    if len(args.models) < 2 or len(set(names)) != len(names):
        parser.error("give two or more models from differently named folders")

    pairs = held_out(args.data, args.split, args.subset)
    probabilities: dict[str, np.ndarray] = {}
    labels: tuple[str, ...] = ()
    for name, model in zip(names, args.models):
        _, probabilities[name], model_labels = evaluate(model, pairs)
        if labels and model_labels != labels:
            raise SystemExit(f"{model} names different classes: {model_labels} vs {labels}")
        labels = model_labels
    truth = np.array([labels.index(label) for _, label in pairs])
    rows = ensemble_rows(probabilities, truth, labels)
    print(f"{len(pairs)} images of {args.data} ({args.subset if args.split else 'all'}); mean of calibrated "
          "probabilities")
    print(f"{'members':48s} {'acc':>6s} {'F1':>6s} {'malRec':>6s} {'AUC':>6s} {'ECE':>6s}")
    for row in rows:
        figures = [row[key] for key in ("accuracy", "macro_f1", "malignant_recall", "macro_roc_auc", "ece")]
        print(f"{' + '.join(row['members']):48s} " + " ".join(
            f"{value:6.3f}" if value is not None else f"{'-':>6s}" for value in figures))
    path = write_result(args.name, {"images": len(pairs), "data": str(args.data), "split": str(args.split),
                                    "subset": args.subset, "models": dict(zip(names, map(str, args.models))),
                                    "rows": rows})
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
