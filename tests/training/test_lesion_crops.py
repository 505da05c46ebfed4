"""Lesion-aware zoomed crops (``train --lesion-crops``): windows, labels, masks and how batches draw them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training import lesion_crops
from training.lesion_crops import crop_variants, crop_windows, expected_labels

BENIGN, MALIGNANT, NORMAL = 0, 1, 2


def _scan(height: int = 120, width: int = 160, tissue_near_lesion_only: bool = False
          ) -> tuple[Image.Image, np.ndarray]:
    """Grey tissue (value 120) with a dark 30 x 40 lesion at rows 20-50, columns 100-140 (with
    ``tissue_near_lesion_only``, the rest of the frame black but for 10 pixels around it). Returns (image, mask)."""
    pixels = np.full((height, width), 120, np.uint8)
    if tissue_near_lesion_only:
        pixels[:] = 0
        pixels[10:60, 90:150] = 120
    mask = np.zeros((height, width), bool)
    mask[20:50, 100:140] = True
    pixels[mask] = 30
    return Image.fromarray(pixels), mask


def _overlaps(box: tuple[int, int, int, int], other: tuple[int, int, int, int]) -> bool:
    return box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]


def test_lesion_window_holds_the_whole_lesion_and_the_clear_window_none_of_it() -> None:
    image, mask = _scan()
    grey = np.asarray(image)
    for seed in range(20):
        around, clear = crop_windows(mask, grey, MALIGNANT, NORMAL, np.random.default_rng(seed))
        (top, left, bottom, right), label = around
        assert label == MALIGNANT
        assert top <= 20 and left <= 100 and bottom >= 50 and right >= 140  # the whole lesion is inside
        assert 0 <= top and 0 <= left and bottom <= 120 and right <= 160  # and the window inside the image
        assert clear is not None and clear[1] == NORMAL
        margin = round(lesion_crops.CLEAR_MARGIN * 160)
        assert not _overlaps(clear[0], (20 - margin, 100 - margin, 50 + margin, 140 + margin))


def test_crops_are_resized_with_their_masks_and_labels() -> None:
    image, mask = _scan()
    variants = crop_variants(image, mask, BENIGN, NORMAL, (32, 32), np.random.default_rng(0))
    assert variants.images.shape == (2, 32, 32, 3) and variants.masks.shape == (2, 32, 32, 1)
    assert variants.valid.tolist() == [True, True]
    assert variants.labels.tolist() == [BENIGN, NORMAL]
    grey = variants.images[..., 0]
    # The lesion crop shows the dark lesion where its mask is, tissue elsewhere; the lesion is zoomed, so it takes
    # a larger share of the crop than of the whole image (1 200 / 19 200 pixels).
    assert variants.masks[0].mean() > mask.mean()
    assert grey[0][variants.masks[0, ..., 0] == 1].mean() < 60
    assert variants.masks[1].sum() == 0 and grey[1].min() >= 100  # no lesion pixel in the clear window


def test_frame_only_windows_are_refused() -> None:
    # Everything clear of the lesion is black frame but for a strip too thin for a window: no clear crop.
    image, mask = _scan(tissue_near_lesion_only=True)
    variants = crop_variants(image, mask, MALIGNANT, NORMAL, (16, 16), np.random.default_rng(1))
    assert variants.valid.tolist() == [True, False]


def test_normal_images_get_two_tissue_windows_and_a_maskless_lesion_class_none() -> None:
    image, _ = _scan()
    empty = np.zeros((120, 160), bool)
    normal = crop_variants(image, empty, NORMAL, NORMAL, (16, 16), np.random.default_rng(2))
    assert normal.valid.tolist() == [True, True] and normal.labels.tolist() == [NORMAL, NORMAL]
    assert normal.masks.sum() == 0
    unknown = crop_variants(image, empty, BENIGN, NORMAL, (16, 16), np.random.default_rng(2))
    assert not unknown.valid.any()


def test_expected_labels_count_each_class_as_drawn() -> None:
    labels = np.array([BENIGN, MALIGNANT, NORMAL])
    crop_labels = np.array([[BENIGN, NORMAL], [MALIGNANT, NORMAL], [NORMAL, NORMAL]])
    valid = np.array([[True, True], [True, False], [False, False]])
    expanded, weights = expected_labels(labels, crop_labels, valid, 0.4, np.array([1.0, 2.0, 1.0]))
    counts = np.bincount(expanded, weights=weights, minlength=3)
    # benign: 0.6 + 0.2; malignant: 2 x (0.6 + 0.4); normal: 0.2 from the benign image's clear crop + 1 (no crops)
    np.testing.assert_allclose(counts, [0.8, 2.0, 1.2])
    assert weights.sum() == pytest.approx(4.0)  # every draw counted once


def test_batches_draw_crops_with_their_labels_masks_and_class_weights() -> None:
    tf = pytest.importorskip("tensorflow")
    from training.train import draw_lesion_crops

    count, size = 64, 4
    images = np.zeros((count, size, size, 3), np.uint8)
    masks = np.ones((count, size, size, 1), np.uint8)
    labels = np.full(count, BENIGN)
    crop_images = np.stack([np.full((count, size, size, 3), 100, np.uint8),
                            np.full((count, size, size, 3), 200, np.uint8)], axis=1)
    crop_masks = np.stack([np.ones((count, size, size, 1), np.uint8), np.zeros((count, size, size, 1), np.uint8)], 1)
    crop_labels = np.tile([BENIGN, NORMAL], (count, 1))
    valid = np.tile([True, True], (count, 1))
    valid[: count // 2, 1] = False  # the first half has only its lesion crop
    class_weight = np.array([1.0, 3.0, 5.0])
    source = np.full(count, 2.0, np.float32)
    tf.random.set_seed(0)

    def draw(share: float) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(t) for t in draw_lesion_crops(
            images, masks, labels, source, crop_images, crop_masks, crop_labels, valid, share=share,
            class_weight=class_weight))

    never = draw(0.0)
    assert (never[0] == 0).all() and (never[2] == BENIGN).all()
    np.testing.assert_allclose(never[3], 2.0)
    out_images, out_masks, out_labels, out_weights = draw(1.0)
    value = out_images[:, 0, 0, 0]
    assert set(value.tolist()) <= {100, 200}  # every image replaced by one of its crops
    assert (value[: count // 2] == 100).all()  # never an invalid crop
    assert {100, 200} <= set(value[count // 2:].tolist())  # both valid crops get drawn
    np.testing.assert_array_equal(out_labels, np.where(value == 200, NORMAL, BENIGN))
    np.testing.assert_array_equal(out_masks[:, 0, 0, 0], np.where(value == 200, 0, 1))
    np.testing.assert_allclose(out_weights, 2.0 * class_weight[out_labels])


def test_training_set_carries_crops_and_class_weights_follow_them(synthetic_busi: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from tests.training.synthetic import CLASSES
    from training.config import TrainConfig
    from training.train import prepare_data, training_class_weights

    config = TrainConfig(data=str(synthetic_busi), out=str(tmp_path), image_size=32, seed=3, val_fraction=0.25,
                         test_fraction=0.25, lesion_crops=0.5)
    prepared = prepare_data(config, tmp_path)
    crops = prepared.train.crops
    assert crops is not None and crops.images.shape == (len(prepared.train), 2, 32, 32, 3)
    assert prepared.val.crops is None and prepared.test.crops is None  # only training draws crops
    lesion = prepared.train.labels != CLASSES.index("normal")
    assert (crops.labels[lesion, 0] == prepared.train.labels[lesion]).all() and crops.valid[lesion, 0].all()
    assert (crops.labels[:, 1][crops.valid[:, 1]] == CLASSES.index("normal")).all()
    with_crops = training_class_weights(prepared.train, config, 3)
    without = training_class_weights(prepared.train, TrainConfig(data="", out=""), 3)
    normal = CLASSES.index("normal")
    assert crops.valid[lesion, 1].any()  # some clear windows, so drawn normals outnumber normal images
    assert with_crops[normal] < without[normal]
    from training.train import make_train_dataset

    config = TrainConfig(data="", out="", image_size=32, batch_size=4, seg_head=True, lesion_crops=1.0)
    images, targets, weights = next(make_train_dataset(prepared.train, config, with_crops, 3).as_numpy_iterator())
    assert images.shape == (4, 32, 32, 3) and targets["mask"].shape == (4, 4, 4, 1)
    np.testing.assert_allclose(weights["logits"], with_crops[targets["logits"].argmax(axis=1)], rtol=1e-6)


def test_lesion_crops_is_refused_outside_zero_to_one() -> None:
    pytest.importorskip("tensorflow")
    from training.config import ConfigError, TrainConfig
    from training.train import check_config

    with pytest.raises(ConfigError, match="lesion-crops"):
        check_config(TrainConfig(data="", out="", image_size=32, lesion_crops=1.5))
