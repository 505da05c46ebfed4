"""File menu choice between the bundled full-precision model and its int8 variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_model import make_tiny_model


def _window(qtbot, settings_file: Path):
    from PySide6.QtCore import QSettings

    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    create_application()
    window = MainWindow(settings=AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    return window


def test_menu_switches_between_bundled_fp32_and_int8(qtbot, tmp_path: Path, settings_file: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.ui import main_window

    fp32 = make_tiny_model(tmp_path / "model.onnx", extra_metadata={"model_version": "m-1"})
    int8 = make_tiny_model(tmp_path / "model_int8.onnx", extra_metadata={"model_version": "m-1-int8"})
    monkeypatch.setattr(main_window, "bundled_model_path", lambda: fp32)
    monkeypatch.setattr(main_window, "bundled_int8_model_path", lambda: int8)
    window = _window(qtbot, settings_file)
    assert window.bundled_int8_action.isEnabled() and window.bundled_model_action.isEnabled()
    window.bundled_int8_action.trigger()
    assert window.controller.session.info.version == "m-1-int8"
    window.bundled_model_action.trigger()
    assert window.controller.session.info.version == "m-1"


def test_int8_action_disabled_without_the_file(qtbot, tmp_path: Path, settings_file: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.ui import main_window

    monkeypatch.setattr(main_window, "bundled_int8_model_path", lambda: tmp_path / "absent.onnx")
    window = _window(qtbot, settings_file)
    assert not window.bundled_int8_action.isEnabled()
