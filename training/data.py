"""Finding the training images (BUSI class-folder layout, BUS-BRA manifest) and their lesion masks.

Layout accepted by :func:`discover_dataset`: ``<root>/<class>/<image>``; BUSI segmentation masks
(``NAME_mask.png``, ``NAME_mask_1.png``...) are never treated as images but are attached to their image, whether
they sit beside it (the raw Kaggle download) or in ``<masks_root>/<class>/`` (the shared-data layout).
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from desktop_app.core.imageio import IMAGE_SUFFIXES, is_image_file, is_mask_file

#: Name of the BUSI source in :attr:`Sample.source`.
SOURCE_BUSI = "busi"
#: Name of the BUS-BRA source in :attr:`Sample.source`.
SOURCE_BUSBRA = "busbra"

_MASK_SUFFIX = re.compile(r"^_mask(?:_(\d+))?$", re.IGNORECASE)


class DatasetError(Exception):
    """The data folder cannot be used; the message says why and what was expected."""


@dataclass(frozen=True)
class Sample:
    """One training image with its label and what is known about it."""

    path: Path
    label: str  # class folder name
    mask_paths: tuple[Path, ...] = ()  # lesion masks (union = the lesion); () if none
    group: str = ""  # patient / duplicate-group id once known ("" = unknown)
    source: str = SOURCE_BUSI  # dataset name
    device: str = ""  # scanner, where the data set's manifest names it ("" = unknown)


@dataclass(frozen=True)
class Dataset:
    """A set of labelled images under ``root``."""

    root: Path
    classes: tuple[str, ...]  # sorted class names
    samples: tuple[Sample, ...]

    def counts(self) -> dict[str, int]:
        """Number of images per class, in class order (0 for a class without images)."""
        counter = Counter(sample.label for sample in self.samples)
        return {label: counter.get(label, 0) for label in self.classes}

    def relative_path(self, path: Path) -> str:
        """``path`` relative to :attr:`root` with forward slashes (as stored in split.csv)."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def describe(self) -> str:
        """One line for the console: counts per class and the total."""
        counts = ", ".join(f"{label}: {count}" for label, count in self.counts().items())
        return f"{len(self.samples)} images in {self.root} ({counts})"


def _mask_owner_and_index(path: Path) -> tuple[str, int] | None:
    """For ``NAME_mask.png`` / ``NAME_mask_3.png`` return (NAME, index) with index 0 / 3; else None."""
    if path.suffix.lower() not in IMAGE_SUFFIXES or not is_mask_file(path):
        return None
    stem = path.stem
    position = stem.lower().rfind("_mask")
    match = _MASK_SUFFIX.match(stem[position:])
    if match is None:
        return None
    return stem[:position], int(match.group(1) or 0)


def _masks_by_owner(folder: Path) -> dict[str, list[Path]]:
    """Masks in ``folder`` keyed by the stem of the image they belong to, in mask-index order."""
    found: dict[str, list[tuple[int, Path]]] = {}
    if not folder.is_dir():
        return {}
    for entry in folder.iterdir():
        if not entry.is_file():
            continue
        owner = _mask_owner_and_index(entry)
        if owner is not None:
            found.setdefault(owner[0], []).append((owner[1], entry))
    return {stem: [path for _, path in sorted(items)] for stem, items in found.items()}


