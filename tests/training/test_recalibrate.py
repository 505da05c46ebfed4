"""Class offsets appended to an exported model: graph = formula, fitted on validation, metrics recomputed, safe."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from PIL import Image

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from desktop_app.core.integrity import SIDECAR_SUFFIX
from desktop_app.core.model_card import ModelCard
from tests.tiny_model import make_tiny_model
from training.__main__ import main as training_main
from training.evaluate import evaluate, labelled_images
from training.recalibrate import RecalibrationError, append_class_offsets, apply_record, recalibrate_file

CLASSES = ("benign", "malignant", "normal")
SIZE = 32


def _over_predicting_model(path: Path, data: Path, split: Path, normal_bias: float = 2.0) -> Path:
    """The tiny contract model with its classifier fitted to the train rows (ridge regression on its embedding: the
    logits are linear in it), then its 'normal' logit raised: a model that answers 'normal' too often."""
    make_tiny_model(path, labels=CLASSES, input_size=(SIZE, SIZE))
    images, labels = labelled_images(data, split, "train", list(CLASSES), (SIZE, SIZE))
    embedding = np.stack([p.embedding for p in ModelSession.open(path).run(images)]).astype(np.float64)
    mean, scale = embedding.mean(0), embedding.std(0) + 1e-6
    features = (embedding - mean) / scale
    targets = 4.0 * (np.eye(len(CLASSES))[labels] - 1 / len(CLASSES))
    weights = np.linalg.solve(features.T @ features + 10.0 * np.eye(features.shape[1]), features.T @ targets)
    w_cls = (weights / scale[:, None]).T  # [C, 1024] on the raw embedding
    b_cls = -(mean / scale) @ weights + np.array([0.0, 0.0, normal_bias])
    model = onnx.load(str(path))
    replacements = {"w_cls": w_cls[:, :, None, None], "b_cls": b_cls}
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name in replacements:
            value = replacements[tensor.name].astype(np.float32)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(value, tensor.name))
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def data_and_split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """24 images per class whose brightness carries the class, with overlap; split.csv with val and test rows."""
    root = tmp_path_factory.mktemp("recal") / "data"
    rng = np.random.default_rng(0)
    rows = []
    for label_index, label in enumerate(CLASSES):
        (root / label).mkdir(parents=True)
        for i in range(24):
            # brightness carries the class, a per-image shift blurs it (the classes overlap)
            pixels = rng.normal(100 + 15 * label_index + rng.normal(0, 12), 30, size=(40, 40, 3))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(root / label / f"{label}_{i}.png")
            rows.append({"path": f"{label}/{label}_{i}.png", "label": label, "group": f"{label}-{i}",
                         "split": ("train", "val", "test", "val", "train", "train")[i % 6]})
    split = root.parent / "split.csv"
    with open(split, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "group", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return root, split


def _probabilities(model: Path, images: np.ndarray) -> np.ndarray:
    return np.stack([p.probabilities for p in ModelSession.open(model).run(images)])


def test_graph_computes_the_formula_and_keeps_its_outputs(data_and_split: tuple[Path, Path], tmp_path: Path) -> None:
    path = _over_predicting_model(tmp_path / "m.onnx", *data_and_split)
    model = onnx.load(str(path))
    record = {"temperature": 0.8, "offsets": {"benign": 0.0, "malignant": 0.0, "normal": -1.5}, "floor": 1e-12}
    append_class_offsets(model, record, CLASSES)
    corrected = tmp_path / "corrected.onnx"
    onnx.save(model, str(corrected))
    assert [o.name for o in model.graph.output] == [o.name for o in onnx.load(str(path)).graph.output]
    images = np.random.default_rng(1).uniform(0, 255, size=(64, SIZE, SIZE, 3)).astype(np.float32)
    before, after = _probabilities(path, images), _probabilities(corrected, images)
    np.testing.assert_allclose(after, apply_record(before, record, CLASSES), atol=1e-5)
    assert (after.argmax(1) == 2).sum() < (before.argmax(1) == 2).sum()
    with pytest.raises(RecalibrationError, match="already has class offsets"):
        append_class_offsets(model, record, CLASSES)


def test_recalibrate_fits_on_validation_and_rescores_test(data_and_split: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    data, split = data_and_split
    original = _over_predicting_model(tmp_path / "m.onnx", data, split)
    out = tmp_path / "out" / "model.onnx"
    headline = recalibrate_file(original, data, split, out, ["normal"])

    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    record = json.loads(meta[contract.META_CLASS_OFFSETS])
    assert record["offsets"]["normal"] < 0 and record["offsets"]["benign"] == record["offsets"]["malignant"] == 0
    assert record["fitted_on"].startswith("24 validation images")
    assert record["parity_numpy_vs_onnxruntime"] <= 1e-4
    assert meta[contract.META_MODEL_VERSION] == "tiny-test-0+class-offsets"
    assert out.with_name(out.name + SIDECAR_SUFFIX).is_file()

    # The stored metrics are the corrected model's own, scored again through the app's path.
    scored = evaluate(out, data, split, "test")
    stored = json.loads(meta[contract.META_METRICS])
    assert stored["accuracy"] == pytest.approx(scored["accuracy"]) == pytest.approx(headline["accuracy"])
    assert stored["macro_f1"] == pytest.approx(scored["macro_f1"])
    assert stored["nll"] == pytest.approx(scored["nll"], rel=1e-4)
    assert stored["brier"] == pytest.approx(scored["brier"], rel=1e-4)
    assert stored["n"] == 12 and stored["validation"]["n"] == 24

    # The fit lowers the validation NLL (T = 1 with no offset was a candidate, so it cannot rise).
    val_images, val_labels = labelled_images(data, split, "val", list(CLASSES), (SIZE, SIZE))
    nll = {name: -np.mean(np.log(_probabilities(model, val_images)[np.arange(len(val_labels)), val_labels]))
           for name, model in (("before", original), ("after", out))}
    assert nll["after"] < nll["before"]

    # No image the original called malignant is called anything else; fewer are called normal.
    images, _ = labelled_images(data, split, "test", list(CLASSES), (SIZE, SIZE))
    before, after = _probabilities(original, images).argmax(1), _probabilities(out, images).argmax(1)
    assert np.all(after[before == 1] == 1)
    assert (after == 2).sum() < (before == 2).sum()

    card = ModelCard.from_info(ModelSession.open(out).info)
    calibration = dict(dict(card.sections())["Calibration"])
    assert "normal" in calibration["Class offsets"]


def test_refusals_are_clear(data_and_split: tuple[Path, Path], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    data, split = data_and_split
    original = _over_predicting_model(tmp_path / "m.onnx", data, split)
    once = tmp_path / "once.onnx"
    args = ["recalibrate", "--model", str(original), "--data", str(data), "--split", str(split), "--out", str(once)]
    assert training_main(args) == 0
    again = ["recalibrate", "--model", str(once), "--data", str(data), "--split", str(split),
             "--out", str(tmp_path / "twice.onnx")]
    assert training_main(again) == 2
    assert "already has class offsets" in capsys.readouterr().err
    assert not (tmp_path / "twice.onnx").exists()

    with_extra = make_tiny_model(tmp_path / "extra.onnx", labels=CLASSES, input_size=(SIZE, SIZE), extra_metadata={
        contract.META_METRICS: json.dumps({"accuracy": 0.5, "extra_test": {"accuracy": 0.5}})})
    with pytest.raises(RecalibrationError, match="none of the classes"):
        recalibrate_file(original, data, split, tmp_path / "y.onnx", ["cyst"])
    assert not (tmp_path / "y.onnx").exists()
    with pytest.raises(RecalibrationError, match="--extra-data"):
        recalibrate_file(with_extra, data, split, tmp_path / "x.onnx", ["normal"])
