"""The Qt app (offscreen) survives the bad-input corpus and bad models: error rows, clear messages, no writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from desktop_app.core.integrity import write_sidecar
from tests.tiny_model import make_tiny_model
from tests.trust.corpus import CASES, build_corpus
from tests.trust.test_bad_inputs import _snapshot
from tests.trust.test_integrity import BAD_MODELS


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return make_tiny_model(tmp_path / "models" / "tiny.onnx")


@pytest.fixture()
def window(qtbot, model: Path, tmp_path: Path) -> Iterator[object]:
    from PySide6.QtCore import QSettings

    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    create_application()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    main_window = MainWindow(settings=AppSettings(settings))
    qtbot.addWidget(main_window)
    main_window.show()
    assert main_window.load_model(model)
    yield main_window
    main_window.controller.cancel(wait=True)


def test_app_classifies_the_corpus_shows_every_row_and_writes_nothing(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    paths = build_corpus(folder)
    before = _snapshot(folder)
    explicit = [path for path in paths.values() if not path.is_dir()]
    with qtbot.waitSignal(window.controller.batch_finished, timeout=60_000):
        assert window.open_paths(explicit) == len(explicit)
    rows = window.controller.rows()
    assert len(rows) == len(explicit)
    by_path = {row.path: row for row in rows}
    for name, path in paths.items():
        if path.is_dir():
            continue
        row = by_path[path]
        expected = CASES[name].message
        if expected is None:
            assert row.ok, f"{name}: {row.error}"
        else:
            assert not row.ok and expected in row.error, f"{name}: {row.error}"
    for position in range(len(rows)):  # selecting any row, good or bad, must not raise
        window.show_row(position)
        if not rows[position].ok:
            assert (
                window.error_banner.isVisibleTo(window) and rows[position].error in window.error_banner.text()
            )
    assert _snapshot(folder) == before

    good = CASES["palette"].build(tmp_path)  # the app is still usable afterwards
    with qtbot.waitSignal(window.controller.batch_finished, timeout=20_000):
        window.open_paths([good])
    assert window.controller.rows()[0].ok


@pytest.mark.parametrize("name", ["missing", "random_bytes", "truncated", "no_embedding_output"])
def test_app_refuses_a_bad_model_and_keeps_running(name: str, qtbot, window, tmp_path: Path) -> None:
    build, message = BAD_MODELS[name]
    assert window.load_model(build(tmp_path)) is False
    assert message in (window.controller.model_error or "")
    assert window.controller.session is None
    assert window.open_paths([CASES["palette"].build(tmp_path)]) == 0  # no model: nothing queued, no crash


def test_app_refuses_a_tampered_model(window, tmp_path: Path) -> None:
    model = make_tiny_model(tmp_path / "signed" / "model.onnx")
    write_sidecar(model)
    assert window.load_model(model)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    assert window.load_model(model) is False
    assert "model file does not match its card" in window.controller.model_error


def test_multi_frame_dicom_gets_a_frame_choice(qtbot, window, model: Path, tmp_path: Path) -> None:
    import numpy as np

    from desktop_app.core.imageio import load_image
    from desktop_app.core.inference import ModelSession
    from tests.trust.dicom_factory import write_dicom

    rng = np.random.default_rng(0)
    frames = np.stack(
        [np.clip(rng.normal(level, 20, (40, 48)), 0, 255).astype(np.uint8) for level in (30, 120, 220)]
    )
    cine = write_dicom(tmp_path / "cine.dcm", frames, frames=3)
    still = CASES["palette"].build(tmp_path)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=20_000):
        window.open_paths([cine, still])
    window.show_row(0)
    assert window.frame_spin.isVisibleTo(window) and window.frame_spin.maximum() == 3
    assert window.frame_spin.value() == 1 and window.controller.rows()[0].frame == 0
    first = window.controller.rows()[0].prediction.probabilities

    window.frame_spin.setValue(3)  # shown 1-based: the third frame
    row = window.controller.rows()[0]
    expected = ModelSession.open(model).classify([load_image(cine, frame=2)])[0]
    assert row.frame == 2 and row.ok
    np.testing.assert_allclose(row.prediction.probabilities, expected.probabilities, rtol=1e-6)
    assert not np.allclose(row.prediction.probabilities, first)
    assert window.displayed_rgb()[..., 0].mean() == pytest.approx(
        np.asarray(load_image(cine, frame=2))[..., 0].mean()
    )

    window.show_row(1)  # a still image: no frame choice
    assert not window.frame_spin.isVisibleTo(window)
