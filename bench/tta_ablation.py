"""Flip test-time augmentation, ablated on a run's checkpoint: argmax metrics with and without the flipped view.

    python bench/tta_ablation.py runs/<run> [--extra-data ../shared/data/busbra]

Loads the run's config, split and checkpoint (float32), predicts its BUSI validation and test splits and the
held-out patients of the extra data set (same seed, so the same patients as training/splits/busbra_seed0.csv),
once plain and once averaged over a horizontal flip (softmax, uncalibrated), and writes ``<run>/tta_ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--extra-data", default=str(ROOT.parent / "shared" / "data" / "busbra"))
    args = parser.parse_args(argv)

    from training.config import TrainConfig
    from training.train import (
        CHECKPOINT_NAME,
        CONFIG_NAME,
        macro_f1,
        model_spec,
        models_from_checkpoint,
        prepare_data,
    )

    config = TrainConfig.load(args.run / CONFIG_NAME)
    config.extra_data = config.extra_data or [args.extra_data]  # only its held-out patients are scored
    prepared = prepare_data(config, args.run)
    models = models_from_checkpoint(model_spec(config, len(prepared.classes)), args.run / CHECKPOINT_NAME)
    malignant = prepared.classes.index("malignant")
    report: dict[str, dict] = {}
    for name, arrays in (("val", prepared.val), ("test", prepared.test), ("extra_test", prepared.extra_test)):
        images = arrays.images.astype(np.float32)
        plain = _softmax(models.training_model.predict(images, batch_size=32, verbose=0)["logits"])
        flipped = _softmax(models.training_model.predict(images[:, :, ::-1], batch_size=32, verbose=0)["logits"])
        for view, probabilities in (("plain", plain), ("flip_tta", (plain + flipped) / 2)):
            predicted = probabilities.argmax(axis=1)
            labels = arrays.labels
            report[f"{name}/{view}"] = {
                "n": len(labels),
                "accuracy": round(float(np.mean(predicted == labels)), 3),
                "macro_f1": round(macro_f1(labels, predicted, len(prepared.classes)), 3),
                "malignant_recall": round(float(np.mean(predicted[labels == malignant] == malignant)), 3),
            }
            print(f"{name:>10} {view:>8}: {report[f'{name}/{view}']}")
    (args.run / "tta_ablation.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
