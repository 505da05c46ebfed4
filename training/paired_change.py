"""What one change does to several models: each BEFORE/AFTER pair on its own held-out split, then the mean change.

``python -m training.paired_change BEFORE.onnx AFTER.onnx [BEFORE.onnx AFTER.onnx ...]``

For a change applied to models that already exist (a re-export, a recalibration), each pair is one model before and
after it, so both halves of a pair must come from the same split (seed and group order); the pairs may be on
different splits and seeds. The figures are read from each model's metadata (as ``training.split_spread`` reads
them), nothing is scored again. Prints one markdown row per pair with the after-minus-before change of each figure,
the weighted errors and the cancers found on both test sets, then the mean change (and the summed changes of the
weighted errors and of the cancers found).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core import contract
from training.split_spread import COLUMNS, HeldOut, read_held_out, table_command

#: The operating-point rule of training/RESULTS.md ("Shipping criterion"): a cancer the model misses counts as
#: much as this many other wrong answers (a benign or normal image called malignant, a benign called normal, ...).
MISSED_CANCER_COST = 3


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


def weighted_errors(n: int, accuracy: float, cancers: tuple[int, int] | None) -> int | None:
    """Wrong answers among ``n`` images, each missed cancer counted ``MISSED_CANCER_COST`` times (None if unknown)."""
    if cancers is None or not n or math.isnan(accuracy):
        return None
    found, present = cancers
    return round(n * (1 - accuracy)) + (MISSED_CANCER_COST - 1) * (present - found)


def _weighted(model: HeldOut, cancers: Cancers) -> tuple[int | None, int | None]:
    """Weighted errors on the BUSI test split and on the extra (BUS-BRA) test split."""
    headings = [heading for heading, _ in COLUMNS]
    busi_accuracy, extra_accuracy = (model.scores[headings.index(name)] for name in ("BUSI test acc", "BUS-BRA acc"))
    return (weighted_errors(model.n_test, busi_accuracy, cancers.busi),
            weighted_errors(model.n_extra, extra_accuracy, cancers.extra))


def _pair_of_counts(before: tuple[int | None, int | None], after: tuple[int | None, int | None]) -> str:
    def side(counts: tuple[int | None, int | None]) -> str:
        return " + ".join("-" if count is None else str(count) for count in counts)

    return f"{side(before)} → {side(after)}"


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
    heads = (["before → after", "split"] + [f"Δ {head}" for head, _ in COLUMNS]
             + [f"weighted errors (missed cancer × {MISSED_CANCER_COST}) before → after",
                "cancers found before → after"])
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    changes: list[list[float]] = []
    found_change = 0
    found_known = True
    weighted_change: list[int | None] = [0, 0]  # BUSI, extra; None once a pair's count is unknown
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
        weighted = _weighted(before, cancers[0]), _weighted(after, cancers[1])
        for index, (old, new) in enumerate(zip(*weighted)):
            total = weighted_change[index]
            weighted_change[index] = None if total is None or old is None or new is None else total + new - old
        split = f"seed {before.split_seed}"
        lines.append("| " + " | ".join([f"{before_path} → {after_path}", split, *map(_cell, change),
                                        _pair_of_counts(*weighted), f"{_count(cancers[0])} → {_count(cancers[1])}"])
                     + " |")
    means = []
    for index in range(len(COLUMNS)):
        finite = [change[index] for change in changes if math.isfinite(change[index])]
        means.append(sum(finite) / len(finite) if finite else math.nan)
    summed = f"{found_change:+d} in all" if found_known else "-"
    weighted_summed = ", ".join(f"{name} {'-' if total is None else f'{total:+d}'}"
                                for name, total in zip(("BUSI", "BUS-BRA"), weighted_change))
    lines.append("| " + " | ".join([f"mean change ({len(changes)} pairs)", "", *map(_cell, means), weighted_summed,
                                    summed]) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    return table_command(argv, __doc__, "paired_change", table)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
