"""Build the one-folder bundle with PyInstaller and check the built binary against the Python core.

Marked ``packaging`` (about a minute on two cores); it runs in CI with the rest of the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from desktop_app.__main__ import synthetic_image
from desktop_app.core import contract
from desktop_app.core.imageio import PILLOW_FORMATS, PILLOW_SUFFIXES, load_image
from desktop_app.core.inference import ModelSession
from desktop_app.core.integrity import write_sidecar
from desktop_app.core.ood import fit_ood_statistics
from tests.packaging.conftest import load_packaging_module
from tests.tiny_model import make_tiny_model
from tests.trust.dicom_factory import write_dicom

pytestmark = pytest.mark.packaging
APP = "bus-classifier"


def offscreen_env() -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny contract model with OOD statistics, so the self-test exercises the whole prediction path."""
    folder = tmp_path_factory.mktemp("model")
    plain = make_tiny_model(folder / "plain.onnx", input_size=(48, 48), seed=3)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (60, 50, 3), dtype=np.uint8)) for _ in range(12)]
    embeddings = np.stack([p.embedding for p in ModelSession.open(plain).classify(images)])
    ood = fit_ood_statistics(embeddings, n_components=4).with_threshold(embeddings)
    model = make_tiny_model(
        folder / "tiny_with_ood.onnx",
        input_size=(48, 48),
        seed=3,
        extra_metadata={contract.META_OOD: ood.to_json()},
    )
    write_sidecar(model)  # the bundled app refuses a model whose sidecar disagrees, so this checks it travels
    return model


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A grey, odd-sized image (the loader converts it to RGB; the resize is not a no-op)."""
    rng = np.random.default_rng(7)
    rows = np.linspace(0, 200, 83)[:, None]
    pixels = np.clip(rows + rng.normal(0, 30, (83, 117)), 0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("image") / "scan.png"
    Image.fromarray(pixels, mode="L").save(path)
    return path


@pytest.fixture(scope="module")
def images_in_every_format(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same scan saved in every format the loader promises (PILLOW_FORMATS, TIFF deflate-compressed so
    Pillow goes through libtiff, and DICOM): the bundle keeps each decoder and the libraries it links."""
    folder = tmp_path_factory.mktemp("formats")
    pixels = np.asarray(synthetic_image(size=(90, 70), seed=4))
    scan = Image.fromarray(np.stack([pixels, pixels[::-1], 255 - pixels], -1), "RGB")
    suffixes = {fmt: ext for ext, fmt in sorted(Image.registered_extensions().items()) if ext in PILLOW_SUFFIXES}
    paths = []
    for fmt in PILLOW_FORMATS:
        path = folder / f"scan{suffixes[fmt]}"
        scan.save(path, fmt, **({"compression": "tiff_adobe_deflate"} if fmt == "TIFF" else {}))
        paths.append(path)
    return [*paths, write_dicom(folder / "scan.dcm", pixels)]


