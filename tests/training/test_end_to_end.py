"""Train -> export -> parity -> metadata -> evaluate, on a tiny synthetic BUSI-layout data set (1 epoch each stage).

Most tests read the shared two-stage run of ``conftest.trained_run`` (started from the shared pretraining); one
more run trains the shipped recipe's options together from random init.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

pytest.importorskip("tensorflow")

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from desktop_app.core.ood import OodStatistics
from tests.training.synthetic import CLASSES, SIZE, write_dataset
from training.__main__ import main as training_main
from training.fast_kernels import fast_kernels_apply


def test_run_folder_has_report_split_and_config(trained_run: tuple[Path, Path]) -> None:
    _, run_dir = trained_run
    for name in ("model.onnx", "model.onnx.sha256", "split.csv", "config.json", "metrics.json",
                 "checkpoint.weights.h5", "history.json"):
        assert (run_dir / name).is_file(), name
    assert len(list(run_dir.glob("*.png"))) >= 4
    config = json.loads((run_dir / "config.json").read_text())
    assert config["image_size"] == SIZE and config["seg_head"] is True
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "roc_auc_ovr", "ece", "nll", "brier"):
        assert key in metrics["test"], key
    assert {"ece_before_calibration", "ece_after_calibration"} <= metrics.keys()
    split_rows = (run_dir / "split.csv").read_text().strip().splitlines()
    assert len(split_rows) == 1 + 3 * 6  # header + every image, masks excluded
    assert not any("_mask" in row for row in split_rows)


def test_exported_model_follows_contract(trained_run: tuple[Path, Path]) -> None:
    _, run_dir = trained_run
    model = onnx.load(str(run_dir / "model.onnx"))
    metadata = {p.key: p.value for p in model.metadata_props}
    for key in (*contract.REQUIRED_METADATA, contract.META_PARITY, contract.META_OOD):
        assert key in metadata, key
    assert json.loads(metadata[contract.META_LABELS]) == list(CLASSES)
    assert json.loads(metadata[contract.META_INPUT_SIZE]) == [SIZE, SIZE]
    assert float(metadata[contract.META_PARITY]) <= 1e-4
    training = json.loads(metadata[contract.META_TRAINING])
    assert "self-supervised pretraining" in training["weights_origin"]  # --weights: the shared pretraining's file
    assert training["timing"]["precision"] == "float32"  # no --mixed-precision
    assert training["timing"]["fast_cpu_kernels"] is fast_kernels_apply()  # trained with them on a CPU-only machine
    assert training["data"]["counts"]["total"] == {name: 6 for name in CLASSES}
    assert OodStatistics.from_json(metadata[contract.META_OOD]).threshold > 0
    assert [i.name for i in model.graph.input] == [contract.INPUT_NAME]
    assert model.opset_import[0].version == 17

    session = ModelSession.open(run_dir / "model.onnx")
    assert session.info.has_lesion_mask
    rng = np.random.default_rng(1)
    batch = rng.uniform(0, 255, size=(3, SIZE, SIZE, 3)).astype(np.float32)
    predictions = session.run(batch)
    temperature = float(metadata[contract.META_TEMPERATURE])
    # The default recipe appends a validation-fitted offset for "normal" (<= 0) with a second temperature.
    offsets = json.loads(metadata[contract.META_CLASS_OFFSETS])
    assert offsets["classes_offset"] == ["normal"] and offsets["offsets"]["normal"] <= 0
    assert offsets["offsets"]["benign"] == offsets["offsets"]["malignant"] == 0
    shift = np.array([offsets["offsets"][name] for name in CLASSES])
    for prediction in predictions:
        assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert prediction.embedding.shape == (1024,)
        # Exact CAM: the spatial mean of the class maps is the logit vector.
        logits = prediction.cam.reshape(-1, len(CLASSES)).mean(axis=0) / temperature / offsets["temperature"] + shift
        expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        np.testing.assert_allclose(prediction.probabilities, expected, atol=1e-5)


def test_evaluate_scores_the_onnx_model(trained_run: tuple[Path, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    data, run_dir = trained_run
    out = tmp_path / "eval.json"
    code = training_main(["evaluate", "--model", str(run_dir / "model.onnx"), "--data", str(data),
                          "--split", str(run_dir / "split.csv"), "--subset", "test", "--out", str(out)])
    assert code == 0
    metrics = json.loads(out.read_text())
    reference = json.loads((run_dir / "metrics.json").read_text())["test"]
    assert metrics["n"] == reference["n"]
    assert metrics["accuracy"] == pytest.approx(reference["accuracy"])
    assert json.loads(capsys.readouterr().out)["n"] == reference["n"]


def test_export_reproduces_the_trained_model(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    _, run_dir = trained_run
    out = tmp_path / "again.onnx"
    assert training_main(["export", "--checkpoint", str(run_dir / "checkpoint.weights.h5"), "--out", str(out)]) == 0
    batch = np.random.default_rng(2).uniform(0, 255, size=(2, SIZE, SIZE, 3)).astype(np.float32)
    first = [p.probabilities for p in ModelSession.open(run_dir / "model.onnx").run(batch)]
    second = [p.probabilities for p in ModelSession.open(out).run(batch)]
    np.testing.assert_allclose(first, second, atol=1e-5)


def test_export_with_recomputed_batchnorm_writes_a_new_folder(trained_run: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    """`export --recompute-batchnorm` into another folder: the run's own files stay as they were, the new folder gets
    the same split, its own report and a model whose BatchNorm statistics (and so outputs) changed."""
    _, run_dir = trained_run
    before = {name: (run_dir / name).read_bytes() for name in ("metrics.json", "config.json", "model.onnx")}
    out = tmp_path / "refreshed" / "model.onnx"
    assert training_main(["export", "--checkpoint", str(run_dir / "checkpoint.weights.h5"), "--out", str(out),
                          "--recompute-batchnorm"]) == 0
    assert {name: (run_dir / name).read_bytes() for name in before} == before
    assert (out.parent / "split.csv").read_text() == (run_dir / "split.csv").read_text()
    assert json.loads((out.parent / "metrics.json").read_text())["test"]["n"] == json.loads(
        before["metrics.json"])["test"]["n"]
    metadata = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    training = json.loads(metadata[contract.META_TRAINING])
    assert training["recipe"]["recompute_batchnorm"] is True and training["recipe"]["out"] == "refreshed"
    assert training["timing"]["batchnorm_batches"] >= 1
    batch = np.random.default_rng(5).uniform(0, 255, size=(2, SIZE, SIZE, 3)).astype(np.float32)
    old = [p.probabilities for p in ModelSession.open(run_dir / "model.onnx").run(batch)]
    new = [p.probabilities for p in ModelSession.open(out).run(batch)]
    assert not np.allclose(old, new, atol=1e-4)


def test_bad_data_folder_gives_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code = training_main(["train", "--data", str(empty), "--out", str(tmp_path / "run"), "--weights", "none"])
    assert code == 2
    assert "error:" in capsys.readouterr().err


def test_model_card_is_written_from_metadata(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    from desktop_app.core.integrity import verify_model

    _, run_dir = trained_run
    card = run_dir / "MODEL_CARD.md"
    command = "python -m training train --data X --out Y"
    assert training_main(["card", "--model", str(run_dir / "model.onnx"), "--command", command,
                          "--out", str(card)]) == 0
    text = card.read_text()
    assert command in text and "not a medical device" in text
    metadata = {p.key: p.value for p in onnx.load(str(run_dir / "model.onnx")).metadata_props}
    stored = json.loads(metadata[contract.META_METRICS])
    assert f"NLL {stored['nll']:.3f}, Brier score {stored['brier']:.3f}" in text
    assert "started from the project's own self-supervised pretraining" in text and "from scratch" not in text
    assert json.loads(metadata[contract.META_TRAINING])["split"]["order"] == "size" and "group order" not in text
    assert "file backbone.weights.h5 (sha256 " in text and "2 epochs on" in text
    assert verify_model(run_dir / "model.onnx").verified  # the card's sha256 line matches the file


def test_backbone_export_feeds_weights_file(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    """Own pretraining: a run's backbone, saved as a weights file, loads back bit for bit through --weights FILE."""
    from training.config import TrainConfig
    from training.model import ClassifierModels, ModelSpec
    from training.train import model_spec

    _, run_dir = trained_run
    out = tmp_path / "backbone.weights.h5"
    assert training_main(["export-backbone", "--checkpoint", str(run_dir / "checkpoint.weights.h5"),
                          "--out", str(out)]) == 0
    config = TrainConfig.load(run_dir / "config.json")
    trained = ClassifierModels(model_spec(config, len(CLASSES)))
    trained.training_model.load_weights(run_dir / "checkpoint.weights.h5")
    loaded = ClassifierModels(ModelSpec(num_classes=len(CLASSES), image_size=(SIZE, SIZE), weights=str(out)))
    for got, expected in zip(loaded.backbone.get_weights(), trained.backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_recipe_options_train_together_and_export_a_float32_full_size_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From random init: bfloat16, progressive resizing, flip TTA and tail weight averaging in one run.

    - ``--mixed-precision`` trains in bfloat16 (the machine is declared capable, so the path runs on any CPU,
      emulated here) and exports a float32 graph that passes parity; the global policy is restored.
    - ``--progressive-size 32 --progressive-epochs 1``: the first fine-tune epoch sees 32 px images, the other two
      64 px, and the model exports at 64 px.
    - ``--flip-tta``: one backbone in the graph (a batch of 2N), flip-invariant probabilities.
    - ``--average-last-epochs 2``: the mean of the last 2 epochs' weights is what gets exported.
    - ``--offset-classes ""``: temperature scaling alone, no class offsets.
    - ``--split-order shuffled``: recorded in the metadata and the model card.
    - ``--mask-pooling``: the lesion-guided pooling exports through tf2onnx and passes parity.
    - ``--recompute-batchnorm``: the averaged weights' BatchNorm statistics are recomputed before export.
    """
    import keras

    from training import precision
    from training.card import render_card

    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    full = 2 * SIZE
    data = write_dataset(tmp_path / "data")
    run_dir = tmp_path / "run"
    code = training_main([
        "train", "--data", str(data), "--out", str(run_dir), "--weights", "none", "--image-size", str(full),
        "--progressive-size", str(SIZE), "--progressive-epochs", "1", "--frozen-epochs", "0", "--epochs", "3",
        "--average-last-epochs", "2", "--batch-size", "4", "--seg-head", "--mixed-precision", "--flip-tta",
        "--seed", "1", "--val-fraction", "0.25", "--test-fraction", "0.25", "--ood-components", "4",
        "--verbose", "0", "--offset-classes", "", "--split-order", "shuffled", "--mask-pooling",
        "--recompute-batchnorm",
    ])
    assert code == 0
    assert keras.mixed_precision.global_policy().name == "float32"
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["loss"]) == 3 and len(history["val_macro_f1"]) == 3
    model = onnx.load(str(run_dir / "model.onnx"))
    element_types = {init.data_type for init in model.graph.initializer}
    assert onnx.TensorProto.BFLOAT16 not in element_types
    assert onnx.TensorProto.FLOAT in element_types
    assert {o.type.tensor_type.elem_type for o in model.graph.output} == {onnx.TensorProto.FLOAT}
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim][1:] == [full, full, 3]
    metadata = {p.key: p.value for p in model.metadata_props}
    assert json.loads(metadata[contract.META_INPUT_SIZE]) == [full, full]
    assert float(metadata[contract.META_PARITY]) <= 1e-4  # Keras vs onnxruntime on the validation images
    assert contract.META_CLASS_OFFSETS not in metadata
    training = json.loads(metadata[contract.META_TRAINING])
    assert "random initialisation" in training["weights_origin"]
    assert training["recipe"]["mixed_precision"] is True and training["recipe"]["mask_pooling"] is True
    assert training["recipe"]["progressive_size"] == SIZE and training["recipe"]["progressive_epochs"] == 1
    timing = training["timing"]
    assert timing["precision"] == "mixed_bfloat16"
    assert timing["fast_cpu_kernels"] is fast_kernels_apply()  # bfloat16 and any input size through them
    assert timing[f"stage2_finetune_{SIZE}px_epochs"] == 1 and timing[f"stage2_finetune_{full}px_epochs"] == 2
    assert timing["stage2_finetune_epochs"] == 3
    assert timing["kept_weights"] == "mean of the last 2 fine-tune epochs"
    assert 0.0 <= timing["averaged_val_macro_f1"] <= 1.0
    assert timing["batchnorm_batches"] == 9 // 4  # 9 training images in batches of 4, the partial one skipped
    assert training["recipe"]["recompute_batchnorm"] is True
    card = render_card(run_dir / "model.onnx", "python -m training train ...")
    assert "random initialisation" in card and "self-supervised" not in card
    assert training["split"]["order"] == "shuffled" and "seed 1 (shuffled group order: " in card

    batch = np.random.default_rng(4).uniform(0, 255, size=(2, full, full, 3)).astype(np.float32)
    predictions = ModelSession.open(run_dir / "model.onnx").run(batch)
    for prediction in predictions:
        assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    mirrored = ModelSession.open(run_dir / "model.onnx").run(np.ascontiguousarray(batch[:, :, ::-1]))
    for prediction, mirror in zip(predictions, mirrored, strict=True):
        np.testing.assert_allclose(prediction.probabilities, mirror.probabilities, atol=1e-5)
    stem_convolutions = [
        node for node in model.graph.node
        if node.op_type == "Conv" and any(a.name == "kernel_shape" and list(a.ints) == [7, 7] for a in node.attribute)
    ]
    assert len(stem_convolutions) == 1  # both views share one backbone (a batch of 2N), not two copies


def test_extra_validation_patients_calibrate_beside_busi_validation(tmp_path: Path) -> None:
    """--extra-val-fraction: temperature and class offsets are fitted on BUSI val + the kept BUS-BRA patients.

    The metrics keep the other-scanner validation figures and, for comparison, what offsets fitted on BUSI val alone
    give on the same held-out images; the split and the model card record the fraction.
    """
    import csv

    from tests.training.synthetic import write_busbra
    from training.card import render_card

    data = write_dataset(tmp_path / "data")
    extra = write_busbra(tmp_path / "busbra", patients=20)
    run_dir = tmp_path / "run"
    assert training_main([
        "train", "--data", str(data), "--extra-data", str(extra), "--extra-val-fraction", "0.3", "--out",
        str(run_dir), "--weights", "none", "--image-size", str(SIZE), "--frozen-epochs", "0", "--epochs", "1",
        "--batch-size", "4", "--val-fraction", "0.25", "--test-fraction", "0.25", "--ood-components", "4",
        "--verbose", "0", "--offset-classes", "normal,benign",
    ]) == 0
    with open(run_dir / "split_busbra.csv", newline="") as handle:
        extra_rows = [row["split"] for row in csv.DictReader(handle)]
    with open(run_dir / "split.csv", newline="") as handle:
        busi_val = sum(row["split"] == "val" for row in csv.DictReader(handle))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["extra_validation"]["n"] == extra_rows.count("val") > 0
    assert metrics["extra_test"]["n"] == extra_rows.count("test")
    record = metrics["class_offsets"]
    assert record["fitted_on"].startswith(f"{busi_val + extra_rows.count('val')} validation images")
    alternative = metrics["calibration_on_primary_validation_only"]
    assert alternative["class_offsets"]["fitted_on"].startswith(f"{busi_val} validation images")
    assert alternative["test"]["n"] == metrics["test"]["n"] and alternative["extra_test"]["n"] == extra_rows.count(
        "test")
    assert record["offsets"] != alternative["class_offsets"]["offsets"]  # the extra images moved the fit
    metadata = {p.key: p.value for p in onnx.load(str(run_dir / "model.onnx")).metadata_props}
    assert json.loads(metadata[contract.META_CLASS_OFFSETS])["offsets"] == record["offsets"]
    assert json.loads(metadata[contract.META_TRAINING])["split"]["extra_val_fraction"] == 0.3
    assert "0.3 of the extra data's training patients" in render_card(run_dir / "model.onnx", "python -m training")
