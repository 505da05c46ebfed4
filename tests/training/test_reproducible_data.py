"""The same seed gives the same augmented batches: a rerun of a recipe sees the same images in the same order.

Before this held, TensorFlow's stateful random ops drew in whatever order parallel ``map`` calls ran, so two runs of
one command trained on different augmentations (the r40 rerun of training/RESULTS.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from training.config import TrainConfig
from training.pretrain import make_pretrain_dataset
from training.train import ArraySet, make_train_dataset, set_seeds

SIZE = 32


def _arrays(count: int = 48) -> ArraySet:
    """Random textured images, masks and labels (every batch differs from every other)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(count, SIZE, SIZE, 3), dtype=np.uint8)
    masks = (rng.random((count, SIZE, SIZE, 1)) > 0.5).astype(np.uint8)
    labels = rng.integers(0, 3, count)
    return ArraySet(images, labels, masks, [Path(f"{i}.png") for i in range(count)], ["busi"] * count)


def _config(**changes: object) -> TrainConfig:
    settings = {"data": "unused", "out": "unused", "image_size": SIZE, "batch_size": 4, "seg_head": True,
                "ultrasound_augment": 1.0, "mixup": 0.2, "cutmix": 1.0}
    return TrainConfig(**{**settings, **changes})


def _digest(batches: object, epochs: int = 2) -> str:
    """sha256 over every tensor of ``epochs`` passes (each pass reshuffles and draws new augmentation)."""
    digest = hashlib.sha256()
    for _ in range(epochs):
        for element in batches:
            for tensor in tf.nest.flatten(element):
                digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def _train_digest(seed: int) -> str:
    set_seeds(seed)
    return _digest(make_train_dataset(_arrays(), _config(seed=seed), np.ones(3, np.float32), 3))


@pytest.mark.parametrize("attempt", range(3))
def test_training_batches_repeat_with_the_seed(attempt: int) -> None:
    assert _train_digest(0) == _train_digest(0)


def test_another_seed_gives_other_batches() -> None:
    assert _train_digest(0) != _train_digest(1)


def test_pretraining_batches_repeat_with_the_seed() -> None:
    def digest() -> str:
        set_seeds(0)
        return _digest(make_pretrain_dataset(_arrays(), _config(), patch=8, ratio=0.5))

    assert digest() == digest()
