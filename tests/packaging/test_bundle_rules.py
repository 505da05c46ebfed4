"""The trimming and checking rules the spec and build script apply (fast, no build)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.packaging.conftest import ROOT


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
        "PySide6/Qt6Multimedia.dll",
        "PySide6/Qt/lib/QtQml.framework",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/qml/QtQuick/Controls/libqtquickcontrols2plugin.so",
        "PySide6/Qt/plugins/platforms/libqwayland-egl.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
        "PySide6/Qt/plugins/sqldrivers/libqsqlite.so",
        "PySide6/Qt/plugins/imageformats/libqtiff.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",  # Pillow decodes JPEG and GIF, not Qt
        "PySide6/Qt/plugins/imageformats/qgif.dll",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "onnxruntime/capi/libonnxruntime.so.1.32.0",
        "PySide6/Qt/lib/libavcodec.so.61",
    ],
)
def test_unused_qt_and_runtime_files_are_dropped(bundle_rules: ModuleType, dest: str) -> None:
    assert bundle_rules.is_unwanted_file(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Charts.so.6",
        "PySide6/Qt/lib/libQt6OpenGLWidgets.so.6",  # QtCharts links it
        "PySide6/Qt/lib/libicudata.so.73",
        "PySide6/QtCharts.abi3.so",
        "PySide6/Qt6Widgets.dll",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/imageformats/qico.dll",
        "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
        "onnxruntime/capi/onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so",
        "onnxruntime/capi/libonnxruntime_providers_shared.so",
        "numpy.libs/libscipy_openblas64_-32a4b2a6.so",
        "assets/model.onnx",
        "libpython3.11.so.1.0",
    ],
)
def test_files_the_app_needs_are_kept(bundle_rules: ModuleType, dest: str) -> None:
    assert not bundle_rules.is_unwanted_file(dest)


def test_forbidden_entries_find_the_training_stack_but_not_onnxruntime(bundle_rules: ModuleType) -> None:
    names = [
        "onnxruntime/capi/onnxruntime_pybind11_state.so",
        "onnxruntime.capi._pybind_state",
        "tensorflow.python.framework.ops",
        "_internal/keras/src/__init__.pyc",
        "tf2onnx",
        "onnx/onnx_cpp2py_export.so",
        "torch.nn",
        "numpy/_core/__init__.pyc",
        "desktop_app.core.inference",
    ]
    assert bundle_rules.forbidden_entries(names) == [
        "tensorflow.python.framework.ops",
        "_internal/keras/src/__init__.pyc",
        "tf2onnx",
        "onnx/onnx_cpp2py_export.so",
        "torch.nn",
    ]


def test_every_forbidden_package_is_excluded_from_analysis(bundle_rules: ModuleType) -> None:
    for package in bundle_rules.FORBIDDEN_PACKAGES:
        assert package in bundle_rules.EXCLUDED_MODULES
    for optional in ("onnxruntime.transformers", "onnxruntime.quantization", "onnxruntime.tools"):
        assert optional in bundle_rules.EXCLUDED_MODULES


def test_symlinks_to_dropped_libraries_go_with_them(bundle_rules: ModuleType) -> None:
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", __file__, "BINARY"),
        ("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"),
    ]
    datas = [
        ("PySide6/Qt/lib/libQt6Quick.so.6", __file__, "DATA"),
        ("assets/icon.png", __file__, "DATA"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", __file__, "DATA"),
    ]
    kept_binaries, kept_datas = bundle_rules.prune_bundle(binaries, datas)
    kept = {dest for dest, _, _ in kept_binaries + kept_datas}
    assert "libQt6Quick.so.6" not in kept and "PySide6/Qt/lib/libQt6Quick.so.6" not in kept
    assert {"libQt6Gui.so.6", "assets/icon.png", "PySide6/Qt/plugins/platforms/libqoffscreen.so"} <= kept


# What the bundled app does with every EXCLUDED_MODULES entry missing: it runs in a fresh interpreter (pytest
# itself imports unittest, pdb and friends) whose importer refuses those modules, like the frozen app's.
_RUN_WITHOUT_EXCLUDED = r"""
import importlib.abc, json, os, sys, time
excluded, model, images = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
refused = set()

