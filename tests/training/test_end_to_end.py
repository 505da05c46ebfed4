"""Train -> export -> parity -> metadata -> evaluate, on a tiny synthetic BUSI-layout data set (1 epoch each stage)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

pytest.importorskip("tensorflow")

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from desktop_app.core.ood import OodStatistics
from training.__main__ import main as training_main

CLASSES = ("benign", "malignant", "normal")
SIZE = 32


def _write_dataset(root: Path, per_class: int = 6) -> Path:
    """Class folders of small grey 'ultrasound-like' images with masks beside them (raw Kaggle layout)."""
    rng = np.random.default_rng(0)
    for class_index, name in enumerate(CLASSES):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            height, width = 40 + 3 * i, 48 + 2 * class_index
            base = rng.normal(60 + 50 * class_index, 20, size=(height, width)).clip(0, 255)
            mask = np.zeros((height, width), dtype=np.uint8)
            if name != "normal":  # a lesion of random size and place, so no two images look like copies
                top, left = rng.integers(2, 16), rng.integers(2, 20)
                mask[top:top + rng.integers(8, 18), left:left + rng.integers(8, 20)] = 255
                base[mask > 0] = 20 if name == "benign" else 200
            Image.fromarray(base.astype(np.uint8)).save(folder / f"{name} ({i + 1}).png")
            Image.fromarray(mask).save(folder / f"{name} ({i + 1})_mask.png")
    return root


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("e2e")
    data = _write_dataset(base / "Dataset_BUSI_with_GT")
    run_dir = base / "runs" / "tiny"
    code = training_main([
        "train", "--data", str(data), "--out", str(run_dir), "--weights", "none", "--image-size", str(SIZE),
        "--frozen-epochs", "1", "--epochs", "1", "--batch-size", "4", "--seg-head", "--seed", "3",
        "--val-fraction", "0.25", "--test-fraction", "0.25", "--ood-components", "4", "--verbose", "0",
    ])
    assert code == 0
    return data, run_dir


def test_run_folder_has_report_split_and_config(trained_run: tuple[Path, Path]) -> None:
    _, run_dir = trained_run
    for name in ("model.onnx", "model.onnx.sha256", "split.csv", "config.json", "metrics.json",
                 "checkpoint.weights.h5", "history.json"):
        assert (run_dir / name).is_file(), name
    assert len(list(run_dir.glob("*.png"))) >= 4
    config = json.loads((run_dir / "config.json").read_text())
    assert config["image_size"] == SIZE and config["seg_head"] is True
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "roc_auc_ovr", "ece"):
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
    assert "random initialisation" in training["weights_origin"]
    assert training["timing"]["precision"] == "float32"  # no --mixed-precision
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
    assert "random initialisation" in text
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


def test_mixed_precision_run_exports_a_float32_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--mixed-precision trains in bfloat16 but exports a float32 graph that passes parity; the policy is restored.

    The machine is declared bfloat16-capable, so the bfloat16 path runs on any CPU (emulated here, tiny model).

    With ``--offset-classes ""`` no class offsets are appended. The run uses the shipped recipe's flip TTA too: one backbone in the graph, flip-invariant probabilities; and its
    tail weight averaging: the mean of the last 2 epochs is what gets exported.
    """
    import keras

    from training import precision

    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    data = _write_dataset(tmp_path / "data", per_class=4)
    run_dir = tmp_path / "run"
    code = training_main([
        "train", "--data", str(data), "--out", str(run_dir), "--weights", "none", "--image-size", str(SIZE),
        "--frozen-epochs", "0", "--epochs", "3", "--average-last-epochs", "2", "--batch-size", "4", "--seg-head",
        "--mixed-precision", "--flip-tta", "--val-fraction", "0.25", "--test-fraction", "0.25", "--ood-components", "2", "--verbose", "0",
        "--offset-classes", "",
    ])
    assert code == 0
    assert keras.mixed_precision.global_policy().name == "float32"
    model = onnx.load(str(run_dir / "model.onnx"))
    element_types = {init.data_type for init in model.graph.initializer}
    assert onnx.TensorProto.BFLOAT16 not in element_types
    assert onnx.TensorProto.FLOAT in element_types
    metadata = {p.key: p.value for p in model.metadata_props}
    assert float(metadata[contract.META_PARITY]) <= 1e-4
    assert contract.META_CLASS_OFFSETS not in metadata  # --offset-classes "" keeps temperature scaling alone
    training = json.loads(metadata[contract.META_TRAINING])
    assert training["recipe"]["mixed_precision"] is True
    assert training["timing"]["precision"] == "mixed_bfloat16"
    assert training["timing"]["kept_weights"] == "mean of the last 2 fine-tune epochs"
    assert 0.0 <= training["timing"]["averaged_val_macro_f1"] <= 1.0
    assert {o.type.tensor_type.elem_type for o in model.graph.output} == {onnx.TensorProto.FLOAT}
    batch = np.random.default_rng(4).uniform(0, 255, size=(2, SIZE, SIZE, 3)).astype(np.float32)
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
