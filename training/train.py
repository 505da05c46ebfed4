"""Training: data -> leakage-safe split -> two-stage DenseNet121 fit -> calibration, report and ONNX export."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from desktop_app.core.imageio import load_image
from desktop_app.core.preprocessing import preprocess
from training import data as data_module
from training import lesion_crops, precision
from training import split as split_module
from training.config import ConfigError, TrainConfig, freeze_steps
from training.fast_kernels import fast_training_kernels
from training.model import ClassifierModels, ImageSizeError, ModelSpec, check_image_size

log = logging.getLogger("training")

CHECKPOINT_NAME = "checkpoint.weights.h5"
CONFIG_NAME = "config.json"
SPLIT_NAME = "split.csv"


@dataclass
class ArraySet:
    """Preprocessed images of one split, in memory."""

    images: np.ndarray  # uint8 [N, H, W, 3]
    labels: np.ndarray  # int [N] (index into classes)
    masks: np.ndarray  # uint8 [N, H, W, 1] in {0, 1}
    paths: list[Path]
    sources: list[str]
    extra: np.ndarray | None = None  # bool [N]: image from --extra-data (None: none is)
    crops: lesion_crops.CropVariants | None = None  # stacked [N, VARIANTS, ...] crops (--lesion-crops; training only)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class PreparedData:
    classes: tuple[str, ...]
    train: ArraySet
    val: ArraySet
    test: ArraySet
    extra_test: ArraySet | None  # held-out part of the extra (other-scanner) data
    counts: dict
    extra_val: ArraySet | None = None  # extra-data patients kept for calibration (--extra-val-fraction)

    def calibration_set(self) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) the calibration is fitted on: --data's validation images, then the extra ones if any."""
        if self.extra_val is None or not len(self.extra_val):
            return self.val.images, self.val.labels
        return (np.concatenate([self.val.images, self.extra_val.images]),
                np.concatenate([self.val.labels, self.extra_val.labels]))


def set_seeds(seed: int) -> None:
    keras.utils.set_random_seed(seed)


def _load_arrays(samples: list, classes: tuple[str, ...], size: tuple[int, int],
                 extra: np.ndarray | None = None, crop_seed: int | None = None) -> ArraySet:
    """Every sample at ``size``; with ``crop_seed``, also its lesion-aware crops (:mod:`training.lesion_crops`)."""
    height, width = size
    images = np.zeros((len(samples), height, width, 3), dtype=np.uint8)
    masks = np.zeros((len(samples), height, width, 1), dtype=np.uint8)
    labels = np.array([classes.index(sample.label) for sample in samples], dtype=np.int64)
    crops = []
    rng = np.random.default_rng(crop_seed) if crop_seed is not None else None
    for index, sample in enumerate(samples):
        image = load_image(sample.path)
        images[index] = preprocess(image, size).astype(np.uint8)
        masks[index, ..., 0] = data_module.load_mask(sample, size) > 0.5
        if rng is not None:
            full_mask = data_module.load_mask(sample, (image.height, image.width)) > 0.5
            crops.append(lesion_crops.crop_variants(image, full_mask, int(labels[index]),
                                                    classes.index(lesion_crops.NO_LESION_CLASS), size, rng))
    stacked = None
    if crops:
        stacked = lesion_crops.CropVariants(*(np.stack([getattr(c, name) for c in crops])
                                              for name in ("images", "masks", "labels", "valid")))
    return ArraySet(images, labels, masks, [s.path for s in samples], [s.source for s in samples], extra, stacked)


def source_weights(arrays: ArraySet, primary_weight: float) -> np.ndarray:
    """Per-image loss weight of its data set: ``primary_weight`` for a --data image, 1 for an --extra-data one."""
    extra = arrays.extra if arrays.extra is not None else np.zeros(len(arrays), dtype=bool)
    return np.where(extra, 1.0, primary_weight).astype(np.float32)


def _cap_per_class(samples: list, cap: int) -> list:
    if cap <= 0:
        return samples
    seen: dict[str, int] = {}
    kept = []
    for sample in samples:
        if seen.get(sample.label, 0) < cap:
            kept.append(sample)
            seen[sample.label] = seen.get(sample.label, 0) + 1
    return kept


def calibration_patients(extra: data_module.Dataset, extra_split: dict[Path, str],
                         config: TrainConfig) -> dict[Path, str]:
    """``{path: "val"}`` for the extra-data training patients kept for calibration (``--extra-val-fraction``).

    Drawn from the training rows only, by patient and stratified by class (``make_split``), so the test patients
    stay those of every other run.
    """
    if config.extra_val_fraction <= 0:
        return {}
    training_rows = data_module.Dataset(extra.root, extra.classes,
                                        tuple(s for s in extra.samples if extra_split[s.path] == "train"))
    fraction = config.extra_val_fraction
    kept = split_module.make_split(training_rows, fractions=(1.0 - fraction, fraction, 0.0),
                                   seed=config.data_split_seed, order=config.split_order)
    return {path: "val" for path, name in kept.items() if name == "val"}


