"""Backbone weights (file and the md5-checked ImageNet path), freezing, and flip test-time augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras

from training.model import IMAGENET_NOTOP_MD5, ClassifierModels, ImageSizeError, ModelSpec, WeightsError

SIZE = (32, 32)


def _random_backbone_weights() -> tuple[keras.Model, list[np.ndarray]]:
    base = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(*SIZE, 3))
    rng = np.random.default_rng(7)
    values = [rng.normal(0, 0.05, size=w.shape).astype(np.float32) for w in base.get_weights()]
    base.set_weights(values)
    return base, values


def test_weights_file_is_loaded(tmp_path: Path) -> None:
    base, values = _random_backbone_weights()
    path = tmp_path / "backbone.weights.h5"
    base.save_weights(path)
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights=str(path)))
    loaded = models.backbone.get_weights()
    assert len(loaded) == len(values)
    for got, expected in zip(loaded, values):
        np.testing.assert_array_equal(got, expected)


def test_missing_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights=str(tmp_path / "nope.h5")))


def test_imagenet_path_uses_keras_download_with_md5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real `weights="imagenet"` path: Keras fetches the no-top file with our md5; a legacy .h5 we wrote loads."""
    import h5py
    from keras.src.applications import densenet
    from keras.src.legacy.saving import legacy_h5_format

    base, values = _random_backbone_weights()
    legacy_file = tmp_path / "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(legacy_file, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, base)
    calls = []

    def fake_get_file(fname: str, origin: str, **kwargs: object) -> str:
        calls.append((fname, kwargs.get("file_hash")))
        return str(legacy_file)

    monkeypatch.setattr(densenet.file_utils, "get_file", fake_get_file)
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights="imagenet"))
    assert calls == [(legacy_file.name, IMAGENET_NOTOP_MD5)]
    np.testing.assert_array_equal(models.backbone.get_weights()[0], values[0])
    assert models.spec.pretrained

    def failing_get_file(*args: object, **kwargs: object) -> str:
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(densenet.file_utils, "get_file", failing_get_file)
    with pytest.raises(WeightsError, match="--weights"):
        ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights="imagenet"))


def test_unfreeze_top_blocks_only() -> None:
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights="none"))
    models.set_trainable_backbone("1")
    trainable = {layer.name for layer in models.backbone.layers if layer.trainable and layer.weights}
    assert trainable and all(name.startswith(("conv5_", "bn")) for name in trainable)
    models.set_trainable_backbone("none")
    assert not models.backbone.trainable_weights
    with pytest.raises(ValueError):
        models.set_trainable_backbone("7")


def test_flip_tta_export_is_flip_invariant_and_probabilities_sum_to_one() -> None:
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights="none", seg_head=True))
    export = models.export_model(temperature=2.0, flip_tta=True)
    image = np.random.default_rng(0).uniform(0, 255, size=(1, *SIZE, 3)).astype(np.float32)
    out = export.predict(np.concatenate([image, image[:, :, ::-1]]), verbose=0)
    probabilities = np.asarray(out["probabilities"])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-5)
    cam = np.asarray(out["cam"])
    np.testing.assert_allclose(cam[0], cam[1][:, ::-1], atol=1e-4)
    assert np.asarray(out["lesion_mask"]).shape == (2, SIZE[0] // 8, SIZE[1] // 8, 1)


def test_flip_tta_export_averages_each_image_with_its_own_mirror() -> None:
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=SIZE, weights="none", seg_head=True))
    with_tta = models.export_model(temperature=1.5, flip_tta=True)
    plain = models.export_model(temperature=1.5, flip_tta=False)
    images = np.random.default_rng(1).uniform(0, 255, size=(3, *SIZE, 3)).astype(np.float32)
    got = with_tta.predict(images, verbose=0)
    direct = plain.predict(images, verbose=0)
    mirrored = plain.predict(images[:, :, ::-1], verbose=0)
    np.testing.assert_allclose(
        got["probabilities"], (direct["probabilities"] + mirrored["probabilities"]) / 2, atol=1e-5
    )
    for name in ("cam", "lesion_mask"):
        expected = (np.asarray(direct[name]) + np.asarray(mirrored[name])[:, :, ::-1]) / 2
        np.testing.assert_allclose(got[name], expected, atol=1e-4)
    np.testing.assert_allclose(got["embedding"], direct["embedding"], atol=1e-5)  # OOD uses the original view


