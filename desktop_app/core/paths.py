"""Where the app finds its bundled files, in a source checkout and in a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLED_MODEL_NAME = "model.onnx"
#: Static int8 quantization of the bundled model (bench/quantize.py): faster; how often it answers differently
#: from the fp32 model is in assets/MODEL_CARD.md (int8 variant).
BUNDLED_INT8_MODEL_NAME = "model_int8.onnx"


def assets_dir() -> Path:
    """The ``assets/`` folder: beside the packages in a checkout, inside ``sys._MEIPASS`` when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "assets"
    return Path(__file__).resolve().parents[2] / "assets"


def bundled_model_path() -> Path:
    """Path of the model shipped with the app."""
    return assets_dir() / BUNDLED_MODEL_NAME


def bundled_int8_model_path() -> Path:
    """Path of the int8 variant of the shipped model (may be absent)."""
    return assets_dir() / BUNDLED_INT8_MODEL_NAME
