"""Do a model's class offsets improve its probabilities? Proper scores before and after them, with their noise.

    python bench/calibration_scores.py --models assets/model.onnx runs/<run>/model.onnx \
        --data ../shared/data/busi --split training/splits/busi_seed0.csv [--subsets val test] [--bootstrap 2000] \
        [--name NAME]

For each model and each of the split's validation and test images it scores two sets of probabilities: the model's
own output (``probabilities``) and, when the model carries class offsets (``training.recalibrate``), the output
before them (``probabilities_before_class_offsets``). The scores are accuracy, ECE, NLL and the Brier score
(``training.report.compute_metrics``). On the test images it also resamples the images (bootstrap) and reports the
spread of ECE and NLL and the share of resamples in which the offsets lower each: ECE over ~100 images and 15 bins
moves by several hundredths from the draw of the images alone, while NLL and Brier are proper scores that reward
exactly the probabilities a calibrated model should give. Writes ``bench/out/<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import onnx
import onnxruntime as ort

from bench.common import model_labels_and_size, write_result
from bench.compare_models import add_held_out_arguments, held_out
from desktop_app.core import contract
from desktop_app.core.imageio import load_image
from desktop_app.core.preprocessing import preprocess_batch
from training.recalibrate import UNCORRECTED_PROBABILITIES
from training.report import compute_metrics, expected_calibration_error, negative_log_likelihood

#: The two stages scored: the probabilities before the class offsets, and the model's output (after them, if any).
BEFORE, AFTER = "before_offsets", "output"
SCORES = ("accuracy", "ece", "nll", "brier")


def stage_probabilities(model_path: Path, images: np.ndarray, batch_size: int = 32) -> dict[str, np.ndarray]:
    """{AFTER: the model's ``probabilities``, BEFORE: the same before its class offsets (only if it has them)}."""
    model = onnx.load(str(model_path))
    has_offsets = any(UNCORRECTED_PROBABILITIES in node.output for node in model.graph.node)
    names = [contract.OUTPUT_PROBABILITIES]
    if has_offsets:
        model.graph.output.append(onnx.helper.make_tensor_value_info(UNCORRECTED_PROBABILITIES,
                                                                     onnx.TensorProto.FLOAT, None))
        names.append(UNCORRECTED_PROBABILITIES)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    chunks = [session.run(names, {contract.INPUT_NAME: images[i:i + batch_size].astype(np.float32)})
              for i in range(0, len(images), batch_size)]
    stages = {BEFORE: np.concatenate([chunk[1] for chunk in chunks]).astype(np.float64)} if has_offsets else {}
    stages[AFTER] = np.concatenate([chunk[0] for chunk in chunks]).astype(np.float64)
    return stages


def bootstrap(y_true: np.ndarray, stages: dict[str, np.ndarray], rounds: int, seed: int = 0) -> dict:
    """Spread (standard deviation) of ECE and NLL over image resamples; share of resamples where offsets lower each."""
    rng = np.random.default_rng(seed)
    draws: dict[str, dict[str, list[float]]] = {stage: {"ece": [], "nll": []} for stage in stages}
    for _ in range(rounds):
        pick = rng.integers(0, len(y_true), len(y_true))
        for stage, probabilities in stages.items():
            draws[stage]["ece"].append(expected_calibration_error(y_true[pick], probabilities[pick]))
            draws[stage]["nll"].append(negative_log_likelihood(y_true[pick], probabilities[pick]))
    result: dict = {stage: {f"{key}_sd": float(np.std(values)) for key, values in scores.items()}
                    for stage, scores in draws.items()}
    if BEFORE in draws:
        result["offsets_lower"] = {key: float(np.mean(np.array(draws[AFTER][key]) < np.array(draws[BEFORE][key])))
                                   for key in ("ece", "nll")}
    return result


def score_model(model_path: Path, subsets: dict[str, tuple[np.ndarray, np.ndarray]], labels: list[str],
                rounds: int) -> dict:
    """Scores of each stage on each subset, and the bootstrap on the test subset."""
    result: dict = {"model": str(model_path)}
    for subset, (images, y_true) in subsets.items():
        stages = stage_probabilities(model_path, images)
        result[subset] = {stage: {key: compute_metrics(y_true, probabilities, labels)[key] for key in SCORES}
                          for stage, probabilities in stages.items()}
        if subset == "test" and rounds > 0:
            result["test_bootstrap"] = bootstrap(y_true, stages, rounds)
    return result


def load_subset(data: Path, split: Path, subset: str, labels: list[str], size: tuple[int, int]
                ) -> tuple[np.ndarray, np.ndarray]:
    """(preprocessed images, label indices) of one subset of the split, through the app's loader."""
    pairs = held_out(data, split, subset)
    images = preprocess_batch([load_image(path) for path, _ in pairs], size)
    return images, np.array([labels.index(label) for _, label in pairs])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    add_held_out_arguments(parser, result_name="calibration_scores")
    parser.add_argument("--subsets", nargs="+", default=["val", "test"],
                        help="split subsets to score (default: val, where offsets are fitted, and test)")
    parser.add_argument("--bootstrap", type=int, default=2000, help="image resamples of the test subset (0: none)")
    args = parser.parse_args(argv)
    if args.split is None:
        parser.error("--split is needed: the scores are of held-out subsets")

    rows = []
    for model_path in args.models:
        labels, size = model_labels_and_size(model_path)
        subsets = {subset: load_subset(args.data, args.split, subset, labels, size) for subset in args.subsets}
        rows.append(score_model(model_path, subsets, labels, args.bootstrap))
        row = rows[-1]
        print(row["model"])
        for subset in subsets:
            for stage, scores in row[subset].items():
                print(f"  {subset:4s} {stage:15s} " + "  ".join(f"{key} {value:.3f}" for key, value in scores.items()))
        if "test_bootstrap" in row:
            print("  test bootstrap:", json.dumps(row["test_bootstrap"]))
    path = write_result(args.name, {"data": str(args.data), "split": str(args.split), "bootstrap": args.bootstrap,
                                    "models": rows})
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
