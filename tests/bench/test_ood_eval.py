"""bench/ood_eval.py: the app's own pass rate on in-distribution images counts every flag the app raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from bench import ood_eval
from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from desktop_app.core.ood import fit_ood_statistics
from tests.tiny_model import make_tiny_model


def grainy_scan(rng: np.random.Generator, size: int = 48) -> Image.Image:
    """Grey speckle in grains of a few pixels (a scan stand-in that is not noise)."""
    grains = np.clip(rng.gamma(2.0, 30.0, (size // 4, size // 4)), 0, 255).astype(np.uint8)
    return Image.fromarray(grains, mode="L").resize((size, size), Image.Resampling.BILINEAR)


def test_app_pass_rate_counts_noise_flags_on_in_distribution_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    plain = make_tiny_model(tmp_path / "plain.onnx")
    session = ModelSession.open(plain)
    fit_on = np.stack([p.embedding for p in session.classify([grainy_scan(rng) for _ in range(30)])])
    statistics = fit_ood_statistics(fit_on, n_components=4).with_threshold(fit_on, 1.0)
    model = make_tiny_model(tmp_path / "ood.onnx", extra_metadata={contract.META_OOD: statistics.to_json()})

    data = tmp_path / "data"
    (data / "benign").mkdir(parents=True)
    rows = ["path,label,group,split"]
    for index in range(6):  # four scans and two noise frames, all labelled test
        image = (
            grainy_scan(rng) if index < 4 else Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8))
        )
        image.save(data / "benign" / f"{index}.png")
        rows.append(f"benign/{index}.png,benign,g{index},test")
    split = tmp_path / "split.csv"
    split.write_text("\n".join(rows) + "\n")

    report = ood_eval.evaluate(model, data, split, per_category=1, seed=0)
    flags = [
        p.is_ood
        for p in ModelSession.open(model).classify(
            [Image.open(data / "benign" / f"{i}.png") for i in range(6)]
        )
    ]
    assert flags[4:] == [True, True]  # the noise frames, whatever their embedding score
    assert report["in_distribution_test"]["n"] == 6
    assert report["in_distribution_test"]["app_pass_rate"] == round(1 - np.mean(flags), 4)
    assert report["foreign"]["noise"]["app_detection_rate"] == 1.0
