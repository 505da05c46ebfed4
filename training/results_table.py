"""Markdown table of training runs (one row per run folder) for training/RESULTS.md.

``python -m training.results_table runs/r1 runs/r2 ...``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from training.config import TrainConfig, freeze_steps
from training.precision import FULL, MIXED
from training.split import DEFAULT_SPLIT_ORDER


def _row(run_dir: Path) -> str:
    config = json.loads((run_dir / "config.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    test = metrics["test"]
    model = run_dir / "model.onnx"
    timing: dict = {}
    if model.exists():
        import onnx

        meta = {p.key: p.value for p in onnx.load(str(model), load_external_data=False).metadata_props}
        timing = json.loads(meta.get("training", "{}")).get("timing", {})
    weights = config["weights"] if config["weights"] in ("none", "imagenet") else f"file:{Path(config['weights']).stem}"
    recipe = (f"weights={weights}, seg={'yes' if config['seg_head'] else 'no'}, tta={'yes' if config['flip_tta'] else 'no'}"
              f", extra={'+'.join(Path(p).name for p in config['extra_data']) or '-'}"
              + "".join(f" minus {device}" for device in config.get("hold_out_device", []))
              + f", lr={config['learning_rate']}, wd={config['weight_decay']:g}"
              f", frozen={config['frozen_epochs']}")
    # What the run trained in: --mixed-precision is only a request, answered with float32 where bfloat16 is not
    # native (training/precision.py); runs exported before the timing recorded it fall back to the request.
    trained_in = timing.get("precision", MIXED if config.get("mixed_precision") else FULL)
    recipe += ", bf16" if trained_in == MIXED else ", float32 (bf16 not native)" if config.get("mixed_precision") else ""
    run_config = TrainConfig.load(run_dir / "config.json")
    recipe += f", split seed {run_config.data_split_seed}" if run_config.data_split_seed else ""
    recipe += f", {run_config.split_order} split order" if run_config.split_order != DEFAULT_SPLIT_ORDER else ""
    recipe += f", avg last {config['average_last_epochs']}" if config.get("average_last_epochs") else ""
    if config.get("swa_learning_rate"):
        recipe += f" at a constant {config['swa_learning_rate']:g} of the peak rate"
    recipe += ", BatchNorm statistics recomputed" if config.get("recompute_batchnorm") else ""
    if config.get("optimizer", TrainConfig.optimizer) != TrainConfig.optimizer:
        recipe += f", optimizer {config['optimizer']}"
    if config.get("label_smoothing", TrainConfig.label_smoothing) != TrainConfig.label_smoothing:
        recipe += f", label smoothing {config['label_smoothing']:g}"
    if config.get("dropout", TrainConfig.dropout) != TrainConfig.dropout:
        recipe += f", dropout {config['dropout']:g}"
    recipe += f", mixup {config['mixup']}" if config.get("mixup") else ""
    recipe += f", ultrasound aug {config['ultrasound_augment']}" if config.get("ultrasound_augment") else ""
    recipe += f", cutmix {config['cutmix']}" if config.get("cutmix") else ""
    recipe += f", lesion crops {config['lesion_crops']:g}" if config.get("lesion_crops") else ""
    if config.get("progressive_epochs"):
        recipe += f", first {config['progressive_epochs']} epochs at {config['progressive_size']} px"
    for epoch, blocks in freeze_steps(config.get("freeze_schedule", "")):
        recipe += f", top {blocks} blocks only from epoch {epoch}"
    if not config.get("class_weights", True):
        recipe += ", no class weights"
    elif config.get("class_weight_power", 1.0) != 1.0:
        recipe += f", class weights balanced^{config['class_weight_power']}"
    if config.get("primary_weight", 1.0) != 1.0:
        recipe += f", BUSI images weighted {config['primary_weight']:g}x"
    if config.get("extra_val_fraction", 0.0):
        recipe += f", calibrated on BUSI val + {config['extra_val_fraction']:g} of BUS-BRA's training patients"
    offsets = {name: value for name, value in metrics.get("class_offsets", {}).get("offsets", {}).items() if value}
    if offsets:
        recipe += ", class offsets " + " ".join(f"{name} {value:+.2f}" for name, value in offsets.items())
    # Other-scanner score: `python -m training evaluate ... --out runs/<run>/busbra_test.json` (same patients for
    # every run: training/splits/busbra_seed0.csv test rows), else the run's own extra-data test set.
    other = run_dir / "busbra_test.json"
    extra = json.loads(other.read_text()) if other.exists() else metrics.get("extra_test", {})
    cells = [
        run_dir.name, recipe, str(config["image_size"]),
        f"{timing.get('stage2_finetune_epochs', '?')}/{config['epochs']}",
        f"{timing.get('train_wall_seconds', 0) / 60:.0f} min" if timing else "?",
        f"{metrics.get('validation', {}).get('macro_f1', float('nan')):.3f}",
        f"{test['accuracy']:.3f}", f"{test['macro_f1']:.3f}",
        f"{test['per_class']['malignant']['recall']:.3f}" if "malignant" in test["per_class"] else "-",
        f"{metrics['ece_before_calibration']:.3f} → {metrics['ece_after_calibration']:.3f}",
        f"{extra['accuracy']:.3f} / {extra['macro_roc_auc']:.2f}" if extra else "-",
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| run | recipe | size | epochs run/planned | wall | val macro-F1 | test acc | test macro-F1 | malignant recall"
    " | ECE before → after | BUS-BRA held-out acc / AUC |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str]) -> int:
    print(HEADER)
    for name in argv:
        print(_row(Path(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
