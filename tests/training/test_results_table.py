"""The runs table names every recipe knob that differs from the defaults, read from the run folder."""

from __future__ import annotations

import json
from pathlib import Path

from training.config import TrainConfig
from training.results_table import HEADER, main


def _run_folder(root: Path, metrics_extra: dict, **config: object) -> Path:
    run = root / "r99_test"
    run.mkdir()
    TrainConfig(data="d", out=str(run), weights="none", extra_data=["../x/busbra"], **config).save(  # type: ignore[arg-type]
        run / "config.json")
    scores = {"accuracy": 0.75, "macro_f1": 0.7, "macro_roc_auc": 0.8, "per_class": {"malignant": {"recall": 0.5}}}
    metrics = {"test": scores, "validation": {"macro_f1": 0.8}, "extra_test": scores,
               "ece_before_calibration": 0.2, "ece_after_calibration": 0.1, **metrics_extra}
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


def test_row_names_class_weight_power_offsets_and_scores(tmp_path: Path, capsys) -> None:
    offsets = {"class_offsets": {"offsets": {"benign": 0.0, "malignant": 0.0, "normal": -0.4515}}}
    run = _run_folder(tmp_path, offsets, class_weight_power=0.5, mixup=0.2, cutmix=1.0, freeze_schedule="9:3,13:2",
                      ultrasound_augment=1.0, hold_out_device=["Toshiba"], seed=1, split_seed=2,
                      split_order="shuffled", average_last_epochs=10, swa_learning_rate=0.2,
                      recompute_batchnorm=True, weight_decay=0.1, label_smoothing=0.0, dropout=0.5,
                      optimizer="sgd", lesion_crops=0.3)
    assert main([str(run)]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()[-3::2]
    assert header == HEADER.splitlines()[0]
    assert row.startswith("| r99_test | weights=none,")
    assert "extra=busbra minus Toshiba, lr=" in row
    assert ", wd=0.1, frozen=" in row
    assert "class weights balanced^0.5" in row
    assert ", split seed 2, shuffled split order," in row
    assert "class offsets normal -0.45" in row
    assert "benign" not in row  # zero offsets are not listed
    assert "mixup 0.2" in row and "cutmix 1.0" in row and "ultrasound aug 1.0" in row
    assert "cutmix 1.0, lesion crops 0.3," in row
    assert ", optimizer sgd, label smoothing 0, dropout 0.5, mixup" in row
    assert "top 3 blocks only from epoch 9, top 2 blocks only from epoch 13" in row
    assert "avg last 10 at a constant 0.2 of the peak rate, BatchNorm statistics recomputed," in row
    assert "| 0.750 | 0.700 | 0.500 | 0.200 → 0.100 | 0.750 / 0.80 |" in row


def test_defaults_add_nothing_and_disabled_weights_are_named(tmp_path: Path, capsys) -> None:
    run = _run_folder(tmp_path, {})
    main([str(run)])
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert "class weights" not in row and "class offsets" not in row and "blocks only" not in row
    assert "split seed" not in row and "split order" not in row
    assert "avg last" not in row and "peak rate" not in row and "BatchNorm" not in row
    assert "label smoothing" not in row and "dropout" not in row and "optimizer" not in row
    assert "extra=busbra, lr=" in row
    (run / "config.json").unlink()
    TrainConfig(data="d", out=str(run), class_weights=False).save(run / "config.json")
    main([str(run)])
    assert "no class weights" in capsys.readouterr().out.strip().splitlines()[-1]


def _write_model_with_timing(run: Path, timing: dict) -> None:
    """A minimal ONNX file whose ``training`` metadata carries ``timing``, as an export writes it."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    helper.set_model_props(model, {"training": json.dumps({"timing": timing})})
    onnx.save(model, str(run / "model.onnx"))


def test_precision_column_says_what_the_run_trained_in_not_what_it_asked_for(tmp_path: Path, capsys) -> None:
    """--mixed-precision is a request: a host without native bfloat16 trains in float32 and the row says so."""
    run = _run_folder(tmp_path, {}, mixed_precision=True)
    main([str(run)])
    assert ", bf16" in capsys.readouterr().out.strip().splitlines()[-1]  # no model yet: the request is all we know
    _write_model_with_timing(run, {"precision": "float32", "stage2_finetune_epochs": 36, "train_wall_seconds": 4715})
    main([str(run)])
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert ", float32 (bf16 not native)" in row and ", bf16," not in row
    assert "| 36/" in row and "| 79 min |" in row
    _write_model_with_timing(run, {"precision": "mixed_bfloat16"})
    main([str(run)])
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert ", bf16" in row and "float32" not in row
