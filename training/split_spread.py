"""Split-to-split spread of a recipe's held-out figures: one row per model, then mean ± sample standard deviation.

``python -m training.split_spread assets/model.onnx runs/r34_r5_recipe_split1/model.onnx ...``

Each model is read from its own metadata (the contract's ``metrics`` and ``training`` entries): the figures on its own
held-out split and that split's seed and group order (``--split-order``; models exported before it existed used
"size"). Nothing is scored again, so the models must come from one recipe trained on different splits (repeated
group-aware hold-out), and two models on one split are refused: their spread would be seed-to-seed, not
split-to-split.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core import contract
from training.split import DEFAULT_SPLIT_ORDER

#: (column heading, value format) in table order; the values come from HeldOut.values().
COLUMNS = (
    ("BUSI test acc", "{:.3f}"), ("macro-F1", "{:.3f}"), ("malignant recall", "{:.3f}"), ("macro AUC", "{:.3f}"),
    ("ECE", "{:.3f}"), ("BUS-BRA acc", "{:.3f}"), ("BUS-BRA AUC", "{:.3f}"), ("BUS-BRA malignant recall", "{:.3f}"),
)


@dataclass(frozen=True)
class HeldOut:
    """One model's figures on its own held-out split."""

    name: str
    split_seed: int
    split_order: str  # training/split.py SPLIT_ORDERS
    n_test: int
    n_extra: int
    scores: tuple[float, ...]  # in COLUMNS order; NaN where the model has no extra test set


def _recall(scores: dict, label: str) -> float:
    return float(scores.get("per_class", {}).get(label, {}).get("recall", math.nan))


def read_held_out(model: Path) -> HeldOut:
    """The held-out figures and split seed stored in ``model``'s metadata."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        proto = onnx.load(str(model), load_external_data=False)
    except DecodeError as error:
        raise ValueError(f"{model}: not an ONNX model ({error})") from error
    meta = {p.key: p.value for p in proto.metadata_props}
    missing = [key for key in (contract.META_METRICS, contract.META_TRAINING) if key not in meta]
    if missing:
        raise ValueError(f"{model}: no {', '.join(missing)} metadata; not a model exported by `python -m training`")
    metrics = json.loads(meta[contract.META_METRICS])
    training = json.loads(meta[contract.META_TRAINING])
    extra = metrics.get("extra_test", {})
    scores = (
        metrics["accuracy"], metrics["macro_f1"], _recall(metrics, "malignant"), metrics.get("macro_roc_auc", math.nan),
        metrics.get("ece", math.nan), extra.get("accuracy", math.nan), extra.get("macro_roc_auc", math.nan),
        _recall(extra, "malignant"),
    )
    split = training["split"]
    return HeldOut(str(model), int(split["seed"]), str(split.get("order", DEFAULT_SPLIT_ORDER)), int(metrics["n"]),
                   int(extra.get("n", 0)), tuple(float(value) for value in scores))


def _split_name(row: HeldOut) -> str:
    """"seed 3", or "seed 3, shuffled" for a split other than the split of record's largest-first order."""
    return f"seed {row.split_seed}" + ("" if row.split_order == DEFAULT_SPLIT_ORDER else f", {row.split_order}")


def mean_and_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1) of the finite values; NaN where too few."""
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return math.nan, math.nan
    mean = sum(finite) / len(finite)
    if len(finite) < 2:
        return mean, math.nan
    return mean, math.sqrt(sum((value - mean) ** 2 for value in finite) / (len(finite) - 1))


def table(rows: list[HeldOut]) -> str:
    """Markdown table: one row per model, then the mean ± std row."""
    splits = [_split_name(row) for row in rows]
    repeated = sorted({split for split in splits if splits.count(split) > 1})
    if repeated:
        raise ValueError(f"split(s) {', '.join(repeated)} given more than once: give one model per split")
    heads = ["model", "split", "n BUSI / BUS-BRA"] + [head for head, _ in COLUMNS]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for row in rows:
        cells = [row.name, _split_name(row), f"{row.n_test} / {row.n_extra}"]
        cells += ["-" if math.isnan(value) else fmt.format(value) for value, (_, fmt) in zip(row.scores, COLUMNS)]
        lines.append("| " + " | ".join(cells) + " |")
    summary = [f"mean ± std ({len(rows)} split{'s' if len(rows) > 1 else ''})", "", ""]
    for index, (_, fmt) in enumerate(COLUMNS):
        mean, std = mean_and_std([row.scores[index] for row in rows])
        summary.append("-" if math.isnan(mean) else fmt.format(mean) + ("" if math.isnan(std) else " ± " + fmt.format(std)))
    lines.append("| " + " | ".join(summary) + " |")
    return "\n".join(lines)


def table_command(argv: list[str], usage: str, prog: str, render: Callable[[list[Path]], str]) -> int:
    """A table-of-models command line: ``usage`` without arguments (2), the table, or ``prog: error`` (1)."""
    if not argv:
        print(usage.strip(), file=sys.stderr)
        return 2
    try:
        print(render([Path(name) for name in argv]))
    except (OSError, ValueError, KeyError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    return table_command(argv, __doc__, "split_spread", lambda paths: table([read_held_out(path) for path in paths]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
