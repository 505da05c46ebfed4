"""Fixtures for the app tests: tiny contract models, synthetic image folders, an isolated main window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import desktop_app.ui  # noqa: F401  (installs the PySide6 reference-leak workaround before any Qt test runs)
from desktop_app.__main__ import synthetic_image
from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from desktop_app.core.ood import fit_ood_statistics
from tests.tiny_model import add_dark_lesion_output, make_tiny_model

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_model(models_dir: Path) -> Path:
    return make_tiny_model(models_dir / "tiny.onnx", input_size=(64, 64))


def outlier_image(size: tuple[int, int] = (120, 160)) -> Image.Image:
    """A saturated colour checkerboard: nothing like a grey ultrasound frame."""
    rows, cols = np.mgrid[0 : size[0], 0 : size[1]]
    board = ((rows // 10 + cols // 10) % 2).astype(bool)
    pixels = np.zeros((*size, 3), dtype=np.uint8)
    pixels[board] = (255, 0, 40)
    pixels[~board] = (0, 255, 0)
    return Image.fromarray(pixels)


@pytest.fixture(scope="session")
def ood_model(models_dir: Path, tiny_model: Path) -> Path:
    """Tiny model with OOD statistics fitted on synthetic ultrasound-like images (all of them pass)."""
    session = ModelSession.open(tiny_model)
    images = [synthetic_image((96, 128), seed=s) for s in range(12)]
    embeddings = np.stack([p.embedding for p in session.classify(images)])
    statistics = fit_ood_statistics(embeddings, n_components=4).with_threshold(embeddings, pass_rate=1.0)
    statistics = type(statistics)(**{**statistics.__dict__, "threshold": statistics.threshold * 1.05})
    return make_tiny_model(
        models_dir / "tiny_ood.onnx",
        input_size=(64, 64),
        extra_metadata={contract.META_OOD: statistics.to_json()},
    )


@pytest.fixture(scope="session")
def lesion_model(models_dir: Path, tiny_model: Path) -> Path:
    """Tiny model plus a ``lesion_mask`` output [N, h, w, 1] that marks dark regions (like the synthetic oval)."""
    return add_dark_lesion_output(tiny_model, models_dir / "tiny_lesion.onnx")


def write_images(
    folder: Path, count: int, start_seed: int = 0, size: tuple[int, int] = (96, 128)
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"case_{i:03d}.png"
        synthetic_image(size, seed=start_seed + i).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Three good images, one corrupt PNG, one text file posing as a JPEG, and a mask that must be skipped."""
    folder = tmp_path / "images"
    write_images(folder, 3)
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (folder / "notes.jpg").write_text("not an image")
    synthetic_image((96, 128), seed=99).save(folder / "case_000_mask.png")
    return folder


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def window(qtbot, tiny_model: Path, settings_file: Path) -> Iterator[object]:
    from PySide6.QtCore import QSettings

    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    create_application()
    main_window = MainWindow(settings=AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)))
    qtbot.addWidget(main_window)
    main_window.resize(1280, 860)
    main_window.show()
    assert main_window.load_model(tiny_model)
    yield main_window
    main_window.controller.cancel(wait=True)


def run_batch(qtbot, window, paths, timeout: int = 20_000) -> None:
    """Open ``paths`` in the window and wait until the batch has finished."""
    with qtbot.waitSignal(window.controller.batch_finished, timeout=timeout):
        assert window.open_paths(paths) > 0
