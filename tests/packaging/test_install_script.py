"""The user-level Linux install script: puts a build in place with a menu entry and icon, and removes it again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("bash") is None, reason="Linux install script"
)
SCRIPT = PACKAGING / "install_linux.sh"
APP = "bus-classifier"


def fake_build(root: Path) -> Path:
    """A one-folder build stand-in: an executable that prints a marker, and the bundled icon."""
    build = root / "dist" / APP
    (build / "_internal" / "assets").mkdir(parents=True)
    executable = build / APP
    executable.write_text("#!/bin/sh\necho fake-bundle-ran\n")
    executable.chmod(0o755)
    (build / "_internal" / "assets" / "icon.png").write_bytes(b"\x89PNG fake icon")
    return build


def run_script(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "BIN_DIR")}
    env["HOME"] = str(home)
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_install_then_uninstall(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    build = fake_build(tmp_path)
    result = run_script(home, str(build))
    assert result.returncode == 0, result.stderr

    share = home / ".local" / "share"
    app_dir = share / APP
    launcher = home / ".local" / "bin" / APP
    desktop = share / "applications" / f"{APP}.desktop"
    icon = share / "icons" / "hicolor" / "256x256" / "apps" / f"{APP}.png"
    ran = subprocess.run([str(launcher)], capture_output=True, text=True, timeout=60, check=True)
    assert ran.stdout.strip() == "fake-bundle-ran"
    assert icon.read_bytes() == b"\x89PNG fake icon"
    entry = dict(
        line.split("=", 1)
        for line in desktop.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert entry["Type"] == "Application"
    assert entry["Exec"] == f'"{app_dir / APP}" %F'
    assert entry["Icon"] == str(icon)
    assert "not a medical device" in entry["Comment"].lower()

    # The uninstaller copied beside the app works without the source tree.
    env = dict(os.environ, HOME=str(home))
    removed = subprocess.run(
        [str(app_dir / "uninstall.sh")], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert removed.returncode == 0, removed.stderr
    for path in (app_dir, launcher, desktop, icon):
        assert not path.exists() and not path.is_symlink(), path


def test_reinstall_replaces_the_old_copy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    build = fake_build(tmp_path)
    assert run_script(home, str(build)).returncode == 0
    stale = home / ".local" / "share" / APP / "_internal" / "stale.txt"
    stale.write_text("from an older version")
    assert run_script(home, str(build)).returncode == 0
    assert not stale.exists()


def test_missing_build_is_a_clear_error(tmp_path: Path) -> None:
    result = run_script(tmp_path, str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "no build at" in result.stderr and "packaging/build.py" in result.stderr
    assert not (tmp_path / ".local").exists()


def test_uninstall_leaves_a_foreign_launcher_alone(tmp_path: Path) -> None:
    bin_dir = tmp_path / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    other = bin_dir / APP
    other.write_text("#!/bin/sh\n")
    assert run_script(tmp_path, "--uninstall").returncode == 0
    assert other.exists()
