"""Mixup in the training pipeline: images, labels, masks and class weights are blended with the same weight."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tests.training.synthetic import CLASS_VALUES, CLASS_WEIGHTS, class_pure_set
from training.config import TrainConfig
from training.train import make_train_dataset

SIZE = 16


def _batches(mixup: float) -> list:
    config = TrainConfig(data="", out="", image_size=SIZE, batch_size=8, augment=0.0, seg_head=True, mixup=mixup)
    return list(make_train_dataset(class_pure_set(SIZE), config, CLASS_WEIGHTS, 3).as_numpy_iterator())


def test_mixup_blends_image_label_mask_and_weight_alike() -> None:
    mixed_rows = 0
    for images, targets, weights in _batches(mixup=0.4):
        labels = targets["logits"]
        np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
        assert (labels.max(axis=1) >= 0.5 - 1e-6).all()  # each example stays mostly itself
        expected_value = labels @ CLASS_VALUES
        np.testing.assert_allclose(images, np.broadcast_to(expected_value[:, None, None, None], images.shape),
                                   rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(targets["mask"][:, 0, 0, 0], labels[:, 0], atol=1e-6)
        np.testing.assert_allclose(weights["logits"], labels @ CLASS_WEIGHTS, rtol=1e-5)
        mixed_rows += int(np.sum(labels.max(axis=1) < 0.999))
    assert mixed_rows > 0


def test_without_mixup_labels_stay_one_hot() -> None:
    for images, targets, weights in _batches(mixup=0.0):
        labels = targets["logits"]
        assert set(np.unique(labels)) <= {0.0, 1.0}
        np.testing.assert_allclose(images[:, 0, 0, 0], labels @ CLASS_VALUES)
        np.testing.assert_allclose(weights["logits"], labels @ CLASS_WEIGHTS)
