"""Peak memory and speed of the onnxruntime session under different chunk sizes and allocator settings.

    python -m bench.memory_options [--model M] [--images 48]

Each configuration runs in its own child process (so peak RSS is its own): open an onnxruntime session with the
app's thread settings (2 intra-op threads, no spinning) plus the configuration's allocator options, then run
``--images`` images in chunks. Reports images/s and the process's peak RSS. It isolates the inference side of the
app's memory (the app adds decoded images and Qt on top), to choose the app's chunk size and arena setting.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import default_model, write_result

CONFIGS = [
    {"chunk": 16, "arena": True},
    {"chunk": 8, "arena": True},
    {"chunk": 4, "arena": True},
    {"chunk": 1, "arena": True},
    {"chunk": 16, "arena": False},
    {"chunk": 4, "arena": False},
    {"chunk": 1, "arena": False},
]


def child(model: Path, chunk: int, arena: bool, images: int) -> dict:
    import numpy as np
    import onnxruntime as ort

    from desktop_app.core import contract
    from desktop_app.core.inference import INTRA_OP_THREADS

    options = ort.SessionOptions()
    options.intra_op_num_threads = INTRA_OP_THREADS
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
    options.enable_mem_pattern = (
        arena  # memory patterns pre-plan arena blocks; without the arena they only add
    )
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    size = tuple(int(d) for d in session.get_inputs()[0].shape[1:3])
    batch = np.random.default_rng(0).uniform(0, 255, (chunk, *size, 3)).astype(np.float32)
    session.run(None, {contract.INPUT_NAME: batch})  # warm-up
    start = time.perf_counter()
    done = 0
    while done < images:
        session.run(None, {contract.INPUT_NAME: batch})
        done += chunk
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "chunk": chunk,
        "arena": arena,
        "images_per_s": round(done / seconds, 2),
        "peak_rss_mb": round(peak, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    model = args.model or default_model()
    if args.child:
        config = json.loads(args.child)
        print(json.dumps(child(model, config["chunk"], config["arena"], args.images)))
        return 0
    rows = []
    for config in CONFIGS:
        command = [
            sys.executable,
            "-m",
            "bench.memory_options",
            "--model",
            str(model),
            "--images",
            str(args.images),
            "--child",
            json.dumps(config),
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    print(write_result("memory_options", {"model": str(model), "images": args.images, "configs": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
