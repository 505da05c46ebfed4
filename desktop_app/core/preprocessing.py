"""The one preprocessing definition, used by training and by the app.

image -> RGB uint8 -> resize the whole image (Pillow bilinear, no crop) to H x W -> float32 0..255.
Normalisation happens inside the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image


def to_rgb(image: Image.Image) -> Image.Image:
    """Return an 8-bit RGB copy of ``image`` whatever its mode (grey, 16-bit, palette, RGBA, CMYK...)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        scaled = np.zeros_like(array) if high <= low else (array - low) * (255.0 / (high - low))
        return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite transparent pixels on black, the background of an ultrasound frame.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def resize(image: Image.Image, size: Sequence[int]) -> Image.Image:
    """Resize the whole image to ``size`` = (H, W) with Pillow bilinear, no crop."""
    height, width = int(size[0]), int(size[1])
    return image.resize((width, height), Image.Resampling.BILINEAR)


def preprocess(image: Image.Image, size: Sequence[int]) -> np.ndarray:
    """Model input for one image: float32 [H, W, 3], RGB values 0..255."""
    return np.asarray(resize(to_rgb(image), size), dtype=np.float32)


def preprocess_batch(images: Sequence[Image.Image], size: Sequence[int]) -> np.ndarray:
    """Stack :func:`preprocess` over several images into float32 [N, H, W, 3]."""
    height, width = int(size[0]), int(size[1])
    if not images:
        return np.zeros((0, height, width, 3), dtype=np.float32)
    return np.stack([preprocess(image, size) for image in images])
