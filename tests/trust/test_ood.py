"""Out-of-distribution score: the math on synthetic embeddings, and the warning path through the model and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core import contract
from desktop_app.core.ood import OodStatistics, fit_ood_statistics
from tests.tiny_model import make_tiny_model

DIMENSION = 64
RANK = 8


def _in_distribution(rng: np.random.Generator, n: int, basis: np.ndarray) -> np.ndarray:
    """Embeddings on a RANK-dimensional subspace with unequal spreads, plus a little isotropic noise."""
    spreads = np.linspace(3.0, 0.5, RANK)
    return 5.0 + (rng.normal(size=(n, RANK)) * spreads) @ basis + 0.05 * rng.normal(size=(n, DIMENSION))


@pytest.fixture(scope="module")
def fitted() -> tuple[OodStatistics, np.ndarray, np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(DIMENSION, RANK)))[0].T  # RANK x D, orthonormal rows
    train = _in_distribution(rng, 600, basis)
    validation = _in_distribution(rng, 400, basis)
    statistics = fit_ood_statistics(train, n_components=RANK).with_threshold(validation, pass_rate=0.95)
    return statistics, basis, train, rng


def test_threshold_passes_the_requested_share_of_validation(fitted) -> None:
    statistics, *_ = fitted
    assert statistics.pass_rate == pytest.approx(0.95, abs=0.005)
    assert np.isfinite(statistics.threshold) and statistics.threshold > 0


def test_held_out_in_distribution_pass_rate_is_near_the_target(fitted) -> None:
    statistics, basis, _, rng = fitted
    held_out = _in_distribution(rng, 4000, basis)
    pass_rate = float(np.mean(~statistics.is_outlier(held_out)))
    assert 0.92 <= pass_rate <= 0.98


def test_foreign_embeddings_are_detected(fitted) -> None:
    statistics, basis, train, rng = fitted
    n = 500
    widest_sigma = 3.0
    along_the_subspace = _in_distribution(rng, n, basis) + 6.0 * widest_sigma * basis[0]  # 6 sigma out
    off_the_subspace = _in_distribution(rng, n, basis) + 1.0 * rng.normal(size=(n, DIMENSION))
    scaled = 5.0 + 4.0 * (_in_distribution(rng, n, basis) - 5.0)
    far_away = rng.normal(size=(n, DIMENSION)) * 10
    for name, embeddings in {
        "shift along the subspace": along_the_subspace,
        "energy outside the subspace": off_the_subspace,
        "4x spread": scaled,
        "unrelated": far_away,
    }.items():
        detection = float(np.mean(statistics.is_outlier(embeddings)))
        assert detection >= 0.95, f"{name}: detected {detection:.2%}"
    assert float(np.mean(statistics.is_outlier(train))) <= 0.1


def test_score_is_zero_at_the_training_mean_and_grows_with_distance(fitted) -> None:
    statistics, basis, *_ = fitted
    mean = np.asarray(statistics.mean)
    assert statistics.score(mean)[0] == pytest.approx(0.0, abs=1e-9)
    scores = statistics.score(np.stack([mean + k * basis[1] for k in (0.5, 1, 2, 4)]))
    assert np.all(np.diff(scores) > 0)


def test_json_round_trip_keeps_scores(fitted) -> None:
    statistics, basis, _, rng = fitted
    restored = OodStatistics.from_json(statistics.to_json())
    sample = _in_distribution(rng, 20, basis)
    assert restored.threshold == statistics.threshold and restored.pass_rate == statistics.pass_rate
    np.testing.assert_allclose(restored.score(sample), statistics.score(sample), rtol=1e-4)


def test_unknown_method_and_too_few_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown OOD method"):
        OodStatistics.from_json(json.dumps({"method": "magic"}))
    with pytest.raises(ValueError, match="at least 3 embeddings"):
        fit_ood_statistics(np.zeros((2, 8)))


# ---- the warning path with a tiny model carrying OOD statistics ----------------------------------------------------


def _grey_scan(seed: int, size: int = 48) -> Image.Image:
    """Ultrasound-like stand-in: grey speckle of varying brightness, in grains of a few pixels as in a scan."""
    rng = np.random.default_rng(seed)
    level = 40 + 10 * (seed % 8)
    grains = np.clip(rng.gamma(2.0, level / 2.0, size=(size // 4, size // 4)), 0, 255).astype(np.uint8)
    return Image.fromarray(grains, mode="L").resize((size, size), Image.Resampling.BILINEAR)


@pytest.fixture(scope="module")
def ood_model(tmp_path_factory) -> Path:
    """A tiny model whose OOD statistics were fitted on its own embeddings of grey speckle images."""
    from desktop_app.core.inference import ModelSession

    folder = tmp_path_factory.mktemp("ood_model")
    plain = make_tiny_model(folder / "plain.onnx")
    session = ModelSession.open(plain)
    train = np.stack([p.embedding for p in session.classify([_grey_scan(seed) for seed in range(60)])])
    validation = np.stack(
        [p.embedding for p in session.classify([_grey_scan(seed) for seed in range(60, 100)])]
    )
    statistics = fit_ood_statistics(train, n_components=8).with_threshold(validation, 0.95)
    return make_tiny_model(folder / "with_ood.onnx", extra_metadata={contract.META_OOD: statistics.to_json()})


@pytest.fixture()
def images(tmp_path: Path) -> dict[str, Path]:
    paths = {"scan": tmp_path / "scan.png", "red_photo": tmp_path / "red photo.png"}
    _grey_scan(201).save(paths["scan"])  # a typical scan (the 95 % threshold flags ~5 % of them)
    Image.new("RGB", (48, 48), (230, 20, 30)).save(paths["red_photo"])
    return paths


def test_model_flags_a_foreign_image_and_passes_a_scan(ood_model: Path, images: dict[str, Path]) -> None:
    from desktop_app.core.imageio import load_image
    from desktop_app.core.inference import ModelSession

    session = ModelSession.open(ood_model)
    assert session.info.ood is not None
    scan, foreign = session.classify([load_image(images["scan"]), load_image(images["red_photo"])])
    assert scan.is_ood is False and scan.ood_score <= session.info.ood.threshold
    assert foreign.is_ood is True and foreign.ood_score > session.info.ood.threshold


def test_cli_reports_the_score_and_the_warning(ood_model: Path, images: dict[str, Path], capsys) -> None:
    from desktop_app import cli

    assert cli.main([str(images["scan"]), str(images["red_photo"]), "--model", str(ood_model), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    results = {Path(row["file"]).name: row for row in document["results"]}
    assert results["scan.png"]["ood_flag"] is False
    assert results["red photo.png"]["ood_flag"] is True
    assert results["red photo.png"]["ood_score"] > document["model"]["ood_threshold"]
    assert "does not look like a breast ultrasound" in results["red photo.png"]["message"]

    assert cli.main([str(images["red_photo"]), "--model", str(ood_model)]) == 0
    table = capsys.readouterr().out
    assert "OUT OF DISTRIBUTION: does not look like a breast ultrasound" in table
    assert f"{results['red photo.png']['ood_score']:.2f}" in table  # the table shows the score itself


def test_model_without_ood_statistics_reports_no_score(tmp_path: Path, images: dict[str, Path]) -> None:
    from desktop_app.core.imageio import load_image
    from desktop_app.core.inference import ModelSession

    session = ModelSession.open(make_tiny_model(tmp_path / "plain.onnx"))
    (prediction,) = session.classify([load_image(images["scan"])])
    assert prediction.ood_score is None and prediction.is_ood is None


def test_colour_picture_is_flagged_even_without_ood_statistics(tmp_path: Path, images: dict[str, Path]) -> None:
    from desktop_app.core.imageio import load_image
    from desktop_app.core.inference import ModelSession

    session = ModelSession.open(make_tiny_model(tmp_path / "plain.onnx"))
    (photo,) = session.classify([load_image(images["red_photo"])])
    assert photo.ood_score is None
    assert photo.is_ood is True and photo.colourful_share == pytest.approx(1.0)
    assert "colour picture (100 % colourful pixels" in photo.ood_reason


def test_grey_scan_with_a_small_colour_overlay_is_not_a_colour_picture() -> None:
    """BUSI has scans with a Doppler box or yellow calipers: a few colourful pixels must not flag them."""
    from desktop_app.core.ood import COLOURFUL_SHARE_LIMIT, colourful_share

    scan = np.asarray(_grey_scan(7).convert("RGB").resize((100, 100)), dtype=np.float32)
    overlay = scan.copy()
    overlay[10:38, 10:38] = (240, 220, 30)  # 7.8 % of the pixels: yellow caliper marks and a box
    photo = scan.copy()
    photo[:, :40] = (200, 60, 40)  # 40 %: a colour picture
    shares = colourful_share(np.stack([scan, overlay, photo]))
    assert shares[0] == 0.0
    assert 0.05 < shares[1] <= COLOURFUL_SHARE_LIMIT < shares[2]


def test_neighbour_correlation_tells_noise_from_structure() -> None:
    from desktop_app.core.ood import NOISE_CORRELATION_LIMIT, neighbour_correlation

    rng = np.random.default_rng(5)
    scan = np.asarray(_grey_scan(3, size=128).convert("RGB"), dtype=np.float32)
    noise = rng.normal(120, 40, (128, 128, 1)).repeat(3, axis=-1)
    stripes = np.zeros((128, 128, 3), np.float32)
    stripes[:, ::2] = 255  # every other column: correlated down the rows, anti-correlated across them
    flat = np.full((128, 128, 3), 77.0, np.float32)
    correlation = neighbour_correlation(np.stack([scan, noise, stripes, flat]))
    assert correlation[0] > 0.6 > NOISE_CORRELATION_LIMIT > 0.1 > abs(correlation[1])
    assert correlation[2] == pytest.approx(-1.0, abs=0.02)  # the smaller of the two directions counts
    assert correlation[3] == 1.0


def test_noise_is_flagged_even_without_ood_statistics(tmp_path: Path) -> None:
    from desktop_app.__main__ import synthetic_image
    from desktop_app.core.inference import ModelSession

    rng = np.random.default_rng(9)
    noise = Image.fromarray(rng.integers(0, 256, (200, 240), dtype=np.uint8), mode="L")
    salt = Image.fromarray((rng.random((200, 240)) < 0.2).astype(np.uint8) * 255, mode="L")
    session = ModelSession.open(make_tiny_model(tmp_path / "plain.onnx"))
    grey_noise, salt_noise, scan = session.classify([noise, salt, synthetic_image()])
    for flagged in (grey_noise, salt_noise):
        assert flagged.ood_score is None and flagged.is_ood is True and flagged.is_noise
        assert "noise, no image structure" in flagged.ood_reason
    assert scan.is_ood is None and not scan.is_noise and scan.ood_reason == ""
