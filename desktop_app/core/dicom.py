"""Reading DICOM files (e.g. ultrasound exports) into 8-bit RGB images with pydicom (optional extra ``dicom``).

- Photometric interpretations: MONOCHROME1 (inverted so that high values are dark), MONOCHROME2, RGB,
  YBR_FULL / YBR_FULL_422 (converted to RGB by pydicom), PALETTE COLOR.
- Multi-frame files (cine loops): the first frame by default, any frame by index.
- Grey values: Rescale Slope/Intercept (modality LUT) first, then the VOI LUT or Window Center/Width where present,
  else the frame's own min..max; 8-bit unsigned data without any of these is used as stored.
- Compressed transfer syntaxes whose decoder is not installed give a message naming the packages that add it.

Every failure raises :class:`~desktop_app.core.imageio.ImageLoadError` with a user-facing message.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from PIL import Image

from desktop_app.core.imageio import ImageLoadError, check_pixel_count

PYDICOM_MISSING = "DICOM support needs pydicom, which is not installed: pip install pydicom"

#: Extra decoders pydicom can use, by compression family (checked in this order against the UID name).
DECODER_PACKAGES = (
    ("JPEG-LS", "pip install pylibjpeg pylibjpeg-libjpeg (or pip install python-gdcm)"),
    ("JPEG 2000", "pip install pylibjpeg pylibjpeg-openjpeg (or pip install python-gdcm)"),
    ("JPEG", "pip install pylibjpeg pylibjpeg-libjpeg (or pip install python-gdcm)"),
    ("RLE", "pip install pylibjpeg pylibjpeg-rle"),
)
ANY_DECODER = "pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg (or pip install python-gdcm)"


def _import_pydicom(name: str) -> ModuleType:
    try:
        import pydicom
        import pydicom.pixels  # pixel handling lives in this subpackage
    except ImportError as error:
        raise ImageLoadError(f"{name}: {PYDICOM_MISSING}") from error
    return pydicom


def decoder_hint(transfer_syntax_name: str) -> str:
    """The pip command that adds a decoder for the named compressed transfer syntax."""
    for family, hint in DECODER_PACKAGES:
        if family.lower() in transfer_syntax_name.lower():
            return hint
    return ANY_DECODER


def read_dataset(path: str | os.PathLike[str], stop_before_pixels: bool = False) -> Any:
    """Parse ``path`` with pydicom (also files without the 128-byte preamble); ImageLoadError if it is not DICOM."""
    path = Path(path)
    pydicom = _import_pydicom(path.name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about every odd value; we judge the result below
            dataset = pydicom.dcmread(path, force=True, stop_before_pixels=stop_before_pixels)
            # Touch the elements we rely on so that parse errors in them surface here, not later.
            looks_like_image = dataset.get("Rows") is not None and dataset.get("Columns") is not None
            _ = dataset.get("NumberOfFrames"), dataset.get("PhotometricInterpretation")
    except PermissionError as error:
        raise ImageLoadError(f"{path.name}: permission denied (the file cannot be read)") from error
    except Exception as error:  # pydicom raises many types on a broken file
        raise ImageLoadError(f"{path.name}: not a valid DICOM file ({_short(error)})") from error
    if not looks_like_image and not getattr(dataset, "preamble", None):
        raise ImageLoadError(f"{path.name}: not a DICOM file (no DICM marker and no image attributes)")
    return dataset


def _short(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split()) or type(error).__name__  # one line: decoders nest multi-line reports
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frames_in(dataset: Any) -> int:
    try:
        return max(1, int(dataset.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def frame_count(path: str | os.PathLike[str]) -> int:
    """Number of frames in the DICOM file ``path`` (1 for a single image)."""
    return _frames_in(read_dataset(path, stop_before_pixels=True))


def load_dicom(path: str | os.PathLike[str], frame: int = 0) -> Image.Image:
    """Frame ``frame`` of the DICOM file ``path`` as an 8-bit RGB Pillow image."""
    path = Path(path)
    name = path.name
    dataset = read_dataset(path)
    if "PixelData" not in dataset:
        raise ImageLoadError(f"{name}: DICOM file holds no image (no Pixel Data element)")
    try:
        rows, columns = int(dataset.Rows), int(dataset.Columns)
    except (AttributeError, TypeError, ValueError) as error:
        raise ImageLoadError(f"{name}: DICOM file lacks valid Rows/Columns") from error
    check_pixel_count(name, columns, rows)
    frames = _frames_in(dataset)
    if frame >= frames:
        raise ImageLoadError(
            f"{name}: frame {frame} requested but the file has {frames} frame(s) (valid: 0..{frames - 1})"
        )
    pixels = _decode_frame(name, dataset, frame)
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    try:
        if photometric == "PALETTE COLOR":
            rgb = _palette_to_rgb8(dataset, pixels)
        elif pixels.ndim == 3 and pixels.shape[-1] == 3:
            rgb = _colour_to_rgb8(dataset, pixels)
        elif pixels.ndim == 2:
            grey = _grey_to_uint8(dataset, pixels, invert=photometric == "MONOCHROME1")
            rgb = np.repeat(grey[:, :, None], 3, axis=2)
        else:
            raise ImageLoadError(
                f"{name}: unsupported DICOM pixel layout {pixels.shape} ({photometric}, "
                f"{dataset.get('SamplesPerPixel', '?')} samples per pixel)"
            )
    except ImageLoadError:
        raise
    except Exception as error:
        raise ImageLoadError(f"{name}: cannot convert DICOM pixels to an image ({_short(error)})") from error
    return Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB")


def _decode_frame(name: str, dataset: Any, frame: int) -> np.ndarray:
    """Decode one frame of pixel data, with a clear message for compressed data lacking a decoder."""
    from pydicom.pixels import get_decoder, pixel_array

    syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", None)
    syntax_name = getattr(syntax, "name", str(syntax))
    try:
        compressed = syntax is not None and bool(syntax.is_compressed)
    except ValueError as error:  # pydicom: "UID is not a transfer syntax"
        raise ImageLoadError(
            f"{name}: DICOM file names an unknown transfer syntax ({syntax!s:.64})"
        ) from error
    if compressed:
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError as error:
            raise ImageLoadError(
                f"{name}: DICOM compression '{syntax_name}' is not supported ({ANY_DECODER} may add it)"
            ) from error
        if not decoder.is_available:
            raise ImageLoadError(
                f"{name}: DICOM image is compressed with '{syntax_name}', which needs an extra decoder: "
                f"{decoder_hint(syntax_name)}"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(pixel_array(dataset, index=frame))
    except MemoryError as error:
        raise ImageLoadError(f"{name}: not enough memory to decode this DICOM image") from error
    except Exception as error:
        if compressed:
            raise ImageLoadError(
                f"{name}: cannot decode DICOM pixel data compressed with '{syntax_name}' ({_short(error)}); "
                f"another decoder may read it: {decoder_hint(syntax_name)}"
            ) from error
        raise ImageLoadError(f"{name}: DICOM pixel data is truncated or corrupt ({_short(error)})") from error


def _first_value(value: Any) -> float:
    """Window Center/Width may be multi-valued; the first pair is the default view."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0]
    return float(value)


