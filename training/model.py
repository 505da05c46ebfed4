"""DenseNet121 classifier with preprocessing inside the model, an optional lesion-mask head, and its ONNX-facing twin.

Two Keras models share the same layers:
- the *training* model: raw 0..255 RGB -> {"logits": [N, C], "mask": [N, H/8, W/8, 1]} (mask only with the seg head);
- the *export* model: raw 0..255 RGB -> the app's contract outputs (calibrated ``probabilities``, ``cam``,
  ``embedding`` and optionally ``lesion_mask``), optionally averaged over a horizontal flip (test-time augmentation).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from desktop_app.core import contract

#: Keras' published MD5 of ``densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5`` (checked on download).
IMAGENET_NOTOP_MD5 = "30ee3e1110167f948a6b9946edeeb738"

#: Backbone feature taps: /8 and /16 for the segmentation head, /32 for classification.
FEATURE_LAYERS = ("pool3_relu", "pool4_relu", "relu")

#: Number of backbone layers in each DenseNet121 stage, used to unfreeze "the top N blocks".
DENSE_BLOCK_PREFIXES = ("conv2_", "pool2_", "conv3_", "pool3_", "conv4_", "pool4_", "conv5_", "bn", "relu")


#: Written beside a backbone weights file by ``python -m training pretrain``; the model card quotes it.
PRETRAIN_INFO_NAME = "pretrain.json"


class WeightsError(Exception):
    """Backbone weights could not be obtained or loaded; the message says what to do."""


#: DenseNet121's coarsest feature map is 1/32 of the input.
FEATURE_STRIDE = 32


class ImageSizeError(ValueError):
    """An input size the architecture cannot take; the message says which sizes work."""


def check_image_size(image_size: tuple[int, int], feature_pyramid: bool) -> None:
    """Refuse sizes a feature pyramid (the lesion-mask head, the pretraining decoder) cannot take: it adds upsampled
    1/32 features to 1/16 ones, so each side must be a multiple of 32 (112 px gives 3x3 against 7x7)."""
    if feature_pyramid and any(side % FEATURE_STRIDE for side in image_size):
        raise ImageSizeError(
            f"image size {image_size} must be a multiple of {FEATURE_STRIDE} with the lesion-mask head or for "
            f"pretraining (e.g. 96, 128, 160, 224)"
        )


@dataclass(frozen=True)
class ModelSpec:
    """Everything that determines the architecture (saved in the run's config.json)."""

    num_classes: int
    image_size: tuple[int, int]
    weights: str = "none"  # "imagenet", "none" or a path to a .weights.h5 / .h5 file
    dropout: float = 0.3
    seg_head: bool = False
    seg_width: int = 64
    mask_pooling: bool = False  # classifier input: [mean of f32, mean of f32 x predicted mask]; needs seg_head
    train_batchnorm: bool = False  # keep BatchNorm learning even from pretrained weights (own pretraining)
    any_training_size: bool = False  # training model input (None, None): progressive resizing; export stays fixed

    def __post_init__(self) -> None:
        check_image_size(self.image_size, feature_pyramid=self.seg_head)
        if self.mask_pooling and not self.seg_head:
            raise ValueError("mask pooling needs the lesion-mask head (--seg-head)")

    @property
    def pretrained(self) -> bool:
        return self.weights != "none"

    @property
    def frozen_batchnorm(self) -> bool:
        """BatchNorm in inference mode and not trained: for pretrained weights, unless ``train_batchnorm``."""
        return self.pretrained and not self.train_batchnorm


def normalisation_layer() -> layers.Rescaling:
    """ImageNet normalisation as one Rescaling layer: x / 255, minus mean, over std (per channel)."""
    mean = np.asarray(contract.IMAGENET_MEAN)
    std = np.asarray(contract.IMAGENET_STD)
    return layers.Rescaling(scale=(1.0 / (255.0 * std)).tolist(), offset=(-mean / std).tolist(), name="normalise")


def build_backbone(spec: ModelSpec) -> keras.Model:
    """DenseNet121 without top, returning the three feature taps; loads the requested weights."""
    height, width = (None, None) if spec.any_training_size else spec.image_size
    weights: str | None
    if spec.weights == "none":
        weights = None
    elif spec.weights == "imagenet":
        weights = "imagenet"
    else:
        path = Path(spec.weights)
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        weights = None
    try:
        base = keras.applications.DenseNet121(include_top=False, weights=weights, input_shape=(height, width, 3))
    except Exception as error:  # network failure, md5 mismatch, corrupt cache file
        if spec.weights != "imagenet":
            raise
        cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
        raise WeightsError(
            "ImageNet weights for DenseNet121 could not be downloaded or failed Keras' MD5 check "
            f"({IMAGENET_NOTOP_MD5}): {error}. Put the file "
            "'densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5' in "
            f"{cache} or pass --weights PATH (or --weights none)."
        ) from error
    if spec.weights not in ("none", "imagenet"):
        try:
            base.load_weights(spec.weights)
        except Exception as error:
            raise WeightsError(f"could not load DenseNet121 weights from {spec.weights}: {error}") from error
    outputs = [base.get_layer(name).output for name in FEATURE_LAYERS]
    return keras.Model(base.inputs, outputs, name="densenet121")


def save_backbone(backbone: keras.Model, image_size: tuple[int, int], out: Path) -> Path:
    """Write a backbone's weights as a plain DenseNet121 (no top) weights file, loadable by ``--weights FILE``."""
    base = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(*image_size, 3))
    base.set_weights([np.asarray(weight, dtype=np.float32) for weight in backbone.get_weights()])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    base.save_weights(out)
    return out


