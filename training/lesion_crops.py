"""Zoomed crops of training images whose label follows the lesion mask (``train --lesion-crops``).

Each training image gets two crops, chosen once per run with a seeded generator and cut from the full-resolution
image before resizing to the model's input:

- a lesion image (non-empty mask) gets a window around the whole lesion, keeping its class and the cropped mask,
  and a window clear of the lesion, labelled with the normal class and an empty mask (no lesion in view);
- a normal image gets two windows, both normal.

Zoomed views thus occur in every class, so zoom itself says nothing about the class, while the lesion-free windows
give the normal class (the rarest, and absent from BUS-BRA) many more examples of breast tissue without a lesion.
A window that is mostly background (the black frame around a scan) is not used; a lesion image with no clear window
keeps only its lesion crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from desktop_app.core.preprocessing import preprocess, to_rgb
from training.data import resize_mask

#: The class of an image without a lesion: the label of a lesion-free window.
NO_LESION_CLASS = "normal"
#: Crops per image (lesion window, lesion-free window).
VARIANTS = 2
#: Side of a lesion window as a share of the image's side, drawn uniformly (grown where the lesion is larger).
LESION_WINDOW = (0.45, 0.75)
#: Side of a lesion-free window as a share of the image's side, drawn uniformly.
FREE_WINDOW = (0.35, 0.6)
#: Margin around the lesion's bounding box that a lesion-free window keeps clear of, as a share of the longer side.
CLEAR_MARGIN = 0.05
#: Least share of a window's pixels brighter than :data:`DARK_LEVEL` (else it is mostly frame, not tissue).
MIN_TISSUE = 0.7
DARK_LEVEL = 10
#: Random positions tried for a lesion-free window before giving up.
TRIES = 40

Box = tuple[int, int, int, int]  # top, left, bottom, right (exclusive), full-resolution pixels


@dataclass
class CropVariants:
    """One image's crops at the model's input size; ``valid[v]`` False where no such window exists."""

    images: np.ndarray  # uint8 [VARIANTS, H, W, 3]
    masks: np.ndarray  # uint8 [VARIANTS, H, W, 1] in {0, 1}
    labels: np.ndarray  # int64 [VARIANTS]
    valid: np.ndarray  # bool [VARIANTS]


def lesion_box(mask: np.ndarray) -> Box | None:
    """Bounding box of the mask's True pixels, or None for an empty mask."""
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return None
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def _tissue_share(grey: np.ndarray, box: Box) -> float:
    top, left, bottom, right = box
    return float(np.mean(grey[top:bottom, left:right] > DARK_LEVEL))


def _random_window(shape: tuple[int, int], share: float, rng: np.random.Generator) -> Box:
    height, width = shape
    box_height, box_width = max(1, round(share * height)), max(1, round(share * width))
    top = int(rng.integers(0, height - box_height + 1))
    left = int(rng.integers(0, width - box_width + 1))
    return top, left, top + box_height, left + box_width


def window_around(lesion: Box, shape: tuple[int, int], rng: np.random.Generator) -> Box:
    """A window holding the whole lesion, its side a random share of the image's (at least the lesion's)."""
    height, width = shape
    share = rng.uniform(*LESION_WINDOW)
    top, left, bottom, right = lesion
    box_height = min(height, max(round(share * height), bottom - top))
    box_width = min(width, max(round(share * width), right - left))
    # Any placement that keeps the lesion inside the window and the window inside the image.
    first_top, last_top = max(0, bottom - box_height), min(top, height - box_height)
    first_left, last_left = max(0, right - box_width), min(left, width - box_width)
    new_top = int(rng.integers(first_top, max(first_top, last_top) + 1))
    new_left = int(rng.integers(first_left, max(first_left, last_left) + 1))
    return new_top, new_left, new_top + box_height, new_left + box_width


