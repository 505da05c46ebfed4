"""The ONNX session wrapper: contract checks with clear messages, metadata-driven labels, OOD, chunking."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from desktop_app.__main__ import synthetic_image
from desktop_app.core import contract
from desktop_app.core.inference import ModelError, ModelSession
from desktop_app.core.preprocessing import preprocess_batch
from tests.app.conftest import outlier_image
from tests.tiny_model import make_tiny_model


def test_labels_and_input_size_come_from_metadata(tmp_path: Path) -> None:
    path = make_tiny_model(tmp_path / "m.onnx", labels=("cyst", "solid"), input_size=(48, 40))
    session = ModelSession.open(path)
    assert session.labels == ("cyst", "solid")
    assert session.input_size == (48, 40)
    prediction = session.classify([synthetic_image((50, 60))])[0]
    assert prediction.predicted_label in ("cyst", "solid")
    assert set(prediction.probability_by_label()) == {"cyst", "solid"}


def test_probabilities_match_a_direct_onnxruntime_run(tiny_model: Path) -> None:
    session = ModelSession.open(tiny_model)
    images = [synthetic_image((80, 100), seed=s) for s in range(3)]
    predictions = session.classify(images)
    raw = ort.InferenceSession(str(tiny_model), providers=["CPUExecutionProvider"])
    expected_probabilities, expected_cam = raw.run(
        [contract.OUTPUT_PROBABILITIES, contract.OUTPUT_CAM],
        {contract.INPUT_NAME: preprocess_batch(images, session.input_size)},
    )
    for prediction, probabilities, cam in zip(predictions, expected_probabilities, expected_cam):
        np.testing.assert_allclose(prediction.probabilities, probabilities, rtol=1e-6)
        np.testing.assert_allclose(prediction.cam, cam, rtol=1e-6)
        assert prediction.embedding.shape == (1024,)
        assert prediction.predicted_index == int(np.argmax(probabilities))
        assert prediction.confidence == pytest.approx(float(np.max(probabilities)))
        assert prediction.ood_score is None and prediction.is_ood is None and prediction.lesion_mask is None


def test_chunking_does_not_change_results(tiny_model: Path) -> None:
    session = ModelSession.open(tiny_model)
    images = [synthetic_image((64, 64), seed=s) for s in range(7)]
    whole = session.classify(images, chunk_size=16)
    chunked = session.classify(images, chunk_size=3)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=1e-5, atol=1e-7)


def test_ood_score_and_flag(ood_model: Path) -> None:
    session = ModelSession.open(ood_model)
    assert session.info.ood is not None
    usual, unusual = session.classify([synthetic_image((96, 128), seed=3), outlier_image()])
    assert usual.ood_score is not None and unusual.ood_score is not None
    assert unusual.ood_score > usual.ood_score
    assert usual.is_ood is False
    assert unusual.is_ood is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drop_output": contract.OUTPUT_CAM}, "missing required output(s): cam"),
        ({"extra_metadata": {contract.META_LABELS: "benign, malignant"}}, "'labels' is not valid JSON"),
        ({"extra_metadata": {contract.META_LABELS: json.dumps(["a", "a", "b"])}}, "duplicate"),
        ({"extra_metadata": {contract.META_LABELS: json.dumps(["a", "b"])}}, "names 2 classes"),
        ({"extra_metadata": {contract.META_INPUT_SIZE: json.dumps([64])}}, "'input_size' must be"),
        ({"extra_metadata": {contract.META_INPUT_SIZE: json.dumps([32, 32])}}, "disagrees with metadata"),
        ({"extra_metadata": {contract.META_TEMPERATURE: "hot"}}, "'temperature' is not a number"),
        ({"extra_metadata": {contract.META_OOD: "{}"}}, "'ood' is invalid"),
    ],
)
def test_contract_violations_raise_clear_model_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = make_tiny_model(tmp_path / "bad.onnx", input_size=(64, 64), **kwargs)
    with pytest.raises(ModelError, match=_literal(message)):
        ModelSession.open(path)


def _literal(text: str) -> str:
    import re

    return re.escape(text)


def test_missing_metadata_is_named(tmp_path: Path) -> None:
    import onnx

    path = make_tiny_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != contract.META_METRICS]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="missing metadata metrics"):
        ModelSession.open(path)


def test_missing_and_non_onnx_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        ModelSession.open(tmp_path / "absent.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a model")
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        ModelSession.open(junk)
    with pytest.raises(ModelError, match="folder"):
        ModelSession.open(tmp_path)


def test_run_rejects_wrong_input_shape(tiny_model: Path) -> None:
    session = ModelSession.open(tiny_model)
    with pytest.raises(ValueError, match="expected a batch of shape"):
        session.run(np.zeros((1, 32, 32, 3), dtype=np.float32))


def test_lesion_mask_output_is_returned(lesion_model: Path) -> None:
    session = ModelSession.open(lesion_model)
    assert session.info.has_lesion_mask
    prediction = session.classify([synthetic_image((128, 128))])[0]
    mask = prediction.lesion_mask
    assert mask is not None and mask.shape == (8, 8)
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask[3:5, 3:5].mean() > 0.5 > mask[0, :].mean()  # the dark oval in the middle, not the bright top
