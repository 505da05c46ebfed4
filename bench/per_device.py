"""Held-out scores per scanner: how each model does on each device a BUS-BRA-style manifest names.

    python bench/per_device.py --models assets/model.onnx runs/<run>/model.onnx \
        --data ../shared/data/busbra --split training/splits/busbra_seed0.csv [--subset test] [--name NAME]

Each model classifies the chosen subset's images through the app's path (as in ``bench/compare_models.py``); the
images are then grouped by the manifest's ``device`` column, and accuracy, malignant recall, macro ROC-AUC and the
count of each group are reported. With a leave-one-scanner-out run (``train --hold-out-device NAME``) this says how
a model does on a scanner it never saw, next to one that trained on other patients of that scanner. Writes
``bench/out/<name>.json`` (default ``per_device``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import write_result
from bench.compare_models import add_held_out_arguments, answers, devices_of, evaluate, held_out
from bench.ensemble_models import member_name
from bench.paired_models import summary


def per_device_rows(probabilities: np.ndarray, truth: np.ndarray, devices: list[str], labels: tuple[str, ...],
                    answers: np.ndarray | None = None) -> list[dict]:
    """Metrics of each device's images (largest group first), then of all of them; counts are of ``answers``
    (the model's decision rule) where given, else of the highest probability."""
    from training.report import compute_metrics

    names = sorted(set(devices), key=lambda name: (-devices.count(name), name))
    rows = []
    for name in [*names, "all"]:
        chosen = np.array([name in ("all", device) for device in devices])
        rows.append({"device": name, "images": int(chosen.sum()),
                     **summary(compute_metrics(truth[chosen], probabilities[chosen], labels,
                                               None if answers is None else answers[chosen]), labels)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="contract ONNX models")
    add_held_out_arguments(parser, "BUS-BRA-style root with a MANIFEST.tsv", result_name="per_device")
    args = parser.parse_args(argv)

    pairs = held_out(args.data, args.split, args.subset)
    device_of = devices_of(args.data)
    devices = [device_of.get(path, "unknown") for path, _ in pairs]
    result: dict = {"images": len(pairs), "data": str(args.data), "split": str(args.split), "subset": args.subset,
                    "models": {}}
    print(f"{'model':40s} {'device':32s} {'n':>4s} {'acc':>6s} {'malRec':>6s} {'AUC':>6s}")
    for model in args.models:
        _, probabilities, labels = evaluate(model, pairs)
        truth = np.array([labels.index(label) for _, label in pairs])
        rows = per_device_rows(probabilities, truth, devices, labels, answers(model, probabilities))
        result["models"][member_name(model)] = {"model": str(model), "rows": rows}
        for row in rows:
            figures = [row["accuracy"], row["malignant_recall"], row["macro_roc_auc"]]
            print(f"{member_name(model):40s} {row['device'][:32]:32s} {row['images']:4d} " + " ".join(
                f"{value:6.3f}" if value is not None else f"{'-':>6s}" for value in figures))
    print(write_result(args.name, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
