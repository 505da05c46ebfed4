"""Scanner-like augmentation (--ultrasound-augment): resolution, depth gain and speckle change the image, not the mask."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.training.synthetic import CLASS_WEIGHTS, class_pure_set
from training.config import TrainConfig
from training.train import depth_gain, make_train_dataset, resolution_jitter, speckle, ultrasound_augment

SIZE = 32


def _textured(batch: int = 8, seed: int = 0) -> np.ndarray:
    """Grey images (three equal channels) of fine random texture inside a scan sector, black outside it."""
    rng = np.random.default_rng(seed)
    grey = rng.uniform(40, 200, size=(batch, SIZE, SIZE, 1)).astype(np.float32)
    grey[:, :, : SIZE // 4] = 0.0  # a black band, as outside the sector of a real scan
    return np.repeat(grey, 3, axis=-1)


def test_strength_zero_is_the_identity() -> None:
    images = _textured()
    np.testing.assert_array_equal(ultrasound_augment(tf.constant(images), 0.0).numpy(), images)


def test_output_stays_grey_in_range_and_black_outside_the_sector() -> None:
    tf.random.set_seed(3)
    images = _textured()
    out = ultrasound_augment(tf.constant(images), 1.0).numpy()
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    np.testing.assert_array_equal(out[..., 0], out[..., 1])  # one noise field for all channels
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    # no additive change: pixels well inside the black band stay black (the blur reaches 1-2 pixels across the edge)
    assert np.abs(out[:, :, : SIZE // 4 - 3]).max() == 0.0
    changed = np.abs(out - images).mean(axis=(1, 2, 3))
    assert (changed > 0.5).all()  # every image is altered (speckle and depth gain are drawn per image)
    assert len(np.unique(np.round(changed, 3))) == len(changed)


def test_depth_gain_brightens_deep_rows_for_a_positive_slope() -> None:
    flat = tf.fill([2, SIZE, SIZE, 3], 100.0)
    out = depth_gain(flat, tf.constant([0.5, -0.5])).numpy()
    rows_up, rows_down = out[0, :, 0, 0], out[1, :, 0, 0]
    assert np.all(np.diff(rows_up) > 0) and np.all(np.diff(rows_down) < 0)
    np.testing.assert_allclose(rows_up[[0, -1]], 100.0 * np.exp([-0.25, 0.25]), rtol=1e-5)
    np.testing.assert_allclose(out[..., 0], out[..., 1])  # the gain depends on the row only


def test_speckle_is_multiplicative_with_the_drawn_spread() -> None:
    tf.random.set_seed(0)
    flat = tf.fill([2, 64, 64, 1], 100.0)
    out = speckle(flat, tf.constant([0.0, 0.2])).numpy()
    np.testing.assert_array_equal(out[0], 100.0)  # sigma 0: untouched
    relative = out[1] / 100.0 - 1.0
    assert abs(relative.mean()) < 0.05
    assert 0.05 < relative.std() < 0.2  # bilinear upsampling smooths N(0, 1) a little
    assert np.all(speckle(tf.zeros([1, 8, 8, 1]), tf.constant([0.2])).numpy() == 0.0)


def test_resolution_jitter_removes_fine_detail_from_about_half_the_images() -> None:
    tf.random.set_seed(1)
    checker = (np.indices((SIZE, SIZE)).sum(axis=0) % 2 * 200.0).astype(np.float32)
    images = np.repeat(checker[None, :, :, None], 64, axis=0)
    out = resolution_jitter(tf.constant(images), 1.0).numpy()
    blurred = np.abs(out - images).mean(axis=(1, 2, 3)) > 1.0
    untouched = np.all(out == images, axis=(1, 2, 3))
    assert np.all(blurred | untouched)
    assert 16 <= blurred.sum() <= 48
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 100.0, rtol=0.05)  # detail lost, brightness kept


def test_training_pipeline_applies_it_to_images_only() -> None:
    arrays = class_pure_set(SIZE)

    def first_batch(strength: float) -> tuple:
        tf.random.set_seed(2)  # the same shuffle for both pipelines
        config = TrainConfig(data="", out="", image_size=SIZE, batch_size=8, augment=0.0, seg_head=True,
                             ultrasound_augment=strength, seed=0)
        return next(make_train_dataset(arrays, config, CLASS_WEIGHTS, 3).as_numpy_iterator())

    plain_images, plain_targets, _ = first_batch(0.0)
    images, targets, _ = first_batch(1.0)
    np.testing.assert_array_equal(targets["logits"], plain_targets["logits"])  # same shuffle, same labels
    np.testing.assert_array_equal(targets["mask"], plain_targets["mask"])
    assert not np.allclose(images, plain_images)
