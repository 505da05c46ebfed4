"""A tiny synthetic data set in the raw BUSI layout (class folders, masks beside the images) for training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("benign", "malignant", "normal")
SIZE = 32
#: Arguments every shared run uses: the data split (seed 3, a quarter each for validation and test) is the same.
COMMON = ["--image-size", str(SIZE), "--batch-size", "4", "--seed", "3", "--val-fraction", "0.25",
          "--test-fraction", "0.25", "--verbose", "0"]
#: Mixing tests: every image of class k is the constant CLASS_VALUES[k]; class weights to follow through the mixing.
CLASS_VALUES = np.array([10.0, 100.0, 220.0])
CLASS_WEIGHTS = np.array([1.0, 2.0, 4.0])


def class_pure_set(size: int, per_class: int = 8):
    """A ``training.train.ArraySet`` of constant images (CLASS_VALUES by class); the lesion mask is all of every
    class-0 image and nothing of the others, so a mixed image's label, mask and pixels can be told apart."""
    from training.train import ArraySet

    labels = np.repeat(np.arange(3), per_class)
    images = np.broadcast_to(CLASS_VALUES[labels, None, None, None], (len(labels), size, size, 3))
    masks = np.broadcast_to((labels == 0)[:, None, None, None], (len(labels), size, size, 1))
    return ArraySet(images.astype(np.uint8), labels, masks.astype(np.uint8), [Path(f"{i}.png") for i in labels],
                    ["busi"] * len(labels))


def write_dataset(root: Path, per_class: int = 6) -> Path:
    """Class folders of small grey 'ultrasound-like' images with masks beside them (raw Kaggle layout)."""
    rng = np.random.default_rng(0)
    for class_index, name in enumerate(CLASSES):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            height, width = 40 + 3 * i, 48 + 2 * class_index
            base = rng.normal(60 + 50 * class_index, 20, size=(height, width)).clip(0, 255)
            mask = np.zeros((height, width), dtype=np.uint8)
            if name != "normal":  # a lesion of random size and place, so no two images look like copies
                top, left = rng.integers(2, 16), rng.integers(2, 20)
                mask[top:top + rng.integers(8, 18), left:left + rng.integers(8, 20)] = 255
                base[mask > 0] = 20 if name == "benign" else 200
            Image.fromarray(base.astype(np.uint8)).save(folder / f"{name} ({i + 1}).png")
            Image.fromarray(mask).save(folder / f"{name} ({i + 1})_mask.png")
    return root


def device_of_patient(patient: int) -> str:
    """The scanner ``write_busbra`` gives a patient: every fourth one (1, 5, 9, ...) a Toshiba."""
    return "Toshiba Aplio 300" if patient % 4 == 1 else "GE Logiq 5"


def write_busbra(root: Path, patients: int = 10) -> Path:
    """A BUS-BRA-style root: two random images per patient, benign or malignant, and a MANIFEST.tsv."""
    rng = np.random.default_rng(5)
    rows = ["relative_path\tclass\tpatient\tmask\tdevice"]
    for patient in range(1, patients + 1):
        label = "malignant" if patient % 3 == 0 else "benign"
        for side in ("l", "r"):
            image = rng.integers(0, 255, size=(30 + patient, 40), dtype=np.uint8)
            (root / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / label / f"bus_{patient:04d}-{side}.png")
            rows.append(f"{label}/bus_{patient:04d}-{side}.png\t{label}\t{patient}\t\t{device_of_patient(patient)}")
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return root
