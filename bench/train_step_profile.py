"""Where a full fine-tune step's time goes, by TensorFlow op type (TensorFlow's profiler).

    python -m bench.train_step_profile [--keras-kernels] [--size N] [--batch 16] [--steps 3]

Builds the recipe's training model (input size and lesion-mask head from assets/model.onnx, random weights),
unfreezes the whole backbone, traces the train step (with the training run's faster CPU kernels, or Keras' own
layer code with ``--keras-kernels``), then records ``--steps`` steps with ``tf.profiler`` and sums the time of
every op event by op type. Op times are summed over TensorFlow's threads, so they add up to more than the wall
time on a multi-core CPU; the shares say what to make faster. Writes ``bench/out/train_step_profile[_keras].json``.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from bench.common import random_training_batch, write_result

#: Events that the profiler reports around other ops (executor scheduling and bookkeeping), not computing themselves.
WRAPPER_EVENTS = frozenset({"Process", "ParallelFor", "StartRegion", "StopRegion", "Record", "MemoryAllocation",
                            "ExecutorDoneCallback"})


def op_type_of(event_name: str) -> str:
    """The op type of a profiler event ``scope/name:OpType``; oneDNN's rewrite of an op, which it makes on some CPUs
    (``_MklMatMul`` on AVX-512, ``_MklNativeFusedConv2D``), counts as the op it replaces (``MatMul``,
    ``_FusedConv2D``)."""
    op_type = event_name.rsplit(":", 1)[-1]
    if not op_type.startswith("_Mkl"):
        return op_type
    op_type = op_type.removeprefix("_Mkl").removeprefix("Native")
    return "_" + op_type if op_type.startswith("Fused") else op_type


def op_times_ms(xplane_file: Path) -> dict[str, float]:
    """Total milliseconds per op type in a profiler trace (events named ``scope/name:OpType`` on TF's threads)."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(xplane_file.read_bytes())
    totals: collections.Counter[str] = collections.Counter()
    for plane in space.planes:
        names = {key: metadata.name for key, metadata in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                op_type = op_type_of(names.get(event.metadata_id, ""))
                if op_type and op_type not in WRAPPER_EVENTS:
                    totals[op_type] += event.duration_ps / 1e9
    return dict(totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keras-kernels", action="store_true", help="Keras' own layer code (no fast kernels)")
    parser.add_argument("--size", type=int, default=None, help="input size (default: the recipe's)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (the recipe's default is 16)")
    parser.add_argument("--steps", type=int, default=3, help="profiled steps (after one warm-up step)")
    parser.add_argument("--top", type=int, default=15, help="op types to print")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from bench.standin_model import recipe_of
    from training.config import TrainConfig
    from training.fast_kernels import fast_training_kernels
    from training.model import ClassifierModels, ModelSpec
    from training.train import _compile

    recipe = recipe_of()
    config = TrainConfig(data="", out="", image_size=args.size or recipe.image_size, batch_size=args.batch,
                         seg_head=recipe.seg_head)
    images, targets = random_training_batch(config.size, args.batch, config.seg_head)
    keras.utils.set_random_seed(0)
    with fast_training_kernels(not args.keras_kernels) as fast:
        models = ClassifierModels(ModelSpec(num_classes=3, image_size=config.size, weights="none",
                                            seg_head=config.seg_head))
        models.set_trainable_backbone("all")
        _compile(models, config, learning_rate=1e-4, epochs=1, steps_per_epoch=args.steps + 1)
        models.training_model.train_on_batch(images, targets)  # warm-up: traces the step inside the block
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        for _ in range(args.steps):
            models.training_model.train_on_batch(images, targets)
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        trace = max(Path(logdir).rglob("*.xplane.pb"), key=lambda path: path.stat().st_mtime)
        totals = op_times_ms(trace)
    per_step = {op: round(ms / args.steps, 1) for op, ms in sorted(totals.items(), key=lambda item: -item[1])}
    all_ops = sum(per_step.values())
    kernels = "fast CPU kernels" if fast else "Keras kernels"
    print(f"{kernels}: {1000 * wall / args.steps:.0f} ms wall per step (profiled), op time {all_ops:.0f} ms per step")
    for op, ms in list(per_step.items())[:args.top]:
        print(f"  {op:28s} {ms:8.1f} ms  {100 * ms / all_ops:5.1f} %")
    result = {"input_size": list(config.size), "seg_head": config.seg_head, "batch_size": args.batch,
              "steps": args.steps, "kernels": kernels, "wall_ms_per_step": round(1000 * wall / args.steps, 1),
              "op_ms_per_step": per_step}
    print(write_result("train_step_profile" + ("_keras" if args.keras_kernels else ""), result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
