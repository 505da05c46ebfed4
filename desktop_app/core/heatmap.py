"""Class activation map -> heatmap the size of the image -> coloured overlay (numpy + Pillow, no Qt)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

# Polynomial fit of Google's "Turbo" colormap (Mikhailov 2019): perceptually smooth, readable on grey images.
_TURBO_COEFFICIENTS = np.array(
    [
        [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
        [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
        [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
    ]
)


def class_map(cam: np.ndarray, class_index: int) -> np.ndarray:
    """The [h, w] activation map of one class from a CAM of shape [h, w, C]."""
    cam = np.asarray(cam, dtype=np.float32)
    if cam.ndim != 3:
        raise ValueError(f"CAM must have shape [h, w, C], got {cam.shape}")
    if not 0 <= class_index < cam.shape[2]:
        raise IndexError(f"class index {class_index} out of range for a CAM with {cam.shape[2]} classes")
    return cam[:, :, class_index]


def normalise(values: np.ndarray) -> np.ndarray:
    """Min-max scale to 0..1 (relative evidence within the image); a constant map becomes all zeros."""
    values = np.asarray(values, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    if not np.isfinite(low) or not np.isfinite(high) or high - low < 1e-12:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def upsample(values: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Bilinear resize of a float map [h, w] to ``size`` = (H, W)."""
    height, width = int(size[0]), int(size[1])
    image = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)


def heatmap(cam: np.ndarray, class_index: int, size: Sequence[int]) -> np.ndarray:
    """Normalised activation of ``class_index``, upsampled to ``size`` = (H, W), values 0..1."""
    return np.clip(upsample(normalise(class_map(cam, class_index)), size), 0.0, 1.0)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values 0..1 [H, W] to Turbo RGB uint8 [H, W, 3] (blue = low, red = high)."""
    x = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)[..., None]
    powers = np.concatenate([x**k for k in range(6)], axis=-1)  # [H, W, 6]
    rgb = powers @ _TURBO_COEFFICIENTS.T
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def heatmap_rgba(heat: np.ndarray, opacity: float) -> np.ndarray:
    """RGBA uint8 layer: Turbo colours, alpha = opacity x activation (cold regions leave the image visible)."""
    heat = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0)
    alpha = np.clip(np.rint(255.0 * float(np.clip(opacity, 0.0, 1.0)) * heat), 0, 255).astype(np.uint8)
    return np.dstack([colormap(heat), alpha])


def overlay(image: np.ndarray | Image.Image, heat: np.ndarray, opacity: float) -> np.ndarray:
    """Blend the heatmap ``heat`` [H, W] (0..1) over an RGB image [H, W, 3] uint8; returns RGB uint8."""
    base = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.float32)
    if base.shape[:2] != np.shape(heat):
        raise ValueError(f"heatmap shape {np.shape(heat)} does not match image shape {base.shape[:2]}")
    layer = heatmap_rgba(heat, opacity)
    alpha = layer[..., 3:4].astype(np.float32) / 255.0
    blended = base * (1.0 - alpha) + layer[..., :3].astype(np.float32) * alpha
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def lesion_outline(mask: np.ndarray, size: Sequence[int], threshold: float = 0.5) -> np.ndarray:
    """Boolean [H, W] outline of the region where the lesion-mask probability [h, w] reaches ``threshold``.

    The mask is upsampled to ``size`` first; the outline is about 1/250 of the image's longer side thick.
    """
    region = upsample(np.asarray(mask, dtype=np.float32), size) >= threshold
    inner = region.copy()
    inner[1:, :] &= region[:-1, :]
    inner[:-1, :] &= region[1:, :]
    inner[:, 1:] &= region[:, :-1]
    inner[:, :-1] &= region[:, 1:]
    outline = region & ~inner
    for _ in range(max(0, round(max(size) / 250) - 1)):  # thicken for large images
        grown = outline.copy()
        grown[1:, :] |= outline[:-1, :]
        grown[:-1, :] |= outline[1:, :]
        grown[:, 1:] |= outline[:, :-1]
        grown[:, :-1] |= outline[:, 1:]
        outline = grown
    return outline


def draw_outline(
    image: np.ndarray, outline: np.ndarray, colour: tuple[int, int, int] = (0, 255, 255)
) -> np.ndarray:
    """Copy of RGB ``image`` with the ``outline`` pixels painted in ``colour``."""
    result = np.array(image, dtype=np.uint8, copy=True)
    result[outline] = colour
    return result