class RefuseExcluded(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if any(name == module or name.startswith(module + ".") for module in excluded):
            refused.add(name)
            raise ModuleNotFoundError(f"No module named {name!r} (excluded from the bundle)", name=name)
        return None

sys.meta_path.insert(0, RefuseExcluded())
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from desktop_app.core.imageio import load_image
from desktop_app.core.inference import ModelSession
from desktop_app.ui.app import create_application
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.settings import AppSettings

session = ModelSession.open(model)
probabilities = {p: session.classify([load_image(p)])[0].probabilities.tolist() for p in images}
app = create_application()
window = MainWindow(settings=AppSettings())
window.show()
window.load_model(model)
window.open_paths(images)
deadline = time.monotonic() + 60
def busy():
    return window.controller.is_running() or len(window.controller.rows()) < len(images)

while busy() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
gui = [[str(row.path), row.error] for row in window.controller.rows()]
print(json.dumps({"probabilities": probabilities, "gui": gui, "refused": sorted(refused)}))
"""


def _sample_images(folder: Path) -> list[Path]:
    """Images that walk the decoders the exclusions sit next to: PNG, a CIELab TIFF (Pillow converts it with
    ImageCms), a JPEG, and DICOM files (pydicom, which imports requests optionally) plain and JPEG-compressed."""
    import io

    import numpy as np
    from PIL import Image
    from pydicom.uid import JPEGBaseline8Bit

    from tests.trust.dicom_factory import write_dicom

    rng = np.random.default_rng(5)
    grey = np.clip(np.linspace(0, 255, 72)[:, None] + rng.normal(0, 25, (72, 56)), 0, 255).astype(np.uint8)
    image = Image.fromarray(np.stack([grey, grey[::-1], 255 - grey], -1), "RGB")
    image.save(folder / "scan.png")
    image.convert("LAB").save(folder / "lab.tif")
    image.save(folder / "scan.jpg")
    jpeg = io.BytesIO()
    Image.fromarray(grey, "L").save(jpeg, "JPEG")
    return [
        folder / "scan.png",
        folder / "lab.tif",
        folder / "scan.jpg",
        write_dicom(folder / "plain.dcm", grey),
        write_dicom(
            folder / "jpeg.dcm",
            jpeg.getvalue(),
            rows=72,
            columns=56,
            transfer_syntax=JPEGBaseline8Bit,
            encapsulated=True,
        ),
    ]


def test_the_app_works_without_the_excluded_modules(bundle_rules: ModuleType, tmp_path: Path) -> None:
    from desktop_app.core.imageio import load_image
    from desktop_app.core.inference import ModelSession
    from tests.tiny_model import make_tiny_model

    model = make_tiny_model(tmp_path / "tiny.onnx", input_size=(40, 40), seed=2)
    images = _sample_images(tmp_path)
    env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_WITHOUT_EXCLUDED,
            json.dumps(bundle_rules.EXCLUDED_MODULES),
            str(model),
            *map(str, images),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    session = ModelSession.open(model)
    for image in images:
        expected = session.classify([load_image(image)])[0].probabilities
        np.testing.assert_allclose(report["probabilities"][str(image)], expected, atol=1e-6)
    assert sorted(path for path, _ in report["gui"]) == sorted(map(str, images))
    assert [error for _, error in report["gui"]] == [None] * len(images)
    assert not any(name.startswith(("PySide6.QtCharts", "desktop_app")) for name in report["refused"])


def _elf64(segments: list[tuple[int, int, int]], kind: int = 1) -> bytes:
    """A minimal little-endian ELF64 header plus program headers (type, offset, address, align per segment)."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<QHH", header, 0x20, 64, 0, 0)
    struct.pack_into("<HH", header, 0x36, 56, len(segments))
    table = b"".join(
        struct.pack("<IIQQQQQQ", kind, 5, offset, address, address, 16, 16, align)
        for offset, address, align in segments
    )
    return bytes(header) + table


def test_load_segments_aligned_reads_the_program_headers(bundle_rules: ModuleType, tmp_path: Path) -> None:
    good = tmp_path / "good.so"
    good.write_bytes(_elf64([(0, 0, 0x1000), (0x2CD8, 0x202CD8, 0x200000)]))
    assert bundle_rules.load_segments_aligned(good)
    # The shape strip leaves in a patchelf-ed OpenBLAS: file offset and address disagree within the page.
    bad = tmp_path / "bad.so"
    bad.write_bytes(_elf64([(0, 0, 0x1000), (0x1621098, 0x166B000, 0x1000)]))
    assert not bundle_rules.load_segments_aligned(bad)
    # Only LOAD segments count (a misaligned PT_NOTE is fine).
    note = tmp_path / "note.so"
    note.write_bytes(_elf64([(0x1621098, 0x166B000, 0x1000)], kind=4))
    assert bundle_rules.load_segments_aligned(note)
    text = tmp_path / "text.so"
    text.write_text("not an ELF file")
    assert not bundle_rules.load_segments_aligned(text)


def _wheel_file(package: str, pattern: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return next(iter(sorted(folder.parent.glob(pattern))), None)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("strip") is None, reason="strip runs on Linux only"
)
def test_strip_binaries_keeps_loadable_copies_only(bundle_rules: ModuleType, tmp_path: Path) -> None:
    imaging = _wheel_file("PIL", "PIL/_imaging.*.so")
    openblas = _wheel_file("numpy", "numpy.libs/libscipy_openblas*.so")
    if imaging is None or openblas is None:
        pytest.skip("needs Pillow's _imaging and numpy's OpenBLAS from manylinux wheels")
    not_elf = tmp_path / "data.so"
    not_elf.write_text("strip cannot read this")
    entries = [
        ("PIL/_imaging.so", str(imaging), "EXTENSION"),
        ("numpy.libs/openblas.so", str(openblas), "BINARY"),
        ("data.so", str(not_elf), "BINARY"),
        ("assets/model.onnx", str(not_elf), "DATA"),
    ]
    result = {dest: src for dest, src, _ in bundle_rules.strip_binaries(entries, tmp_path / "stripped")}
    stripped = Path(result["PIL/_imaging.so"])
    assert stripped.parent == tmp_path / "stripped"
    assert stripped.stat().st_size < imaging.stat().st_size
    assert bundle_rules.load_segments_aligned(stripped)
    # strip leaves this auditwheel-patched library unloadable, so the original goes in.
    assert result["numpy.libs/openblas.so"] == str(openblas)
    assert result["data.so"] == str(not_elf)
    assert result["assets/model.onnx"] == str(not_elf)