class ClassifierModels:
    """The shared layers plus the training and export models built from them."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.backbone = build_backbone(spec)
        self.normalise = normalisation_layer()
        self.pool = layers.GlobalAveragePooling2D(name="global_pool")
        self.dropout = layers.Dropout(spec.dropout, name="dropout")
        self.classifier = layers.Dense(spec.num_classes, name="classifier")
        self.seg_layers = self._build_seg_layers() if spec.seg_head else None
        # the mask is at /8 and the classification features at /32
        self.mask_to_stride32 = layers.AveragePooling2D(FEATURE_STRIDE // 8, name="mask_to_stride32")
        self.training_model = self._build_training_model()

    # -- segmentation head -------------------------------------------------------------------------------------
    def _build_seg_layers(self) -> dict[str, layers.Layer]:
        width = self.spec.seg_width
        return {
            "lat32": layers.Conv2D(width, 1, activation="relu", name="seg_lateral32"),
            "lat16": layers.Conv2D(width, 1, activation="relu", name="seg_lateral16"),
            "lat8": layers.Conv2D(width, 1, activation="relu", name="seg_lateral8"),
            "up16": layers.UpSampling2D(2, interpolation="bilinear", name="seg_up16"),
            "up8": layers.UpSampling2D(2, interpolation="bilinear", name="seg_up8"),
            "fuse": layers.Conv2D(width, 3, padding="same", activation="relu", name="seg_fuse"),
            "out": layers.Conv2D(1, 1, activation="sigmoid", name="seg_out"),
        }

    def _segment(self, f8: keras.KerasTensor, f16: keras.KerasTensor, f32: keras.KerasTensor) -> keras.KerasTensor:
        seg = self.seg_layers
        assert seg is not None
        x = ops.add(seg["up16"](seg["lat32"](f32)), seg["lat16"](f16))
        x = ops.add(seg["up8"](x), seg["lat8"](f8))
        return seg["out"](seg["fuse"](x))

    def _classifier_features(self, f32: keras.KerasTensor, mask: keras.KerasTensor | None) -> keras.KerasTensor:
        """The per-position classifier input: f32, or with mask pooling [f32, f32 x mask at /32].

        The classifier is linear, so its spatial mean is the logits either way and the CAM stays exact. The mask
        (at /8) is averaged down to /32 and carries no gradient: the mask loss alone teaches the mask head.
        """
        if not self.spec.mask_pooling:
            return f32
        assert mask is not None
        weight = ops.stop_gradient(ops.cast(self.mask_to_stride32(mask), f32.dtype))
        return ops.concatenate([f32, f32 * weight], axis=-1)

    # -- models -------------------------------------------------------------------------------------------------
    def _features(self, image: keras.KerasTensor, training: bool | None) -> list[keras.KerasTensor]:
        return self.backbone(self.normalise(image), training=training)

    def _build_training_model(self) -> keras.Model:
        size = (None, None) if self.spec.any_training_size else self.spec.image_size
        image = keras.Input((*size, 3), name=contract.INPUT_NAME)
        # Pretrained backbones keep BatchNorm in inference mode (keras-io transfer-learning guide); a randomly
        # initialised one, or one from the project's own short pretraining, learns its BatchNorm statistics.
        f8, f16, f32 = self._features(image, training=False if self.spec.frozen_batchnorm else None)
        mask = self._segment(f8, f16, f32) if self.seg_layers is not None else None
        logits = self.classifier(self.dropout(self.pool(self._classifier_features(f32, mask))))
        # float32 outputs: losses stay in full precision when the layers compute in bfloat16 (mixed precision).
        outputs = {"logits": layers.Identity(name="logits", dtype="float32")(logits)}
        if mask is not None:
            outputs["mask"] = layers.Identity(name="mask", dtype="float32")(mask)
        return keras.Model(image, outputs, name="busi_densenet121")

    def export_model(self, temperature: float = 1.0, flip_tta: bool = False) -> keras.Model:
        """The contract model: raw RGB 0..255 -> calibrated probabilities, CAM, embedding (+ lesion_mask).

        With ``flip_tta`` the image and its mirror go through the network as one batch of 2N (one backbone in the
        graph, which runs faster than two copies of it, int8 most of all) and the outputs are averaged.
        """
        image = keras.Input((*self.spec.image_size, 3), name=contract.INPUT_NAME)
        views = ops.concatenate([image, ops.flip(image, axis=2)], axis=0) if flip_tta else image
        f8, f16, f32 = self._features(views, training=False)
        embedding = self.pool(f32)
        mask = self._segment(f8, f16, f32) if self.seg_layers is not None else None
        classifier_features = self._classifier_features(f32, mask)
        pooled = embedding if classifier_features is f32 else self.pool(classifier_features)
        probabilities = ops.softmax(self.classifier(pooled) / temperature, axis=-1)
        # Dense on the feature map: spatial mean of cam == logits (exact CAM)
        cam = self.classifier(classifier_features)

        def average_views(tensor: keras.KerasTensor, flipped_maps: bool = False) -> keras.KerasTensor:
            if not flip_tta:
                return tensor
            original, mirrored = ops.split(tensor, 2, axis=0)
            if flipped_maps:  # undo the flip so maps line up with the original image
                mirrored = ops.flip(mirrored, axis=2)
            return layers.Average()([original, mirrored])

        def original_view(tensor: keras.KerasTensor) -> keras.KerasTensor:
            return ops.split(tensor, 2, axis=0)[0] if flip_tta else tensor

        outputs = {
            contract.OUTPUT_PROBABILITIES: layers.Identity(name=contract.OUTPUT_PROBABILITIES)(
                average_views(probabilities)
            ),
            contract.OUTPUT_CAM: layers.Identity(name=contract.OUTPUT_CAM)(average_views(cam, flipped_maps=True)),
            # OOD statistics are fitted on the un-flipped embedding, so the flipped view is not averaged in.
            contract.OUTPUT_EMBEDDING: layers.Identity(name=contract.OUTPUT_EMBEDDING)(original_view(embedding)),
        }
        if mask is not None:
            outputs[contract.OUTPUT_LESION_MASK] = layers.Identity(name=contract.OUTPUT_LESION_MASK)(
                average_views(mask, flipped_maps=True)
            )
        return keras.Model(image, outputs, name="busi_densenet121_export")

    # -- freezing -----------------------------------------------------------------------------------------------
    def set_trainable_backbone(self, unfreeze: str) -> None:
        """``none``: freeze the backbone; ``all``: train it all; ``N``: train only the top N of DenseNet's 4 blocks.

        BatchNorm layers of a pretrained backbone stay frozen (they run in inference mode anyway) unless the spec says
        ``train_batchnorm``.
        """
        if unfreeze == "none":
            self.backbone.trainable = False
            return
        self.backbone.trainable = True
        if unfreeze == "all":
            first_trainable = 0
        else:
            blocks = int(unfreeze)
            if not 1 <= blocks <= 4:
                raise ValueError("--unfreeze must be none, all or 1..4 (top dense blocks)")
            prefix = f"conv{6 - blocks}_block1_"
            names = [layer.name for layer in self.backbone.layers]
            first_trainable = next(i for i, name in enumerate(names) if name.startswith(prefix))
        for index, layer in enumerate(self.backbone.layers):
            trainable = index >= first_trainable
            if self.spec.frozen_batchnorm and isinstance(layer, layers.BatchNormalization):
                trainable = False
            layer.trainable = trainable
