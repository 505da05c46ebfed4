"""bench/ensemble_models.py: every combination of models, scored on the mean of their probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from bench.ensemble_models import ensemble_rows, main, member_name

LABELS = ("benign", "malignant", "normal")


def test_every_combination_is_scored_on_the_mean_probabilities() -> None:
    truth = np.array([0, 1, 2, 1])
    # a is wrong on image 1, b on image 3; their mean gets both right (each error is a narrow one)
    a = np.array([[.8, .1, .1], [.5, .4, .1], [.1, .1, .8], [.1, .8, .1]])
    b = np.array([[.7, .2, .1], [.1, .8, .1], [.1, .2, .7], [.45, .4, .15]])
    c = np.full((4, 3), 1 / 3) + np.array([[0, 0, .01]] * 4)  # always "normal"
    rows = ensemble_rows({"a": a, "b": b, "c": c}, truth, LABELS)
    assert [row["members"] for row in rows] == [["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["b", "c"],
                                                ["a", "b", "c"]]
    by_members = {" ".join(row["members"]): row for row in rows}
    assert by_members["a"]["accuracy"] == pytest.approx(0.75)
    assert by_members["b"]["accuracy"] == pytest.approx(0.75)
    assert by_members["c"]["accuracy"] == pytest.approx(0.25)
    assert by_members["a b"]["accuracy"] == pytest.approx(1.0)
    assert by_members["a b"]["malignant_recall"] == pytest.approx(1.0)
    assert by_members["a"]["malignant_recall"] == pytest.approx(0.5)


def test_members_need_distinct_folder_names(tmp_path) -> None:
    assert member_name(tmp_path / "runs" / "r5" / "model.onnx") == "r5"
    with pytest.raises(SystemExit):
        main(["--models", "runs/x/model.onnx", "other/x/model.onnx", "--data", str(tmp_path)])


def test_run_on_images_scores_singles_like_the_app(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from bench import ensemble_models
    from bench.compare_models import evaluate, held_out
    from tests.tiny_model import make_tiny_model

    rng = np.random.default_rng(0)
    for label in LABELS:
        (tmp_path / "data" / label).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(tmp_path / "data" / label / f"{index}.png")
    models = [make_tiny_model(tmp_path / name / "model.onnx", seed=seed) for name, seed in (("one", 1), ("two", 2))]
    written = {}
    monkeypatch.setattr(ensemble_models, "write_result", lambda name, result: written.setdefault(name, result))
    assert main(["--models", *map(str, models), "--data", str(tmp_path / "data")]) == 0
    rows = written["ensemble_models"]["rows"]
    assert [row["members"] for row in rows] == [["one"], ["two"], ["one", "two"]]
    pairs = held_out(tmp_path / "data", None, "test")
    assert rows[0]["accuracy"] == pytest.approx(evaluate(models[0], pairs)[0]["accuracy"])
