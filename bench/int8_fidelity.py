"""How closely int8 variants of a model follow its fp32 answers, measured without the test images.

    python bench/int8_fidelity.py --model assets/model.onnx --data ../shared/data/busi \
        --split training/splits/busi_seed0.csv --other-data ../shared/data/busbra \
        --other-split training/splits/busbra_seed0.csv --variants stem_quantized:MinMax:0 stem_float:MinMax:1

Each variant ``NAME:CALIBRATION:FLOAT_FIRST_CONVS`` is quantized by ``bench/quantize.py`` (64 calibration images
from the training rows of ``--split``, as the bundled int8 copy) and scored against the fp32 model on a fidelity set
that holds no test image and no calibration image: the validation rows of ``--split``, ``--per-set`` other training
rows of it, and ``--per-set`` training rows of ``--other-split``. No labels are used but the validation accuracy
printed beside. Writes ``bench/out/<--name>.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import write_result
from bench.compare_models import answers, evaluate
from bench.quantize import quantize_model, training_images

CALIBRATION_COUNT = 64


def split_rows(data: Path, split_csv: Path, subset: str) -> list[tuple[Path, str]]:
    """(path, label) of the rows of ``split_csv`` whose split is ``subset``."""
    with open(split_csv, newline="", encoding="utf-8") as handle:
        return [
            (data / row["path"], row["label"]) for row in csv.DictReader(handle) if row["split"] == subset
        ]


def fidelity_set(
    data: Path,
    split_csv: Path,
    other_data: Path | None,
    other_split: Path | None,
    calibration: list[Path],
    per_set: int,
    seed: int = 1,
) -> tuple[list[tuple[Path, str]], int]:
    """The images the variants are scored on, and how many of them (the first ones) are validation rows."""
    rng = np.random.default_rng(seed)
    used = {path.resolve() for path in calibration}
    validation = split_rows(data, split_csv, "val")
    train = [row for row in split_rows(data, split_csv, "train") if row[0].resolve() not in used]
    chosen = validation + [train[i] for i in rng.permutation(len(train))[:per_set]]
    if other_data is not None and other_split is not None:
        other = split_rows(other_data, other_split, "train")
        chosen += [other[i] for i in rng.permutation(len(other))[:per_set]]
    return chosen, len(validation)


def score(
    name: str,
    model: Path,
    reference: tuple[np.ndarray, np.ndarray],
    pairs: list[tuple[Path, str]],
    n_validation: int,
) -> dict:
    """Agreement of ``model``'s answers with the reference answers, and how far its probabilities move."""
    _, probabilities, labels = evaluate(model, pairs)
    reference_probabilities, reference_answers = reference
    given = answers(model, probabilities)
    moved = np.abs(probabilities - reference_probabilities).max(axis=1)
    truth = np.array([labels.index(label) for _, label in pairs[:n_validation]])
    return {
        "name": name,
        "agreement": float(np.mean(given == reference_answers)),
        "validation_agreement": float(np.mean(given[:n_validation] == reference_answers[:n_validation])),
        "mean_abs_probability_change": float(moved.mean()),
        "p99_abs_probability_change": float(np.quantile(moved, 0.99)),
        "max_abs_probability_change": float(moved.max()),
        "validation_accuracy": float(np.mean(given[:n_validation] == truth)) if n_validation else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="fp32 contract model")
    parser.add_argument(
        "--data", type=Path, required=True, help="image root of --split (calibration comes from it)"
    )
    parser.add_argument("--split", type=Path, required=True, help="split.csv (path,label,group,split)")
    parser.add_argument("--other-data", type=Path, help="a second data set's image root")
    parser.add_argument("--other-split", type=Path, help="its split.csv (training rows are used)")
    parser.add_argument(
        "--per-set", type=int, default=150, help="training images drawn from each split (150)"
    )
    parser.add_argument("--variants", nargs="+", required=True, help="NAME:CALIBRATION:FLOAT_FIRST_CONVS ...")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "out" / "int8_variants")
    parser.add_argument("--name", default="int8_fidelity", help="result name under bench/out/")
    args = parser.parse_args(argv)

    calibration = training_images(args.data, args.split, CALIBRATION_COUNT)
    pairs, n_validation = fidelity_set(
        args.data, args.split, args.other_data, args.other_split, calibration, args.per_set
    )
    _, probabilities, _ = evaluate(args.model, pairs)
    reference = (probabilities, answers(args.model, probabilities))
    rows = []
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        name, method, first = variant.split(":")
        out = args.out_dir / f"{name}.onnx"
        quantize_model(args.model, calibration, out, calibration_method=method, float_first_convs=int(first))
        rows.append(
            {
                "calibration": method,
                "float_first_convs": int(first),
                **score(name, out, reference, pairs, n_validation),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "model": str(args.model),
        "images": len(pairs),
        "validation_images": n_validation,
        "calibration_images": len(calibration),
        "variants": rows,
    }
    print(write_result(args.name, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
