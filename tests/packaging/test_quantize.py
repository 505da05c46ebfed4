"""bench/quantize.py: the int8 model keeps the contract (outputs, metadata) and says which model it came from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from tests.packaging.conftest import ROOT
from tests.tiny_model import make_tiny_model

pytest.importorskip("onnxruntime.quantization")


@pytest.fixture(scope="module")
def quantize_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench_quantize", ROOT / "bench" / "quantize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calibration_folder(root: Path, per_class: int = 4) -> Path:
    rng = np.random.default_rng(1)
    for label in ("benign", "malignant", "normal"):
        folder = root / label
        folder.mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 255, (40 + index, 36, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{label} ({index}).png")
        Image.fromarray(np.zeros((40, 36), np.uint8)).save(
            folder / f"{label} (0)_mask.png"
        )  # masks are skipped
    return root


def test_int8_model_keeps_the_contract_and_records_its_source(tmp_path: Path, quantize_module) -> None:
    fp32 = make_tiny_model(tmp_path / "model.onnx", input_size=(32, 32))
    data = calibration_folder(tmp_path / "data")
    images = quantize_module.training_images(data, None, count=9)
    assert len(images) == 9 and all("_mask" not in p.name for p in images)
    assert {p.parent.name for p in images} == {"benign", "malignant", "normal"}  # balanced over classes

    out = tmp_path / "model_int8.onnx"
    record = quantize_module.quantize_model(fp32, images, out)

    source_meta = {p.key: p.value for p in onnx.load(str(fp32)).metadata_props}
    int8_model = onnx.load(str(out))
    int8_meta = {p.key: p.value for p in int8_model.metadata_props}
    for key, value in source_meta.items():
        if key != contract.META_MODEL_VERSION:
            assert int8_meta[key] == value, key
    assert int8_meta[contract.META_MODEL_VERSION] == source_meta[contract.META_MODEL_VERSION] + "-int8"
    stored = json.loads(int8_meta[quantize_module.META_QUANTIZATION])
    assert stored["source_sha256"] == quantize_module.sha256_of(fp32) == record["source_sha256"]
    assert stored["calibration_images"] == 9
    assert any(node.op_type == "QuantizeLinear" for node in int8_model.graph.node)

    session_fp32, session_int8 = ModelSession.open(fp32), ModelSession.open(out)
    assert set(session_int8._output_names) == set(session_fp32._output_names)
    probe = [Image.open(p).convert("RGB") for p in images[:3]]
    for a, b in zip(session_fp32.classify(probe), session_int8.classify(probe)):
        assert b.cam.shape == a.cam.shape and b.embedding.shape == a.embedding.shape
        assert np.max(np.abs(a.probabilities - b.probabilities)) < 0.05


def test_calibration_uses_only_training_rows_of_a_split(tmp_path: Path, quantize_module) -> None:
    data = calibration_folder(tmp_path / "data")
    split = tmp_path / "split.csv"
    rows = ["path,label,group,split"]
    for label in ("benign", "malignant", "normal"):
        for index in range(4):
            rows.append(
                f"{label}/{label} ({index}).png,{label},{label}{index},{'train' if index < 2 else 'test'}"
            )
    split.write_text("\n".join(rows) + "\n")
    chosen = quantize_module.training_images(data, split, count=100)
    assert sorted(p.name for p in chosen) == sorted(
        f"{c} ({i}).png" for c in ("benign", "malignant", "normal") for i in (0, 1)
    )


def _affine_relu_conv_model(scale: np.ndarray, shared_weight: bool = False) -> onnx.ModelProto:
    """x -> Mul(scale) -> Add(bias) -> Relu -> Conv 3x3 (padded), twice when ``shared_weight``: DenseNet's pattern."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    channels = scale.size
    initializers = [
        numpy_helper.from_array(scale.reshape(1, channels, 1, 1).astype(np.float32), "scale"),
        numpy_helper.from_array(rng.normal(size=(1, channels, 1, 1)).astype(np.float32), "bias"),
        numpy_helper.from_array(rng.normal(size=(5, channels, 3, 3)).astype(np.float32), "weight"),
    ]
    nodes = []
    outputs = []
    for branch in range(2 if shared_weight else 1):
        nodes += [
            helper.make_node("Mul", ["x", "scale"], [f"scaled{branch}"], name=f"mul{branch}"),
            helper.make_node("Add", [f"scaled{branch}", "bias"], [f"shifted{branch}"], name=f"add{branch}"),
            helper.make_node("Relu", [f"shifted{branch}"], [f"relu{branch}"], name=f"relu{branch}"),
            helper.make_node(
                "Conv", [f"relu{branch}", "weight"], [f"y{branch}"], name=f"conv{branch}", pads=[1, 1, 1, 1]
            ),
        ]
        outputs.append(helper.make_tensor_value_info(f"y{branch}", TensorProto.FLOAT, None))
    graph = helper.make_graph(
        nodes,
        "affine_relu_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 6, 6])],
        outputs,
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


@pytest.mark.parametrize("shared_weight", [False, True])
def test_positive_batchnorm_scales_fold_into_the_next_convolution(quantize_module, shared_weight: bool) -> None:
    model = _affine_relu_conv_model(np.array([0.5, 2.0, 1.3, 0.01]), shared_weight=shared_weight)
    x = np.random.default_rng(1).normal(size=(1, 4, 6, 6)).astype(np.float32)
    expected = _run(model, x)

    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    assert quantize_module.fold_scales_into_convs(folded) == (2 if shared_weight else 1)

    assert [node.op_type for node in folded.graph.node].count("Mul") == 0
    weights = [init.name for init in folded.graph.initializer if init.dims == [5, 4, 3, 3]]
    assert len(weights) == 1  # a weight shared by two folded convolutions is scaled once, not twice
    for got, want in zip(_run(folded, x), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_non_positive_scale_is_left_alone(quantize_module) -> None:
    model = _affine_relu_conv_model(np.array([0.5, -2.0, 1.3, 0.7]))
    untouched = onnx.ModelProto()
    untouched.CopyFrom(model)
    assert quantize_module.fold_scales_into_convs(untouched) == 0
    assert untouched.SerializeToString() == model.SerializeToString()


@pytest.mark.parametrize("first", [0, 1, 2])
def test_the_first_convolutions_can_stay_in_float(tmp_path: Path, quantize_module, first: int) -> None:
    """--float-first-convs N leaves exactly the first N Conv nodes with float weights, and the record says so."""
    fp32 = make_tiny_model(tmp_path / "model.onnx", input_size=(32, 32))
    images = quantize_module.training_images(calibration_folder(tmp_path / "data"), None, count=6)
    out = tmp_path / "model_int8.onnx"
    record = quantize_module.quantize_model(fp32, images, out, float_first_convs=first)

    graph = onnx.load(str(out)).graph
    dequantized = {node.output[0] for node in graph.node if node.op_type == "DequantizeLinear"}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    float_weights = [conv.input[1] for conv in convs if conv.input[1] not in dequantized]
    assert float_weights == ["w_feat", "w_cls"][:first]  # the tiny model's two convolutions, in graph order
    metadata = {entry.key: entry.value for entry in onnx.load(str(out)).metadata_props}
    stored = json.loads(metadata[quantize_module.META_QUANTIZATION])
    assert stored["float_first_convs"] == record["float_first_convs"] == first
    assert stored["method"].endswith("MinMax")


def test_the_command_keeps_the_stem_in_float_by_default(tmp_path: Path, quantize_module) -> None:
    fp32 = make_tiny_model(tmp_path / "model.onnx", input_size=(32, 32))
    out = tmp_path / "model_int8.onnx"
    data = calibration_folder(tmp_path / "data")
    assert quantize_module.main(["--model", str(fp32), "--calib-data", str(data), "--out", str(out)]) == 0
    graph = onnx.load(str(out)).graph
    dequantized = {node.output[0] for node in graph.node if node.op_type == "DequantizeLinear"}
    weights = [node.input[1] for node in graph.node if node.op_type == "Conv"]
    assert [name in dequantized for name in weights] == [False, True]  # stem float, the rest int8
