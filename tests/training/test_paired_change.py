"""The paired-change table: after-minus-before figures per pair on one split, their mean, and cancers found."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from desktop_app.core import contract
from training.paired_change import MISSED_CANCER_COST, main, weighted_errors


def _model(path: Path, split_seed: int, accuracy: float, found: int, extra_found: int | None = 80) -> Path:
    """A one-node ONNX file with the metrics and training metadata `python -m training` writes (26 BUSI cancers,
    121 BUS-BRA ones)."""
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    metrics = {"n": 96, "accuracy": accuracy, "macro_f1": accuracy - 0.05, "macro_roc_auc": 0.9, "ece": 0.1,
               "per_class": {"malignant": {"recall": found / 26, "support": 26}}}
    if extra_found is not None:
        metrics["extra_test"] = {"n": 375, "accuracy": 0.8, "macro_roc_auc": 0.88,
                                 "per_class": {"malignant": {"recall": extra_found / 121, "support": 121}}}
    helper.set_model_props(model, {contract.META_METRICS: json.dumps(metrics),
                                   contract.META_TRAINING: json.dumps({"split": {"seed": split_seed}})})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def test_changes_per_pair_then_their_mean_and_the_cancers_found(tmp_path: Path, capsys) -> None:
    pairs = [(_model(tmp_path / "a0.onnx", 0, 0.75, 20), _model(tmp_path / "b0.onnx", 0, 0.78, 21, 82)),
             (_model(tmp_path / "a1.onnx", 1, 0.80, 18), _model(tmp_path / "b1.onnx", 1, 0.79, 16, 79))]
    assert main([str(path) for pair in pairs for path in pair]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + 2 + 1
    assert "| seed 0 | +0.030 | +0.030 | +0.038 | +0.000 | +0.000 | +0.000 | +0.000 | +0.017 |" in lines[2]
    assert lines[2].endswith("| 20/26 + 80/121 → 21/26 + 82/121 |")
    assert "| seed 1 | -0.010 |" in lines[3] and lines[3].endswith("| 18/26 + 80/121 → 16/26 + 79/121 |")
    assert lines[-1].startswith("| mean change (2 pairs) |  | +0.010 | +0.010 |")
    assert lines[-1].endswith("| +0 in all |")  # +3 on split 0, -3 on split 1
    # Weighted errors = wrong answers + 2 more for each missed cancer: a0 24 + 2 × 6 on BUSI, 75 + 2 × 41 on BUS-BRA.
    assert lines[2].endswith("| 36 + 157 → 31 + 153 | 20/26 + 80/121 → 21/26 + 82/121 |")
    assert lines[3].endswith("| 35 + 157 → 40 + 159 | 18/26 + 80/121 → 16/26 + 79/121 |")
    assert lines[-1].endswith("| BUSI +0, BUS-BRA -2 | +0 in all |")


def test_a_pair_across_two_splits_or_an_odd_count_is_refused(tmp_path: Path, capsys) -> None:
    first, other_split = _model(tmp_path / "a.onnx", 0, 0.7, 20), _model(tmp_path / "b.onnx", 1, 0.7, 20)
    assert main([str(first), str(other_split)]) == 1
    assert "not scored on the same split" in capsys.readouterr().err
    assert main([str(first)]) == 1
    assert "BEFORE AFTER pairs" in capsys.readouterr().err


def test_counts_missing_from_the_metadata_show_as_unknown(tmp_path: Path, capsys) -> None:
    before, after = _model(tmp_path / "a.onnx", 0, 0.7, 20, None), _model(tmp_path / "b.onnx", 0, 0.7, 20, None)
    metrics_only = onnx.load(str(after))
    props = {p.key: p.value for p in metrics_only.metadata_props}
    stripped = json.loads(props[contract.META_METRICS])
    del stripped["per_class"]["malignant"]["support"]
    del metrics_only.metadata_props[:]
    helper.set_model_props(metrics_only, props | {contract.META_METRICS: json.dumps(stripped)})
    onnx.save(metrics_only, str(after))
    assert main([str(before), str(after)]) == 0
    *_, row, last = capsys.readouterr().out.strip().splitlines()
    assert last.endswith("| BUSI -, BUS-BRA - | - |")
    assert row.endswith("| 41 + - → - + - | 20/26 → - |")  # 29 wrong + 2 × 6 missed; BUS-BRA not scored


def test_a_missed_cancer_costs_more_than_a_false_alarm() -> None:
    """Trading one benign image right for one cancer found lowers the weighted errors; the reverse raises them."""
    assert MISSED_CANCER_COST > 1
    base = weighted_errors(96, 0.75, (20, 26))
    assert base == 24 + (MISSED_CANCER_COST - 1) * 6
    traded = weighted_errors(96, 0.75, (21, 26))  # same accuracy: one more cancer found, one benign lost
    assert traded is not None and base is not None and traded < base
    # one more image wrong and one more cancer found: +1, then -(cost - 1)
    assert weighted_errors(96, 0.75 - 1 / 96, (21, 26)) == base + 1 - (MISSED_CANCER_COST - 1)
    assert weighted_errors(96, 0.75, None) is None and weighted_errors(0, 0.75, (1, 2)) is None