def _grey_to_uint8(dataset: Any, pixels: np.ndarray, invert: bool) -> np.ndarray:
    """Modality LUT, then windowing (or min..max), then 8 bits; MONOCHROME1 inverted."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    stored_bits = int(dataset.get("BitsStored", dataset.get("BitsAllocated", 8)) or 8)
    signed = int(dataset.get("PixelRepresentation", 0) or 0) == 1
    slope = float(dataset.get("RescaleSlope", 1) or 1)
    intercept = float(dataset.get("RescaleIntercept", 0) or 0)
    # An identity rescale (slope 1, intercept 0, common in ultrasound exports) changes nothing.
    has_modality = (slope, intercept) != (1.0, 0.0) or "ModalityLUTSequence" in dataset
    has_voi_lut = "VOILUTSequence" in dataset
    has_window = "WindowCenter" in dataset and "WindowWidth" in dataset

    values = apply_modality_lut(pixels, dataset) if has_modality else pixels
    values = np.asarray(values, dtype=np.float64)
    if has_voi_lut:
        scaled = _min_max(np.asarray(apply_voi_lut(values, dataset), dtype=np.float64))
    elif has_window:
        center = _first_value(dataset.WindowCenter)
        width = max(_first_value(dataset.WindowWidth), 1.0)
        function = str(dataset.get("VOILUTFunction", "LINEAR")).strip().upper()
        if function == "SIGMOID":
            scaled = 255.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
        else:  # LINEAR (DICOM PS3.3 C.11.2.1.2.1); LINEAR_EXACT differs by half a grey level at most
            scaled = np.clip((values - (center - 0.5)) / max(width - 1.0, 1.0) + 0.5, 0.0, 1.0) * 255.0
    elif stored_bits <= 8 and not signed and not has_modality:
        scaled = values  # plain 8-bit data: show it as stored, like a PNG
    else:
        scaled = _min_max(values)
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return 255 - grey if invert else grey


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = float(np.min(values)), float(np.max(values))
    if high <= low:
        return np.zeros_like(values)
    return (values - low) * (255.0 / (high - low))


def _colour_to_rgb8(dataset: Any, pixels: np.ndarray) -> np.ndarray:
    """RGB (pydicom already converted YBR to RGB) of any bit depth to 8 bits per channel."""
    if pixels.dtype == np.uint8:
        return pixels
    stored_bits = int(dataset.get("BitsStored", 8) or 8)
    values = pixels.astype(np.float64)
    if stored_bits > 8:
        values = values * (255.0 / (2**stored_bits - 1))
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _palette_to_rgb8(dataset: Any, pixels: np.ndarray) -> np.ndarray:
    from pydicom.pixels import apply_color_lut

    rgb = np.asarray(apply_color_lut(pixels, dataset))
    if rgb.dtype == np.uint8:
        return rgb
    return np.clip(np.rint(rgb.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)  # 16-bit LUT entries