@pytest.mark.parametrize("size", [(112, 112), (128, 100)])
def test_the_mask_head_refuses_sizes_that_are_not_multiples_of_32(size: tuple[int, int]) -> None:
    with pytest.raises(ImageSizeError, match="multiple of 32"):
        ModelSpec(num_classes=3, image_size=size, weights="none", seg_head=True)


def test_without_the_mask_head_any_size_builds() -> None:
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=(112, 112), weights="none"))
    logits = models.training_model(np.zeros((1, 112, 112, 3), np.float32))["logits"]
    assert tuple(logits.shape) == (1, 3)


@pytest.mark.parametrize("command", ["train", "pretrain"])
def test_cli_refuses_the_size_before_loading_any_data(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.__main__ import main as training_main

    missing = tmp_path / "no-such-folder"  # a data error would come later: the size is checked first
    code = training_main([command, "--data", str(missing), "--out", str(tmp_path / "run"), "--weights", "none",
                          "--image-size", "112", "--seg-head"])
    assert code == 2
    error = capsys.readouterr().err
    assert "multiple of 32" in error and "no-such-folder" not in error


def test_mask_pooling_needs_the_mask_head() -> None:
    with pytest.raises(ValueError, match="lesion-mask head"):
        ModelSpec(num_classes=3, image_size=(64, 64), weights="none", mask_pooling=True)


def _mask_pooling_models() -> ClassifierModels:
    return ClassifierModels(ModelSpec(num_classes=3, image_size=(64, 64), weights="none", seg_head=True,
                                      mask_pooling=True))


def test_mask_pooling_keeps_the_cam_exact_and_reads_the_predicted_mask() -> None:
    """The classifier sees [f32, f32 x mask]: its kernel doubles, the CAM's spatial mean is still the logits, and
    the probabilities move with the predicted mask alone."""
    models = _mask_pooling_models()
    assert tuple(models.classifier.kernel.shape) == (2 * 1024, 3)
    export = models.export_model(temperature=1.0, flip_tta=False)
    images = np.random.default_rng(2).uniform(0, 255, size=(2, 64, 64, 3)).astype(np.float32)
    out = export.predict(images, verbose=0)
    logits_from_cam = np.asarray(out["cam"]).mean(axis=(1, 2))
    softmax = np.exp(logits_from_cam) / np.exp(logits_from_cam).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out["probabilities"], softmax, atol=1e-5)

    seg_out = models.seg_layers["out"]
    kernel, bias = seg_out.get_weights()
    classifier_kernel, classifier_bias = models.classifier.get_weights()
    # a classifier that reads only the mask-weighted half, so the mask's effect is plain to see
    models.classifier.set_weights([np.concatenate([np.zeros_like(classifier_kernel[:1024]),
                                                   classifier_kernel[1024:] + 0.05]), classifier_bias])
    seg_out.set_weights([np.zeros_like(kernel), np.full_like(bias, 10.0)])  # mask ~1 everywhere
    with_lesion = export.predict(images, verbose=0)["probabilities"]
    seg_out.set_weights([np.zeros_like(kernel), np.full_like(bias, -30.0)])  # mask ~0 everywhere
    without_lesion = export.predict(images, verbose=0)["probabilities"]
    np.testing.assert_allclose(without_lesion, 1 / 3, atol=1e-4)  # nothing under the mask: uniform
    assert np.abs(with_lesion - without_lesion).max() > 1e-3


def test_mask_pooling_sends_no_classification_gradient_into_the_mask_head() -> None:
    import tensorflow as tf

    models = _mask_pooling_models()
    images = tf.constant(np.random.default_rng(3).uniform(0, 255, size=(2, 64, 64, 3)).astype(np.float32))
    seg_kernels = [models.seg_layers[name].kernel for name in ("out", "fuse", "lat8")]
    with tf.GradientTape() as tape:
        logits = models.training_model(images, training=True)["logits"]
        loss = tf.reduce_sum(logits * tf.constant([[1.0, -2.0, 0.5]]))
    gradients = tape.gradient(loss, [*seg_kernels, models.classifier.kernel])
    assert all(gradient is None for gradient in gradients[:-1])
    assert gradients[-1] is not None and float(tf.reduce_max(tf.abs(gradients[-1]))) > 0


def test_cli_refuses_mask_pooling_without_the_mask_head_before_loading_data(tmp_path: Path) -> None:
    from training.config import ConfigError, TrainConfig
    from training.train import train

    config = TrainConfig(data=str(tmp_path / "missing"), out=str(tmp_path / "run"), image_size=64, mask_pooling=True)
    with pytest.raises(ConfigError, match="--mask-pooling .* needs --seg-head"):
        train(config)
