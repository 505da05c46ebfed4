"""Reading image files into 8-bit RGB Pillow images, with clear errors for bad input.

Every failure becomes an :class:`ImageLoadError` whose message names the file and says what is wrong in words a
user understands; nothing else escapes :func:`load_image` (checked by a fuzz test and ``bench/fuzz_loader.py``).
DICOM files (by suffix or by the ``DICM`` magic at byte 128) are read by :mod:`desktop_app.core.dicom`.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from desktop_app.core.preprocessing import to_rgb

#: Suffixes read with Pillow (lower case).
PILLOW_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif"})
#: Suffixes read with pydicom (lower case).
DICOM_SUFFIXES = frozenset({".dcm", ".dicom"})
#: File suffixes the app and training treat as images (lower case).
IMAGE_SUFFIXES = PILLOW_SUFFIXES | DICOM_SUFFIXES

#: The supported formats in words, for messages and placeholders.
SUPPORTED_FORMATS_TEXT = "PNG, JPEG, BMP, TIFF, GIF, DICOM"

#: Pillow decoders allowed to open a file, whatever its suffix (no EPS/PSD/ICO/... attack surface).
PILLOW_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "GIF")

#: Largest image accepted, in pixels (a decompression-bomb guard well above any ultrasound frame).
MAX_PIXELS = 64_000_000

#: Below this many pixels on either side an image says little; classification is flagged as unreliable.
MIN_USEFUL_SIDE = 32
#: Above this width:height (or height:width) ratio resizing to the square input distorts the image badly.
MAX_USEFUL_ASPECT = 8.0

#: A DICOM Part-10 file has 128 bytes of preamble then ``DICM``.
DICOM_MAGIC_OFFSET = 128
DICOM_MAGIC = b"DICM"


# Decoders warn about damaged metadata (corrupt EXIF, odd DICOM values) of files they still read or that we
# refuse with a message anyway; the user cannot act on these warnings, so they are not printed.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)  # we refuse such sizes ourselves
warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom\.")


class ImageLoadError(Exception):
    """An image file could not be read; the message says why, in words a user understands."""


def is_mask_file(path: Path) -> bool:
    """True for BUSI segmentation masks such as ``benign (1)_mask.png`` or ``benign (1)_mask_1.png``."""
    return "_mask" in path.stem.lower()


def is_image_file(path: Path) -> bool:
    """True for a file whose suffix is a supported image type and that is not a mask."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not is_mask_file(path)


def iter_image_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand files and folders (recursively, sorted) into image paths; files named explicitly are kept as is."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p))
        else:
            yield path


def has_dicom_magic(header: bytes) -> bool:
    """True when ``header`` (the first 132+ bytes of a file) carries the DICOM Part-10 ``DICM`` marker."""
    return header[DICOM_MAGIC_OFFSET : DICOM_MAGIC_OFFSET + len(DICOM_MAGIC)] == DICOM_MAGIC


def _is_dicom(path: Path, header: bytes) -> bool:
    return path.suffix.lower() in DICOM_SUFFIXES or has_dicom_magic(header)


#: Leading bytes of the formats the loader reads, to tell a damaged image from a file of another kind.
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


def _describe_unrecognised(header: bytes) -> str:
    """Say what a file that no image decoder accepts probably is."""
    for signature, format_name in IMAGE_SIGNATURES:
        if header.startswith(signature):
            return f"damaged {format_name} file (it starts like one, but its header or data is broken or missing)"
    if header.startswith(b"%PDF"):
        return "is a PDF document, not an image"
    if header.startswith(b"PK\x03\x04"):
        return "is a ZIP archive (or Office document), not an image"
    stripped = header.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "is a web page (HTML), not an image"
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "is a text file, not an image"
    return f"not a recognised image format (expected one of {SUPPORTED_FORMATS_TEXT})"


def _open_for_reading(path: Path) -> BinaryIO:
    """Open ``path`` for binary reading, turning every OS-level failure into an :class:`ImageLoadError`."""
    if path.is_dir():
        raise ImageLoadError(f"{path.name}: is a folder, not an image file")
    if not path.exists():
        raise ImageLoadError(f"{path.name}: file not found")
    if not path.is_file():  # a FIFO or device would block or never end
        raise ImageLoadError(f"{path.name}: not a regular file (a pipe, socket or device), not an image")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except PermissionError as error:
        raise ImageLoadError(f"{path.name}: permission denied (the file cannot be read)") from error
    except IsADirectoryError as error:
        raise ImageLoadError(f"{path.name}: is a folder, not an image file") from error
    except FileNotFoundError as error:
        raise ImageLoadError(f"{path.name}: file not found") from error
    except OSError as error:
        raise ImageLoadError(f"{path.name}: cannot read file ({error.strerror or error})") from error
    return handle


def _read_header(path: Path, handle: BinaryIO) -> bytes:
    try:
        header = handle.read(DICOM_MAGIC_OFFSET + len(DICOM_MAGIC))
        handle.seek(0)
    except OSError as error:
        raise ImageLoadError(f"{path.name}: cannot read file ({error.strerror or error})") from error
    if not header:
        raise ImageLoadError(f"{path.name}: empty file (0 bytes)")
    return header


