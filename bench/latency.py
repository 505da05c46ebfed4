"""Single-image latency at the model's input size: onnxruntime (the app's path) vs Keras ``predict`` vs ``tf.function``.

    python -m bench.latency [--size 224] [--repeats 30] [--int8 bench/out/standin_int8.onnx]

One Keras model (the training code's export model, random weights) is built and exported to ONNX with the
training code's converter, so all three paths run the same weights; the output difference is reported as a check.
Runs are interleaved round-robin so machine load affects every path alike; the table gives medians and the
ratios of those medians. With ``--int8`` (or when the default int8 stand-in exists) the quantized model's
latency through the app's path is measured in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import OUT, summarise, synthetic_batch, time_interleaved, write_result

DEFAULT_INT8 = OUT / "standin_int8.onnx"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(
        "--int8", type=Path, default=DEFAULT_INT8, help="int8 model to time too (if it exists)"
    )
    args = parser.parse_args(argv)

    import onnxruntime as ort
    import tensorflow as tf

    from bench.standin_model import build_keras_model, export_onnx
    from desktop_app.core import contract
    from desktop_app.core.inference import ModelSession

    size = (args.size, args.size)
    keras_model = build_keras_model(size)
    onnx_path = export_onnx(keras_model, OUT / f"latency_fp32_{args.size}.onnx", size)
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
    int8_path = args.int8 if args.int8 and args.int8.is_file() else None
    if int8_path is not None:
        int8_session = ModelSession.open(int8_path)
        if int8_session.input_size == size:
            candidates["onnxruntime int8 (app path)"] = lambda: int8_session.run(image)
        else:
            int8_path = None

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
