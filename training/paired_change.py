"""What one change does to several models: each BEFORE/AFTER pair on its own held-out split, then the mean change.

``python -m training.paired_change BEFORE.onnx AFTER.onnx [BEFORE.onnx AFTER.onnx ...]``

For a change applied to models that already exist (a re-export, a recalibration), each pair is one model before and
after it, so both halves of a pair must come from the same split (seed and group order); the pairs may be on
different splits and seeds. The figures are read from each model's metadata (as ``training.split_spread`` reads
them), nothing is scored again. Prints one markdown row per pair with the after-minus-before change of each figure
and the cancers found on both test sets, then the mean change (and the summed change of cancers found).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core import contract
from training.split_spread import COLUMNS, HeldOut, read_held_out, table_command


@dataclass(frozen=True)
class Cancers:
    """Malignant images found / present on the BUSI test split and on the extra (BUS-BRA) test split."""

    busi: tuple[int, int] | None
    extra: tuple[int, int] | None

    @property
    def found(self) -> int | None:
        parts = [part for part in (self.busi, self.extra) if part is not None]
        return sum(found for found, _ in parts) if parts else None


def _found(section: dict, label: str = "malignant") -> tuple[int, int] | None:
    scores = section.get("per_class", {}).get(label, {})
    if "recall" not in scores or "support" not in scores:
        return None
    support = int(scores["support"])
    return round(float(scores["recall"]) * support), support


def read_cancers(model: Path) -> Cancers:
    """Cancers found on ``model``'s own held-out images, from its metadata (None where the counts are not stored)."""
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(model), load_external_data=False).metadata_props}
    metrics = json.loads(meta[contract.META_METRICS])
    extra = metrics.get("extra_test")
    return Cancers(_found(metrics), _found(extra) if extra else None)


def _same_split(before: HeldOut, after: HeldOut) -> bool:
    return (before.split_seed, before.split_order, before.n_test, before.n_extra) == (
        after.split_seed, after.split_order, after.n_test, after.n_extra)


def _cell(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.3f}"


def _count(cancers: Cancers) -> str:
    parts = [f"{part[0]}/{part[1]}" for part in (cancers.busi, cancers.extra) if part is not None]
    return " + ".join(parts) if parts else "-"


def table(paths: list[Path]) -> str:
    """Markdown table of the pairs' changes and their mean; ValueError for an odd count or a pair across splits."""
    if not paths or len(paths) % 2:
        raise ValueError("give models in BEFORE AFTER pairs")
    heads = ["before → after", "split"] + [f"Δ {head}" for head, _ in COLUMNS] + ["cancers found before → after"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    changes: list[list[float]] = []
    found_change = 0
    found_known = True
    for before_path, after_path in zip(paths[::2], paths[1::2]):
        before, after = read_held_out(before_path), read_held_out(after_path)
        if not _same_split(before, after):
            raise ValueError(f"{before_path} and {after_path} were not scored on the same split: a pair is one model "
                             "before and after the change")
        change = [b - a for a, b in zip(before.scores, after.scores)]
        changes.append(change)
        cancers = read_cancers(before_path), read_cancers(after_path)
        if cancers[0].found is None or cancers[1].found is None:
            found_known = False
        else:
            found_change += cancers[1].found - cancers[0].found
        split = f"seed {before.split_seed}"
        lines.append("| " + " | ".join([f"{before_path} → {after_path}", split, *map(_cell, change),
                                        f"{_count(cancers[0])} → {_count(cancers[1])}"]) + " |")
    means = []
    for index in range(len(COLUMNS)):
        finite = [change[index] for change in changes if math.isfinite(change[index])]
        means.append(sum(finite) / len(finite) if finite else math.nan)
    summed = f"{found_change:+d} in all" if found_known else "-"
    lines.append("| " + " | ".join([f"mean change ({len(changes)} pairs)", "", *map(_cell, means), summed]) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    return table_command(argv, __doc__, "paired_change", table)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