def check_pixel_count(name: str, width: int, height: int) -> None:
    """Refuse images with no pixels or more than :data:`MAX_PIXELS`, before anything is decoded."""
    if width < 1 or height < 1:
        raise ImageLoadError(f"{name}: image has no pixels ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{name}: image too large ({width}x{height} = {width * height:,} pixels; limit {MAX_PIXELS:,}),"
            " refused without decoding"
        )


def frame_count(path: str | os.PathLike[str]) -> int:
    """How many frames ``path`` holds (multi-frame DICOM, animated GIF, multi-page TIFF); 1 for a still image.

    Raises :class:`ImageLoadError` when the file cannot be read.
    """
    path = Path(path)
    with _open_for_reading(path) as handle:
        header = _read_header(path, handle)
        try:
            if _is_dicom(path, header):
                from desktop_app.core import dicom

                return dicom.frame_count(path)
            with Image.open(handle, formats=PILLOW_FORMATS) as opened:
                return max(1, int(getattr(opened, "n_frames", 1)))
        except ImageLoadError:
            raise
        except Exception as error:
            raise ImageLoadError(describe_decode_error(path.name, error, header)) from error


def load_image(path: str | os.PathLike[str], frame: int = 0) -> Image.Image:
    """Load ``path`` as an 8-bit RGB image with EXIF orientation applied.

    ``frame`` picks a frame of a multi-frame file (DICOM cine, animated GIF, multi-page TIFF); the first by default.
    Raises :class:`ImageLoadError` with a specific message for every failure.
    """
    path = Path(path)
    if frame < 0:
        raise ImageLoadError(f"{path.name}: frame index must be 0 or more, not {frame}")
    with _open_for_reading(path) as handle:
        header = _read_header(path, handle)
        try:
            if _is_dicom(path, header):
                from desktop_app.core import dicom

                return dicom.load_dicom(path, frame=frame)
            return _load_with_pillow(path, handle, frame)
        except ImageLoadError:
            raise
        except Exception as error:  # any decoder failure on a hostile file is that file's error, not a crash
            raise ImageLoadError(describe_decode_error(path.name, error, header)) from error


def _load_with_pillow(path: Path, handle: BinaryIO, frame: int) -> Image.Image:
    with Image.open(handle, formats=PILLOW_FORMATS) as opened:
        width, height = opened.size
        check_pixel_count(path.name, width, height)
        frames = max(1, int(getattr(opened, "n_frames", 1)))
        if frame >= frames:
            raise ImageLoadError(
                f"{path.name}: frame {frame} requested but the file has {frames} frame(s)"
                f" (valid: 0..{frames - 1})"
            )
        opened.seek(frame)
        check_pixel_count(path.name, *opened.size)
        opened.load()
        image = ImageOps.exif_transpose(opened)
        return to_rgb(image).copy()


def describe_decode_error(name: str, error: Exception, header: bytes = b"") -> str:
    """User-facing message for an exception raised while decoding the image file ``name``."""
    if isinstance(error, UnidentifiedImageError):
        return f"{name}: {_describe_unrecognised(header)}"
    if isinstance(error, Image.DecompressionBombError):
        return f"{name}: image too large, refused without decoding ({error})"
    if isinstance(error, PermissionError):
        return f"{name}: permission denied (the file cannot be read)"
    if isinstance(error, MemoryError):
        return f"{name}: not enough memory to decode this image"
    if isinstance(error, EOFError) or "truncated" in str(error).lower():
        return f"{name}: truncated image (the file ends before the image data does)"
    if isinstance(error, (OSError, SyntaxError, ValueError, struct.error, zlib.error)):
        return f"{name}: corrupt image data ({error})"
    if isinstance(error, (TypeError, IndexError, KeyError)) and _raised_by_pillow(error):
        # Pillow's plugins raise these on some malformed headers ("Missing dimensions", "index out of range").
        return f"{name}: corrupt image data ({error or type(error).__name__})"
    # Pillow's decoders occasionally raise other types on hostile input; the file is still just corrupt.
    return f"{name}: corrupt image data (decoder error {type(error).__name__}: {error})"


def _raised_by_pillow(error: BaseException) -> bool:
    """True when the innermost frame of ``error``'s traceback is inside Pillow (not a bug of ours)."""
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_globals.get("__name__", "").startswith("PIL.")


def quality_warnings(image: Image.Image) -> list[str]:
    """Reasons a loaded image will give an unreliable result (tiny or extremely elongated); empty when fine."""
    width, height = image.size
    found = []
    if min(width, height) < MIN_USEFUL_SIDE:
        found.append(f"very small image ({width}x{height} pixels): the result is unreliable")
    aspect = max(width, height) / max(1, min(width, height))
    if aspect > MAX_USEFUL_ASPECT:
        found.append(
            f"extremely elongated image ({width}x{height}, ratio {aspect:.0f}:1): squeezing it into the square "
            "model input distorts it, the result is unreliable"
        )
    return found
