"""``--optimizer``: AdamW (the default) or SGD with Nesterov momentum, both with decoupled weight decay."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras

from training.config import ConfigError, TrainConfig
from training.train import SGD_MOMENTUM, _compile, check_config, make_optimizer

RATE = 0.05
DECAY = 0.01


def _config(**overrides: object) -> TrainConfig:
    values = {"data": "unused", "out": "unused", "image_size": 128, "epochs": 4, "weight_decay": DECAY,
              "seg_head": False}
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


class _Models:
    """The one attribute ``_compile`` reads: a linear model with a ``logits`` output and no bias."""

    def __init__(self) -> None:
        inputs = keras.Input((2,))
        dense = keras.layers.Dense(3, use_bias=False, kernel_initializer="ones", name="logits")
        self.training_model = keras.Model(inputs, {"logits": dense(inputs)})


def test_the_default_is_adamw_and_sgd_has_nesterov_momentum() -> None:
    assert isinstance(make_optimizer(_config(), RATE), keras.optimizers.AdamW)
    sgd = make_optimizer(_config(optimizer="sgd"), RATE)
    assert isinstance(sgd, keras.optimizers.SGD) and not isinstance(sgd, keras.optimizers.AdamW)
    assert sgd.nesterov and sgd.momentum == SGD_MOMENTUM and sgd.weight_decay == DECAY


def test_an_sgd_step_is_the_gradient_step_plus_the_rate_scaled_decay() -> None:
    """One step from zero momentum: w - rate * (1 + momentum) * grad (Nesterov) - rate * decay * w."""
    models = _Models()
    config = _config(optimizer="sgd", warmup_epochs=0)
    _compile(models, config, RATE, epochs=1000, steps_per_epoch=1)  # type: ignore[arg-type]
    assert isinstance(models.training_model.optimizer, keras.optimizers.SGD)
    x = np.array([[1.0, 2.0]], dtype="float32")
    y = np.array([[1.0, 0.0, 0.0]], dtype="float32")
    kernel = models.training_model.get_layer("logits").kernel
    before = np.array(kernel.numpy())
    models.training_model.train_on_batch(x, {"logits": y})
    after = np.array(kernel.numpy())
    probs = np.full(3, 1 / 3)  # equal logits from the all-ones kernel
    smoothed = y[0] * (1 - config.label_smoothing) + config.label_smoothing / 3
    grad = np.outer(x[0], probs - smoothed)  # cross-entropy gradient of a linear softmax layer
    rate = float(models.training_model.optimizer._learning_rate(0))  # the schedule at the first step
    assert rate == pytest.approx(RATE)
    expected = before - rate * (1 + SGD_MOMENTUM) * grad - rate * DECAY * before
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-6)


def test_an_unknown_optimizer_is_refused_before_any_data() -> None:
    with pytest.raises(ConfigError, match="--optimizer must be one of adamw, sgd"):
        check_config(_config(optimizer="adam"))
