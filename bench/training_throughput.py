"""Training throughput (images/s) of the training code's model: frozen backbone vs full fine-tune, a few steps.

    python -m bench.training_throughput [--size N] [--no-seg-head] [--batch 16] [--steps 3]

Builds ``training.model.ClassifierModels`` with the recipe's input size and lesion-mask head (read from
assets/model.onnx, else bench.standin_model.DEFAULT_RECIPE; random weights, speed does not depend on them), in float32 and
in mixed bfloat16 (as ``python -m training train --mixed-precision``), compiles it with the training code's own
optimiser/loss setup, and times ``train_on_batch`` on random images after one warm-up step.
The full recipe's wall time comes from the trained model's metadata (``training.timing.train_wall_seconds``)
when ``assets/model.onnx`` exists.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import REAL_MODEL, summarise, write_result


def recipe_timing(model: Path = REAL_MODEL) -> dict | None:
    """The training run's own timing, stored by the exporter in the model's ``training`` metadata."""
    if not model.is_file():
        return None
    import onnx

    from desktop_app.core import contract

    metadata = {p.key: p.value for p in onnx.load(str(model), load_external_data=False).metadata_props}
    try:
        return json.loads(metadata.get(contract.META_TRAINING, "{}")).get("timing") or None
    except json.JSONDecodeError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=None, help="input size (default: the recipe's)")
    parser.add_argument("--no-seg-head", action="store_true", help="without the lesion-mask head")
    parser.add_argument("--batch", type=int, default=16, help="batch size (the recipe's default is 16)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode (after one warm-up step)")
    args = parser.parse_args(argv)

    import keras

    from bench.standin_model import recipe_of
    from training.config import TrainConfig
    from training.model import ClassifierModels, ModelSpec
    from training.train import _compile

    recipe = recipe_of()
    config = TrainConfig(
        data="",
        out="",
        image_size=args.size or recipe.image_size,
        batch_size=args.batch,
        seg_head=recipe.seg_head and not args.no_seg_head,
    )
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (args.batch, *config.size, 3)).astype(np.float32)
    targets = {"logits": np.eye(3, dtype=np.float32)[rng.integers(0, 3, args.batch)]}
    if config.seg_head:
        height, width = config.size
        targets["mask"] = (rng.random((args.batch, height // 8, width // 8, 1)) > 0.8).astype(np.float32)

    results = {}
    for precision, label in (("float32", "float32"), ("mixed_bfloat16", "bfloat16 (--mixed-precision)")):
        keras.mixed_precision.set_global_policy(precision)
        keras.utils.set_random_seed(0)
        spec = ModelSpec(num_classes=3, image_size=config.size, weights="none", seg_head=config.seg_head)
        models = ClassifierModels(spec)
        for mode, unfreeze in (("frozen backbone (stage 1)", "none"), ("full fine-tune (stage 2)", "all")):
            models.set_trainable_backbone(unfreeze)
            _compile(models, config, learning_rate=1e-4, epochs=1, steps_per_epoch=args.steps + 1)
            models.training_model.train_on_batch(images, targets)  # warm-up: traces and compiles the step
            samples = []
            for _ in range(args.steps):
                start = time.perf_counter()
                models.training_model.train_on_batch(images, targets)
                samples.append(time.perf_counter() - start)
            stats = summarise(samples)
            stats["images_per_s"] = round(args.batch / (stats["median_ms"] / 1000), 2)
            results[f"{mode}, {label}"] = stats
            print(f"{mode}, {label}: {stats['images_per_s']} images/s "
                  f"({stats['median_ms']:.0f} ms per step of {args.batch})")
    keras.mixed_precision.set_global_policy("float32")
    result = {
        "input_size": list(config.size),
        "seg_head": config.seg_head,
        "batch_size": args.batch,
        "steps": args.steps,
        "weights": "random (speed does not depend on them)",
        "throughput": results,
        "recipe_timing": recipe_timing(),
    }
    print(write_result("training_throughput", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
