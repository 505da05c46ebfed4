"""build_before_fit: the train step is traced once, not twice (its first trace no longer creates variables)."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keras

from training.train import build_before_fit


def _traces_in_one_fit(build_first: bool) -> int:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(4, activation="relu")(inputs)))
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["categorical_accuracy"])
    rng = np.random.default_rng(0)
    features = rng.normal(size=(16, 8)).astype(np.float32)
    targets = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    dataset = tf.data.Dataset.from_tensor_slices((features, targets)).batch(4, drop_remainder=True)
    traces = 0
    train_step = model.train_step

    def counting_step(data):  # Python runs only while TensorFlow traces the step
        nonlocal traces
        traces += 1
        return train_step(data)

    model.train_step = counting_step
    if build_first:
        build_before_fit(model, dataset)
        assert model.optimizer.built
    model.fit(dataset, epochs=2, verbose=0)
    return traces


def test_train_step_is_traced_once_after_build_before_fit() -> None:
    assert _traces_in_one_fit(build_first=True) == 1
    # Keras without it: the first trace creates the optimizer's variables, so TensorFlow traces again.
    assert _traces_in_one_fit(build_first=False) == 2
