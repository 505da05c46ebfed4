"""training/merge_tta_views.py: a two-copy flip-TTA export becomes one batched backbone with the same outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")

import keras
import onnx
from keras import layers, ops

from desktop_app.core import contract
from training.export import convert_to_onnx
from training.merge_tta_views import META_GRAPH_REWRITE, MergeError, main, merge_flip_views
from training.model import ClassifierModels, ModelSpec

# 64 px: at 32 px the last block is 1x1 pixel, and tf2onnx sometimes simplifies it in one copy only (then the
# merge stops there, correct but partial); at 64 px both copies convert alike (6 of 6 builds tried)
SIZE = (64, 64)


def _two_copy_export(models: ClassifierModels) -> keras.Model:
    """The export graph as it was built before the views were batched: one backbone call per view."""
    image = keras.Input((*SIZE, 3), name=contract.INPUT_NAME)
    probabilities, cams, embeddings, masks = [], [], [], []
    for index, view in enumerate([image, ops.flip(image, axis=2)]):
        f8, f16, f32 = models._features(view, training=False)
        embedding = models.pool(f32)
        probabilities.append(ops.softmax(models.classifier(embedding), axis=-1))
        cam, mask = models.classifier(f32), models._segment(f8, f16, f32)
        if index == 1:
            cam, mask = ops.flip(cam, axis=2), ops.flip(mask, axis=2)
        cams.append(cam)
        masks.append(mask)
        embeddings.append(embedding)
    outputs = {
        contract.OUTPUT_PROBABILITIES: layers.Identity(name=contract.OUTPUT_PROBABILITIES)(
            layers.Average()(probabilities)
        ),
        contract.OUTPUT_CAM: layers.Identity(name=contract.OUTPUT_CAM)(layers.Average()(cams)),
        contract.OUTPUT_EMBEDDING: layers.Identity(name=contract.OUTPUT_EMBEDDING)(embeddings[0]),
        contract.OUTPUT_LESION_MASK: layers.Identity(name=contract.OUTPUT_LESION_MASK)(
            layers.Average()(masks)
        ),
    }
    return keras.Model(image, outputs)


def _stems(model: onnx.ModelProto) -> int:
    return sum(
        1
        for node in model.graph.node
        if node.op_type == "Conv"
        and any(a.name == "kernel_shape" and list(a.ints) == [7, 7] for a in node.attribute)
    )


def _run(path: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, {contract.INPUT_NAME: images}), strict=True))


@pytest.fixture(scope="module")
def two_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights="none", seg_head=True))
    proto = convert_to_onnx(_two_copy_export(models), SIZE)
    onnx.helper.set_model_props(proto, {contract.META_MODEL_VERSION: "old-two-copy"})
    path = tmp_path_factory.mktemp("merge") / "two_copies.onnx"
    onnx.save(proto, str(path))
    return path


def test_merged_model_has_one_backbone_and_the_same_outputs(two_copy_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged.onnx"
    assert main(["--model", str(two_copy_model), "--out", str(out)]) == 0

    before, after = onnx.load(str(two_copy_model)), onnx.load(str(out))
    assert _stems(before) == 2 and _stems(after) == 1
    convolutions = [sum(n.op_type == "Conv" for n in m.graph.node) for m in (before, after)]
    assert convolutions[1] * 2 == convolutions[0]  # the whole mirrored copy is gone; the seg head runs on the batch
    metadata = {p.key: p.value for p in after.metadata_props}
    assert metadata[contract.META_MODEL_VERSION] == "old-two-copy"
    assert json.loads(metadata[META_GRAPH_REWRITE])["max_output_difference"] <= 1e-5

    images = np.random.default_rng(3).uniform(0, 255, (3, *SIZE, 3)).astype(np.float32)
    expected, got = _run(two_copy_model, images), _run(out, images)
    assert set(got) == set(expected)
    for name in expected:
        assert got[name].shape == expected[name].shape, name
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5, err_msg=name)
    mirrored = _run(out, np.ascontiguousarray(images[:, :, ::-1]))
    np.testing.assert_allclose(mirrored["probabilities"], got["probabilities"], atol=1e-5)


def test_a_model_without_two_copies_is_refused(two_copy_model: Path) -> None:
    merged = onnx.load(str(two_copy_model))
    merge_flip_views(merged)
    with pytest.raises(MergeError, match="two backbone copies"):
        merge_flip_views(merged)
