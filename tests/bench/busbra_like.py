"""A tiny BUS-BRA-style data set for bench tests: random grey images in class folders and a MANIFEST.tsv naming each
image's scanner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_busbra_like(root: Path, devices: list[str], seed: int = 0) -> Path:
    """One 40×40 image per entry of ``devices`` (alternately benign and malignant, one patient each); returns root."""
    rng = np.random.default_rng(seed)
    lines = ["relative_path\tclass\tpatient\tdevice"]
    for index, device in enumerate(devices):
        label = ("benign", "malignant")[index % 2]
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(root / label / f"bus_{index}.png")
        lines.append(f"{label}/bus_{index}.png\t{label}\t{index}\t{device}")
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    return root
