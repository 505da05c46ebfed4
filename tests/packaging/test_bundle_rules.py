"""The trimming and checking rules the spec and build script apply (fast, no build)."""

from __future__ import annotations

from types import ModuleType

import pytest


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
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
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
