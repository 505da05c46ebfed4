"""Where a training epoch's time goes: the training step itself or the augmenting tf.data pipeline feeding it.

    python -m bench.epoch_time [--data ../shared/data/busi] [--epochs 3] [--steps N]

Rebuilds the shipped model's recipe (read from ``assets/model.onnx``'s ``training`` metadata: input size, batch,
lesion-mask head, mixed precision, joint data ...) with the training code's own functions, loads the real data as
``python -m training train`` does, and times whole epochs in two modes, alternating so that a change in the host's
speed hits both alike:

- ``pipeline``: the training input as in a run (shuffle, augmentation and mask targets computed in tf.data while
  the model trains);
- ``cached``: the same number of batches, augmented once beforehand and replayed from memory (no tf.data work
  during the epoch).

If the two take the same time, the epoch is bound by the model's compute (and the host's speed), not by the input
pipeline. The first epoch of each mode traces the step and is reported apart. Random initial weights: speed does
not depend on them. Slow on purpose (whole epochs on the real data); never run by the test suite at full size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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

from bench.common import REAL_MODEL, model_metadata, summarise, write_result

SHARED_DATA = ROOT.parent / "shared" / "data"
MODES = ("pipeline", "cached")


def recipe_config(model: Path, data: Path, masks: Path | None, groups: Path | None,
                  extra_data: list[Path] | None, out: Path):
    """The model's recorded training recipe as a ``TrainConfig``, pointed at this machine's data folders.

    ``extra_data`` None: the recipe's extra data sets, looked up by folder name under ../shared/data.
    """
    from desktop_app.core import contract
    from training.config import TrainConfig

    metadata = model_metadata(model)
    recipe = json.loads(metadata.get(contract.META_TRAINING, "{}")).get("recipe") or {}
    known = {field.name for field in dataclasses.fields(TrainConfig)}
    values = {key: value for key, value in recipe.items() if key in known}
    if extra_data is None:
        extra_data = [SHARED_DATA / Path(path).name for path in recipe.get("extra_data") or []]
    values.update(data=str(data), out=str(out), masks=str(masks) if masks else None,
                  groups=str(groups) if groups else None, extra_data=[str(path) for path in extra_data],
                  weights="none", verbose=0)  # random init: speed does not depend on the weights
    return TrainConfig(**values)


def cached_copy(dataset, steps: int, batch_size: int):
    """``steps`` batches of ``dataset`` computed now and replayed from memory as a dataset of the same batches."""
    import tensorflow as tf

    batches = list(dataset.take(steps))
    images = tf.concat([batch[0] for batch in batches], axis=0)
    targets = {key: tf.concat([batch[1][key] for batch in batches], axis=0) for key in batches[0][1]}
    weights = {key: tf.concat([batch[2][key] for batch in batches], axis=0) for key in batches[0][2]}
    # drop_remainder: the same static batch shape as the training pipeline, so the step is traced only once.
    replay = tf.data.Dataset.from_tensor_slices((images, targets, weights))
    return replay.batch(batch_size, drop_remainder=True).prefetch(2)


def time_epochs(config, epochs: int, steps: int | None, steps_csv: Path | None = None) -> dict:
    """Alternate one epoch of each mode ``epochs`` times; seconds per epoch and per step for each mode.

    Each step's wall time comes with the process's CPU time over it (all threads): a slow step whose CPU time grew
    alike did more work or ran on a slower CPU; one whose CPU time did not was waiting. ``steps_csv``: every timed
    step as a row (mode, epoch, step, wall_s, cpu_s).
    """
    import keras
    import numpy as np

    from training import precision, train
    from training.fast_kernels import fast_training_kernels

    run_dir = Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    train.set_seeds(config.seed)
    prepared = train.prepare_data(config, run_dir)
    num_classes = len(prepared.classes)
    class_weight = train.training_class_weights(prepared.train, config, num_classes)
    with (precision.training_dtype(config.mixed_precision) as policy,  # as a training run here
          fast_training_kernels(config.fast_cpu_kernels) as fast_kernels):
        models = train.ClassifierModels(train.model_spec(config, num_classes))
        pipeline = train.make_train_dataset(prepared.train, config, class_weight, num_classes)
        steps = min(steps or int(pipeline.cardinality().numpy()), int(pipeline.cardinality().numpy()))
        datasets = {"pipeline": pipeline, "cached": cached_copy(pipeline, steps, config.batch_size)}
        train._compile(models, config, config.learning_rate, max(1, 2 * epochs), steps)
        train.build_before_fit(models.training_model, pipeline)
        step_ends: list[tuple[float, float]] = []
        clock = keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: step_ends.append((time.time(), time.process_time())))
        results = {mode: {"first_epoch_s": None, "epoch_s": [], "epoch_cpu_s": [], "steps": []} for mode in MODES}
        rows: list[tuple] = []
        for epoch in range(epochs):
            for mode in MODES:
                step_ends.clear()
                start = (time.time(), time.process_time())
                models.training_model.fit(datasets[mode], epochs=1, steps_per_epoch=steps, callbacks=[clock],
                                          verbose=0)
                elapsed, cpu = time.time() - start[0], time.process_time() - start[1]
                if epoch == 0:
                    results[mode]["first_epoch_s"] = round(elapsed, 3)
                    continue
                results[mode]["epoch_s"].append(round(elapsed, 3))
                results[mode]["epoch_cpu_s"].append(round(cpu, 3))
                ends = np.array([start, *step_ends])
                step_times = np.diff(ends, axis=0)  # columns: wall, CPU
                results[mode]["steps"].extend(step_times.tolist())
                rows.extend((mode, epoch + 1, index + 1, wall, cpu_time)
                            for index, (wall, cpu_time) in enumerate(step_times.tolist()))
                print(f"epoch {epoch + 1} {mode}: {elapsed:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    if steps_csv is not None:
        steps_csv.parent.mkdir(parents=True, exist_ok=True)
        with steps_csv.open("w", encoding="utf-8") as handle:
            handle.write("mode,epoch,step,wall_s,cpu_s\n")
            handle.writelines(f"{mode},{epoch},{step},{wall:.4f},{cpu:.4f}\n" for mode, epoch, step, wall, cpu in rows)
    for mode in MODES:
        step_times = results[mode].pop("steps")
        if step_times:
            results[mode]["step"] = summarise([wall for wall, _ in step_times])
            # Is a slow epoch uniformly slower steps or a few stalls? The five slowest steps tell, and their CPU
            # time says whether they computed longer or waited.
            slowest = sorted(step_times, reverse=True)[:5]
            results[mode]["slowest_steps_s"] = [round(wall, 2) for wall, _ in slowest]
            results[mode]["slowest_steps_cpu_s"] = [round(cpu, 2) for _, cpu in slowest]
    return {"train_images": len(prepared.train), "steps_per_epoch": steps, "precision": policy,
            "fast_cpu_kernels": fast_kernels, "modes": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REAL_MODEL, help="model whose recorded recipe is timed")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "busi", help="BUSI-layout class folders")
    parser.add_argument("--masks", type=Path, default=None, help="lesion masks (default: <data>_masks if present)")
    parser.add_argument("--groups", type=Path, default=None, help="duplicate groups (default: <data>/DUPLICATES.tsv)")
    parser.add_argument("--extra-data", type=Path, action="append", default=None,
                        help="extra data set (repeatable; default: the recipe's, found under ../shared/data)")
    parser.add_argument("--image-size", type=int, default=None, help="override the recipe's input size")
    parser.add_argument("--batch-size", type=int, default=None, help="override the recipe's batch size")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per mode, the first of each being warm-up")
    parser.add_argument("--steps", type=int, default=None, help="steps per epoch (default: a whole epoch)")
    parser.add_argument("--keras-kernels", action="store_true",
                        help="train with Keras' own layer code instead of training/fast_kernels.py")
    parser.add_argument("--steps-csv", type=Path, default=None,
                        help="write every timed step (mode, epoch, step, wall_s, cpu_s) to this CSV")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch of each mode traces the step and is not timed")

    masks = args.masks or (args.data.parent / f"{args.data.name}_masks")
    groups = args.groups or (args.data / "DUPLICATES.tsv")
    with tempfile.TemporaryDirectory() as scratch:
        config = recipe_config(args.model, args.data, masks if masks.is_dir() else None,
                               groups if groups.is_file() else None, args.extra_data, Path(scratch) / "run")
        overrides: dict[str, int] = {}
        if args.image_size:
            overrides["image_size"] = args.image_size
        if args.batch_size:
            overrides["batch_size"] = args.batch_size
        config = dataclasses.replace(config, fast_cpu_kernels=not args.keras_kernels, **overrides)
        timing = time_epochs(config, args.epochs, args.steps, args.steps_csv)
    result = {
        "recipe_of": str(args.model),
        "input_size": config.image_size,
        "batch_size": config.batch_size,
        "seg_head": config.seg_head,
        "mixed_precision": config.mixed_precision,  # asked for; "precision" is what this machine trained in
        "extra_data": [Path(path).name for path in config.extra_data],
        **timing,
    }
    for mode in MODES:
        seconds = result["modes"][mode]["epoch_s"]
        timing = result["modes"][mode]
        print(f"{mode}: epochs {seconds} s (CPU {timing['epoch_cpu_s']} s), step median "
              f"{timing['step']['median_ms']:.0f} ms, slowest steps {timing['slowest_steps_s']} s "
              f"(CPU {timing['slowest_steps_cpu_s']} s)")
    print(write_result("epoch_time", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
