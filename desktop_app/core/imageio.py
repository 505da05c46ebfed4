"""Reading image files into 8-bit RGB Pillow images, with clear errors for bad input."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from desktop_app.core.preprocessing import to_rgb

#: File suffixes the app and training treat as images (lower case).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})

#: Largest image accepted, in pixels (a decompression-bomb guard well above any ultrasound frame).
MAX_PIXELS = 64_000_000


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


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Load ``path`` as an 8-bit RGB image with EXIF orientation applied.

    Raises :class:`ImageLoadError` with a specific message for every failure.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageLoadError(f"{path.name}: is a folder, not an image file")
    if not path.exists():
        raise ImageLoadError(f"{path.name}: file not found")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImageLoadError(f"{path.name}: cannot read file ({error.strerror or error})") from error
    if size == 0:
        raise ImageLoadError(f"{path.name}: empty file (0 bytes)")
    try:
        with Image.open(path) as opened:
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(
                    f"{path.name}: image too large ({width}x{height} pixels; limit {MAX_PIXELS:,})"
                )
            if width < 1 or height < 1:
                raise ImageLoadError(f"{path.name}: image has no pixels ({width}x{height})")
            opened.seek(0)
            opened.load()
            image = ImageOps.exif_transpose(opened)
            return to_rgb(image).copy()
    except ImageLoadError:
        raise
    except PermissionError as error:
        raise ImageLoadError(f"{path.name}: permission denied") from error
    except UnidentifiedImageError as error:
        raise ImageLoadError(f"{path.name}: not a recognised image format") from error
    except Image.DecompressionBombError as error:
        raise ImageLoadError(f"{path.name}: image too large (decompression-bomb guard)") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageLoadError(f"{path.name}: corrupt or truncated image ({error})") from error
