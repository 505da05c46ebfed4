"""Two models on the same held-out images: each one's metrics, and whether their difference is more than noise.

    python bench/paired_models.py --old assets/model.onnx --new runs/<run>/model.onnx \
        --data ../shared/data/busi --split training/splits/busi_seed0.csv [--subset test] [--device TEXT] [--name NAME]

Both models classify the same images through the app's path (as in ``bench/compare_models.py``). Besides accuracy,
macro-F1, malignant recall, macro ROC-AUC, ECE, NLL and Brier score of each, it reports the images only one of them
gets right and the exact two-sided McNemar p-value on those discordant pairs: on 96 test images a few points of
accuracy is usually noise, and this says how likely. ``--device`` keeps one scanner's images of a BUS-BRA-style set
(its MANIFEST.tsv names the scanner). Writes ``bench/out/<name>.json`` (default ``paired_models``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import write_result
from bench.compare_models import add_held_out_arguments, answers, devices_of, evaluate_both, held_out


def mcnemar_exact_p(only_old_right: int, only_new_right: int) -> float:
    """Two-sided exact McNemar test: P(a split of the discordant pairs at least this uneven | no difference)."""
    discordant = only_old_right + only_new_right
    if discordant == 0:
        return 1.0
    smaller = min(only_old_right, only_new_right)
    tail = sum(math.comb(discordant, k) for k in range(smaller + 1)) / 2**discordant
    return min(1.0, 2 * tail)


def summary(metrics: dict, labels: tuple[str, ...]) -> dict:
    per_class = metrics.get("per_class", {})
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "malignant_recall": per_class.get("malignant", {}).get("recall") if "malignant" in labels else None,
        "macro_roc_auc": metrics.get("macro_roc_auc"),
        "ece": metrics.get("ece"),
        "nll": metrics.get("nll"),
        "brier": metrics.get("brier"),
        "model_version": metrics.get("model_version"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True, help="the model in use")
    parser.add_argument("--new", type=Path, required=True, help="the candidate")
    add_held_out_arguments(parser, result_name="paired_models")
    parser.add_argument("--device", help="only the images whose scanner in --data's MANIFEST.tsv contains this text "
                        "(case-insensitive; BUS-BRA), e.g. Toshiba")
    args = parser.parse_args(argv)

    pairs = held_out(args.data, args.split, args.subset)
    if args.device:
        device_of = devices_of(args.data)
        pairs = [(path, label) for path, label in pairs if args.device.lower() in device_of.get(path, "").lower()]
        if not pairs:
            raise SystemExit(f"no {args.subset} images from a device matching {args.device!r}")
    (old, p_old), (new, p_new), labels = evaluate_both(args.old, args.new, pairs)
    truth = np.array([labels.index(label) for _, label in pairs])
    a_old, a_new = answers(args.old, p_old), answers(args.new, p_new)  # each model's own rule
    old_right, new_right = a_old == truth, a_new == truth
    only_old, only_new = int(np.sum(old_right & ~new_right)), int(np.sum(new_right & ~old_right))
    result = {
        "images": len(pairs),
        "data": str(args.data),
        "subset": args.subset if args.split else "all images under --data",
        "split": str(args.split) if args.split else None,
        "device": args.device,
        "old": {"model": str(args.old), **summary(old, labels)},
        "new": {"model": str(args.new), **summary(new, labels)},
        "only_old_right": only_old,
        "only_new_right": only_new,
        "mcnemar_exact_p": round(mcnemar_exact_p(only_old, only_new), 4),
        "prediction_agreement": float(np.mean(a_old == a_new)),
    }
    print(write_result(args.name, result))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
