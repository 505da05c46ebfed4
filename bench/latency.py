"""Single-image latency at the model's input size: onnxruntime (the app's path) vs Keras ``predict`` vs ``tf.function``.

    python -m bench.latency [--size N] [--no-seg-head] [--no-flip-tta] [--repeats 30] [--int8 M]

One Keras model (the training code's export model with the trained model's recipe: input size, lesion-mask head,
flip TTA, read from assets/model.onnx or the current defaults; random weights) is built and exported to ONNX with the
training code's converter, so all three paths run the same weights; the output difference is reported as a check.
Runs are interleaved round-robin so machine load affects every path alike; the table gives medians and the
ratios of those medians. The exported model is also quantized to int8 (bench/quantize.py, calibrated on
``--calib-count`` training images from ``--calib-data``) and timed through the app's path in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import OUT, summarise, synthetic_batch, time_interleaved, write_result

DEFAULT_CALIBRATION_DATA = Path("/work/shared/data/busi")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=None, help="input size (default: the recipe's)")
    parser.add_argument("--no-seg-head", action="store_true")
    parser.add_argument("--no-flip-tta", action="store_true")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(
        "--calib-data", type=Path, default=DEFAULT_CALIBRATION_DATA, help="int8 calibration images"
    )
    parser.add_argument("--calib-count", type=int, default=32)
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 quantization and its timing")
    args = parser.parse_args(argv)

    import onnxruntime as ort
    import tensorflow as tf

    from bench.standin_model import Recipe, build_keras_model, export_onnx, recipe_of
    from desktop_app.core import contract
    from desktop_app.core.inference import ModelSession

    base = recipe_of()
    recipe = Recipe(
        args.size or base.image_size,
        seg_head=base.seg_head and not args.no_seg_head,
        flip_tta=base.flip_tta and not args.no_flip_tta,
    )
    size = recipe.size
    keras_model = build_keras_model(recipe)
    onnx_path = export_onnx(keras_model, OUT / f"latency_fp32_{recipe.image_size}.onnx", recipe)
    image = synthetic_batch(size, 1)

    app_session = ModelSession.open(onnx_path)
    raw_session = app_session._session  # the same onnxruntime session, without the app's post-processing
    graph_call = tf.function(
        lambda x: keras_model(x, training=False),
        input_signature=[tf.TensorSpec([None, *size, 3], tf.float32)],
    )
    tensor = tf.constant(image)

    candidates = {
        "onnxruntime (app: ModelSession.run)": lambda: app_session.run(image),
        "onnxruntime (session.run only)": lambda: raw_session.run(None, {contract.INPUT_NAME: image}),
        "Keras predict": lambda: keras_model.predict(image, verbose=0),
        "tf.function": lambda: graph_call(tensor),
    }
    int8_path = None
    if not args.no_int8 and args.calib_data.is_dir():
        from bench.quantize import quantize_model, training_images

        int8_path = onnx_path.with_name(onnx_path.stem.replace("fp32", "int8") + ".onnx")
        quantize_model(onnx_path, training_images(args.calib_data, None, args.calib_count), int8_path)
        int8_session = ModelSession.open(int8_path)
        candidates["onnxruntime int8 (app path)"] = lambda: int8_session.run(image)

    reference = keras_model.predict(image, verbose=0)[contract.OUTPUT_PROBABILITIES]
    ort_probs = app_session.run(image)[0].probabilities
    parity = float(np.max(np.abs(reference[0] - ort_probs)))

    samples = time_interleaved(candidates, args.repeats)
    stats = {name: summarise(values) for name, values in samples.items()}
    baseline = stats["onnxruntime (app: ModelSession.run)"]["median_ms"]
    for entry in stats.values():
        entry["ratio_to_onnxruntime_app"] = round(entry["median_ms"] / baseline, 2)
    result = {
        "input_size": list(size),
        "recipe": asdict(recipe),
        "repeats": args.repeats,
        "threads": {
            "onnxruntime_intra_op": "app setting (desktop_app.core.inference.INTRA_OP_THREADS)",
            "tensorflow": "defaults (all cores)",
        },
        "onnxruntime_version": ort.__version__,
        "tensorflow_version": tf.__version__,
        "keras_vs_onnxruntime_max_abs_diff": parity,
        "int8_model": str(int8_path) if int8_path else None,
        "latency": stats,
    }
    print(write_result("latency", result))
    for name, entry in stats.items():
        print(f"{name:40s} {entry['median_ms']:8.1f} ms  x{entry['ratio_to_onnxruntime_app']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
