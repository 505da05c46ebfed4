"""CutMix in the training pipeline: a square of a partner image and of its lesion mask, labels blended by area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tests.training.synthetic import CLASS_VALUES, CLASS_WEIGHTS, class_pure_set
from training.config import ConfigError, TrainConfig
from training.train import make_train_dataset, train

SIZE = 32
STRIDE = 8  # the lesion-mask target is at 1/8 of the input


def _batches(cutmix: float) -> list:
    config = TrainConfig(data="", out="", image_size=SIZE, batch_size=8, augment=0.0, seg_head=True, cutmix=cutmix)
    return list(make_train_dataset(class_pure_set(SIZE), config, CLASS_WEIGHTS, 3).as_numpy_iterator())


def test_cutmix_pastes_one_square_and_blends_labels_by_area() -> None:
    pasted_rows = 0
    for _ in range(12):  # many draws: near-even shares must still leave each example mostly itself
        for images, targets, weights in _batches(cutmix=1.0):
            labels = targets["logits"]
            np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
            for image, label, mask, weight in zip(images[..., 0], labels, targets["mask"][..., 0], weights["logits"]):
                own = int(np.argmax(label))
                assert label[own] >= 0.5 - 1e-6  # each example stays mostly itself
                assert set(np.unique(image)) <= set(CLASS_VALUES)  # pasted, not blended
                foreign = image != CLASS_VALUES[own]
                # The label's foreign share is the share of pixels pasted in, and they form one square.
                assert foreign.mean() == pytest.approx(1.0 - label[own], abs=1e-6)
                assert foreign.mean() <= 0.5  # whole pixels never take more than half of the image
                if foreign.any():
                    rows, cols = np.flatnonzero(foreign.any(axis=1)), np.flatnonzero(foreign.any(axis=0))
                    assert foreign[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()
                    assert abs(len(rows) - len(cols)) <= 1  # a square, to the pixel
                    pasted_rows += 1
                # The mask target carries the same square (lesion = class 0 images), at 1/8 resolution: every cell
                # wholly inside or wholly outside the square says what its pixels say (edge cells may go either way).
                lesion = image == CLASS_VALUES[0]
                lesion_share = lesion.reshape(SIZE // STRIDE, STRIDE, SIZE // STRIDE, STRIDE).mean(axis=(1, 3))
                whole = (lesion_share == 0) | (lesion_share == 1)
                np.testing.assert_array_equal(mask[whole], lesion_share[whole])
                assert set(np.unique(mask)) <= {0.0, 1.0}
                assert weight == pytest.approx(label @ CLASS_WEIGHTS, rel=1e-5)
    assert pasted_rows > 0


def test_cutmix_and_mixup_together_are_refused(tmp_path: Path) -> None:
    config = TrainConfig(data=str(tmp_path), out=str(tmp_path / "run"), image_size=SIZE, mixup=0.2, cutmix=1.0)
    with pytest.raises(ConfigError, match="--mixup and --cutmix"):
        train(config)
