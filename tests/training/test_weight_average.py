"""Tail weight averaging: the kept weights are the mean of the weights after each averaged epoch."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras

from training.train import TailWeightAverage


def _tiny_model() -> keras.Model:
    inputs = keras.Input((4,))
    x = keras.layers.Dense(3)(inputs)
    x = keras.layers.BatchNormalization()(x)  # non-trainable moving statistics are averaged too
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def test_average_covers_only_epochs_from_the_first_averaged_one() -> None:
    model = _tiny_model()
    averager = TailWeightAverage(first_epoch=2)
    averager.set_model(model)
    rng = np.random.default_rng(0)
    seen = []
    for epoch in range(5):
        weights = [rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()]
        model.set_weights(weights)
        averager.on_epoch_end(epoch)
        seen.append(weights)
    assert averager.count == 3
    averaged = averager.averaged_weights(model.get_weights())
    assert len(averaged) == len(model.get_weights()) == 8  # 2 + 4 (BN: gamma, beta, mean, variance) + 2
    for index, value in enumerate(averaged):
        expected = np.mean([weights[index] for weights in seen[2:]], axis=0)
        np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-7)
        assert value.dtype == np.float32
        assert not np.allclose(value, seen[-1][index])  # not just the last epoch


def test_no_averaged_epoch_is_an_error_not_zeros() -> None:
    averager = TailWeightAverage(first_epoch=10)
    averager.set_model(_tiny_model())
    averager.on_epoch_end(3)
    assert averager.count == 0
    with pytest.raises(ValueError, match="no epoch"):
        averager.averaged_weights([])