@pytest.fixture(scope="module")
def built(build_script: ModuleType, model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Build once for the module; the summary carries build time, size and the forbidden-module check."""
    work = tmp_path_factory.mktemp("pyinstaller")
    summary = build_script.build(onefile=False, model=model, dist=work / "dist", work=work / "work")
    print(f"\nbuild: {summary['build_seconds']} s, {summary['size_mb']} MB at {summary['path']}")
    return summary


def run_selftest(executable: Path, *args: str) -> tuple[dict, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(executable), "--selftest", *args],
        env=offscreen_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"selftest failed:\n{result.stdout}\n{result.stderr}"
    start, end = result.stdout.index("{"), result.stdout.rindex("}") + 1
    return json.loads(result.stdout[start:end]), seconds


def test_bundle_has_no_training_stack(built: dict, bundle_rules: ModuleType) -> None:
    assert built["forbidden_count"] == 0, built["forbidden"]
    bundle = Path(built["path"])
    names = bundle_rules.bundle_contents(bundle, Path(built["executable"]))
    assert any(name.startswith("onnxruntime") for name in names), "the check must see the archived modules"
    assert any("desktop_app.core.inference" in name for name in names)
    assert bundle_rules.forbidden_entries(names) == []


@pytest.mark.skipif(not os.environ.get("PACKAGE_PYTHON"), reason="`make test` sets PACKAGE_PYTHON (packaging env)")
def test_bundle_from_the_packaging_env_has_no_blas_library(built: dict) -> None:
    """`make package`'s numpy is built without OpenBLAS: none of its 28 MB of BLAS/Fortran runtime is bundled,
    and the self-tests below show the probabilities do not change."""
    assert built["python"] == os.environ["PACKAGE_PYTHON"]
    blas = [path.name for path in Path(built["path"]).rglob("*") if re.search(r"openblas|gfortran|quadmath", path.name)]
    assert blas == []
    assert (Path(built["path"]) / "_internal" / "numpy" / "_core").is_dir()


def test_bundle_carries_the_model_and_icon(built: dict, model: Path) -> None:
    assets = Path(built["path"]) / "_internal" / "assets"
    assert (assets / "model.onnx").read_bytes() == model.read_bytes()
    assert (assets / "model.onnx.sha256").read_text() == model.with_name(model.name + ".sha256").read_text()
    assert (assets / "icon.png").stat().st_size > 0
    assert not (Path(built["path"]) / "_internal" / "PySide6" / "Qt" / "translations").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("gcc") is None,
                    reason="ICU data is trimmed on Linux builds with gcc")
def test_bundle_carries_trimmed_icu_data(built: dict) -> None:
    """The bundled libicudata is the trimmed copy: root collation kept, other locales gone (GUI start: below)."""
    icu_data = load_packaging_module("icu_data")
    libraries = sorted((Path(built["path"]) / "_internal" / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    assert len(libraries) == 1
    _, blob = icu_data.read_library_data(libraries[0])
    names = {name.split("/", 1)[1] for name, _ in icu_data.parse_common_data(blob).items}
    assert {"coll/root.res", "coll/ucadata.icu", "root.res", "en.res", "res_index.res"} <= names
    assert "coll/de.res" not in names and "brkitr/cjdict.dict" not in names
    assert libraries[0].stat().st_size < 10e6


def test_selftest_prints_the_python_cores_probabilities(built: dict, model: Path, image: Path) -> None:
    report, seconds = run_selftest(Path(built["executable"]), str(image))
    print(f"\ncold start to first result: {seconds:.2f} s")
    assert report["ok"] is True
    session = ModelSession.open(model)
    expected = session.classify([load_image(image)])[0]
    assert report["labels"] == list(session.labels)
    assert report["predicted"] == expected.predicted_label
    for label, probability in expected.probability_by_label().items():
        assert report["probabilities"][label] == pytest.approx(probability, abs=1e-5)
    assert report["ood_score"] == pytest.approx(expected.ood_score, rel=1e-4)


def test_bundle_opens_every_promised_format(built: dict, model: Path, images_in_every_format: list[Path]) -> None:
    session = ModelSession.open(model)
    for path in images_in_every_format:
        report, _ = run_selftest(Path(built["executable"]), str(path))
        expected = session.classify([load_image(path)])[0].probability_by_label()
        assert report["ok"] is True, path
        assert report["probabilities"] == pytest.approx(expected, abs=1e-5), path


def test_selftest_without_an_image_uses_the_synthetic_scan(built: dict, model: Path) -> None:
    """numpy.random stays in the bundle: the self-test without data draws its speckle with it."""
    report, _ = run_selftest(Path(built["executable"]))
    expected = ModelSession.open(model).classify([synthetic_image()])[0].probability_by_label()
    assert report["image"] == "synthetic"
    assert report["probabilities"] == pytest.approx(expected, abs=1e-5)


def test_selftest_reports_an_unreadable_image(built: dict, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = subprocess.run(
        [built["executable"], "--selftest", str(broken)],
        env=offscreen_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "broken.png" in result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="offscreen GUI start checked on Linux")
def test_gui_starts_offscreen(built: dict, tmp_path: Path) -> None:
    """The Qt platform plugins made it into the bundle: the window opens and stays up until killed."""
    env = offscreen_env()
    env["HOME"] = str(tmp_path)  # keep settings out of the user's home
    process = subprocess.Popen(
        [built["executable"]], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        process.wait(timeout=8)
    except subprocess.TimeoutExpired:
        pass  # still running: the GUI is up
    else:
        pytest.fail(f"GUI exited early ({process.returncode}):\n{process.stderr.read()}")
    finally:
        process.kill()
        process.communicate()
