"""Faster CPU kernels for training the DenseNet121, with the same arithmetic as Keras' own layers.

A full fine-tune step of the recipe (128 px, batch 16, lesion-mask head, float32) on the 2-core AVX2 CPU spent 62 %
of its op time in TensorFlow's ``Conv2DBackpropFilter`` / ``Conv2DBackpropInput`` kernels (4-10x the time of the
forward convolution they differentiate) and about a quarter in Keras 3's BatchNormalization, which is built from
``moments`` and elementwise ops (profile: training/RESULTS.md). Inside ``fast_training_kernels()``:

- stride-1 convolutions with an odd kernel and "same" padding (DenseNet's 1x1 and 3x3, the lesion-mask head's)
  get a custom gradient: for 1x1 kernels two matrix products; for k x k kernels the input gradient is a forward
  convolution of the output gradient with the flipped, transposed kernel, and the kernel gradient a forward
  convolution of the (padded, transposed) input with the (transposed) output gradient;
- BatchNormalization runs TensorFlow's fused kernel (``FusedBatchNormV3`` and its fused gradient); moving
  statistics are updated exactly as Keras does (momentum, biased batch variance).

Layers traced outside the block (the export to ONNX, predictions after training) keep Keras' own code, so exported
graphs do not change. CPU only: where TensorFlow sees a GPU the block changes nothing (cuDNN's kernels are fast).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import tensorflow as tf
from keras.src.layers.convolutional.base_conv import BaseConv
from keras.src.layers.normalization.batch_normalization import BatchNormalization

_KERAS_BATCHNORM_CALL = BatchNormalization.call
_KERAS_CONVOLUTION_OP = BaseConv.convolution_op


@tf.custom_gradient
def conv2d_same_stride1(inputs: tf.Tensor, kernel: tf.Tensor) -> tuple[tf.Tensor, object]:
    """``tf.nn.conv2d(inputs, kernel, 1, "SAME")`` (NHWC, odd kernel) whose gradient avoids TF's backprop kernels."""
    outputs = tf.nn.conv2d(inputs, kernel, strides=1, padding="SAME")

    def gradient(output_gradient: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        height, width, in_channels, out_channels = kernel.shape
        if height == 1 and width == 1:
            flat_inputs = tf.reshape(inputs, [-1, in_channels])
            flat_gradient = tf.reshape(output_gradient, [-1, out_channels])
            matrix = tf.reshape(kernel, [in_channels, out_channels])
            input_gradient = tf.reshape(tf.matmul(flat_gradient, matrix, transpose_b=True), tf.shape(inputs))
            kernel_gradient = tf.reshape(tf.matmul(flat_inputs, flat_gradient, transpose_a=True), kernel.shape)
            return input_gradient, kernel_gradient
        flipped = tf.transpose(tf.reverse(kernel, axis=[0, 1]), [0, 1, 3, 2])
        input_gradient = tf.nn.conv2d(output_gradient, flipped, strides=1, padding="SAME")
        padded = tf.pad(inputs, [[0, 0], [height // 2] * 2, [width // 2] * 2, [0, 0]])
        # Channels as the batch and the batch as channels: the kernel gradient is a "valid" convolution of the
        # padded input with the output gradient, which gives [C_in, kh, kw, C_out].
        kernel_gradient = tf.nn.conv2d(tf.transpose(padded, [3, 1, 2, 0]), tf.transpose(output_gradient, [1, 2, 0, 3]),
                                       strides=1, padding="VALID")
        return input_gradient, tf.reshape(tf.transpose(kernel_gradient, [1, 2, 0, 3]), kernel.shape)

    return outputs, gradient


def _has_fast_gradient(layer: BaseConv, kernel_shape: tuple) -> bool:
    odd = kernel_shape[0] % 2 == 1 and kernel_shape[1] % 2 == 1
    pointwise = kernel_shape[0] == 1 and kernel_shape[1] == 1
    return (layer.rank == 2 and layer.groups == 1 and layer.data_format == "channels_last" and odd
            and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and (layer.padding == "same" or pointwise))


def _convolution_op(self: BaseConv, inputs, kernel):
    if _has_fast_gradient(self, tuple(kernel.shape)):
        return conv2d_same_stride1(inputs, tf.cast(kernel, inputs.dtype))
    return _KERAS_CONVOLUTION_OP(self, inputs, kernel)


def _batchnorm_call(self: BatchNormalization, inputs, training=None, mask=None):
    if mask is not None or self.renorm or len(inputs.shape) != 4 or self.axis not in (-1, 3):
        return _KERAS_BATCHNORM_CALL(self, inputs, training=training, mask=mask)
    inputs = tf.cast(inputs, tf.float32)  # as Keras: statistics in float32 under mixed precision
    channels = inputs.shape[-1]
    gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels])
    beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels])
    if training and self.trainable:
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True)
        # The fused kernel returns the unbiased (n - 1) batch variance; Keras' moving variance uses the biased one.
        shape = tf.shape(inputs)
        count = tf.cast(shape[0] * shape[1] * shape[2], tf.float32)
        variance = variance * (count - 1.0) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
    else:
        outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
            inputs, gamma, beta, mean=tf.cast(self.moving_mean, tf.float32),
            variance=tf.cast(self.moving_variance, tf.float32), epsilon=self.epsilon, data_format="NHWC",
            is_training=False)
    return tf.cast(outputs, self.compute_dtype)


def fast_kernels_apply() -> bool:
    """True on a CPU-only machine (where TensorFlow sees no GPU)."""
    return not tf.config.list_physical_devices("GPU")


@contextmanager
def fast_training_kernels(enabled: bool = True) -> Iterator[bool]:
    """Models traced inside this block (``fit``'s train step) use the faster kernels; yields whether they do."""
    active = enabled and fast_kernels_apply()
    if not active:
        yield False
        return
    BatchNormalization.call = _batchnorm_call
    BaseConv.convolution_op = _convolution_op
    try:
        yield True
    finally:
        BatchNormalization.call = _KERAS_BATCHNORM_CALL
        BaseConv.convolution_op = _KERAS_CONVOLUTION_OP
