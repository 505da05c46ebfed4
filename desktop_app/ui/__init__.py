"""PySide6 user interface: views (widgets) and the controller that drives the Qt-free core."""
