"""A tiny ONNX model that follows the app's model contract, built with onnx.helper (no TensorFlow).

The app's tests use it so they run in seconds; the training tests check the real exporter separately.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from desktop_app.core import contract

EMBEDDING_SIZE = 1024


def make_tiny_model(
    path: Path,
    labels: Sequence[str] = ("benign", "malignant", "normal"),
    input_size: tuple[int, int] = (32, 32),
    cam_stride: int = 8,
    seed: int = 0,
    temperature: float = 1.5,
    extra_metadata: dict[str, str] | None = None,
    drop_output: str | None = None,
) -> Path:
    """Write a contract-following model to ``path``: features = relu(1x1 conv of pooled pixels/255).

    ``drop_output`` leaves one output out, to test the app's contract check.
    """
    rng = np.random.default_rng(seed)
    n_classes = len(labels)
    height, width = input_size
    w_feat = rng.normal(0, 1.0, size=(EMBEDDING_SIZE, 3, 1, 1)).astype(np.float32)
    b_feat = rng.normal(0, 0.2, size=(EMBEDDING_SIZE,)).astype(np.float32)
    w_cls = rng.normal(0, 0.2, size=(n_classes, EMBEDDING_SIZE, 1, 1)).astype(np.float32)
    b_cls = np.zeros(n_classes, dtype=np.float32)
    initializers = [
        numpy_helper.from_array(np.array(1 / 255, dtype=np.float32), "inv255"),
        numpy_helper.from_array(np.array(1 / temperature, dtype=np.float32), "inv_t"),
        numpy_helper.from_array(w_feat, "w_feat"),
        numpy_helper.from_array(b_feat, "b_feat"),
        numpy_helper.from_array(w_cls, "w_cls"),
        numpy_helper.from_array(b_cls, "b_cls"),
    ]
    nodes = [
        helper.make_node("Mul", [contract.INPUT_NAME, "inv255"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node(
            "AveragePool", ["nchw"], ["pooled"], kernel_shape=[cam_stride, cam_stride], strides=[cam_stride] * 2
        ),
        helper.make_node("Conv", ["pooled", "w_feat", "b_feat"], ["feat_pre"]),
        helper.make_node("Relu", ["feat_pre"], ["features"]),
        helper.make_node("Conv", ["features", "w_cls", "b_cls"], ["cam_nchw"]),
        helper.make_node("Transpose", ["cam_nchw"], [contract.OUTPUT_CAM], perm=[0, 2, 3, 1]),
        helper.make_node("GlobalAveragePool", ["cam_nchw"], ["logits4"]),
        helper.make_node("Flatten", ["logits4"], ["logits"]),
        helper.make_node("Mul", ["logits", "inv_t"], ["scaled_logits"]),
        helper.make_node("Softmax", ["scaled_logits"], [contract.OUTPUT_PROBABILITIES], axis=-1),
        helper.make_node("GlobalAveragePool", ["features"], ["emb4"]),
        helper.make_node("Flatten", ["emb4"], [contract.OUTPUT_EMBEDDING]),
    ]
    h, w = height // cam_stride, width // cam_stride
    outputs = [
        helper.make_tensor_value_info(contract.OUTPUT_PROBABILITIES, TensorProto.FLOAT, ["N", n_classes]),
        helper.make_tensor_value_info(contract.OUTPUT_CAM, TensorProto.FLOAT, ["N", h, w, n_classes]),
        helper.make_tensor_value_info(contract.OUTPUT_EMBEDDING, TensorProto.FLOAT, ["N", EMBEDDING_SIZE]),
    ]
    if drop_output:
        outputs = [o for o in outputs if o.name != drop_output]
    graph = helper.make_graph(
        nodes,
        "tiny_contract_model",
        [helper.make_tensor_value_info(contract.INPUT_NAME, TensorProto.FLOAT, ["N", height, width, 3])],
        outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    metadata = {
        contract.META_LABELS: json.dumps(list(labels)),
        contract.META_INPUT_SIZE: json.dumps([height, width]),
        contract.META_PREPROCESSING: contract.PREPROCESSING_TEXT,
        contract.META_MODEL_VERSION: "tiny-test-0",
        contract.META_CREATED: "2026-01-01T00:00:00Z",
        contract.META_TRAINING: json.dumps({"weights_origin": "random (test model)", "counts": {}}),
        contract.META_METRICS: json.dumps({"accuracy": None}),
        contract.META_TEMPERATURE: str(temperature),
    }
    metadata.update(extra_metadata or {})
    onnx.helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def add_dark_lesion_output(source: Path, path: Path) -> Path:
    """Copy of the tiny model ``source`` plus a ``lesion_mask`` output [N, h, w, 1] marking dark regions (grey < 0.1)."""
    model = onnx.load(str(source))
    graph = model.graph
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(0.1, dtype=np.float32), "ls_level"),
            numpy_helper.from_array(np.array(60.0, dtype=np.float32), "ls_gain"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("ReduceMean", ["pooled"], ["ls_grey"], axes=[1], keepdims=1),  # [N, 1, h, w], 0..1
            helper.make_node("Sub", ["ls_level", "ls_grey"], ["ls_dark"]),
            helper.make_node("Mul", ["ls_dark", "ls_gain"], ["ls_logit"]),
            helper.make_node("Sigmoid", ["ls_logit"], ["ls_prob"]),
            helper.make_node("Transpose", ["ls_prob"], [contract.OUTPUT_LESION_MASK], perm=[0, 2, 3, 1]),
        ]
    )
    cam_shape = next(output for output in graph.output if output.name == contract.OUTPUT_CAM).type.tensor_type.shape
    h, w = (dim.dim_value for dim in cam_shape.dim[1:3])
    graph.output.append(helper.make_tensor_value_info(contract.OUTPUT_LESION_MASK, TensorProto.FLOAT, ["N", h, w, 1]))
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
