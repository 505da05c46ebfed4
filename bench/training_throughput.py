"""Training throughput (images/s) of the training code's model: frozen backbone vs full fine-tune, a few steps.

    python -m bench.training_throughput [--size N] [--no-seg-head] [--batch 16] [--steps 3]
                                        [--precisions float32,mixed_bfloat16] [--kernels both|fast|keras]
                                        [--fine-tune-parts all,3,2]

Builds ``training.model.ClassifierModels`` with the recipe's input size and lesion-mask head (read from
assets/model.onnx, else bench.standin_model.DEFAULT_RECIPE; random weights, speed does not depend on them), in float32 and
in mixed bfloat16 (as ``python -m training train --mixed-precision``), each with the training run's faster CPU kernels
(``training/fast_kernels.py``) and with Keras' own layer code, compiles it with the training code's own
optimiser/loss setup, and times ``train_on_batch`` on random images after one warm-up step. The arms of one
precision take their steps in turn (round robin), so that a change in the host's speed hits them alike.
``--fine-tune-parts`` also times fine-tune steps with only the top N dense blocks trainable (what
``--freeze-schedule`` does in later epochs). The full recipe's wall time comes from the trained model's metadata
(``training.timing.train_wall_seconds``) when ``assets/model.onnx`` exists.
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


from bench.common import REAL_MODEL, model_metadata, random_training_batch, summarise, write_result


def recipe_timing(model: Path = REAL_MODEL) -> dict | None:
    """The training run's own timing, stored by the exporter in the model's ``training`` metadata."""
    if not model.is_file():
        return None
    from desktop_app.core import contract

    metadata = model_metadata(model)
    try:
        return json.loads(metadata.get(contract.META_TRAINING, "{}")).get("timing") or None
    except json.JSONDecodeError:
        return None


FINE_TUNE_MODE = "full fine-tune (stage 2)"


def fine_tune_mode(part: str) -> str:
    """The arm name of a fine-tune step with ``part`` (``all`` or 1..4 top dense blocks) trainable."""
    return FINE_TUNE_MODE if part == "all" else f"fine-tune, top {part} dense blocks trainable"


PRECISION_LABELS = {"float32": "float32", "mixed_bfloat16": "bfloat16 (--mixed-precision)"}


def arm_name(mode: str, precision: str, fast_kernels: bool) -> str:
    """The name an arm's result is printed and stored under."""
    return f"{mode}, {PRECISION_LABELS[precision]}, {'fast CPU kernels' if fast_kernels else 'Keras kernels'}"


def images_per_second(batch: int, median_ms: float) -> float:
    """Training throughput of a step of ``batch`` images taking ``median_ms``."""
    return round(batch / (median_ms / 1000), 2)


def result_line(name: str, median_ms: float, batch: int) -> str:
    """One arm's printed result: images/s and the median step time."""
    return f"{name}: {images_per_second(batch, median_ms)} images/s ({median_ms:.0f} ms per step of {batch})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=None, help="input size (default: the recipe's)")
    parser.add_argument("--no-seg-head", action="store_true", help="without the lesion-mask head")
    parser.add_argument("--batch", type=int, default=16, help="batch size (the recipe's default is 16)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode (after one warm-up step)")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16",
                        help="comma-separated Keras dtype policies to time (float32, mixed_bfloat16)")
    parser.add_argument("--kernels", choices=("both", "fast", "keras"), default="both",
                        help="the training run's faster CPU kernels, Keras' own layer code, or both in turn")
    parser.add_argument("--fine-tune-parts", default="all",
                        help="comma-separated trainable parts for fine-tune steps: all, or 1..4 top dense blocks")
    args = parser.parse_args(argv)

    import keras

    from bench.standin_model import recipe_of
    from training.config import TrainConfig
    from training.fast_kernels import fast_training_kernels
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
    images, targets = random_training_batch(config.size, args.batch, config.seg_head)

    kernels = {"both": (True, False), "fast": (True,), "keras": (False,)}[args.kernels]
    results = {}
    for precision in args.precisions.split(","):
        keras.mixed_precision.set_global_policy(precision)
        modes = [("frozen backbone (stage 1)", "none")]
        modes += [(fine_tune_mode(part), part) for part in args.fine_tune_parts.split(",")]
        arms = {}
        for mode, unfreeze in modes:
            for fast in kernels:
                name = arm_name(mode, precision, fast)
                keras.utils.set_random_seed(0)
                spec = ModelSpec(num_classes=3, image_size=config.size, weights="none", seg_head=config.seg_head)
                with fast_training_kernels(fast) as active:
                    models = ClassifierModels(spec)
                    models.set_trainable_backbone(unfreeze)
                    _compile(models, config, learning_rate=1e-4, epochs=1, steps_per_epoch=args.steps + 1)
                    models.training_model.train_on_batch(images, targets)  # warm-up: traces the step in the block
                if fast and not active:
                    name += " (not applied: a GPU is visible)"
                arms[name] = (models.training_model, [])
        for _ in range(args.steps):  # every arm of this precision in turn
            for model, samples in arms.values():
                start = time.perf_counter()
                model.train_on_batch(images, targets)
                samples.append(time.perf_counter() - start)
        for name, (_, samples) in arms.items():
            stats = summarise(samples)
            stats["images_per_s"] = images_per_second(args.batch, stats["median_ms"])
            results[name] = stats
            print(result_line(name, stats["median_ms"], args.batch), flush=True)
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
