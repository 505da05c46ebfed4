"""Does one training command give the same weights twice? Runs it twice and compares the two runs tensor by tensor.

    python -m bench.reproducibility [--out bench/out/reproducibility] -- TRAIN_FLAG...

Each run is ``python -m training train TRAIN_FLAG... --out OUT/run_a`` (then ``run_b``) in its own process, as a
user would rerun a model card's command. Compared: every tensor of ``checkpoint.weights.h5`` (the kept weights:
identical bytes or the largest absolute difference), the test metrics of ``metrics.json``, and the exported models:
their constants and operators (names and metadata left out: the metadata records the creation and wall times, and
tf2onnx names folded constants differently each export) and their outputs on one random batch.
Writes ``bench/out/reproducibility.json``. Slow (two trainings); never run by the test suite.

``bash training/recipes/repro.sh`` runs it on the shipped recipe's flags cut to 2 epochs.

    python -m bench.reproducibility --runs runs/A runs/B [--name NAME]

compares two run folders that already exist (a rerun of a model card's command against the original, or a re-export
folder, which has no checkpoint: then only the models are compared). Differing checkpoint tensors are counted by
kind: optimizer state, BatchNorm moving statistics, other weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import OUT, write_result
from bench.training_throughput import recipe_timing

RUNS = ("run_a", "run_b")


def weight_tensors(checkpoint: Path) -> dict[str, np.ndarray]:
    """Every array of a Keras ``.weights.h5`` file by its path inside the file."""
    import h5py

    tensors: dict[str, np.ndarray] = {}
    with h5py.File(checkpoint, "r") as handle:
        handle.visititems(lambda name, item: tensors.__setitem__(name, item[()])
                          if isinstance(item, h5py.Dataset) else None)
    return tensors


#: A Keras BatchNormalization's moving mean (vars/2) or moving variance (vars/3) in a ``.weights.h5`` file.
BATCHNORM_STATISTIC = re.compile(r"batch_normalization(_\d+)?/vars/[23]$")


def tensor_kind(name: str) -> str:
    """``optimizer`` (its state), ``batchnorm statistics`` (moving mean or variance) or ``weights``."""
    if name.startswith("optimizer/"):
        return "optimizer"
    return "batchnorm statistics" if BATCHNORM_STATISTIC.search(name) else "weights"


def _kinds(names) -> dict[str, int]:
    """How many of ``names`` are of each ``tensor_kind``."""
    return dict(sorted(Counter(map(tensor_kind, names)).items()))


def compare_weights(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> dict[str, object]:
    """How many tensors are byte-identical, the differing ones by kind, and the largest absolute difference.

    Where the names differ (a checkpoint saved without its optimizer state, say), the tensors both files hold are
    compared and the others counted by kind.
    """
    common = [name for name in first if name in second]
    result: dict[str, object] = {"same_tensor_names": first.keys() == second.keys()}
    if first.keys() != second.keys():
        result |= {"only_in_a": sorted(first.keys() - second.keys())[:5],
                   "only_in_b": sorted(second.keys() - first.keys())[:5],
                   "only_in_a_kinds": _kinds(first.keys() - second.keys()),
                   "only_in_b_kinds": _kinds(second.keys() - first.keys())}
    differing = [name for name in common if first[name].tobytes() != second[name].tobytes()]
    largest = max((float(np.max(np.abs(first[name].astype(np.float64) - second[name].astype(np.float64))))
                   for name in differing if first[name].shape == second[name].shape), default=0.0)
    return result | {"tensors": len(common), "identical_tensors": len(common) - len(differing),
                     "differing_kinds": _kinds(differing),
                     "max_abs_difference": largest, "first_differing": differing[:5]}


def onnx_content_digest(model: Path) -> str:
    """sha256 over the ONNX graph's constants and operators, names and metadata left out.

    tf2onnx numbers the constants it folds (``const_fold_opt__1690``) differently from one export to the next, so two
    exports of the same weights differ in names; their constant values and operators do not.
    """
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(model))
    constants = sorted(hashlib.sha256(numpy_helper.to_array(tensor).tobytes()).hexdigest()
                       for tensor in proto.graph.initializer)
    operators = sorted(node.op_type for node in proto.graph.node)
    return hashlib.sha256(json.dumps([constants, operators]).encode()).hexdigest()


def output_differences(first: Path, second: Path, images: int = 4, seed: int = 0) -> dict[str, float]:
    """Largest absolute difference of each output of two ONNX models on the same random 0..255 batch."""
    import onnxruntime as ort

    sessions = [ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]) for model in (first, second)]
    model_input = sessions[0].get_inputs()[0]
    height, width = model_input.shape[1:3]
    batch = np.random.default_rng(seed).uniform(0, 255, (images, height, width, 3)).astype(np.float32)
    outputs = [session.run(None, {model_input.name: batch}) for session in sessions]
    return {meta.name: float(np.max(np.abs(a - b))) for meta, a, b in zip(sessions[0].get_outputs(), *outputs)}


def train_once(flags: list[str], out: Path) -> float:
    """One ``python -m training train`` in its own process; returns its wall time in seconds."""
    command = [sys.executable, "-m", "training", "train", *flags, "--out", str(out)]
    started = time.time()
    with open(out.parent / f"{out.name}.log", "w") as log:
        subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return time.time() - started


def compare_runs(runs: list[Path]) -> dict[str, object]:
    """Checkpoints (where both runs have one), exported models and test metrics of two run folders."""
    metrics = [json.loads((run / "metrics.json").read_text())["test"] for run in runs]
    checkpoints = [run / "checkpoint.weights.h5" for run in runs]
    weights = (compare_weights(*(weight_tensors(checkpoint) for checkpoint in checkpoints))
               if all(checkpoint.is_file() for checkpoint in checkpoints) else None)
    models = [run / "model.onnx" for run in runs]
    graphs = [onnx_content_digest(model) for model in models]
    return {
        "runs": [str(run) for run in runs],
        "train_wall_s": [(recipe_timing(model) or {}).get("train_wall_seconds") for model in models],
        "checkpoint": weights,
        "onnx_content_sha256": graphs,
        "onnx_contents_identical": graphs[0] == graphs[1],
        "onnx_output_max_abs_difference": output_differences(*models),
        "test": {key: [m[key] for m in metrics] for key in ("accuracy", "macro_f1", "ece")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT / "reproducibility", help="folder for the two runs")
    parser.add_argument("--compare-only", action="store_true",
                        help="compare the two runs already in --out instead of training them again")
    parser.add_argument("--runs", type=Path, nargs=2, metavar=("RUN_A", "RUN_B"),
                        help="compare these two existing run folders instead (nothing is trained)")
    parser.add_argument("--name", default="reproducibility", help="result name under bench/out/")
    parser.add_argument("flags", nargs=argparse.REMAINDER, help="-- then the train flags (without --out)")
    args = parser.parse_args(argv)
    flags = [flag for flag in args.flags if flag != "--"] if args.flags[:1] == ["--"] else args.flags
    existing = args.compare_only or args.runs is not None
    if not existing and (not flags or "--out" in flags):
        parser.error("give the train flags after --, without --out")
    if args.runs is None:
        args.out.mkdir(parents=True, exist_ok=True)
    wall = {name: None if existing else train_once(flags, args.out / name) for name in RUNS}
    runs = list(args.runs) if args.runs is not None else [args.out / name for name in RUNS]
    result = {"command": "python -m training train " + " ".join(flags) if flags else None, "wall_s": wall,
              **compare_runs(runs)}
    write_result(args.name, result)
    print(json.dumps({key: result[key] for key in ("wall_s", "train_wall_s", "checkpoint", "onnx_contents_identical",
                                                    "onnx_output_max_abs_difference", "test")},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
