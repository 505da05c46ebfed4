"""The bad-input corpus: small files generated on the fly, each with the outcome the loader must give.

Every case either loads (and :attr:`Case.check` verifies the pixels) or fails with an
:class:`~desktop_app.core.imageio.ImageLoadError` whose message contains :attr:`Case.message`.
Used by the loader tests, the batch/CLI survival tests and ``bench/fuzz_loader.py`` (seed files).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.trust.dicom_factory import write_dicom

Checker = Callable[[Image.Image], None]


@dataclass(frozen=True)
class Case:
    """One corpus entry: ``build(folder)`` writes it and returns the path to load."""

    name: str
    build: Callable[[Path], Path]
    message: str | None = None  # expected substring of the error; None = must load
    check: Checker | None = None  # extra assertions on the loaded image
    frame: int = 0

    @property
    def should_load(self) -> bool:
        return self.message is None


# ---- byte builders ----------------------------------------------------------------------------------------


def noise_image(size: tuple[int, int] = (48, 40), mode: str = "L", seed: int = 0) -> Image.Image:
    """Deterministic noise image of ``size`` = (width, height)."""
    rng = np.random.default_rng(seed)
    width, height = size
    channels = {"L": None, "RGB": 3, "RGBA": 4}[mode]
    shape = (height, width) if channels is None else (height, width, channels)
    return Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode=mode)


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def bomb_png_bytes(side: int = 20_000) -> bytes:
    """A valid ``side`` x ``side`` 1-bit PNG of zeros: about 50 kB on disk, 400 megapixels decoded."""
    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    rows_per_piece = 1000
    pieces = [compressor.compress(row * rows_per_piece) for _ in range(side // rows_per_piece)]
    pieces.append(compressor.compress(row * (side % rows_per_piece)))
    pieces.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(pieces))
        + png_chunk(b"IEND", b"")
    )


def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def _save(name: str, image: Image.Image, image_format: str | None = None, **options: object) -> Callable:
    def build(folder: Path) -> Path:
        path = folder / name
        image.save(path, format=image_format, **options)
        return path

    return build


# ---- checkers ---------------------------------------------------------------------------------------------


def _is_rgb_of_size(width: int, height: int) -> Checker:
    def check(image: Image.Image) -> None:
        assert image.mode == "RGB"
        assert image.size == (width, height)

    return check


def _same_pixels_as(reference: Image.Image, tolerance: int = 0) -> Checker:
    expected = np.asarray(reference.convert("RGB"), dtype=np.int16)

    def check(image: Image.Image) -> None:
        assert image.mode == "RGB" and image.size == reference.size
        assert np.abs(np.asarray(image, dtype=np.int16) - expected).max() <= tolerance

    return check


def _grey16_check(image: Image.Image) -> None:
    array = np.asarray(image)
    assert image.mode == "RGB" and array.min() == 0 and array.max() == 255  # full 16-bit range -> 0..255
    row = array[0, :, 0].astype(int)
    assert np.all(np.diff(row) >= 0)  # the gradient stays monotonic


def _rgba_check(image: Image.Image) -> None:
    array = np.asarray(image)
    assert tuple(array[0, 0]) == (0, 0, 0)  # fully transparent -> black background
    assert tuple(array[-1, -1]) == (200, 100, 50)  # opaque keeps its colour


def _cmyk_check(image: Image.Image) -> None:
    red, green, blue = np.asarray(image, dtype=int)[5, 5]
    assert image.mode == "RGB" and red > 200 and green < 60 and blue < 60  # CMYK (0,255,255,0) is red


def _frame_colour(expected: tuple[int, int, int]) -> Checker:
    def check(image: Image.Image) -> None:
        assert image.mode == "RGB"
        assert tuple(int(v) for v in np.asarray(image)[2, 2]) == expected

    return check


def _exif_check(image: Image.Image) -> None:
    # Stored 20 wide x 10 high, left half red; orientation 6 = rotate 90° clockwise: 10 x 20, red on top.
    array = np.asarray(image, dtype=int)
    assert image.size == (10, 20)
    assert array[2, 5, 0] > 200 and array[2, 5, 2] < 60
    assert array[17, 5, 2] > 200 and array[17, 5, 0] < 60


# ---- special builders --------------------------------------------------------------------------------------


def _grey16(folder: Path) -> Path:
    gradient = np.tile(np.linspace(1000, 60000, 40, dtype=np.uint16), (30, 1))
    path = folder / "grey16.png"
    Image.fromarray(gradient).save(path)  # uint16 -> mode I;16
    return path


PALETTE_IMAGE = Image.fromarray(np.array([[0, 1, 2, 1]] * 4, dtype=np.uint8), mode="P")
PALETTE_IMAGE.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))


def _rgba(folder: Path) -> Path:
    array = np.zeros((16, 16, 4), dtype=np.uint8)
    array[8:, 8:] = (200, 100, 50, 255)
    array[:8, :8] = (255, 255, 255, 0)
    path = folder / "rgba_transparent.png"
    Image.fromarray(array, mode="RGBA").save(path)
    return path


GIF_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def _animated_gif(folder: Path) -> Path:
    frames = [Image.new("RGB", (12, 12), colour) for colour in GIF_COLOURS]
    path = folder / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def _exif_rotated(folder: Path) -> Path:
    image = Image.new("RGB", (20, 10), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = folder / "exif_rotated.jpg"
    image.save(path, quality=95, exif=exif.tobytes())
    return path


def _folder_named_like_image(folder: Path) -> Path:
    path = folder / "looks_like_an_image.png"
    path.mkdir()
    return path


def _broken_symlink(folder: Path) -> Path:
    path = folder / "dangling_link.png"
    path.symlink_to(folder / "nowhere.png")
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.png"
    os.mkfifo(path)  # opening it for reading would block forever
    return path


def _truncated_dicom(folder: Path) -> Path:
    pixels = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    path = write_dicom(folder / "truncated.dcm", pixels)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 4000])
    return path


def _broken_dicom(folder: Path) -> Path:
    path = folder / "broken.dcm"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + bytes(range(256)) * 4)
    return path


def _jpeg_ls_dicom(folder: Path) -> Path:
    from pydicom.uid import JPEGLSLossless

    return write_dicom(
        folder / "jpeg_ls.dcm",
        b"\xff\xd8\xff\xf7 not really JPEG-LS \xff\xd9",
        rows=16,
        columns=16,
        transfer_syntax=JPEGLSLossless,
        encapsulated=True,
    )


def _multiframe_dicom(folder: Path) -> Path:
    frames = np.stack([np.full((8, 8), value, dtype=np.uint8) for value in (10, 20, 30)])
    return write_dicom(folder / "cine.dcm", frames, frames=3)


def _dicom_without_suffix(folder: Path) -> Path:
    pixels = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (5, 1))
    path = write_dicom(folder / "scan.dcm", pixels)
    renamed = folder / "scan_export.png"  # DICOM content under an image suffix: found by the DICM magic
    path.rename(renamed)
    return renamed


def _corrupt_png_data(folder: Path) -> Path:
    data = bytearray(encode(noise_image((64, 64)), "PNG"))
    start = data.index(b"IDAT") + 40
    data[start : start + 200] = bytes(range(200))  # garbage inside the compressed stream, CRC now wrong
    path = folder / "corrupt_data.png"
    path.write_bytes(bytes(data))
    return path


def _float_tiff(folder: Path) -> Path:
    values = np.linspace(-1.0, 3.0, 24 * 16, dtype=np.float32).reshape(16, 24)
    path = folder / "float32.tif"
    Image.fromarray(values).save(path)  # float32 -> mode F
    return path


JPEG_REFERENCE = noise_image((40, 32), "RGB", seed=3)
PNG_REFERENCE = noise_image((40, 32), "RGB", seed=4)


def corpus_cases() -> list[Case]:
    """All cases, in a fixed order (names are unique and used as test ids)."""
    png = encode(noise_image((96, 80)), "PNG")
    jpeg = encode(noise_image((96, 80), "RGB"), "JPEG", quality=90)
    tiff = encode(noise_image((40, 40)), "TIFF")
    return [
        Case("zero_byte", _write("zero.png", b""), message="empty file (0 bytes)"),
        Case("truncated_png", _write("truncated.png", png[: len(png) // 2]), message="truncated"),
        Case("truncated_jpeg", _write("truncated.jpg", jpeg[: len(jpeg) // 2]), message="truncated"),
        Case("truncated_tiff", _write("truncated.tif", tiff[:300]), message="truncated"),
        Case(
            "png_header_only",
            _write("header_only.png", png[:33]),
            message="damaged PNG file",
        ),
        Case("corrupt_png_data", _corrupt_png_data, message="corrupt image data"),
        Case(
            "jpeg_named_png",
            _write("actually_jpeg.png", encode(JPEG_REFERENCE, "JPEG", quality=100, subsampling=0)),
            check=_same_pixels_as(JPEG_REFERENCE, tolerance=12),
        ),
        Case(
            "png_named_jpg",
            _write("actually_png.jpg", encode(PNG_REFERENCE, "PNG")),
            check=_same_pixels_as(PNG_REFERENCE),
        ),
        Case("text_named_png", _write("notes.png", b"Patient notes: follow-up in 6 months.\n"), "text file"),
        Case(
            "pdf_named_jpg", _write("report.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "PDF document"
        ),
        Case("html_named_png", _write("page.png", b"<!DOCTYPE html><html><body>404</body></html>"), "(HTML)"),
        Case(
            "zip_named_png", _write("archive.png", b"PK\x03\x04\x14\x00\x00\x00" + bytes(40)), "ZIP archive"
        ),
        Case(
            "random_bytes_bmp",
            _write("random.bmp", bytes(np.random.default_rng(1).integers(0, 256, 500, dtype=np.uint8))),
            message="not a recognised image format",
        ),
        Case("grey_16bit", _grey16, check=_grey16_check),
        Case("float_tiff", _float_tiff, check=_is_rgb_of_size(24, 16)),
        Case("palette", _save("palette.png", PALETTE_IMAGE), check=_same_pixels_as(PALETTE_IMAGE)),
        Case(
            "one_bit", _save("one_bit.png", noise_image((30, 20)).convert("1")), check=_is_rgb_of_size(30, 20)
        ),
        Case(
            "cmyk_jpeg", _save("cmyk.jpg", Image.new("CMYK", (12, 12), (0, 255, 255, 0))), check=_cmyk_check
        ),
        Case("rgba_transparency", _rgba, check=_rgba_check),
        Case("animated_gif_first_frame", _animated_gif, check=_frame_colour(GIF_COLOURS[0])),
        Case("animated_gif_frame_2", _animated_gif, check=_frame_colour(GIF_COLOURS[2]), frame=2),
        Case("animated_gif_frame_out_of_range", _animated_gif, message="frame 5 requested", frame=5),
        Case("exif_rotated_jpeg", _exif_rotated, check=_exif_check),
        Case("decompression_bomb", _write("bomb.png", bomb_png_bytes()), message="image too large"),
        Case(
            "over_pixel_limit_9000x9000",
            _write("huge.png", bomb_png_bytes(9000)),
            message="image too large (9000x9000 = 81,000,000 pixels; limit 64,000,000)",
        ),
        Case("one_pixel", _save("one_pixel.png", Image.new("L", (1, 1), 128)), check=_is_rgb_of_size(1, 1)),
        Case(
            "elongated_10000x2",
            _save("elongated.png", Image.new("L", (10_000, 2), 90)),
            check=_is_rgb_of_size(10_000, 2),
        ),
        Case(
            "unicode_path",
            _save("échographie_乳腺 (1).png", noise_image((20, 20))),
            check=_same_pixels_as(noise_image((20, 20))),
        ),
        Case(
            "spaces_in_path",
            _save("scan with  spaces .png", noise_image((21, 19))),
            check=_same_pixels_as(noise_image((21, 19))),
        ),
        Case("folder_named_like_image", _folder_named_like_image, message="is a folder, not an image file"),
        Case("missing_file", lambda folder: folder / "never_written.png", message="file not found"),
        Case("dangling_symlink", _broken_symlink, message="file not found"),
        *([Case("named_pipe", _fifo, message="not a regular file")] if hasattr(os, "mkfifo") else []),
        Case("broken_dicom", _broken_dicom, message="DICOM file holds no image"),
        Case("truncated_dicom", _truncated_dicom, message="DICOM pixel data is truncated or corrupt"),
        Case("text_named_dcm", _write("not_dicom.dcm", b"just some text\n" * 20), message="not a DICOM file"),
        Case("jpeg_ls_dicom_without_decoder", _jpeg_ls_dicom, message="pylibjpeg"),
        Case("dicom_frame_out_of_range", _multiframe_dicom, message="frame 3 requested", frame=3),
        Case("dicom_under_png_suffix", _dicom_without_suffix, check=_is_rgb_of_size(25, 5)),
    ]


CASES = {case.name: case for case in corpus_cases()}


def build_corpus(folder: Path) -> dict[str, Path]:
    """Write every case whose build yields distinct files into ``folder``; returns {case name: path}."""
    paths: dict[str, Path] = {}
    for case in corpus_cases():
        if case.frame:
            continue  # same file as another case, different frame
        paths[case.name] = case.build(folder)
    return paths
