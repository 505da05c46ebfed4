"""Persistent user settings (QSettings): window geometry, last folder, recent files, overlay settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "bus-classifier"
APPLICATION = "bus-classifier"
MAX_RECENT = 10
DEFAULT_OPACITY = 45  # percent


def _as_bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


class AppSettings:
    """Typed access to the app's QSettings (pass an INI-backed QSettings in tests)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)

    # geometry
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", value)

    def splitter_state(self, name: str) -> QByteArray | None:
        value = self.qsettings.value(f"window/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_splitter_state(self, name: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"window/{name}", value)

    # folders and files
    def last_folder(self) -> str:
        value = self.qsettings.value("files/last_folder", "")
        return str(value) if value and Path(str(value)).is_dir() else str(Path.home())

    def set_last_folder(self, folder: str | Path) -> None:
        self.qsettings.setValue("files/last_folder", str(folder))

    def recent_files(self) -> list[str]:
        value = self.qsettings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, paths: list[str]) -> None:
        recent = self.recent_files()
        for path in reversed(paths):
            if path in recent:
                recent.remove(path)
            recent.insert(0, path)
        self.qsettings.setValue("files/recent", recent[:MAX_RECENT])

    def clear_recent(self) -> None:
        self.qsettings.setValue("files/recent", [])

    # overlay
    def heatmap_visible(self) -> bool:
        return _as_bool(self.qsettings.value("overlay/visible"), False)

    def set_heatmap_visible(self, visible: bool) -> None:
        self.qsettings.setValue("overlay/visible", bool(visible))

    def heatmap_opacity(self) -> int:
        try:
            return max(0, min(100, int(self.qsettings.value("overlay/opacity", DEFAULT_OPACITY))))
        except (TypeError, ValueError):
            return DEFAULT_OPACITY

    def set_heatmap_opacity(self, percent: int) -> None:
        self.qsettings.setValue("overlay/opacity", int(percent))

    def lesion_outline_visible(self) -> bool:
        return _as_bool(self.qsettings.value("overlay/lesion_outline"), True)

    def set_lesion_outline_visible(self, visible: bool) -> None:
        self.qsettings.setValue("overlay/lesion_outline", bool(visible))

    def sync(self) -> None:
        self.qsettings.sync()
