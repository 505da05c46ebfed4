"""Does TensorFlow's oneDNN make a fine-tune step faster or slower on this CPU? Both settings in turn.

    python -m bench.onednn_ab [--rounds 3] [--steps 5] [--size N]

``TF_ENABLE_ONEDNN_OPTS`` is read once, when TensorFlow is imported, so the two arms cannot share a process: each
round runs ``python -m bench.training_throughput --precisions float32 --kernels fast`` once with oneDNN on (TF's
default on x86) and once with it off, one after the other, so that a change in the host's speed hits both arms
alike. Reports each round's full fine-tune step time (median of ``--steps`` steps after a warm-up step, the recipe's
model with its lesion-mask head and the fast CPU kernels, float32) and the per-round ratio, and writes
``bench/out/onednn_ab.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import write_result
from bench.training_throughput import FINE_TUNE_MODE, arm_name

ARMS = {"oneDNN on (default)": "1", "oneDNN off": "0"}
FINE_TUNE_LINE = re.compile(re.escape(arm_name(FINE_TUNE_MODE, "float32", True)) + r": [\d.]+ images/s \((\d+) ms")


def parse_fine_tune_ms(output: str) -> float | None:
    """The fine-tune arm's median step time (ms) in ``bench.training_throughput``'s output, if it is there."""
    match = FINE_TUNE_LINE.search(output)
    return float(match.group(1)) if match else None


def fine_tune_step_ms(onednn: str, steps: int, size: int | None) -> float:
    """Median fine-tune step time (ms) of one ``bench.training_throughput`` process with the given setting."""
    command = [sys.executable, "-m", "bench.training_throughput", "--precisions", "float32", "--kernels", "fast",
               "--steps", str(steps)]
    if size:
        command += ["--size", str(size)]
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    output = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    step_ms = parse_fine_tune_ms(output)
    if step_ms is None:
        raise RuntimeError(f"no fine-tune timing in the output of {' '.join(command)}:\n{output}")
    return step_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of one process per arm")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per process")
    parser.add_argument("--size", type=int, default=None, help="input size (default: the recipe's)")
    args = parser.parse_args(argv)

    rounds = []
    for index in range(args.rounds):
        row = {name: fine_tune_step_ms(flag, args.steps, args.size) for name, flag in ARMS.items()}
        on, off = row.values()
        row["off / on"] = round(off / on, 3)
        rounds.append(row)
        print(f"round {index + 1}: " + ", ".join(f"{name} {value}" for name, value in row.items()), flush=True)
    ratios = sorted(row["off / on"] for row in rounds)
    result = {"steps_per_process": args.steps, "rounds": rounds,
              "median_ratio_off_over_on": ratios[len(ratios) // 2]}
    print(write_result("onednn_ab", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
