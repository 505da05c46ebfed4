"""BatchNorm statistics recomputed for the kept weights: the mean of per-batch statistics over the training images."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras

from training.train import batchnorm_layers, recompute_batchnorm

FEATURES = 5


def _model_with_nested_batchnorm() -> tuple[keras.Model, keras.layers.BatchNormalization, keras.layers.BatchNormalization]:
    inner_input = keras.Input((FEATURES,))
    first = keras.layers.BatchNormalization(momentum=0.9, name="first_bn")
    inner = keras.Model(inner_input, keras.layers.Dense(4)(first(inner_input)), name="inner")
    inputs = keras.Input((FEATURES,))
    second = keras.layers.BatchNormalization(name="second_bn")
    outputs = keras.layers.Dense(2)(second(inner(inputs)))
    return keras.Model(inputs, outputs), first, second


def test_layers_are_found_inside_nested_models_once() -> None:
    model, first, second = _model_with_nested_batchnorm()
    assert batchnorm_layers(model) == [first, second]


def test_statistics_are_the_mean_of_the_batch_statistics_in_the_seeded_order() -> None:
    model, first, second = _model_with_nested_batchnorm()
    first.trainable = False  # frozen before: must still be refreshed, then left frozen
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(37, FEATURES)).astype(np.uint8)  # 4 full batches of 8, 5 left over
    batches = recompute_batchnorm(model, images, batch_size=8, seed=3)
    assert batches == 4
    order = np.random.default_rng(3).permutation(len(images))
    chosen = [images[np.sort(order[i * 8:(i + 1) * 8])].astype(np.float64) for i in range(4)]
    np.testing.assert_allclose(np.asarray(first.moving_mean), np.mean([b.mean(axis=0) for b in chosen], axis=0),
                               rtol=1e-5)
    np.testing.assert_allclose(np.asarray(first.moving_variance), np.mean([b.var(axis=0) for b in chosen], axis=0),
                               rtol=1e-4)
    every_image_variance = images.astype(np.float64).var(axis=0)
    assert not np.allclose(np.asarray(first.moving_variance), every_image_variance, rtol=1e-3)  # not one big batch
    assert np.all(np.asarray(second.moving_variance) != 1.0)  # the layer behind the nested model was refreshed too
    assert first.momentum == 0.9 and second.momentum == 0.99
    assert first.trainable is False and second.trainable is True


def test_inference_then_normalises_with_the_new_statistics() -> None:
    model, first, _ = _model_with_nested_batchnorm()
    images = np.random.default_rng(1).integers(100, 200, size=(32, FEATURES)).astype(np.uint8)
    before = np.asarray(model(images.astype(np.float32), training=False))
    recompute_batchnorm(model, images, batch_size=16, seed=0)
    after = np.asarray(model(images.astype(np.float32), training=False))
    assert not np.allclose(before, after)
    normalised = np.asarray(first(images.astype(np.float32), training=False))
    assert abs(float(normalised.mean())) < 0.1  # centred: the fresh statistics are the data's


def test_fewer_images_than_a_batch_is_refused() -> None:
    model, _, _ = _model_with_nested_batchnorm()
    with pytest.raises(ValueError, match="at least one full batch of 16"):
        recompute_batchnorm(model, np.zeros((15, FEATURES), np.uint8), batch_size=16, seed=0)
