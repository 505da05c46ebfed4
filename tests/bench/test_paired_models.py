"""bench/paired_models.py: exact McNemar p-values and a paired run of two models on the same images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import paired_models
from tests.bench.busbra_like import make_busbra_like
from tests.bench.split_data import write_split_data
from tests.tiny_model import make_tiny_model


@pytest.mark.parametrize(
    ("only_old", "only_new", "expected"),
    [(0, 0, 1.0), (0, 5, 2 / 32), (5, 0, 2 / 32), (1, 9, 2 * 11 / 1024), (4, 4, 1.0), (3, 5, 2 * (1 + 8 + 28 + 56) / 256)],
)
def test_mcnemar_exact_p(only_old: int, only_new: int, expected: float) -> None:
    assert paired_models.mcnemar_exact_p(only_old, only_new) == pytest.approx(expected)


def test_paired_run_counts_the_images_only_one_model_gets_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from bench.compare_models import evaluate, held_out

    data = tmp_path / "data"
    split = write_split_data(data, tmp_path / "split.csv", {"test": 3, "train": 1})
    old = make_tiny_model(tmp_path / "old.onnx", seed=1)
    new = make_tiny_model(tmp_path / "new.onnx", seed=2)
    monkeypatch.setattr(paired_models, "write_result", lambda name, result: tmp_path / f"{name}.json")
    assert paired_models.main(["--old", str(old), "--new", str(new), "--data", str(data), "--split", str(split)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.index("{"):])

    pairs = held_out(data, split, "test")
    assert result["images"] == len(pairs) == 9  # test rows only
    truth = np.array([("benign", "malignant", "normal").index(label) for _, label in pairs])
    right = {name: evaluate(model, pairs)[1].argmax(1) == truth for name, model in (("old", old), ("new", new))}
    assert result["only_old_right"] == int(np.sum(right["old"] & ~right["new"]))
    assert result["only_new_right"] == int(np.sum(right["new"] & ~right["old"]))
    assert result["old"]["accuracy"] == pytest.approx(right["old"].mean())
    assert result["new"]["accuracy"] == pytest.approx(right["new"].mean())
    assert result["mcnemar_exact_p"] == pytest.approx(
        paired_models.mcnemar_exact_p(result["only_old_right"], result["only_new_right"]), abs=1e-4)

    # A candidate carrying a decision rule is paired on its rule's answers, not on its highest probabilities.
    from tests.app.test_decision import OVERWHELMING, cost_weighted_model

    costly = cost_weighted_model(tmp_path / "costly.onnx", {"malignant": OVERWHELMING})
    assert paired_models.main(["--old", str(old), "--new", str(costly), "--data", str(data), "--split",
                               str(split)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.index("{"):])
    says_malignant = truth == 1
    assert result["new"]["accuracy"] == pytest.approx(1 / 3) and result["new"]["malignant_recall"] == 1.0
    assert result["only_new_right"] == int(np.sum(says_malignant & ~right["old"]))
    assert result["only_old_right"] == int(np.sum(right["old"] & ~says_malignant))


def test_device_keeps_one_scanners_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = make_busbra_like(tmp_path / "busbra", ["Toshiba Aplio"] * 3 + ["GE Logiq 5"] * 5, seed=1)
    old = make_tiny_model(tmp_path / "old.onnx", seed=1)
    new = make_tiny_model(tmp_path / "new.onnx", seed=2)
    monkeypatch.setattr(paired_models, "write_result", lambda name, result: tmp_path / f"{name}.json")
    base = ["--old", str(old), "--new", str(new), "--data", str(data)]

    assert paired_models.main([*base, "--device", "toshiba"]) == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.index("{"):])
    assert result["images"] == 3 and result["device"] == "toshiba"
    assert paired_models.main(base) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed[printed.index("{"):])["images"] == 8
    with pytest.raises(SystemExit, match="Siemens"):
        paired_models.main([*base, "--device", "Siemens"])
