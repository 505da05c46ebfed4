"""Self-supervised pretraining of the DenseNet121 backbone by masked-image reconstruction (SimMIM-style).

Random square patches of each training image are hidden (filled with the image's mean grey) and a light decoder on
the backbone's /8, /16 and /32 features predicts the hidden pixels: one 8x8 block of grey values per /8 feature cell,
each block normalised to zero mean and unit variance (as in MAE), with an L1 loss on hidden blocks only. The
backbone then starts a supervised run through ``python -m training train --weights <out>/backbone.weights.h5``.

Only the training split's images are used (the same split ``train`` makes from the same seed, fractions and groups),
so validation and test images stay unseen; no labels or masks are used.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers, ops

from desktop_app.core.integrity import sha256_of_file
from training import precision
from training.config import TrainConfig
from training.fast_kernels import fast_training_kernels
from training.model import (
    PRETRAIN_INFO_NAME,
    ModelSpec,
    build_backbone,
    check_image_size,
    normalisation_layer,
    save_backbone,
)
from training.train import (
    ArraySet,
    _photometric,
    build_before_fit,
    cosine_schedule,
    make_augmenter,
    make_optimizer,
    map_in_order,
    start_run,
)

#: Output stride of the decoder: one predicted block of CELL x CELL grey values per /8 feature cell.
CELL = 8
BACKBONE_WEIGHTS_NAME = "backbone.weights.h5"


def hidden_patches(batch: int, image_size: int, patch: int, ratio: float, seed: tf.Tensor | None = None
                   ) -> tf.Tensor:
    """1.0 where a pixel is hidden: a random ``ratio`` of the ``patch`` x ``patch`` squares, float32 [B, H, W, 1]."""
    if image_size % patch or patch % CELL:
        raise ValueError(f"patch {patch} must divide the image size {image_size} and be a multiple of {CELL}")
    grid = image_size // patch
    draws = tf.random.uniform([batch, grid, grid, 1]) if seed is None else \
        tf.random.stateless_uniform([batch, grid, grid, 1], seed)
    hidden = tf.cast(draws < ratio, tf.float32)
    return tf.repeat(tf.repeat(hidden, patch, axis=1), patch, axis=2)


def hide(images: tf.Tensor, hidden: tf.Tensor) -> tf.Tensor:
    """Hidden pixels of float RGB images replaced by each image's mean value."""
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return images * (1.0 - hidden) + mean * hidden


def block_targets(images: tf.Tensor, hidden: tf.Tensor) -> tf.Tensor:
    """[B, H/8, W/8, 64 + 1]: each 8x8 block of grey values normalised per block, then the block's hidden flag."""
    grey = tf.reduce_mean(images, axis=-1, keepdims=True) / 255.0
    blocks = tf.nn.space_to_depth(grey, CELL)
    mean = tf.reduce_mean(blocks, axis=-1, keepdims=True)
    std = tf.math.reduce_std(blocks, axis=-1, keepdims=True)
    normalised = (blocks - mean) / (std + 1e-2)
    hidden_blocks = tf.nn.avg_pool2d(hidden, CELL, CELL, "VALID")  # patches align with blocks: 0 or 1
    return tf.concat([normalised, hidden_blocks], axis=-1)


