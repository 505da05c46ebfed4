"""Offline guarantee: classification (core and CLI) works with every way of opening a network socket disabled."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiny_model import make_tiny_model
from tests.trust.corpus import CASES

ROOT = Path(__file__).resolve().parents[2]


class NetworkUsed(AssertionError):
    """Raised by the patched socket functions."""


@pytest.fixture()
def no_network(monkeypatch) -> list[str]:
    """Make socket creation, DNS and connections raise; returns the list of attempts."""
    attempts: list[str] = []

    def refuse(name: str):
        def refused(*args, **kwargs):
            attempts.append(name)
            raise NetworkUsed(f"network access attempted: socket.{name}")

        return refused

    for name in (
        "socket",
        "create_connection",
        "getaddrinfo",
        "gethostbyname",
        "create_server",
        "socketpair",
    ):
        monkeypatch.setattr(socket, name, refuse(name))
    return attempts


def test_the_patch_really_blocks_sockets(no_network: list[str]) -> None:
    with pytest.raises(NetworkUsed):
        socket.create_connection(("example.org", 80))
    with pytest.raises(NetworkUsed):
        socket.socket()
    assert no_network == ["create_connection", "socket"]


def test_core_classification_offline(no_network: list[str], tmp_path: Path) -> None:
    from desktop_app.core.batch import classify_files
    from desktop_app.core.inference import ModelSession

    model = make_tiny_model(tmp_path / "model.onnx", extra_metadata=None)
    images = [CASES[name].build(tmp_path) for name in ("palette", "grey_16bit", "exif_rotated_jpeg")]
    session = ModelSession.open(model)
    rows = list(classify_files(session, images, chunk_size=2))
    assert [row.ok for row in rows] == [True, True, True]
    assert no_network == []


def test_cli_offline_in_process(no_network: list[str], tmp_path: Path, capsys) -> None:
    from desktop_app import cli

    model = make_tiny_model(tmp_path / "model.onnx")
    image = CASES["palette"].build(tmp_path)
    assert cli.main([str(image), "--model", str(model), "--json"]) == cli.EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["results"][0]["status"] == "ok"
    assert no_network == []


AUDITED_CLI = """
import sys
attempts = []
def hook(event, args):
    if event.startswith("socket.") or event in ("urllib.Request", "http.client.connect"):
        attempts.append(event)
        raise RuntimeError("network access attempted: " + event)
sys.addaudithook(hook)
from desktop_app import cli
code = cli.main(sys.argv[1:])
print("NETWORK_ATTEMPTS=" + ",".join(attempts), file=sys.stderr)
sys.exit(code)
"""


def test_cli_process_offline_under_an_audit_hook(tmp_path: Path) -> None:
    """A fresh process with a Python audit hook that fails any socket event, from interpreter start to exit."""
    model = make_tiny_model(tmp_path / "model.onnx")
    image = CASES["spaces_in_path"].build(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", AUDITED_CLI, str(image), "--model", str(model), "--csv", "-"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "NETWORK_ATTEMPTS=\n" in result.stderr or result.stderr.rstrip().endswith("NETWORK_ATTEMPTS=")
    assert result.stdout.count("\n") == 2 and ",ok," in result.stdout


def test_gui_classification_offline(no_network: list[str], qtbot, tmp_path: Path) -> None:
    """The app window classifies with sockets blocked, and never loads Qt's network module."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings

    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    create_application()
    window = MainWindow(settings=AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.show()
    assert window.load_model(make_tiny_model(tmp_path / "model.onnx"))
    with qtbot.waitSignal(window.controller.batch_finished, timeout=20_000):
        window.open_paths([CASES["palette"].build(tmp_path)])
    assert window.controller.rows()[0].ok
    assert no_network == []
    assert "PySide6.QtNetwork" not in sys.modules
