"""The full training configuration: one dataclass, saved as JSON in every run folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


class ConfigError(ValueError):
    """A combination of training options that cannot run; the message names the flags."""


def freeze_steps(schedule: str) -> list[tuple[int, int]]:
    """The syntax of ``--freeze-schedule``: ``"9:3,13:2"`` as ``[(9, 3), (13, 2)]``, ``""`` as ``[]``."""
    if not schedule.strip():
        return []
    usage = f"--freeze-schedule wants EPOCH:BLOCKS[,EPOCH:BLOCKS...] (e.g. 9:3,13:2), got {schedule!r}"
    try:
        steps = [tuple(int(part) for part in item.split(":")) for item in schedule.split(",")]
    except ValueError:
        raise ConfigError(usage) from None
    if any(len(step) != 2 for step in steps):
        raise ConfigError(usage)
    return steps  # type: ignore[return-value]


@dataclass
class TrainConfig:
    """Every knob of a training run. ``python -m training train --help`` documents each as a flag."""

    data: str
    out: str
    masks: str | None = None  # lesion-mask root (<masks>/<class>/<stem>_mask*.png); default: beside the images
    groups: str | None = None  # precomputed grouping file (CSV path,group or DUPLICATES.tsv)
    extra_data: list[str] = field(default_factory=list)  # extra BUS-BRA-style roots joined to the training split
    hold_out_device: list[str] = field(default_factory=list)  # extra data: these scanners' patients all go to test
    extra_val_fraction: float = 0.0  # extra data: this share of its training patients calibrates beside --data's val
    image_size: int = 224
    weights: str = "imagenet"  # imagenet | none | PATH
    train_batchnorm: bool = False  # with pretrained weights: BatchNorm keeps learning instead of inference mode
    seed: int = 0
    split_seed: int = -1  # seed of the data split; -1: the same as seed
    split_order: str = "size"  # how the split places groups: size (largest first) | shuffled (training/split.py)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    batch_size: int = 16
    frozen_epochs: int = 5  # stage 1: head only (backbone frozen); 0 skips it
    epochs: int = 20  # stage 2: fine-tune
    unfreeze: str = "all"  # stage 2: all | 1..4 top dense blocks
    head_learning_rate: float = 1e-3
    learning_rate: float = 1e-4
    warmup_epochs: int = 1
    weight_decay: float = 1e-4
    optimizer: str = "adamw"  # adamw | sgd (Nesterov momentum 0.9); both decay weights by weight_decay x the rate
    label_smoothing: float = 0.1
    dropout: float = 0.3
    class_weights: bool = True
    class_weight_power: float = 1.0  # class weights = balanced ** power: 1 balanced, 0.5 square root, 0 equal
    primary_weight: float = 1.0  # loss weight of a --data training image relative to an --extra-data one
    augment: float = 1.0  # augmentation strength multiplier (0 disables)
    ultrasound_augment: float = 0.0  # strength of scanner-like changes: resolution, depth gain, speckle; 0 disables
    mixup: float = 0.0  # mixup Beta(a, a) parameter; 0 disables
    cutmix: float = 0.0  # CutMix Beta(a, a) parameter; 0 disables (an alternative to mixup)
    lesion_crops: float = 0.0  # share of training draws replaced by a zoomed crop labelled by the lesion mask
    seg_head: bool = False  # auxiliary lesion-mask supervision
    seg_weight: float = 0.5
    mask_pooling: bool = False  # classifier also sees the features pooled under the predicted lesion mask
    flip_tta: bool = False  # average over a horizontal flip inside the exported graph
    mixed_precision: bool = False  # ask for mixed bfloat16 (granted where native: training/precision.py); export float32
    fast_cpu_kernels: bool = True  # CPU: faster conv gradients and fused BatchNorm while training (training/fast_kernels.py)
    patience: int = 10  # early stopping on validation macro-F1 (epochs without improvement)
    average_last_epochs: int = 0  # 0: keep the best validation epoch; N: average the last N fine-tune epochs' weights
    swa_learning_rate: float = 0.0  # > 0: the rate held through the averaging window, as a fraction of the peak
    recompute_batchnorm: bool = False  # re-estimate BatchNorm statistics of the kept weights on the training images
    progressive_size: int = 0  # progressive resizing: the first progressive_epochs fine-tune epochs at this size
    progressive_epochs: int = 0
    freeze_schedule: str = ""  # "EPOCH:BLOCKS,...": from that fine-tune epoch on only the top BLOCKS dense blocks train
    offset_classes: str = "normal"  # comma-separated classes given a validation-fitted logit offset <= 0 ("" = none)
    ood_components: int = 32
    ood_pass_rate: float = 0.95
    model_version: str = ""
    max_images_per_class: int = 0  # 0 = all; for quick experiments and tests
    verbose: int = 2  # Keras progress: 1 = bar, 2 = one line per epoch

    @property
    def data_split_seed(self) -> int:
        return self.seed if self.split_seed < 0 else self.split_seed

    @property
    def size(self) -> tuple[int, int]:
        return (self.image_size, self.image_size)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
