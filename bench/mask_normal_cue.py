"""Does the lesion-mask output tell "normal" (no lesion) apart better than the classifier's own p(normal)?

    python bench/mask_normal_cue.py --models assets/model.onnx runs/<run>/model.onnx \
        --data ../shared/data/busi --split training/splits/busi_seed0.csv \
        [--extra-data ../shared/data/busbra --extra-split training/splits/busbra_seed0.csv]

For each model with a ``lesion_mask`` output, classified through the app's path: the ROC-AUC of normal vs lesion
images of p(normal) and of the "no lesion" cue (the log-odds that the mask's peak pixel is background), on the
validation rows (``--fit-subset``, default ``val``) and the test rows; then a fusion, the normal log-probability
plus ``weight * cue + bias``, with weight and bias fitted on the validation rows only (grid, lowest NLL), and the
test metrics with and without it (and on ``--extra-data`` if given: a normal answer there is wrong). Writes
``bench/out/<name>.json`` (default ``mask_normal_cue``). Fitting on validation and reading test keeps the choice
honest: a fusion worth building must earn its weight on validation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from bench.common import write_result
from bench.compare_models import add_held_out_arguments, held_out
from bench.paired_models import summary
from desktop_app.core.batch import classify_files
from desktop_app.core.inference import ModelSession

WEIGHTS = np.linspace(0.0, 1.0, 21)
BIASES = np.linspace(-3.0, 3.0, 61)
_EPSILON = 1e-4


def no_lesion_cue(mask_peaks: np.ndarray) -> np.ndarray:
    """Log-odds that an image has no lesion, from the peak lesion probability of its mask (clipped to 1e-4)."""
    peaks = np.clip(np.asarray(mask_peaks, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.log1p(-peaks) - np.log(peaks)


def fuse_normal(probabilities: np.ndarray, cue: np.ndarray, normal_index: int, weight: float, bias: float
                ) -> np.ndarray:
    """Probabilities with ``weight * cue + bias`` added to the normal class's log-probability, renormalised."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0))
    logits[:, normal_index] += weight * np.asarray(cue) + bias
    logits -= logits.max(axis=1, keepdims=True)
    fused = np.exp(logits)
    return fused / fused.sum(axis=1, keepdims=True)


def mean_nll(probabilities: np.ndarray, truth: np.ndarray) -> float:
    return float(-np.mean(np.log(probabilities[np.arange(len(truth)), truth] + 1e-12)))


def fit_fusion(probabilities: np.ndarray, cue: np.ndarray, truth: np.ndarray, normal_index: int
               ) -> tuple[float, float]:
    """(weight, bias) of lowest NLL over the grid; (0, 0), no change, wins ties."""
    best = (mean_nll(probabilities, truth), 0.0, 0.0)
    for weight in WEIGHTS:
        for bias in BIASES:
            nll = mean_nll(fuse_normal(probabilities, cue, normal_index, weight, bias), truth)
            if nll < best[0] - 1e-9:
                best = (nll, float(weight), float(bias))
    return best[1], best[2]


def classify(model: Path, pairs: list[tuple[Path, str]]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Class names, calibrated probabilities [N, C], mask peaks [N] and true class indices [N]."""
    session = ModelSession.open(model)
    rows = list(classify_files(session, [path for path, _ in pairs]))
    failed = [row.error for row in rows if not row.ok]
    if failed:
        raise SystemExit(f"{len(failed)} images could not be classified, e.g. {failed[0]}")
    if any(row.prediction.lesion_mask is None for row in rows):
        raise SystemExit(f"{model} has no lesion_mask output")
    probabilities = np.stack([row.prediction.probabilities for row in rows])
    peaks = np.array([float(row.prediction.lesion_mask.max()) for row in rows])
    truth = np.array([session.labels.index(label) for _, label in pairs])
    return session.labels, probabilities, peaks, truth


def normal_auc(probabilities: np.ndarray, cue: np.ndarray, truth: np.ndarray, normal_index: int) -> dict:
    from training.report import binary_roc_auc

    is_normal = truth == normal_index
    return {"p_normal": binary_roc_auc(is_normal, probabilities[:, normal_index]),
            "no_lesion_cue": binary_roc_auc(is_normal, cue)}


def main(argv: list[str] | None = None) -> int:
    from training.report import compute_metrics

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="contract ONNX models with lesion_mask")
    add_held_out_arguments(parser, result_name="mask_normal_cue")
    parser.add_argument("--fit-subset", default="val", help="split rows the fusion is fitted on (default val)")
    parser.add_argument("--extra-data", type=Path, help="a second image root scored with the same fusion")
    parser.add_argument("--extra-split", type=Path, help="split.csv of --extra-data (its --subset rows are used)")
    args = parser.parse_args(argv)
    if args.split is None:
        parser.error("--split is needed: the fusion is fitted on its --fit-subset rows")

    results = {}
    for model in args.models:
        labels, probabilities, peaks, truth = classify(model, held_out(args.data, args.split, args.fit_subset))
        if "normal" not in labels:
            raise SystemExit(f"{model} has no 'normal' class")
        normal = labels.index("normal")
        cue = no_lesion_cue(peaks)
        weight, bias = fit_fusion(probabilities, cue, truth, normal)
        result = {"fit": {"subset": args.fit_subset, "weight": weight, "bias": bias,
                          "auc": normal_auc(probabilities, cue, truth, normal)}}
        print(f"{model}: fitted on {len(truth)} {args.fit_subset} images: weight {weight:.2f}, bias {bias:.2f}; "
              "normal-vs-lesion AUC p(normal) {p_normal:.3f}, no-lesion cue {no_lesion_cue:.3f}".format(
                  **result["fit"]["auc"]))
        held = [("data", args.data, args.split)]
        if args.extra_data is not None:
            held.append(("extra_data", args.extra_data, args.extra_split))
        for key, data, split in held:
            labels, probabilities, peaks, truth = classify(model, held_out(data, split, args.subset))
            cue = no_lesion_cue(peaks)
            fused = fuse_normal(probabilities, cue, normal, weight, bias)
            result[key] = {"images": len(truth), "auc": normal_auc(probabilities, cue, truth, normal),
                           "plain": summary(compute_metrics(truth, probabilities, labels), labels),
                           "fused": summary(compute_metrics(truth, fused, labels), labels)}
            if result[key]["auc"]["p_normal"] is not None:
                print(f"  {data} {args.subset}: normal-vs-lesion AUC p(normal) {result[key]['auc']['p_normal']:.3f}, "
                      f"no-lesion cue {result[key]['auc']['no_lesion_cue']:.3f}")
            for variant in ("plain", "fused"):
                row = result[key][variant]
                print(f"  {data} {args.subset} ({len(truth)}) {variant}: accuracy {row['accuracy']:.3f}, macro-F1 "
                      f"{row['macro_f1']:.3f}, malignant recall {row['malignant_recall']:.3f}, NLL {row['nll']:.3f}")
        results[str(model)] = result
    print(write_result(args.name, {"data": str(args.data), "split": str(args.split), "subset": args.subset,
                                   "models": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
