"""PySide6 user interface: views (widgets) and the controller that drives the Qt-free core."""

from desktop_app.ui import pyside_fixes

pyside_fixes.install()
