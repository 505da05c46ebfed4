"""Valid seed files and byte mutations shared by the fuzz test and ``bench/fuzz_loader.py``."""

from __future__ import annotations

import io
import random
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from tests.trust.dicom_factory import write_dicom

#: Suffix each seed is written with (the loader sniffs content, the suffix only steers DICOM).
SEED_SUFFIXES = {
    "png_grey": ".png",
    "png_rgba": ".png",
    "png_palette": ".png",
    "png_16bit": ".png",
    "jpeg": ".jpg",
    "jpeg_progressive": ".jpg",
    "bmp": ".bmp",
    "tiff": ".tif",
    "tiff_lzw": ".tif",
    "gif_animated": ".gif",
    "dicom_grey": ".dcm",
    "dicom_rgb_multiframe": ".dcm",
}

#: Values that make headers interesting: zero, all-ones, sign bits, huge dimensions.
INTERESTING_WORDS = (
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\x7f\xff\xff\xff",
    b"\x80\x00\x00\x00",
    b"\x00\x00\x10\x00",
    b"\x00\x01\x00\x00",
    b"\xff\xff",
    b"\x00\x00",
    b"\x80\x00",
    b"\x01",
)


def _encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def seed_files() -> dict[str, bytes]:
    """Small valid files in every format the loader reads."""
    rng = np.random.default_rng(0)
    grey = Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8), mode="L")
    rgb = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), mode="RGB")
    rgba = Image.fromarray(rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), mode="RGBA")
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    seeds = {
        "png_grey": _encode(grey, "PNG"),
        "png_rgba": _encode(rgba, "PNG"),
        "png_palette": _encode(rgb.convert("P"), "PNG"),
        "png_16bit": _encode(Image.fromarray(rng.integers(0, 65535, (12, 12), dtype=np.uint16)), "PNG"),
        "jpeg": _encode(rgb, "JPEG", quality=80),
        "jpeg_progressive": _encode(grey, "JPEG", progressive=True),
        "bmp": _encode(rgb, "BMP"),
        "tiff": _encode(grey, "TIFF"),
        "tiff_lzw": _encode(rgb, "TIFF", compression="tiff_lzw"),
        "gif_animated": gif.getvalue(),
    }
    with tempfile.TemporaryDirectory() as folder:
        seeds["dicom_grey"] = write_dicom(
            Path(folder) / "g.dcm",
            rng.integers(0, 4096, (12, 16), dtype=np.uint16),
            extra={"WindowCenter": 2048, "WindowWidth": 4096, "RescaleSlope": 1, "RescaleIntercept": 0},
        ).read_bytes()
        seeds["dicom_rgb_multiframe"] = write_dicom(
            Path(folder) / "c.dcm",
            rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8),
            frames=3,
            photometric="RGB",
        ).read_bytes()
    return seeds


def mutate(data: bytes, rng: random.Random, n_mutations: int | None = None) -> bytes:
    """Apply 1-6 random mutations: bit flips, byte runs, interesting words, truncation, insertion, duplication."""
    buffer = bytearray(data)
    for _ in range(n_mutations or rng.randint(1, 6)):
        if not buffer:
            buffer.extend(rng.randbytes(rng.randint(1, 64)))
            continue
        operation = rng.randrange(7)
        position = rng.randrange(len(buffer))
        if operation == 0:  # flip one bit
            buffer[position] ^= 1 << rng.randrange(8)
        elif operation == 1:  # overwrite a short run with random bytes
            run = rng.randbytes(rng.randint(1, 16))
            buffer[position : position + len(run)] = run
        elif operation == 2:  # an interesting word, biased to the header where sizes live
            word = rng.choice(INTERESTING_WORDS)
            position = rng.randrange(min(len(buffer), 64)) if rng.random() < 0.6 else position
            buffer[position : position + len(word)] = word
        elif operation == 3:  # truncate
            del buffer[position:]
        elif operation == 4:  # insert random bytes
            buffer[position:position] = rng.randbytes(rng.randint(1, 32))
        elif operation == 5:  # delete a run
            del buffer[position : position + rng.randint(1, 32)]
        else:  # duplicate a slice somewhere else
            end = min(len(buffer), position + rng.randint(1, 64))
            buffer[rng.randrange(len(buffer) + 1) : 0] = buffer[position:end]
    return bytes(buffer)
