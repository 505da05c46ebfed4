"""A stand-in for the trained model: random-init DenseNet121 with the contract's outputs, exported with tf2onnx.

Benchmarks need a model of the real architecture and input size before the trained ``assets/model.onnx``
exists; speed and memory do not depend on the weights. Never ship a stand-in (it is written to ``bench/out/``).

    python -m bench.standin_model --size 224 --out bench/out/standin.onnx
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from desktop_app.core import contract

DEFAULT_LABELS = ("benign", "malignant", "normal")
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "standin.onnx"


def build_keras_model(input_size: tuple[int, int] = (224, 224), n_classes: int = 3, temperature: float = 1.0):
    """DenseNet121 (random init) -> CAM head; outputs ``probabilities``, ``cam``, ``embedding`` as the contract says."""
    import keras
    from keras import layers

    height, width = input_size
    inputs = keras.Input((height, width, 3), name=contract.INPUT_NAME)
    mean = [255.0 * m for m in contract.IMAGENET_MEAN]
    variance = [(255.0 * s) ** 2 for s in contract.IMAGENET_STD]
    normalised = layers.Normalization(mean=mean, variance=variance, name="imagenet_norm")(inputs)
    backbone = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(height, width, 3))
    features = backbone(normalised)
    cam = layers.Conv2D(n_classes, 1, name=contract.OUTPUT_CAM)(features)
    logits = layers.GlobalAveragePooling2D(name="logits")(cam)
    scaled = layers.Rescaling(1.0 / temperature, name="temperature")(logits)
    probabilities = layers.Softmax(name=contract.OUTPUT_PROBABILITIES)(scaled)
    embedding = layers.GlobalAveragePooling2D(name=contract.OUTPUT_EMBEDDING)(features)
    return keras.Model(
        inputs,
        {
            contract.OUTPUT_PROBABILITIES: probabilities,
            contract.OUTPUT_CAM: cam,
            contract.OUTPUT_EMBEDDING: embedding,
        },
        name="standin_densenet121",
    )


def export_onnx(model, path: Path, input_size: tuple[int, int], labels=DEFAULT_LABELS) -> Path:
    """Export ``model`` with tf2onnx (opset 17) and write the contract metadata."""
    import onnx
    import tensorflow as tf
    import tf2onnx

    height, width = input_size
    signature = [tf.TensorSpec([None, height, width, 3], tf.float32, name=contract.INPUT_NAME)]
    onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=17)
    _rename_outputs(onnx_model)
    metadata = {
        contract.META_LABELS: json.dumps(list(labels)),
        contract.META_INPUT_SIZE: json.dumps([height, width]),
        contract.META_PREPROCESSING: contract.PREPROCESSING_TEXT,
        contract.META_MODEL_VERSION: "standin-random-densenet121",
        contract.META_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
        contract.META_TRAINING: json.dumps(
            {"weights_origin": "random init (benchmark stand-in, not trained)"}
        ),
        contract.META_METRICS: json.dumps({}),
        contract.META_TEMPERATURE: "1.0",
    }
    onnx.helper.set_model_props(onnx_model, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(path))
    return path


def _rename_outputs(onnx_model) -> None:
    """tf2onnx names dict outputs after the layers; make sure they carry the contract names exactly."""
    wanted = (contract.OUTPUT_PROBABILITIES, contract.OUTPUT_CAM, contract.OUTPUT_EMBEDDING)
    for output in onnx_model.graph.output:
        match = next((name for name in wanted if output.name.startswith(name)), None)
        if match is None or output.name == match:
            continue
        old = output.name
        for node in onnx_model.graph.node:
            node.output[:] = [match if o == old else o for o in node.output]
            node.input[:] = [match if i == old else i for i in node.input]
        output.name = match


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="input height = width (default 224)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    size = (args.size, args.size)
    model = build_keras_model(size)
    export_onnx(model, args.out, size)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
