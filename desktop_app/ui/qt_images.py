"""Conversions between numpy/Pillow images and Qt images."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(rgb: np.ndarray | Image.Image) -> QImage:
    """RGB uint8 [H, W, 3] (or a Pillow image) -> an independent QImage (the data is copied)."""
    array = np.ascontiguousarray(
        np.asarray(rgb.convert("RGB") if isinstance(rgb, Image.Image) else rgb, np.uint8)
    )
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected RGB [H, W, 3], got {array.shape}")
    height, width, _ = array.shape
    return QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def rgb_to_pixmap(rgb: np.ndarray | Image.Image) -> QPixmap:
    return QPixmap.fromImage(rgb_to_qimage(rgb))
