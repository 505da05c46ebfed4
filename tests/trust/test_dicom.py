"""DICOM reading: photometric interpretations, frames, rescale/windowing, bit depths, compression, pydicom missing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydicom")

from pydicom.pixels import convert_color_space

from desktop_app.core import dicom
from desktop_app.core.imageio import ImageLoadError, frame_count, is_image_file, load_image
from tests.trust.dicom_factory import write_dicom


def _grey(image) -> np.ndarray:
    array = np.asarray(image)
    assert image.mode == "RGB" and np.array_equal(array[..., 0], array[..., 1])
    assert np.array_equal(array[..., 0], array[..., 2])
    return array[..., 0].astype(int)


def test_dcm_is_an_image_suffix() -> None:
    assert is_image_file(Path("study/IM0001.dcm")) and is_image_file(Path("x.DICOM"))


def test_monochrome2_8bit_is_used_as_stored(tmp_path: Path) -> None:
    pixels = np.array([[0, 17, 128, 255], [3, 90, 200, 254]], dtype=np.uint8)
    assert np.array_equal(_grey(load_image(write_dicom(tmp_path / "m2.dcm", pixels))), pixels)


def test_identity_rescale_keeps_8bit_values_as_stored(tmp_path: Path) -> None:
    pixels = np.array([[20, 40, 60, 80]], dtype=np.uint8)
    path = write_dicom(tmp_path / "id.dcm", pixels, extra={"RescaleSlope": 1, "RescaleIntercept": 0})
    assert np.array_equal(_grey(load_image(path)), pixels)  # not stretched to 0..255


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    pixels = np.array([[0, 17, 128, 255], [3, 90, 200, 254]], dtype=np.uint8)
    path = write_dicom(tmp_path / "m1.dcm", pixels, photometric="MONOCHROME1")
    assert np.array_equal(_grey(load_image(path)), 255 - pixels)


def test_16bit_without_window_uses_the_full_range(tmp_path: Path) -> None:
    pixels = np.array([[1000, 2000, 3000, 4000]], dtype=np.uint16)
    grey = _grey(load_image(write_dicom(tmp_path / "g16.dcm", pixels)))
    assert grey.tolist() == [[0, 85, 170, 255]]


def test_window_center_and_width(tmp_path: Path) -> None:
    pixels = np.array([[0, 100, 200, 300, 400, 1000]], dtype=np.uint16)
    path = write_dicom(tmp_path / "w.dcm", pixels, extra={"WindowCenter": 200, "WindowWidth": 201})
    grey = _grey(load_image(path))[0]
    # Linear VOI (PS3.3 C.11.2.1.2.1): below c-0.5-(w-1)/2 = 99.5 -> 0, above 299.5 -> 255, centre -> mid grey.
    assert grey[0] == 0 and grey[1] <= 1 and abs(grey[2] - 128) <= 1 and grey[3] == 255 and grey[5] == 255


def test_multi_valued_window_uses_the_first_pair(tmp_path: Path) -> None:
    pixels = np.array([[0, 50, 100]], dtype=np.uint16)
    path = write_dicom(
        tmp_path / "wm.dcm", pixels, extra={"WindowCenter": [50, 5000], "WindowWidth": [101, 10]}
    )
    grey = _grey(load_image(path))[0]
    assert grey[0] <= 1 and abs(grey[1] - 128) <= 1 and grey[2] == 255  # the second pair would give all 0


def test_rescale_slope_and_intercept_before_window(tmp_path: Path) -> None:
    stored = np.array([[0, 100, 200, 300]], dtype=np.int16)  # HU = 2 * stored - 1000: -1000, -800, -600, -400
    path = write_dicom(
        tmp_path / "ct.dcm",
        stored,
        signed=True,
        extra={"RescaleSlope": 2, "RescaleIntercept": -1000, "WindowCenter": -600, "WindowWidth": 401},
    )
    grey = _grey(load_image(path))[0]
    assert grey[0] == 0 and abs(grey[2] - 128) <= 1 and grey[3] == 255


def test_rescale_without_window_spans_min_to_max(tmp_path: Path) -> None:
    stored = np.array([[10, 20, 30]], dtype=np.uint8)
    path = write_dicom(tmp_path / "r.dcm", stored, extra={"RescaleSlope": -1, "RescaleIntercept": 0})
    assert _grey(load_image(path)).tolist() == [[255, 128, 0]]  # slope -1 reverses the order


def test_rgb(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    image = load_image(write_dicom(tmp_path / "rgb.dcm", pixels, photometric="RGB"))
    assert np.array_equal(np.asarray(image), pixels)


def test_ybr_full_is_converted_to_rgb(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    image = load_image(write_dicom(tmp_path / "ybr.dcm", ybr, photometric="YBR_FULL"))
    assert np.abs(np.asarray(image, dtype=int) - rgb).max() <= 2


def test_ybr_full_422_uncompressed(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0] = np.repeat(np.arange(3) * 80, 2)  # horizontal pairs share a colour, as 4:2:2 requires
    rgb[..., 1], rgb[..., 2] = 100, 50
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    packed = bytearray()
    for row in range(4):
        for col in range(0, 6, 2):  # Y1 Y2 Cb Cr per pixel pair
            packed += bytes([ybr[row, col, 0], ybr[row, col + 1, 0], ybr[row, col, 1], ybr[row, col, 2]])
    path = write_dicom(
        tmp_path / "422.dcm",
        bytes(packed),
        rows=4,
        columns=6,
        samples_per_pixel=3,
        photometric="YBR_FULL_422",
    )
    assert np.abs(np.asarray(load_image(path), dtype=int) - rgb).max() <= 2


def test_multi_frame_first_by_default_and_by_index(tmp_path: Path) -> None:
    frames = np.stack([np.full((5, 7), value, dtype=np.uint8) for value in (10, 60, 110, 160)])
    path = write_dicom(tmp_path / "cine.dcm", frames, frames=4)
    assert frame_count(path) == 4 and dicom.frame_count(path) == 4
    assert _grey(load_image(path))[0, 0] == 10
    assert [_grey(load_image(path, frame=i))[0, 0] for i in range(4)] == [10, 60, 110, 160]
    with pytest.raises(ImageLoadError, match=r"frame 4 requested but the file has 4 frame\(s\)"):
        load_image(path, frame=4)


def test_multi_frame_rgb(tmp_path: Path) -> None:
    frames = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    frames[1, ..., 1] = 200
    path = write_dicom(tmp_path / "cine_rgb.dcm", frames, frames=2, photometric="RGB")
    assert tuple(np.asarray(load_image(path, frame=1))[0, 0]) == (0, 200, 0)


def test_file_without_preamble_is_read_by_suffix(tmp_path: Path) -> None:
    pixels = np.full((3, 3), 77, dtype=np.uint8)
    path = write_dicom(tmp_path / "raw.dcm", pixels, preamble=False)
    assert path.read_bytes()[128:132] != b"DICM"
    assert _grey(load_image(path))[1, 1] == 77


def test_dicom_is_found_by_magic_whatever_the_suffix(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "a.dcm", np.full((3, 3), 5, dtype=np.uint8))
    renamed = path.rename(tmp_path / "IM_0001")
    assert _grey(load_image(renamed))[0, 0] == 5


def test_compressed_without_decoder_names_the_packages(tmp_path: Path) -> None:
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEGLSLossless

    if get_decoder(JPEGLSLossless).is_available:
        pytest.skip("a JPEG-LS decoder is installed here")
    path = write_dicom(
        tmp_path / "jls.dcm",
        b"\xff\xd8\xff\xf7\x00\x00",
        rows=8,
        columns=8,
        transfer_syntax=JPEGLSLossless,
        encapsulated=True,
    )
    with pytest.raises(ImageLoadError) as caught:
        load_image(path)
    message = str(caught.value)
    assert "JPEG-LS" in message and "pip install pylibjpeg pylibjpeg-libjpeg" in message
    assert "python-gdcm" in message


@pytest.mark.parametrize(
    ("syntax_name", "package"),
    [
        ("JPEG 2000 Image Compression (Lossless Only)", "pylibjpeg-openjpeg"),
        ("JPEG-LS Lossless Image Compression", "pylibjpeg-libjpeg"),
        ("JPEG Baseline (Process 1)", "pylibjpeg-libjpeg"),
        ("RLE Lossless", "pylibjpeg-rle"),
        ("Something New", "python-gdcm"),
    ],
)
def test_decoder_hint(syntax_name: str, package: str) -> None:
    assert package in dicom.decoder_hint(syntax_name)


def test_corrupt_jpeg_baseline_data_gives_a_decoder_message(tmp_path: Path) -> None:
    from pydicom.uid import JPEGBaseline8Bit

    path = write_dicom(
        tmp_path / "jpeg.dcm",
        b"\xff\xd8\xff\xe0 broken",
        rows=8,
        columns=8,
        transfer_syntax=JPEGBaseline8Bit,
        encapsulated=True,
    )
    with pytest.raises(ImageLoadError, match="jpeg.dcm: .*JPEG Baseline"):
        load_image(path)


def test_dicom_too_large_is_refused_before_decoding(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "big.dcm", b"\x00\x00", rows=10_000, columns=10_000)
    with pytest.raises(ImageLoadError, match="image too large"):
        load_image(path)


def test_pydicom_missing_gives_the_install_command(tmp_path: Path, monkeypatch) -> None:
    path = write_dicom(tmp_path / "m.dcm", np.zeros((2, 2), dtype=np.uint8))
    monkeypatch.setitem(sys.modules, "pydicom", None)  # import pydicom now raises ImportError
    with pytest.raises(ImageLoadError, match=r"m.dcm: DICOM support needs pydicom.*pip install pydicom"):
        load_image(path)
