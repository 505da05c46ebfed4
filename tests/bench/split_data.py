"""A tiny class-folder data set with its split.csv, for the bench scripts that score models on split rows."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("benign", "malignant", "normal")


def write_split_data(
    data: Path, split: Path, counts: Mapping[str, int], seed: int = 0, prefix: str = ""
) -> Path:
    """Random 40x40 grey images under ``data/<class>/`` and ``split``, naming ``counts[subset]`` rows per class and
    subset (in the order given); each image is its own group. Returns ``split``."""
    rng = np.random.default_rng(seed)
    rows = []
    for label in CLASSES:
        (data / label).mkdir(parents=True, exist_ok=True)
        index = 0
        for subset, count in counts.items():
            for _ in range(count):
                name = f"{label}/{prefix}{index}.png"
                Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(data / name)
                rows.append(
                    {"path": name, "label": label, "group": f"{prefix}{label}{index}", "split": subset}
                )
                index += 1
    with open(split, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "group", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return split
