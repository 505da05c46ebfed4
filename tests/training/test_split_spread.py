"""The split-spread table reads each model's own held-out figures and split seed and summarises them as mean ± std."""

from __future__ import annotations

import json
import math
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from desktop_app.core import contract
from training.split_spread import main, mean_and_std


def _model(path: Path, split_seed: int, accuracy: float, malignant_recall: float, extra: dict | None,
           order: str | None = None) -> Path:
    """A one-node ONNX file carrying the training and metrics metadata that `python -m training` writes."""
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    metrics = {"n": 96, "accuracy": accuracy, "macro_f1": accuracy - 0.05, "macro_roc_auc": 0.85, "ece": 0.1,
               "per_class": {"malignant": {"recall": malignant_recall}}}
    if extra is not None:
        metrics["extra_test"] = extra
    training = {"split": {"seed": split_seed} | ({"order": order} if order else {})}  # no order: older models
    helper.set_model_props(model, {contract.META_METRICS: json.dumps(metrics),
                                   contract.META_TRAINING: json.dumps(training)})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _extra(accuracy: float) -> dict:
    return {"n": 375, "accuracy": accuracy, "macro_roc_auc": 0.8, "per_class": {"malignant": {"recall": 0.6}}}


def test_one_row_per_split_then_mean_and_sample_std(tmp_path: Path, capsys) -> None:
    models = [_model(tmp_path / f"r{seed}" / "model.onnx", seed, accuracy, recall, _extra(0.7 + seed / 100))
              for seed, accuracy, recall in ((0, 0.7, 0.5), (1, 0.8, 0.75), (2, 0.9, 1.0))]
    assert main([str(path) for path in models]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + 3 + 1
    assert lines[3].startswith(f"| {models[1]} | seed 1 | 96 / 375 | 0.800 | 0.750 | 0.750 | 0.850 | 0.100 | 0.710 |")
    summary = lines[-1]
    assert summary.startswith("| mean ± std (3 splits) |")
    assert "| 0.800 ± 0.100 | 0.750 ± 0.100 | 0.750 ± 0.250 | 0.850 ± 0.000 |" in summary
    assert "| 0.710 ± 0.010 |" in summary


def test_a_model_without_extra_test_set_shows_dashes_and_is_left_out_of_that_mean(tmp_path: Path, capsys) -> None:
    with_extra = _model(tmp_path / "a.onnx", 0, 0.7, 0.5, _extra(0.8))
    without = _model(tmp_path / "b.onnx", 1, 0.7, 0.5, None)
    assert main([str(with_extra), str(without)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[3].startswith(f"| {without} | seed 1 | 96 / 0 | 0.700 |") and lines[3].endswith("| - | - | - |")
    assert lines[-1].endswith("| 0.800 | 0.800 | 0.600 |")  # one value: no std


def test_two_models_on_one_split_are_refused(tmp_path: Path, capsys) -> None:
    first = _model(tmp_path / "a.onnx", 3, 0.7, 0.5, None)
    second = _model(tmp_path / "b.onnx", 3, 0.8, 0.5, None)
    assert main([str(first), str(second)]) == 1
    assert "split(s) seed 3 given more than once" in capsys.readouterr().err


def test_one_seed_with_another_group_order_is_another_split(tmp_path: Path, capsys) -> None:
    size_order = _model(tmp_path / "a.onnx", 3, 0.7, 0.5, None)
    shuffled = _model(tmp_path / "b.onnx", 3, 0.8, 0.5, None, order="shuffled")
    assert main([str(size_order), str(shuffled)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[2].startswith(f"| {size_order} | seed 3 | 96 / 0 | 0.700 |")
    assert lines[3].startswith(f"| {shuffled} | seed 3, shuffled | 96 / 0 | 0.800 |")
    assert main([str(shuffled), str(_model(tmp_path / "c.onnx", 3, 0.9, 0.5, None, order="shuffled"))]) == 1
    assert "split(s) seed 3, shuffled given more than once" in capsys.readouterr().err


def test_files_that_are_not_exported_models_get_a_clear_message(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.onnx"
    text.write_text("not a model")
    assert main([str(text)]) == 1
    assert "not an ONNX model" in capsys.readouterr().err
    bare = tmp_path / "bare.onnx"
    graph = helper.make_graph([], "g", [], [])
    onnx.save(helper.make_model(graph), str(bare))
    assert main([str(bare)]) == 1
    assert "no metrics, training metadata" in capsys.readouterr().err
    assert main([]) == 2


@pytest.mark.parametrize(("values", "expected"), [([1.0, 3.0], (2.0, 2 ** 0.5)), ([float("nan"), 4.0], (4.0, None))])
def test_mean_and_std_skip_missing_values(values: list[float], expected: tuple[float, float | None]) -> None:
    mean, std = mean_and_std(values)
    assert mean == pytest.approx(expected[0])
    assert math.isnan(std) if expected[1] is None else std == pytest.approx(expected[1])
