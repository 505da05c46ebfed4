"""bench/mask_normal_cue.py: the no-lesion cue, the fusion into the normal logit and its fit on validation."""

from __future__ import annotations

import numpy as np
import pytest

from bench.mask_normal_cue import fit_fusion, fuse_normal, main, mean_nll, no_lesion_cue

NORMAL = 2


def test_cue_is_the_log_odds_of_background_at_the_mask_peak() -> None:
    cue = no_lesion_cue(np.array([0.5, 0.9, 0.1, 0.0, 1.0]))
    assert cue[0] == pytest.approx(0.0)
    assert cue[1] == pytest.approx(np.log(0.1 / 0.9))
    assert cue[2] == pytest.approx(np.log(0.9 / 0.1))
    assert np.isfinite(cue).all() and cue[3] > cue[2] and cue[4] < cue[1]


def test_zero_fusion_changes_nothing_and_a_positive_one_moves_towards_normal() -> None:
    probabilities = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    cue = np.array([3.0, -3.0])
    assert np.allclose(fuse_normal(probabilities, cue, NORMAL, 0.0, 0.0), probabilities)
    fused = fuse_normal(probabilities, cue, NORMAL, 1.0, 0.0)
    assert np.allclose(fused.sum(axis=1), 1.0)
    assert fused[0, NORMAL] > probabilities[0, NORMAL] and fused[1, NORMAL] < probabilities[1, NORMAL]
    assert fused[0, 0] / fused[0, 1] == pytest.approx(probabilities[0, 0] / probabilities[0, 1])


def test_the_fit_uses_an_informative_cue_and_ignores_noise() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    probabilities = np.full((300, 3), 1 / 3)  # the classifier knows nothing
    informative = np.where(truth == NORMAL, 2.0, -2.0) + rng.normal(0, 0.5, 300)
    weight, bias = fit_fusion(probabilities, informative, truth, NORMAL)
    assert weight > 0.3
    fused = fuse_normal(probabilities, informative, NORMAL, weight, bias)
    assert mean_nll(fused, truth) < mean_nll(probabilities, truth) - 0.1

    sharp = np.eye(3)[truth] * 0.9 + 0.1 / 3  # the classifier already knows everything
    assert fit_fusion(sharp, rng.normal(0, 2, 300), truth, NORMAL)[0] <= 0.1  # at most a grid step or two of noise


def test_run_on_images_fits_on_validation_and_scores_test(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Normal images are plain bright frames, lesion images carry a dark square the tiny model's mask marks."""
    from PIL import Image

    from bench import mask_normal_cue
    from bench.compare_models import evaluate, held_out
    from tests.tiny_model import add_dark_lesion_output, make_tiny_model

    rng = np.random.default_rng(0)
    rows = ["path,label,group,split"]
    for label in ("benign", "malignant", "normal"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for index in range(8):
            pixels = rng.integers(170, 230, (64, 64), dtype=np.uint8)
            if label != "normal":
                top, left = rng.integers(4, 36, 2)
                pixels[top : top + 24, left : left + 24] = 5
            Image.fromarray(pixels).save(tmp_path / "data" / label / f"{index}.png")
            rows.append(f"{label}/{index}.png,{label},{label}{index},{'val' if index < 4 else 'test'}")
    split = tmp_path / "split.csv"
    split.write_text("\n".join(rows) + "\n", encoding="utf-8")
    plain_model = make_tiny_model(tmp_path / "plain.onnx", input_size=(64, 64))
    model = add_dark_lesion_output(plain_model, tmp_path / "lesion.onnx")

    written = {}
    monkeypatch.setattr(mask_normal_cue, "write_result", lambda name, result: written.setdefault(name, result))
    assert main(["--models", str(model), "--data", str(tmp_path / "data"), "--split", str(split)]) == 0
    result = written["mask_normal_cue"]["models"][str(model)]
    assert result["fit"]["auc"]["no_lesion_cue"] == pytest.approx(1.0)
    assert result["fit"]["weight"] > 0
    test = result["data"]
    assert test["images"] == 12
    assert test["plain"]["accuracy"] == pytest.approx(evaluate(model, held_out(tmp_path / "data", split, "test"))[0]
                                                      ["accuracy"])
    assert test["fused"]["nll"] < test["plain"]["nll"]

    with pytest.raises(SystemExit, match="no lesion_mask output"):
        main(["--models", str(plain_model), "--data", str(tmp_path / "data"), "--split", str(split)])
