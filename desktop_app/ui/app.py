"""Creating the QApplication and the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication

from desktop_app.core.paths import assets_dir, bundled_model_path
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.settings import APPLICATION, ORGANISATION, AppSettings


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), Fusion style for a consistent look on every platform."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Breast-ultrasound classifier")
    app.setStyle("Fusion")
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    for icon_name in ("icon.png", "icon.ico"):
        icon_path = assets_dir() / icon_name
        if icon_path.exists():
            app.setWindowIcon(QIcon(str(icon_path)))
            break
    return app  # type: ignore[return-value]


def run_gui(model_path: str | None = None, paths: Sequence[str] = ()) -> int:
    """Show the main window, load the model (a failure shows a dialog, the app stays open), run."""
    app = create_application()
    window = MainWindow(settings=AppSettings())
    window.show()
    window.load_model(Path(model_path) if model_path else bundled_model_path())
    if paths and window.controller.session is not None:
        window.open_paths(paths)
    return app.exec()