def masked_l1(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Mean absolute error over the hidden blocks only (per image; zero for an image with nothing hidden)."""
    target, hidden = y_true[..., :-1], y_true[..., -1:]
    error = tf.abs(tf.cast(y_pred, tf.float32) - target) * hidden
    count = tf.reduce_sum(hidden, axis=[1, 2, 3]) * tf.cast(tf.shape(target)[-1], tf.float32)
    return tf.reduce_sum(error, axis=[1, 2, 3]) / tf.maximum(count, 1.0)


def build_reconstruction_model(spec: ModelSpec, width: int = 64) -> tuple[keras.Model, keras.Model]:
    """(model: raw RGB 0..255 -> predicted blocks [B, H/8, W/8, 64], its DenseNet121 backbone)."""
    backbone = build_backbone(spec)
    image = keras.Input((*spec.image_size, 3), name="image")
    f8, f16, f32 = backbone(normalisation_layer()(image))
    x = ops.add(layers.UpSampling2D(2, interpolation="bilinear")(layers.Conv2D(width, 1, activation="relu")(f32)),
                layers.Conv2D(width, 1, activation="relu")(f16))
    x = ops.add(layers.UpSampling2D(2, interpolation="bilinear")(x), layers.Conv2D(width, 1, activation="relu")(f8))
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    blocks = layers.Conv2D(CELL * CELL, 1)(x)
    blocks = layers.Identity(name="blocks", dtype="float32")(blocks)
    return keras.Model(image, blocks, name="densenet121_mim"), backbone


def make_pretrain_dataset(arrays: ArraySet, config: TrainConfig, patch: int, ratio: float) -> tf.data.Dataset:
    """Shuffled, augmented (image with hidden patches, block targets) batches."""
    augmenter = make_augmenter(config.augment) if config.augment > 0 else None
    dataset = tf.data.Dataset.from_tensor_slices(arrays.images)
    dataset = dataset.shuffle(len(arrays), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(config.batch_size, drop_remainder=len(arrays) > config.batch_size)

    def transform(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.cast(images, tf.float32)
        if augmenter is not None:
            images = _photometric(augmenter(images, training=True), config.augment)
        hidden = hidden_patches(tf.shape(images)[0], config.image_size, patch, ratio)
        return hide(images, hidden), block_targets(images, hidden)

    return map_in_order(dataset, transform).prefetch(2)


def pretrain(config: TrainConfig, patch: int = 16, mask_ratio: float = 0.5) -> Path:
    """Masked-image pretraining for ``config.epochs`` epochs on the training split; returns the backbone file."""
    check_image_size(config.size, feature_pyramid=True)  # the decoder is a pyramid; checked before any data loads
    run_dir, started, prepared = start_run(config)
    images = prepared.train
    dataset = make_pretrain_dataset(images, config, patch, mask_ratio)
    steps = int(dataset.cardinality().numpy())
    spec = ModelSpec(num_classes=len(prepared.classes), image_size=config.size, weights="none")
    with (precision.training_dtype(config.mixed_precision) as policy,
          fast_training_kernels(config.fast_cpu_kernels)):
        model, backbone = build_reconstruction_model(spec)
        schedule = cosine_schedule(config.learning_rate, config.epochs, steps, config.warmup_epochs)
        model.compile(optimizer=make_optimizer(config, schedule), loss=masked_l1)
        build_before_fit(model, dataset)
        print(f"pretraining: masked-image reconstruction on {len(images)} training images, {config.epochs} epochs, "
              f"{patch}-pixel patches, {mask_ratio:.0%} hidden", flush=True)
        fit_start = time.time()
        history = model.fit(dataset, epochs=config.epochs, verbose=config.verbose).history
        fit_seconds = time.time() - fit_start
    out = save_backbone(backbone, config.size, run_dir / BACKBONE_WEIGHTS_NAME)
    info = {
        "weights_sha256": sha256_of_file(out),
        "method": (f"masked-image reconstruction (SimMIM-style: {mask_ratio:.0%} of {patch}-pixel patches hidden, "
                   "per-block normalised grey targets, L1 on hidden blocks)"),
        "images": len(images),
        "data": [Path(config.data).name, *(Path(p).name for p in config.extra_data)],
        "split_seed": config.data_split_seed,
        "epochs": config.epochs,
        "image_size": config.image_size,
        "loss_first_last": [round(float(history["loss"][0]), 4), round(float(history["loss"][-1]), 4)],
        "precision": policy,
        "fit_seconds": round(fit_seconds, 1),
        "wall_seconds": round(time.time() - started, 1),
        "recipe": dataclasses.asdict(config),
    }
    (run_dir / PRETRAIN_INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {out} ({info['wall_seconds']:.0f} s; loss {info['loss_first_last'][0]} -> "
          f"{info['loss_first_last'][1]})", flush=True)
    return out