def _natural_key(path: Path) -> list[object]:
    """Sort ``benign (2)`` before ``benign (10)``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _check_folder(root: Path, what: str) -> Path:
    if not root.exists():
        raise DatasetError(f"{what} not found: {root}")
    if not root.is_dir():
        raise DatasetError(f"{what} is not a folder: {root} (expected a folder with one sub-folder per class)")
    return root


def discover_dataset(
    root: str | os.PathLike[str],
    masks_root: str | os.PathLike[str] | None = None,
    classes: Sequence[str] | None = None,
) -> Dataset:
    """Find ``<root>/<class>/*`` images and attach their masks.

    ``classes`` restricts (and orders nothing: classes are always sorted) the class folders used; by default every
    sub-folder that is not hidden is a class. Raises :class:`DatasetError` with a clear message when the folder is
    missing, not a folder, has no class folders, has a class folder without images, or has fewer than 2 classes.
    """
    root = _check_folder(Path(root), "Data folder")
    masks_folder = _check_folder(Path(masks_root), "Masks folder") if masks_root is not None else None
    class_folders = sorted(
        entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith((".", "_"))
    )
    if classes is not None:
        wanted = list(dict.fromkeys(classes))
        present = {folder.name for folder in class_folders}
        missing = [name for name in wanted if name not in present]
        if missing:
            raise DatasetError(
                f"Class folder(s) {', '.join(missing)} not found in {root} "
                f"(found: {', '.join(sorted(present)) or 'none'})"
            )
        class_folders = [folder for folder in class_folders if folder.name in set(wanted)]
    if not class_folders:
        loose = [entry.name for entry in root.iterdir() if entry.is_file() and is_image_file(entry)]
        hint = f" It holds {len(loose)} loose image(s): move them into one folder per class." if loose else ""
        raise DatasetError(
            f"No class folders in {root}: expected <root>/<class>/<images>, e.g. benign/, malignant/, normal/.{hint}"
        )
    samples: list[Sample] = []
    empty: list[str] = []
    for folder in class_folders:
        images = sorted((p for p in folder.iterdir() if p.is_file() and is_image_file(p)), key=_natural_key)
        if not images:
            empty.append(folder.name)
            continue
        masks = _masks_by_owner(folder)
        if masks_folder is not None:
            for stem, paths in _masks_by_owner(masks_folder / folder.name).items():
                masks.setdefault(stem, []).extend(paths)
        for image in images:
            samples.append(Sample(path=image, label=folder.name, mask_paths=tuple(masks.get(image.stem, ()))))
    if empty:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise DatasetError(
            f"Class folder(s) without images in {root}: {', '.join(empty)} "
            f"(images must have one of the suffixes {suffixes}; *_mask* files do not count)"
        )
    names = tuple(folder.name for folder in class_folders)
    if len(names) < 2:
        raise DatasetError(f"Only one class folder ({names[0]}) in {root}: a classifier needs at least 2 classes")
    return Dataset(root=root, classes=names, samples=tuple(samples))


def hold_out_devices(samples: Sequence[Sample], names: Sequence[str]) -> set[str]:
    """Groups (patients) with any image from a device whose name contains one of ``names`` (case-insensitive).

    Raises :class:`DatasetError` for a name that matches no image, so a typo cannot silently hold out nothing.
    """
    held: set[str] = set()
    for name in names:
        matched = {sample.group for sample in samples if name.lower() in sample.device.lower()}
        if not matched:
            devices = sorted({sample.device for sample in samples if sample.device})
            raise DatasetError(f"no image's device matches {name!r}; devices: {', '.join(devices) or 'none listed'}")
        held |= matched
    return held


def discover_busbra(
    root: str | os.PathLike[str],
    manifest: str | os.PathLike[str] | None = None,
    masks_root: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Read BUS-BRA through its ``MANIFEST.tsv`` (relative_path, class, patient, mask, ...).

    Masks are looked up in ``masks_root`` (default: the sibling folder ``<root>_masks``, else ``root``); every sample's
    group is ``busbra-patient-<patient>`` so images of one patient stay in one split.
    """
    root = _check_folder(Path(root), "BUS-BRA folder")
    manifest_path = Path(manifest) if manifest is not None else root / "MANIFEST.tsv"
    if not manifest_path.is_file():
        raise DatasetError(f"BUS-BRA manifest not found: {manifest_path}")
    if masks_root is None:
        sibling = root.parent / f"{root.name}_masks"
        masks_folder = sibling if sibling.is_dir() else root
    else:
        masks_folder = _check_folder(Path(masks_root), "Masks folder")
    samples: list[Sample] = []
    with manifest_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        required = {"relative_path", "class", "patient"}
        if not required <= set(reader.fieldnames or ()):
            raise DatasetError(
                f"{manifest_path.name} lacks column(s) {', '.join(sorted(required - set(reader.fieldnames or ())))}"
            )
        for line, row in enumerate(reader, start=2):
            image = root / row["relative_path"]
            if not image.is_file():
                raise DatasetError(f"{manifest_path.name} line {line}: image not found: {image}")
            mask_name = (row.get("mask") or "").strip()
            mask_paths = (masks_folder / mask_name,) if mask_name and (masks_folder / mask_name).is_file() else ()
            samples.append(
                Sample(
                    path=image,
                    label=row["class"].strip(),
                    mask_paths=mask_paths,
                    group=f"busbra-patient-{row['patient'].strip()}",
                    source=SOURCE_BUSBRA,
                    device=(row.get("device") or "").strip(),
                )
            )
    if not samples:
        raise DatasetError(f"{manifest_path} lists no images")
    classes = tuple(sorted({sample.label for sample in samples}))
    if len(classes) < 2:
        raise DatasetError(f"{manifest_path} has only one class ({classes[0]}): a classifier needs at least 2")
    return Dataset(root=root, classes=classes, samples=tuple(samples))


def merge_datasets(datasets: Iterable[Dataset]) -> Dataset:
    """Combine datasets (e.g. BUSI + BUS-BRA) under their common parent; classes are the sorted union."""
    datasets = list(datasets)
    if not datasets:
        raise DatasetError("No datasets to merge")
    root = Path(os.path.commonpath([str(dataset.root) for dataset in datasets]))
    classes = tuple(sorted({label for dataset in datasets for label in dataset.classes}))
    samples = tuple(sample for dataset in datasets for sample in dataset.samples)
    return Dataset(root=root, classes=classes, samples=samples)


def load_mask(sample: Sample, size: tuple[int, int]) -> np.ndarray:
    """Union of the sample's masks as float32 [H, W] in {0, 1}, resized to ``size`` = (H, W); zeros if none.

    Raises :class:`DatasetError` for an unreadable mask file.
    """
    height, width = int(size[0]), int(size[1])
    union = np.zeros((height, width), dtype=bool)
    for mask_path in sample.mask_paths:
        try:
            with Image.open(mask_path) as opened:
                grey = opened.convert("L")
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise DatasetError(f"Cannot read mask {mask_path}: {error}") from error
        union |= resize_mask(grey, (height, width))
    return union.astype(np.float32)


def resize_mask(grey: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """A grey mask image (lesion 255) resized bilinearly to ``size`` = (H, W) and thresholded at half: bool [H, W]."""
    resized = grey.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8) >= 128
