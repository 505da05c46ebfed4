"""``--swa-learning-rate``: the cosine reaches a floor where the averaging window begins and holds it there."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from training.config import ConfigError, TrainConfig
from training.train import _compile, check_config, cosine_schedule, fine_tune_schedule

PEAK = 1e-3
STEPS = 5  # steps per epoch


def _config(**overrides: object) -> TrainConfig:
    values = {"data": "unused", "out": "unused", "image_size": 128, "epochs": 36, "average_last_epochs": 10,
              "warmup_epochs": 1}
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


class _Models:
    """The one attribute ``_compile`` reads: a tiny model with a ``logits`` output."""

    def __init__(self) -> None:
        import keras

        inputs = keras.Input((4,))
        self.training_model = keras.Model(inputs, {"logits": keras.layers.Dense(3, name="logits")(inputs)})


def _rates(schedule: object, steps: int) -> np.ndarray:
    return np.array([float(schedule(step)) for step in range(steps)])  # type: ignore[operator]


def test_swa_rate_is_held_through_the_averaging_window() -> None:
    config = _config(swa_learning_rate=0.2)
    rates = _rates(fine_tune_schedule(config, PEAK, config.epochs, STEPS), config.epochs * STEPS)
    window_start = (config.epochs - config.average_last_epochs) * STEPS
    np.testing.assert_allclose(rates[window_start:], 0.2 * PEAK, rtol=1e-6)
    assert rates[window_start - 1] > 0.2 * PEAK  # still decaying one step before the window
    assert rates[:window_start].max() == pytest.approx(PEAK, rel=1e-6)  # the peak after warm-up is unchanged
    assert np.all(np.diff(rates[STEPS:window_start]) < 0)  # cosine decay between warm-up and window


def test_without_the_flag_the_schedule_decays_to_one_percent_at_the_end() -> None:
    config = _config()
    total = config.epochs * STEPS
    rates = _rates(fine_tune_schedule(config, PEAK, config.epochs, STEPS), total + 1)
    warmup = STEPS
    step = warmup + 70
    expected = PEAK * (0.99 * 0.5 * (1 + math.cos(math.pi * 70 / (total - warmup))) + 0.01)
    assert rates[step] == pytest.approx(expected, rel=1e-5)
    assert rates[total] == pytest.approx(0.01 * PEAK, rel=1e-6)
    np.testing.assert_allclose(rates, _rates(cosine_schedule(PEAK, config.epochs, STEPS, 1), total + 1))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"swa_learning_rate": 1.5}, "fraction of the peak"),
        ({"swa_learning_rate": -0.1}, "fraction of the peak"),
        ({"swa_learning_rate": 0.2, "average_last_epochs": 0}, "needs --average-last-epochs"),
        ({"swa_learning_rate": 0.2, "average_last_epochs": 36}, "needs --average-last-epochs"),
    ],
)
def test_impossible_swa_plans_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_config(_config(**overrides))


def test_a_sound_swa_plan_passes() -> None:
    check_config(_config(swa_learning_rate=0.2))


def test_only_the_fine_tune_stage_gets_the_swa_schedule() -> None:
    config = _config(swa_learning_rate=0.2, seg_head=False)
    last = config.epochs * STEPS - 1
    models = _Models()
    _compile(models, config, PEAK, config.epochs, STEPS, fine_tune=True)  # type: ignore[arg-type]
    assert float(models.training_model.optimizer._learning_rate(last)) == pytest.approx(0.2 * PEAK)
    _compile(models, config, PEAK, config.epochs, STEPS)  # type: ignore[arg-type]  # e.g. the frozen stage
    assert float(models.training_model.optimizer._learning_rate(last)) < 0.02 * PEAK
