"""training.fast_kernels: the faster CPU training kernels compute what Keras' own layers compute."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from training.fast_kernels import conv2d_same_stride1, fast_training_kernels


@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_convolution_and_its_gradients_match_tensorflow(kernel_size: int) -> None:
    rng = np.random.default_rng(kernel_size)
    inputs = tf.constant(rng.standard_normal((2, 7, 9, 5)), tf.float32)
    kernel = tf.constant(rng.standard_normal((kernel_size, kernel_size, 5, 4)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([inputs, kernel])
        expected = tf.nn.conv2d(inputs, kernel, strides=1, padding="SAME")
        actual = conv2d_same_stride1(inputs, kernel)
        expected_loss = tf.reduce_sum(tf.sin(expected) * expected)  # a non-uniform output gradient
        actual_loss = tf.reduce_sum(tf.sin(actual) * actual)
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), atol=1e-5)
    for got, want in zip(tape.gradient(actual_loss, [inputs, kernel]), tape.gradient(expected_loss, [inputs, kernel])):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-3)


def _small_model() -> keras.Model:
    """The layer kinds DenseNet121 trains: 3x3 and 1x1 convolutions, BatchNorm, and a strided conv (Keras' path)."""
    keras.utils.set_random_seed(0)
    image = keras.Input((12, 10, 3))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(image)
    x = layers.Activation("relu")(layers.BatchNormalization(epsilon=1.001e-5)(x))
    x = layers.BatchNormalization()(layers.Conv2D(6, 1, use_bias=False)(x))  # a bias before BN gets ~0 gradient
    x = layers.Conv2D(4, 3, strides=2, padding="same")(x)
    return keras.Model(image, layers.Dense(3)(layers.GlobalAveragePooling2D()(x)))


def _train_step(model: keras.Model):
    @tf.function
    def step(images: tf.Tensor) -> tuple[tf.Tensor, list[tf.Tensor]]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(model(images, training=True) - 1.0))
        return loss, tape.gradient(loss, model.trainable_variables)
    return step


def _op_types(step, images: tf.Tensor) -> list[str]:
    return [op.type for op in step.get_concrete_function(images).graph.get_operations()]


def test_a_training_step_matches_keras_and_runs_the_fast_kernels() -> None:
    images = tf.constant(np.random.default_rng(1).uniform(0, 255, (4, 12, 10, 3)), tf.float32)
    keras_model, fast_model = _small_model(), _small_model()
    fast_model.set_weights(keras_model.get_weights())

    keras_step = _train_step(keras_model)
    keras_ops = _op_types(keras_step, images)
    with fast_training_kernels() as active:
        fast_step = _train_step(fast_model)
        fast_ops = _op_types(fast_step, images)
    assert active
    # Keras' path: unfused BatchNorm, a backprop kernel for each of the three convolutions' kernels.
    assert "FusedBatchNormV3" not in keras_ops and keras_ops.count("Conv2DBackpropFilter") == 3
    # Fast path: fused BatchNorm and its fused gradient; only the strided convolution keeps TF's backprop kernel.
    assert fast_ops.count("FusedBatchNormV3") == 2 and fast_ops.count("FusedBatchNormGradV3") == 2
    assert fast_ops.count("Conv2DBackpropFilter") == 1

    initial_statistics = [weight.numpy() for weight in keras_model.non_trainable_weights]
    keras_loss, keras_gradients = keras_step(images)
    fast_loss, fast_gradients = fast_step(images)  # traced inside the block: runs the fast graph outside it too
    np.testing.assert_allclose(fast_loss.numpy(), keras_loss.numpy(), rtol=1e-5)
    for fast, expected in zip(fast_gradients, keras_gradients):
        np.testing.assert_allclose(fast.numpy(), expected.numpy(), rtol=1e-3, atol=1e-3 * np.abs(expected).max())
    # Moving statistics: the same momentum update with the biased batch variance.
    for fast, expected, initial in zip(fast_model.non_trainable_weights, keras_model.non_trainable_weights,
                                       initial_statistics):
        assert not np.allclose(expected.numpy(), initial)  # the step did update them
        np.testing.assert_allclose(fast.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
    # Inference mode (moving statistics) agrees as well.
    with fast_training_kernels():
        fast_inference = fast_model(images, training=False)
    np.testing.assert_allclose(fast_inference.numpy(), keras_model(images, training=False).numpy(), rtol=1e-4,
                               atol=1e-4)


def test_keras_code_is_back_after_the_block_and_when_disabled() -> None:
    images = tf.constant(np.zeros((2, 12, 10, 3)), tf.float32)
    with fast_training_kernels(enabled=False) as active:
        disabled_ops = _op_types(_train_step(_small_model()), images)
    with fast_training_kernels():
        pass
    after_ops = _op_types(_train_step(_small_model()), images)
    assert not active
    for ops in (disabled_ops, after_ops):
        assert "FusedBatchNormV3" not in ops and ops.count("Conv2DBackpropFilter") == 3
