"""A stand-in for the trained model: the training code's architecture with random weights, exported like training.

Benchmarks need a model of the real architecture and input size before the trained ``assets/model.onnx``
exists; speed and memory do not depend on the weights. Never ship a stand-in (it is written to ``bench/out/``).

    python -m bench.standin_model [--size 224] [--out bench/out/standin.onnx]
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from bench.common import STANDIN_MODEL
from desktop_app.core import contract

DEFAULT_LABELS = ("benign", "malignant", "normal")


def build_keras_model(input_size: tuple[int, int] = (224, 224), n_classes: int = 3, seed: int = 0):
    """The training code's export model (DenseNet121, CAM head, in-graph normalisation) with random weights."""
    import keras

    from training.model import ClassifierModels, ModelSpec

    keras.utils.set_random_seed(seed)
    return ClassifierModels(ModelSpec(num_classes=n_classes, image_size=input_size, weights="none")).export_model()


def standin_metadata(input_size: tuple[int, int], labels=DEFAULT_LABELS) -> dict[str, str]:
    """Contract metadata saying plainly that this model is an untrained stand-in."""
    return {
        contract.META_LABELS: json.dumps(list(labels)),
        contract.META_INPUT_SIZE: json.dumps(list(input_size)),
        contract.META_PREPROCESSING: contract.PREPROCESSING_TEXT,
        contract.META_MODEL_VERSION: "standin-random-densenet121",
        contract.META_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
        contract.META_TRAINING: json.dumps({"weights_origin": "random init (benchmark stand-in, not trained)"}),
        contract.META_METRICS: json.dumps({}),
        contract.META_TEMPERATURE: "1.0",
    }


def export_onnx(keras_model, path: Path, input_size: tuple[int, int]) -> Path:
    """Export with the training code's converter (tf2onnx, opset 17) and write the contract metadata."""
    import onnx

    from training.export import convert_to_onnx, set_metadata

    proto = convert_to_onnx(keras_model, input_size)
    set_metadata(proto, standin_metadata(input_size))
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="input height = width (default 224)")
    parser.add_argument("--out", type=Path, default=STANDIN_MODEL)
    args = parser.parse_args(argv)
    size = (args.size, args.size)
    export_onnx(build_keras_model(size), args.out, size)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
