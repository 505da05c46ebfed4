"""A stand-in for the trained model: the training code's architecture with random weights, exported like training.

Benchmarks need a model of the real architecture and input size before the trained ``assets/model.onnx``
exists; speed and memory do not depend on the weights. Never ship a stand-in (it is written to ``bench/out/``).

    python -m bench.standin_model [--size 128] [--no-seg-head] [--no-flip-tta] [--out bench/out/standin_recipe.onnx]
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from bench.common import REAL_MODEL, STANDIN_MODEL, model_metadata
from desktop_app.core import contract

DEFAULT_LABELS = ("benign", "malignant", "normal")


@dataclass(frozen=True)
class Recipe:
    """What shapes the exported graph's cost: input size, lesion-mask head, flip test-time augmentation."""

    image_size: int = 128
    seg_head: bool = True
    flip_tta: bool = True

    @property
    def size(self) -> tuple[int, int]:
        return (self.image_size, self.image_size)


#: The lead's current training recipe (runs/r*_128_seg/config.json): 128 px, lesion-mask head, flip TTA.
DEFAULT_RECIPE = Recipe()


def recipe_of(model: Path = REAL_MODEL) -> Recipe:
    """The recipe recorded in a trained model's ``training`` metadata, else :data:`DEFAULT_RECIPE`."""
    if not model.is_file():
        return DEFAULT_RECIPE
    metadata = model_metadata(model)
    try:
        recipe = json.loads(metadata.get(contract.META_TRAINING, "{}")).get("recipe", {})
    except json.JSONDecodeError:
        return DEFAULT_RECIPE
    return Recipe(
        image_size=int(recipe.get("image_size", DEFAULT_RECIPE.image_size)),
        seg_head=bool(recipe.get("seg_head", DEFAULT_RECIPE.seg_head)),
        flip_tta=bool(recipe.get("flip_tta", DEFAULT_RECIPE.flip_tta)),
    )


def build_keras_model(recipe: Recipe = DEFAULT_RECIPE, n_classes: int = 3, seed: int = 0):
    """The training code's export model (DenseNet121, CAM head, in-graph normalisation) with random weights."""
    import keras

    from training.model import ClassifierModels, ModelSpec

    keras.utils.set_random_seed(seed)
    spec = ModelSpec(num_classes=n_classes, image_size=recipe.size, weights="none", seg_head=recipe.seg_head)
    return ClassifierModels(spec).export_model(flip_tta=recipe.flip_tta)


def standin_metadata(recipe: Recipe, labels=DEFAULT_LABELS) -> dict[str, str]:
    """Contract metadata saying plainly that this model is an untrained stand-in."""
    training = {"weights_origin": "random init (benchmark stand-in, not trained)", "recipe": asdict(recipe)}
    return {
        contract.META_LABELS: json.dumps(list(labels)),
        contract.META_INPUT_SIZE: json.dumps(list(recipe.size)),
        contract.META_PREPROCESSING: contract.PREPROCESSING_TEXT,
        contract.META_MODEL_VERSION: "standin-random-densenet121",
        contract.META_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
        contract.META_TRAINING: json.dumps(training),
        contract.META_METRICS: json.dumps({}),
        contract.META_TEMPERATURE: "1.0",
    }


def export_onnx(keras_model, path: Path, recipe: Recipe) -> Path:
    """Export with the training code's converter (tf2onnx, opset 17) and write the contract metadata."""
    import onnx

    from training.export import convert_to_onnx, set_metadata

    proto = convert_to_onnx(keras_model, recipe.size)
    set_metadata(proto, standin_metadata(recipe))
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=DEFAULT_RECIPE.image_size, help="input height = width")
    parser.add_argument("--no-seg-head", action="store_true", help="without the lesion-mask head")
    parser.add_argument("--no-flip-tta", action="store_true", help="without flip test-time augmentation")
    parser.add_argument("--out", type=Path, default=STANDIN_MODEL)
    args = parser.parse_args(argv)
    recipe = Recipe(args.size, seg_head=not args.no_seg_head, flip_tta=not args.no_flip_tta)
    export_onnx(build_keras_model(recipe), args.out, recipe)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