def prepare_data(config: TrainConfig, run_dir: Path) -> PreparedData:
    """Discover, group, split (written to split.csv) and load every image once at the model's input size."""
    dataset = data_module.discover_dataset(config.data, masks_root=config.masks)
    if config.max_images_per_class:
        dataset = data_module.Dataset(
            dataset.root, dataset.classes, tuple(_cap_per_class(list(dataset.samples), config.max_images_per_class))
        )
    log.info("data %s: %s", dataset.root, dataset.counts())
    dataset = split_module.assign_groups(dataset, groups_file=config.groups)
    split_path = run_dir / SPLIT_NAME
    if split_path.exists():  # re-export / resume: keep the split the checkpoint was trained on
        split = split_module.read_split_csv(split_path, dataset.root)
    else:
        train_fraction = 1.0 - config.val_fraction - config.test_fraction
        split = split_module.make_split(
            dataset, fractions=(train_fraction, config.val_fraction, config.test_fraction), seed=config.data_split_seed,
            order=config.split_order,
        )
        split_module.write_split_csv(dataset, split, split_path)
    by_split: dict[str, list] = {"train": [], "val": [], "test": []}
    for sample in dataset.samples:
        by_split[split[sample.path]].append(sample)

    if config.hold_out_device and not config.extra_data:
        raise data_module.DatasetError("--hold-out-device needs --extra-data with a manifest that names devices")
    extra_train: list = []
    extra_val: list = []
    extra_test: list = []
    extra_counts: dict = {}
    for extra_root in config.extra_data:
        extra = data_module.discover_busbra(extra_root)
        extra_split = split_module.make_split(extra, fractions=(0.8, 0.0, 0.2), seed=config.data_split_seed,
                                              order=config.split_order)
        # Everything not used for training is the other-scanner test set, and so is every patient of a held-out
        # scanner (leave-one-scanner-out).
        held_groups = data_module.hold_out_devices(extra.samples, config.hold_out_device)
        extra_split = {sample.path: "test" if sample.group in held_groups or extra_split[sample.path] != "train"
                       else "train" for sample in extra.samples}
        extra_split.update(calibration_patients(extra, extra_split, config))
        split_module.write_split_csv(extra, extra_split, run_dir / f"split_{Path(extra_root).name}.csv")
        unknown = set(extra.classes) - set(dataset.classes)
        if unknown:
            raise data_module.DatasetError(f"extra data {extra_root} has classes {sorted(unknown)} not in {config.data}")
        for sample in extra.samples:
            {"train": extra_train, "val": extra_val, "test": extra_test}[extra_split[sample.path]].append(sample)
        extra_counts[str(extra_root)] = {"train": len(extra_train), "val": len(extra_val), "test": len(extra_test),
                                         "classes": extra.counts(),
                                         "held_out_devices": sorted({s.device for s in extra.samples
                                                                     if s.group in held_groups})}

    classes = dataset.classes
    if config.lesion_crops > 0 and lesion_crops.NO_LESION_CLASS not in classes:
        raise data_module.DatasetError(f"--lesion-crops labels lesion-free windows {lesion_crops.NO_LESION_CLASS!r}, "
                                       f"a class {config.data} lacks (its classes: {', '.join(classes)})")
    start = time.time()
    prepared = PreparedData(
        classes=classes,
        train=_load_arrays(by_split["train"] + extra_train, classes, config.size,
                           extra=np.arange(len(by_split["train"]) + len(extra_train)) >= len(by_split["train"]),
                           crop_seed=config.seed if config.lesion_crops > 0 else None),
        val=_load_arrays(by_split["val"], classes, config.size),
        test=_load_arrays(by_split["test"], classes, config.size),
        extra_test=_load_arrays(extra_test, classes, config.size) if extra_test else None,
        extra_val=_load_arrays(extra_val, classes, config.size) if extra_val else None,
        counts={
            "classes": list(classes),
            "total": dataset.counts(),
            **{
                name: {label: sum(1 for s in samples if s.label == label) for label in classes}
                for name, samples in by_split.items()
            },
            "groups": len({s.group for s in dataset.samples}),
            "extra": extra_counts,
        },
    )
    log.info("loaded %d train / %d val / %d test images in %.1fs", len(prepared.train), len(prepared.val),
             len(prepared.test), time.time() - start)
    return prepared


# -- tf.data ------------------------------------------------------------------------------------------------------
def make_augmenter(strength: float) -> keras.Sequential:
    """Geometric augmentation shared by image and mask: horizontal flip, small shift/zoom/rotation (no vertical flip)."""
    # float32 whatever the global policy: augmentation runs in the tf.data pipeline, not in the model.
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", dtype="float32"),
            keras.layers.RandomTranslation(0.06 * strength, 0.06 * strength, fill_mode="constant", dtype="float32"),
            keras.layers.RandomZoom((-0.15 * strength, 0.10 * strength), fill_mode="constant", dtype="float32"),
            keras.layers.RandomRotation(0.03 * strength, fill_mode="constant", dtype="float32"),
        ],
        name="augment",
    )


def _photometric(images: tf.Tensor, strength: float) -> tf.Tensor:
    """Random brightness/contrast/gamma per image, values kept in 0..255."""
    batch = tf.shape(images)[0]
    contrast = tf.random.uniform([batch, 1, 1, 1], 1 - 0.25 * strength, 1 + 0.25 * strength)
    brightness = tf.random.uniform([batch, 1, 1, 1], -20 * strength, 20 * strength)
    gamma = tf.exp(tf.random.uniform([batch, 1, 1, 1], -0.25 * strength, 0.25 * strength))
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * contrast + mean + brightness
    images = tf.clip_by_value(images, 0.0, 255.0)
    return 255.0 * tf.pow(images / 255.0, gamma)


def resolution_jitter(images: tf.Tensor, strength: float) -> tf.Tensor:
    """Half the images (at random) lose detail as on a coarser scanner: down- then up-sampled, bilinear.

    One scale per batch, drawn from [1 - 0.5 * strength, 1] (at most halving the resolution).
    """
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    scale = tf.random.uniform([], 1.0 - 0.5 * min(strength, 1.0), 1.0)
    small = tf.cast(tf.math.ceil(scale * tf.cast(tf.stack([height, width]), tf.float32)), tf.int32)
    coarse = tf.image.resize(tf.image.resize(images, small, method="bilinear", antialias=True),
                             tf.stack([height, width]), method="bilinear")
    chosen = tf.random.uniform([batch, 1, 1, 1]) < 0.5
    return tf.where(chosen, coarse, images)


def depth_gain(images: tf.Tensor, slope: tf.Tensor) -> tf.Tensor:
    """Time-gain compensation set differently: rows scaled by ``exp(slope * (depth - 0.5))``, depth 0 (top) to 1.

    ``slope`` has one value per image (shape [batch]); positive brightens the deep rows and darkens the shallow ones.
    """
    height = tf.shape(images)[1]
    depth = tf.linspace(0.0, 1.0, height) - 0.5
    gain = tf.exp(tf.reshape(slope, [-1, 1, 1, 1]) * tf.reshape(depth, [1, -1, 1, 1]))
    return images * gain