def window_clear_of(lesion: Box, grey: np.ndarray, rng: np.random.Generator) -> Box | None:
    """A tissue window that keeps :data:`CLEAR_MARGIN` away from the lesion's box, or None after :data:`TRIES`."""
    height, width = grey.shape
    margin = round(CLEAR_MARGIN * max(height, width))
    top, left, bottom, right = lesion
    top, left, bottom, right = top - margin, left - margin, bottom + margin, right + margin
    for _ in range(TRIES):
        box = _random_window((height, width), rng.uniform(*FREE_WINDOW), rng)
        overlaps = box[0] < bottom and top < box[2] and box[1] < right and left < box[3]
        if not overlaps and _tissue_share(grey, box) >= MIN_TISSUE:
            return box
    return None


def tissue_window(grey: np.ndarray, rng: np.random.Generator) -> Box | None:
    """A random window of a normal image that is mostly tissue, or None after :data:`TRIES`."""
    for _ in range(TRIES):
        box = _random_window(grey.shape, rng.uniform(*LESION_WINDOW), rng)
        if _tissue_share(grey, box) >= MIN_TISSUE:
            return box
    return None


def crop_windows(mask: np.ndarray, grey: np.ndarray, label: int, normal: int,
                 rng: np.random.Generator) -> list[tuple[Box, int] | None]:
    """The :data:`VARIANTS` windows of one image with their labels (None: no such window)."""
    lesion = lesion_box(mask)
    if lesion is None:
        if label != normal:  # a lesion class without a mask: nothing says where the lesion is
            return [None] * VARIANTS
        windows = [tissue_window(grey, rng) for _ in range(VARIANTS)]
        return [(box, normal) if box is not None else None for box in windows]
    clear = window_clear_of(lesion, grey, rng)
    return [(window_around(lesion, grey.shape, rng), label), (clear, normal) if clear is not None else None]


def crop_variants(image: Image.Image, mask: np.ndarray, label: int, normal: int, size: tuple[int, int],
                  rng: np.random.Generator) -> CropVariants:
    """Crops of one full-resolution ``image`` (``mask``: bool [H, W] at the same resolution), resized to ``size``."""
    rgb = to_rgb(image)
    grey = np.asarray(rgb.convert("L"))
    if mask.shape != grey.shape:
        raise ValueError(f"mask {mask.shape} and image {grey.shape} differ in size")
    height, width = int(size[0]), int(size[1])
    result = CropVariants(images=np.zeros((VARIANTS, height, width, 3), np.uint8),
                          masks=np.zeros((VARIANTS, height, width, 1), np.uint8),
                          labels=np.full(VARIANTS, label, np.int64), valid=np.zeros(VARIANTS, bool))
    for index, window in enumerate(crop_windows(mask, grey, label, normal, rng)):
        if window is None:
            continue
        (top, left, bottom, right), window_label = window
        result.images[index] = preprocess(rgb.crop((left, top, right, bottom)), size).astype(np.uint8)
        if window_label != normal:
            cropped = Image.fromarray(mask[top:bottom, left:right].astype(np.uint8) * 255)
            result.masks[index, ..., 0] = resize_mask(cropped, (height, width))
        result.labels[index] = window_label
        result.valid[index] = True
    return result


def expected_labels(labels: np.ndarray, valid_labels: np.ndarray, valid: np.ndarray, share: float,
                    image_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, weights) whose weighted counts are each class's expected count per epoch with crops drawn.

    A draw takes one of the image's valid crops (uniformly) with probability ``share``, else the image itself; an
    image without a valid crop is always itself. For :func:`training.train.balanced_class_weights`.
    """
    has_crop = valid.any(axis=1)
    own = np.where(has_crop, 1.0 - share, 1.0) * image_weights
    per_crop = np.where(valid, (share * image_weights / np.maximum(valid.sum(axis=1), 1))[:, None], 0.0)
    return (np.concatenate([labels, valid_labels.reshape(-1)]),
            np.concatenate([own, per_crop.reshape(-1)]))