def speckle(images: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Multiplicative, spatially correlated noise: ``image * (1 + sigma * n)``, n drawn at half resolution.

    ``sigma`` has one value per image (shape [batch]). Black stays black (the area outside the scan sector), and
    one noise field is shared by the colour channels, so grey images stay grey.
    """
    shape = tf.shape(images)
    coarse = tf.random.normal(tf.stack([shape[0], (shape[1] + 1) // 2, (shape[2] + 1) // 2, 1]))
    noise = tf.image.resize(coarse, shape[1:3], method="bilinear")
    return images * (1.0 + tf.reshape(sigma, [-1, 1, 1, 1]) * noise)


def ultrasound_augment(images: tf.Tensor, strength: float) -> tf.Tensor:
    """Changes one scanner or setting makes to the same anatomy (values 0..255 in and out; masks unaffected).

    Resolution (half the images down to ``1 - 0.5 * strength`` of their size and back), depth gain (slope up to
    ``±0.5 * strength``, i.e. up to ±25 % at the top and bottom rows) and speckle (sigma up to ``0.2 * strength``).
    """
    if strength <= 0:
        return images
    batch = tf.shape(images)[0]
    images = resolution_jitter(images, strength)
    images = depth_gain(images, tf.random.uniform([batch], -0.5 * strength, 0.5 * strength))
    images = speckle(images, tf.random.uniform([batch], 0.0, 0.2 * strength))
    return tf.clip_by_value(images, 0.0, 255.0)


def mixup_batch(images: tf.Tensor, targets: dict, weights: dict, alpha: float
                ) -> tuple[tf.Tensor, dict, dict]:
    """Blends every example with a random partner from its batch: images, one-hot labels, masks and sample weights.

    The blend weight is drawn per example from Beta(alpha, alpha) and folded to >= 0.5, so each example stays
    mostly itself (mixup, Zhang et al. 2018).
    """
    batch = tf.shape(images)[0]
    share = _beta_share(batch, alpha)
    partner = tf.random.shuffle(tf.range(batch))

    def blend(values: tf.Tensor) -> tf.Tensor:
        return _blend_with_partner(values, share, partner)

    return (blend(images), {key: blend(value) for key, value in targets.items()},
            {key: blend(value) for key, value in weights.items()})


def _blend_with_partner(values: tf.Tensor, share: tf.Tensor, partner: tf.Tensor) -> tf.Tensor:
    """``share * values + (1 - share) * values[partner]``, one share per example (the batch axis comes first)."""
    values = tf.cast(values, tf.float32)
    weight = tf.reshape(share, tf.concat([[tf.shape(values)[0]], tf.ones([tf.rank(values) - 1], tf.int32)], axis=0))
    return weight * values + (1.0 - weight) * tf.gather(values, partner)


def _beta_share(batch: tf.Tensor, alpha: float) -> tf.Tensor:
    """Per example a draw from Beta(alpha, alpha) folded to >= 0.5: the share of each example that stays itself."""
    first = tf.random.gamma([batch], alpha)
    second = tf.random.gamma([batch], alpha)
    share = first / tf.maximum(first + second, 1e-12)
    return tf.maximum(share, 1.0 - share)


def _box_masks(centre_y: tf.Tensor, centre_x: tf.Tensor, half_side: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """[B, size, size, 1] float32: 1 on the pixels whose centres lie in each example's square box (unit coordinates)."""
    coords = (tf.range(size, dtype=tf.float32) + 0.5) / tf.cast(size, tf.float32)
    inside_y = tf.abs(coords[None, :] - centre_y[:, None]) <= half_side[:, None]
    inside_x = tf.abs(coords[None, :] - centre_x[:, None]) <= half_side[:, None]
    return tf.cast(tf.logical_and(inside_y[:, :, None], inside_x[:, None, :]), tf.float32)[..., None]


def cutmix_batch(images: tf.Tensor, targets: dict, weights: dict, alpha: float
                 ) -> tuple[tf.Tensor, dict, dict]:
    """Pastes a square of a random partner from the batch into every example (CutMix, Yun et al. 2019).

    The square covers up to 1 - share of the image (whole pixels), share drawn per example from Beta(alpha, alpha)
    and folded to >= 0.5, and lies wholly inside it. The lesion mask gets the same square from the partner's mask
    (at the mask's resolution), so the segmentation target stays exact; the one-hot label and the class weight are
    blended by the share of pixels each image keeps.
    """
    batch, size = tf.shape(images)[0], tf.shape(images)[1]
    # Half a pixel less than the drawn side: whole pixels then never cover more than 1 - share of the image.
    half_side = tf.maximum(tf.sqrt(1.0 - _beta_share(batch, alpha)) / 2.0 - 0.5 / tf.cast(size, tf.float32), 0.0)
    centre_y = tf.random.uniform([batch]) * (1.0 - 2.0 * half_side) + half_side
    centre_x = tf.random.uniform([batch]) * (1.0 - 2.0 * half_side) + half_side
    partner = tf.random.shuffle(tf.range(batch))
    box = _box_masks(centre_y, centre_x, half_side, size)
    kept = 1.0 - tf.reduce_mean(box, axis=[1, 2, 3])  # the share actually kept, after rounding to pixels

    def paste(values: tf.Tensor) -> tf.Tensor:
        values = tf.cast(values, tf.float32)
        region = _box_masks(centre_y, centre_x, half_side, tf.shape(values)[1])
        return values * (1.0 - region) + tf.gather(values, partner) * region

    def mix(key: str, values: tf.Tensor) -> tf.Tensor:
        return paste(values) if key == "mask" else _blend_with_partner(values, kept, partner)

    return (paste(images), {key: mix(key, value) for key, value in targets.items()},
            {key: _blend_with_partner(value, kept, partner) for key, value in weights.items()})


def map_in_order(dataset: tf.data.Dataset, transform: Callable) -> tf.data.Dataset:
    """``dataset.map(transform)`` one batch at a time, so random augmentation repeats with the seed.

    TensorFlow's stateful random ops draw in call order: parallel ``map`` calls made each run's augmentation, and so
    its weights, depend on thread timing (the r40 rerun of training/RESULTS.md). ``prefetch`` after the map still
    overlaps augmentation with the training step.
    """
    return dataset.map(transform, num_parallel_calls=None)


def draw_lesion_crops(images: tf.Tensor, masks: tf.Tensor, labels: tf.Tensor, source_weight: tf.Tensor,
                      crop_images: tf.Tensor, crop_masks: tf.Tensor, crop_labels: tf.Tensor, crop_valid: tf.Tensor,
                      share: float, class_weight: np.ndarray) -> tuple[tf.Tensor, ...]:
    """Replace each image of a batch, with probability ``share``, by one of its valid crops (uniformly chosen).

    Returns (images, masks, labels, sample weights) with each sample weighted by its drawn label's class weight.
    """
    batch = tf.shape(labels)[0]
    scores = tf.random.uniform(tf.shape(crop_labels)) - 2.0 * tf.cast(tf.logical_not(crop_valid), tf.float32)
    chosen = tf.argmax(scores, axis=1, output_type=tf.int32)
    use_crop = tf.logical_and(tf.random.uniform((batch,)) < share, tf.reduce_any(crop_valid, axis=1))

    def pick(originals: tf.Tensor, variants: tf.Tensor) -> tf.Tensor:
        crop = tf.gather(variants, chosen, axis=1, batch_dims=1)
        where = tf.reshape(use_crop, [-1] + [1] * (len(originals.shape) - 1))
        return tf.where(where, crop, originals)

    labels = pick(labels, crop_labels)
    weights = tf.gather(tf.constant(class_weight, tf.float32), labels) * tf.cast(source_weight, tf.float32)
    return pick(images, crop_images), pick(masks, crop_masks), labels, weights


def make_train_dataset(arrays: ArraySet, config: TrainConfig, class_weight: np.ndarray, num_classes: int,
                       size: int | None = None) -> tf.data.Dataset:
    """Shuffled, augmented batches: (image, {"logits": one-hot, "mask": mask}, {"logits": w, "mask": w}).

    ``size``: side of the images fed to the network (default ``config.image_size``); a smaller one downscales each
    augmented image (antialiased) and takes the mask target from the full-size mask, for progressive resizing.
    """
    size = size or config.image_size
    augmenter = make_augmenter(config.augment) if config.augment > 0 else None
    crops = arrays.crops if config.lesion_crops > 0 else None
    if crops is None:
        weights = (class_weight[arrays.labels] * source_weights(arrays, config.primary_weight)).astype(np.float32)
        dataset = tf.data.Dataset.from_tensor_slices((arrays.images, arrays.masks, arrays.labels, weights))
    else:  # the class weight follows the label drawn (a crop's may differ), so it is looked up per batch
        weights = source_weights(arrays, config.primary_weight)
        dataset = tf.data.Dataset.from_tensor_slices((arrays.images, arrays.masks, arrays.labels, weights,
                                                      crops.images, crops.masks, crops.labels, crops.valid))
    dataset = dataset.shuffle(len(arrays), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(config.batch_size, drop_remainder=len(arrays) > config.batch_size)
    if crops is not None:
        dataset = map_in_order(dataset, lambda *batch: draw_lesion_crops(*batch, share=config.lesion_crops,
                                                                          class_weight=class_weight))

    def transform(images, masks, labels, sample_weights):
        images = tf.cast(images, tf.float32)
        masks = tf.cast(masks, tf.float32) * 255.0
        if augmenter is not None:
            stacked = augmenter(tf.concat([images, masks], axis=-1), training=True)
            images = _photometric(stacked[..., :3], config.augment)
            masks = stacked[..., 3:]
        images = ultrasound_augment(images, config.ultrasound_augment)
        if size != config.image_size:
            images = tf.image.resize(images, (size, size), method="bilinear", antialias=True)
        targets = {"logits": tf.one_hot(labels, num_classes)}
        weights = {"logits": sample_weights}
        if config.seg_head:
            stride = 8
            mask_size = (size // stride, size // stride)
            targets["mask"] = tf.cast(tf.image.resize(masks / 255.0, mask_size, method="area") > 0.5, tf.float32)
            weights["mask"] = tf.ones_like(sample_weights)
        return images, targets, weights

    dataset = map_in_order(dataset, transform)
    if config.mixup > 0:
        dataset = map_in_order(dataset, lambda images, targets, weights: mixup_batch(images, targets, weights,
                                                                                     config.mixup))
    if config.cutmix > 0:
        dataset = map_in_order(dataset, lambda images, targets, weights: cutmix_batch(images, targets, weights,
                                                                                      config.cutmix))
    return dataset.prefetch(2)


def balanced_class_weights(labels: np.ndarray, num_classes: int, power: float = 1.0,
                           image_weights: np.ndarray | None = None) -> np.ndarray:
    """(n / (C * count)) ** power per class: power 1 is scikit-learn's 'balanced' mode, 0.5 its square root.

    A power below 1 tempers the weight of a rare class; with joint data (76 "normal" images among 1,945) full
    balancing gives each normal image ~17x a benign image's weight. ``image_weights`` (e.g. :func:`source_weights`):
    n and the counts are sums of these, so each class's total weight stays equal at power 1.
    """
    image_weights = np.ones(len(labels)) if image_weights is None else np.asarray(image_weights, dtype=np.float64)
    counts = np.bincount(labels, weights=image_weights, minlength=num_classes).astype(np.float64)
    balanced = image_weights.sum() / (num_classes * np.where(counts > 0, counts, 1.0))
    return np.where(counts > 0, balanced ** power, 0.0)


def training_class_weights(arrays: ArraySet, config: TrainConfig, num_classes: int) -> np.ndarray:
    """The class weights a run trains with: balanced over the source-weighted counts, or 1 with --no-class-weights."""
    if not config.class_weights:
        return np.ones(num_classes)
    labels, image_weights = arrays.labels, source_weights(arrays, config.primary_weight)
    if arrays.crops is not None and config.lesion_crops > 0:  # balance the classes as drawn, crops included
        labels, image_weights = lesion_crops.expected_labels(labels, arrays.crops.labels, arrays.crops.valid,
                                                             config.lesion_crops, image_weights)
    return balanced_class_weights(labels, num_classes, config.class_weight_power, image_weights)


def dice_bce_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Binary cross-entropy plus soft Dice (per image), for the lesion-mask head."""
    bce = keras.losses.binary_crossentropy(y_true, y_pred)
    bce = tf.reduce_mean(bce, axis=[1, 2])
    intersection = tf.reduce_sum(y_true * y_pred, axis=[1, 2, 3])
    union = tf.reduce_sum(y_true, axis=[1, 2, 3]) + tf.reduce_sum(y_pred, axis=[1, 2, 3])
    dice = 1.0 - (2.0 * intersection + 1.0) / (union + 1.0)
    return bce + dice


# -- evaluation during training ------------------------------------------------------------------------------------
def predict_logits(model: keras.Model, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Logits of the training model (inference mode) for uint8 images."""
    outputs = model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
    return np.asarray(outputs["logits"])


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    scores = []
    for c in range(num_classes):
        tp = np.sum((predictions == c) & (labels == c))
        fp = np.sum((predictions == c) & (labels != c))
        fn = np.sum((predictions != c) & (labels == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def score_validation(model: keras.Model, val: ArraySet, num_classes: int) -> dict[str, float]:
    """Macro-F1, accuracy and cross-entropy of the training model on the validation split."""
    logits = predict_logits(model, val.images)
    predictions = logits.argmax(axis=1)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return {
        "val_macro_f1": macro_f1(val.labels, predictions, num_classes),
        "val_accuracy": float(np.mean(predictions == val.labels)),
        "val_loss": float(-np.mean(log_probs[np.arange(len(val)), val.labels])),
    }


class ValidationMacroF1(keras.callbacks.Callback):
    """Scores the validation split each epoch, keeps the best weights, stops early on a plateau."""

    def __init__(self, val: ArraySet, num_classes: int, patience: int) -> None:
        super().__init__()
        self.val = val
        self.num_classes = num_classes
        self.patience = patience
        self.best_score = -1.0
        self.best_epoch = -1
        self.best_weights: list | None = None
        self.wait = 0
        self.epochs_seen = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        scores = score_validation(self.model, self.val, self.num_classes)
        score = scores["val_macro_f1"]
        if logs is not None:
            logs.update(scores)
        self.epochs_seen += 1
        if score > self.best_score + 1e-6:
            self.best_score, self.best_epoch, self.wait = score, self.epochs_seen, 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.patience and self.wait >= self.patience:
                self.model.stop_training = True
        print(f"  val macro-F1 {score:.3f} (best {self.best_score:.3f} @ epoch {self.best_epoch})", flush=True)

    def reset_patience(self) -> None:
        self.wait = 0


class TailWeightAverage(keras.callbacks.Callback):
    """Running mean of every weight (batch-norm statistics included) after each epoch from ``first_epoch`` (0-based).

    Averaging the last epochs of a decaying schedule smooths the epoch-to-epoch swings that make picking the best
    validation epoch on a small split a lottery (tail averaging, as in stochastic weight averaging).
    """

    def __init__(self, first_epoch: int) -> None:
        super().__init__()
        self.first_epoch = first_epoch
        self.count = 0
        self.mean: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch < self.first_epoch:
            return
        weights = [np.asarray(w, dtype=np.float64) for w in self.model.get_weights()]
        self.count += 1
        if self.mean is None:
            self.mean = weights
        else:
            for mean, value in zip(self.mean, weights):
                mean += (value - mean) / self.count

    def averaged_weights(self, like: list[np.ndarray]) -> list[np.ndarray]:
        """The mean, cast back to each weight's own dtype (``like``: the model's current weights)."""
        if self.mean is None:
            raise ValueError("no epoch was averaged")
        return [mean.astype(np.asarray(ref).dtype) for mean, ref in zip(self.mean, like)]


def batchnorm_layers(layer: keras.layers.Layer) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer inside ``layer``, nested models included, each once, in build order."""
    found: list[keras.layers.BatchNormalization] = []
    seen: set[int] = set()

    def walk(node: keras.layers.Layer) -> None:
        for child in getattr(node, "layers", ()):
            if id(child) in seen:
                continue
            seen.add(id(child))
            if isinstance(child, keras.layers.BatchNormalization):
                found.append(child)
            walk(child)

    walk(layer)
    return found


def recompute_batchnorm(model: keras.Model, images: np.ndarray, batch_size: int, seed: int) -> int:
    """Re-estimate each BatchNorm layer's moving mean and variance for ``model``'s current weights.

    The images (uint8, un-augmented) go through the model in training mode, in batches of ``batch_size`` drawn in a
    shuffled order fixed by ``seed`` (training batches mixed the sources and classes too); each layer's statistics
    become the plain mean of its per-batch statistics, as stochastic weight averaging's last step does
    (Izmailov et al., 2018). A partial last batch is skipped. Returns the number of batches used.
    """
    layers_found = batchnorm_layers(model)
    if not layers_found:
        return 0
    if len(images) < batch_size:
        raise ValueError(f"recomputing BatchNorm statistics needs at least one full batch of {batch_size} images, "
                         f"got {len(images)}")
    saved = [(layer.momentum, layer.trainable) for layer in layers_found]
    for layer in layers_found:  # momentum 0: after a training-mode call, the moving statistics are that batch's
        layer.momentum = 0.0
        layer.trainable = True
    forward = tf.function(lambda batch: model(batch, training=True))
    sums = [[np.zeros(layer.moving_mean.shape, np.float64), np.zeros(layer.moving_variance.shape, np.float64)]
            for layer in layers_found]
    order = np.random.default_rng(seed).permutation(len(images))
    batches = len(images) // batch_size
    try:
        for index in range(batches):
            chosen = np.sort(order[index * batch_size:(index + 1) * batch_size])
            forward(tf.constant(images[chosen], tf.float32))
            for total, layer in zip(sums, layers_found):
                total[0] += np.asarray(layer.moving_mean, np.float64)
                total[1] += np.asarray(layer.moving_variance, np.float64)
    finally:
        for layer, (momentum, trainable) in zip(layers_found, saved):
            layer.momentum = momentum
            layer.trainable = trainable
    for (mean_sum, variance_sum), layer in zip(sums, layers_found):
        layer.moving_mean.assign((mean_sum / batches).astype(layer.moving_mean.dtype))
        layer.moving_variance.assign((variance_sum / batches).astype(layer.moving_variance.dtype))
    return batches


def refresh_batchnorm(config: TrainConfig, prepared: PreparedData, models: ClassifierModels) -> dict[str, float]:
    """``--recompute-batchnorm``: recompute the kept weights' BatchNorm statistics on the training images at the final
    input size; returns timing entries (seconds, batches) and the validation macro-F1 before and after."""
    if len(prepared.train) < config.batch_size:
        raise ConfigError(f"--recompute-batchnorm needs at least one full batch ({config.batch_size}) of training "
                          f"images, got {len(prepared.train)}")
    num_classes = len(prepared.classes)
    before = score_validation(models.training_model, prepared.val, num_classes)["val_macro_f1"]
    start = time.time()
    batches = recompute_batchnorm(models.training_model, prepared.train.images, config.batch_size, config.seed)
    after = score_validation(models.training_model, prepared.val, num_classes)["val_macro_f1"]
    print(f"recomputed BatchNorm statistics over {batches} batches of {config.batch_size} training images: "
          f"val macro-F1 {before:.3f} -> {after:.3f}", flush=True)
    return {"batchnorm_seconds": round(time.time() - start, 1), "batchnorm_batches": batches,
            "batchnorm_val_macro_f1_before": round(before, 4), "batchnorm_val_macro_f1_after": round(after, 4)}


def cosine_schedule(learning_rate: float, epochs: int, steps_per_epoch: int, warmup_epochs: int,
                    constant_tail_epochs: int = 0, floor: float = 0.01) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up from a tenth of ``learning_rate`` over ``warmup_epochs`` (at most half the run), then cosine
    decay to ``floor`` times it, reached ``constant_tail_epochs`` before the end and held there (the constant rate
    of stochastic weight averaging; CosineDecay stays at its floor after ``decay_steps``)."""
    total = max(1, epochs * steps_per_epoch)
    warmup = min(total // 2, warmup_epochs * steps_per_epoch)
    decaying = max(1, total - constant_tail_epochs * steps_per_epoch - warmup)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * (0.1 if warmup else 1.0),
        decay_steps=decaying,
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
        alpha=floor,
    )


def fine_tune_schedule(config: TrainConfig, learning_rate: float, epochs: int, steps_per_epoch: int
                       ) -> keras.optimizers.schedules.CosineDecay:
    """The fine-tune stage's schedule: with ``--swa-learning-rate F`` the cosine reaches F times the peak where the
    averaging window begins and holds it through the window; otherwise it decays to 1 % at the end."""
    if config.swa_learning_rate > 0:
        return cosine_schedule(learning_rate, epochs, steps_per_epoch, config.warmup_epochs,
                               constant_tail_epochs=config.average_last_epochs, floor=config.swa_learning_rate)
    return cosine_schedule(learning_rate, epochs, steps_per_epoch, config.warmup_epochs)


#: ``--optimizer`` choices, each built by ``make_optimizer``; SGD's is Nesterov momentum with this coefficient.
OPTIMIZERS = ("adamw", "sgd")
SGD_MOMENTUM = 0.9


def make_optimizer(config: TrainConfig, schedule: keras.optimizers.schedules.LearningRateSchedule | float
                   ) -> keras.optimizers.Optimizer:
    """The ``--optimizer`` on ``schedule``, with Keras' decoupled weight decay (``weight_decay`` x the rate)."""
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=schedule, momentum=SGD_MOMENTUM, nesterov=True,
                                    weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay)
    raise ConfigError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {config.optimizer!r}")


def _compile(models: ClassifierModels, config: TrainConfig, learning_rate: float, epochs: int,
             steps_per_epoch: int, fine_tune: bool = False) -> None:
    """Compile the training model with ``--optimizer`` on a cosine schedule (``fine_tune``: the fine-tune stage's, which
    ``--swa-learning-rate`` changes) and the classification and lesion-mask losses."""
    schedule = (fine_tune_schedule(config, learning_rate, epochs, steps_per_epoch) if fine_tune
                else cosine_schedule(learning_rate, epochs, steps_per_epoch, config.warmup_epochs))
    losses = {"logits": keras.losses.CategoricalCrossentropy(from_logits=True,
                                                             label_smoothing=config.label_smoothing)}
    loss_weights = {"logits": 1.0}
    if config.seg_head:
        losses["mask"] = dice_bce_loss
        loss_weights["mask"] = config.seg_weight
    models.training_model.compile(
        optimizer=make_optimizer(config, schedule),
        loss=losses,
        loss_weights=loss_weights,
        metrics={"logits": ["categorical_accuracy"]},
    )


def build_before_fit(model: keras.Model, dataset: tf.data.Dataset) -> None:
    """Create the optimizer's and the loss trackers' variables from ``dataset``'s element spec (no data is read).

    Without a distribution strategy Keras creates them while tracing the first train step, and TensorFlow then
    traces that step a second time: a DenseNet121 step takes about 50 s to trace on a 2-core CPU. This is the
    symbolic build Keras runs itself when a strategy is set (private API, Keras 3.15).
    """
    model._symbolic_build(data_batch=dataset.element_spec)


def models_from_checkpoint(spec: ModelSpec, weights_file: Path) -> ClassifierModels:
    """Float32 models holding a run's checkpoint; the checkpoint has every weight, so no backbone file is needed."""
    models = ClassifierModels(dataclasses.replace(spec, weights="none"))
    models.training_model.load_weights(weights_file)
    return models


def model_spec(config: TrainConfig, num_classes: int) -> ModelSpec:
    return ModelSpec(num_classes=num_classes, image_size=config.size, weights=config.weights,
                     dropout=config.dropout, seg_head=config.seg_head, mask_pooling=config.mask_pooling,
                     train_batchnorm=config.train_batchnorm,
                     any_training_size=config.progressive_epochs > 0)


def check_progressive_resizing(config: TrainConfig) -> None:
    """Refuse a progressive-resizing plan that cannot run, before any data is loaded."""
    if config.progressive_epochs <= 0:
        return
    if not 0 < config.progressive_size < config.image_size:
        raise ImageSizeError(f"--progressive-size must be above 0 and below --image-size ({config.image_size}) "
                             f"with --progressive-epochs, got {config.progressive_size}")
    if config.progressive_epochs >= config.epochs:
        raise ConfigError(f"--progressive-epochs ({config.progressive_epochs}) must be fewer than --epochs "
                         f"({config.epochs}): the last epochs train at --image-size")
    check_image_size((config.progressive_size, config.progressive_size), feature_pyramid=config.seg_head)


def parse_freeze_schedule(config: TrainConfig) -> list[tuple[int, int]]:
    """``--freeze-schedule "9:3,13:2"`` as ``[(9, 3), (13, 2)]``: from fine-tune epoch 9 on only the top 3 dense
    blocks train, from epoch 13 on the top 2. Refuses, before any data is loaded, a plan that cannot run."""
    steps = freeze_steps(config.freeze_schedule)
    if not steps:
        return []
    if config.unfreeze == "none":
        raise ConfigError("--freeze-schedule needs a trainable backbone (--unfreeze all or 1..4), not --unfreeze none")
    trainable_blocks = 4 if config.unfreeze == "all" else int(config.unfreeze)
    previous_epoch, previous_blocks = 1, trainable_blocks + (config.unfreeze == "all")
    for epoch, blocks in steps:
        if not previous_epoch < epoch <= config.epochs:
            raise ConfigError(f"--freeze-schedule: epochs must rise, each from 2 to --epochs ({config.epochs}); "
                              f"got {epoch} after {previous_epoch}")
        if not 1 <= blocks < previous_blocks:
            raise ConfigError(f"--freeze-schedule: each step must train fewer of the top dense blocks than before "
                              f"(1..{previous_blocks - 1}), got {blocks} from epoch {epoch}")
        previous_epoch, previous_blocks = epoch, blocks
    return steps


@dataclass(frozen=True)
class FineTunePhase:
    """Fine-tune epochs ``first``..``last`` (1-based) at one training input size with one trainable backbone part."""

    first: int
    last: int
    size: int
    unfreeze: str


def fine_tune_phases(config: TrainConfig) -> list[FineTunePhase]:
    """The fine-tune stage cut where progressive resizing changes the input size or the freeze schedule freezes
    more of the backbone; one phase when neither is asked for."""
    schedule = parse_freeze_schedule(config)

    def plan(epoch: int) -> tuple[int, str]:
        small = config.progressive_epochs > 0 and epoch <= config.progressive_epochs
        unfreeze = config.unfreeze
        for first, blocks in schedule:
            if epoch >= first:
                unfreeze = str(blocks)
        return (config.progressive_size if small else config.image_size), unfreeze

    phases: list[FineTunePhase] = []
    for epoch in range(1, config.epochs + 1):
        size, unfreeze = plan(epoch)
        if phases and (phases[-1].size, phases[-1].unfreeze) == (size, unfreeze):
            phases[-1] = dataclasses.replace(phases[-1], last=epoch)
        else:
            phases.append(FineTunePhase(epoch, epoch, size, unfreeze))
    return phases


def phase_name(stage: str, phase: FineTunePhase, config: TrainConfig) -> str:
    """``stage2_finetune_96px``, or ``stage2_finetune_128px_top2`` once the freeze schedule has frozen blocks."""
    name = f"{stage}_{phase.size}px"
    return name if phase.unfreeze == config.unfreeze else f"{name}_top{phase.unfreeze}"


def fit(config: TrainConfig, prepared: PreparedData, models: ClassifierModels) -> tuple[dict, dict]:
    """Stage 1 (frozen backbone) then stage 2 (unfrozen); returns (history, timing)."""
    num_classes = len(prepared.classes)
    class_weight = training_class_weights(prepared.train, config, num_classes)
    train_data = make_train_dataset(prepared.train, config, class_weight, num_classes)
    steps = int(train_data.cardinality().numpy())
    small_data = (make_train_dataset(prepared.train, config, class_weight, num_classes, config.progressive_size)
                  if config.progressive_epochs > 0 else None)
    monitor = ValidationMacroF1(prepared.val, num_classes, config.patience)
    history: dict[str, list[float]] = {}
    timing: dict[str, float] = {}

    def run_stage(name: str, epochs: int, learning_rate: float, unfreeze: str,
                  extra_callbacks: tuple[keras.callbacks.Callback, ...] = (), phased: bool = False) -> None:
        if epochs <= 0:
            return
        models.set_trainable_backbone(unfreeze)
        _compile(models, config, learning_rate, epochs, steps, fine_tune=phased)
        build_before_fit(models.training_model, train_data)
        monitor.reset_patience()
        print(f"stage {name}: {epochs} epochs, lr {learning_rate}, backbone trainable: {unfreeze}", flush=True)
        # Progressive resizing and freezing: one compiled model, optimizer and schedule through all phases.
        phases = fine_tune_phases(config) if phased else [FineTunePhase(1, epochs, config.image_size, unfreeze)]
        done = 0
        start = time.time()
        for phase in phases:
            label = phase_name(name, phase, config) if len(phases) > 1 else name
            if len(phases) > 1:
                print(f"  {label}: epochs {phase.first}-{phase.last}, backbone trainable: {phase.unfreeze}",
                      flush=True)
                models.set_trainable_backbone(phase.unfreeze)  # the optimizer updates only what stays trainable
                # A fresh trace for the new input size or trainable part: a retrace of the old one would generalise
                # the size to None, which bilinear UpSampling2D cannot take in graph mode.
                models.training_model.train_function = None
            data = train_data if phase.size == config.image_size else small_data
            phase_start = time.time()
            result = models.training_model.fit(data, epochs=phase.last, initial_epoch=phase.first - 1,
                                               callbacks=[monitor, *extra_callbacks], verbose=config.verbose)
            phase_done = len(result.history.get("loss", []))
            if len(phases) > 1:
                timing[f"{label}_seconds"] = round(time.time() - phase_start, 1)
                timing[f"{label}_epochs"] = phase_done
            for key, values in result.history.items():
                history.setdefault(key, []).extend(float(v) for v in values)
            done += phase_done
            if models.training_model.stop_training or done < phase.last:  # early stopping
                break
        elapsed = time.time() - start
        done = done or 1
        timing[f"{name}_seconds"] = round(elapsed, 1)
        timing[f"{name}_epochs"] = done
        timing[f"{name}_seconds_per_epoch"] = round(elapsed / done, 1)
        timing[f"{name}_images_per_second"] = round(done * steps * config.batch_size / elapsed, 2)

    averager = TailWeightAverage(max(0, config.epochs - config.average_last_epochs))
    if config.frozen_epochs > 0:
        run_stage("stage1_frozen", config.frozen_epochs, config.head_learning_rate, "none")
    run_stage("stage2_finetune", config.epochs, config.learning_rate, config.unfreeze,
              (averager,) if config.average_last_epochs > 0 else (), phased=True)
    timing["best_epoch"] = monitor.best_epoch
    timing["best_val_macro_f1"] = round(monitor.best_score, 4)
    if averager.count:
        models.training_model.set_weights(averager.averaged_weights(models.training_model.get_weights()))
        score = score_validation(models.training_model, prepared.val, num_classes)["val_macro_f1"]
        timing["kept_weights"] = f"mean of the last {averager.count} fine-tune epochs"
        timing["averaged_val_macro_f1"] = round(score, 4)
        print(f"kept the mean of the last {averager.count} epochs' weights: val macro-F1 {score:.3f} "
              f"(best single epoch {monitor.best_score:.3f} at epoch {monitor.best_epoch})")
    elif monitor.best_weights is not None:
        if config.average_last_epochs > 0:
            print("training stopped before the averaging window: keeping the best epoch instead")
        models.training_model.set_weights(monitor.best_weights)
        timing["kept_weights"] = f"best validation epoch ({monitor.best_epoch})"
        print(f"restored best weights: val macro-F1 {monitor.best_score:.3f} at epoch {monitor.best_epoch}")
    return history, timing


def start_run(config: TrainConfig) -> tuple[Path, float, PreparedData]:
    """Create the run folder, seed everything, save config.json, split and load the data: (folder, start, data)."""
    run_dir = Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    set_seeds(config.seed)
    started = time.time()
    config.save(run_dir / CONFIG_NAME)
    return run_dir, started, prepare_data(config, run_dir)


def check_config(config: TrainConfig) -> None:
    """Refuse a training plan that cannot run, before any data is loaded (ConfigError / ImageSizeError)."""
    check_image_size(config.size, feature_pyramid=config.seg_head)
    check_progressive_resizing(config)
    parse_freeze_schedule(config)
    if config.optimizer not in OPTIMIZERS:
        make_optimizer(config, 1e-3)  # raises the ConfigError, before any data is loaded
    if config.class_weight_power < 0:
        raise ConfigError(f"--class-weight-power must be 0 or more, got {config.class_weight_power}")
    if not 0 <= config.extra_val_fraction < 1:
        raise ConfigError(f"--extra-val-fraction must be at least 0 and below 1, got {config.extra_val_fraction}")
    if config.extra_val_fraction > 0 and not config.extra_data:
        raise ConfigError("--extra-val-fraction needs --extra-data")
    if config.primary_weight <= 0:
        raise ConfigError(f"--primary-weight must be above 0, got {config.primary_weight}")
    if config.mixup > 0 and config.cutmix > 0:
        raise ConfigError("--mixup and --cutmix are alternatives: give one of them")
    if not 0 <= config.lesion_crops <= 1:
        raise ConfigError(f"--lesion-crops is a share of training draws (0 to 1), got {config.lesion_crops}")
    if config.mask_pooling and not config.seg_head:
        raise ConfigError("--mask-pooling pools under the predicted lesion mask: it needs --seg-head")
    if not 0 <= config.swa_learning_rate <= 1:
        raise ConfigError(f"--swa-learning-rate is a fraction of the peak rate (0 to 1), "
                          f"got {config.swa_learning_rate}")
    if config.swa_learning_rate > 0 and not 0 < config.average_last_epochs < config.epochs:
        raise ConfigError("--swa-learning-rate holds the rate through the averaging window: it needs "
                          "--average-last-epochs between 1 and --epochs - 1")
    if config.split_order not in split_module.SPLIT_ORDERS:
        raise ConfigError(f"--split-order must be one of {', '.join(split_module.SPLIT_ORDERS)}, "
                          f"got {config.split_order!r}")


def train(config: TrainConfig) -> Path:
    """Run a whole training and return the exported model's path (``<out>/model.onnx``)."""
    from training.export import finalize  # imports tf2onnx; keep it out of the hot path of `fit`

    check_config(config)
    run_dir, started, prepared = start_run(config)
    (run_dir / "data_counts.json").write_text(json.dumps(prepared.counts, indent=2) + "\n")
    spec = model_spec(config, len(prepared.classes))
    with (precision.training_dtype(config.mixed_precision) as policy,
          fast_training_kernels(config.fast_cpu_kernels) as fast_kernels):
        models = ClassifierModels(spec)
        history, timing = fit(config, prepared, models)
        models.training_model.save_weights(run_dir / CHECKPOINT_NAME)
    if policy != precision.FULL:  # calibrate and export a float32 twin holding the trained weights
        models = models_from_checkpoint(spec, run_dir / CHECKPOINT_NAME)
    if config.recompute_batchnorm:  # the checkpoint then holds what is exported (a float32 twin: no optimizer state)
        timing.update(refresh_batchnorm(config, prepared, models))
        models.training_model.save_weights(run_dir / CHECKPOINT_NAME)
    (run_dir / "history.json").write_text(json.dumps(history, indent=2) + "\n")
    timing["precision"] = policy  # what the run trained in (--mixed-precision is only a request)
    timing["fast_cpu_kernels"] = fast_kernels
    timing["train_wall_seconds"] = round(time.time() - started, 1)
    return finalize(config, prepared, models, run_dir, history=history, timing=timing)
