"""Masked-image pretraining: the masking, the targets, the loss, and the weights file feeding a supervised run.

The pretraining and the supervised run are the shared ones of ``conftest`` (``pretrained``, ``trained_run``); the
card written from that run is checked in ``test_end_to_end.test_model_card_is_written_from_metadata``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.training.synthetic import CLASSES, SIZE
from training.pretrain import CELL, block_targets, hidden_patches, hide, masked_l1


def test_hidden_patches_hide_whole_squares_at_the_requested_rate() -> None:
    hidden = hidden_patches(64, 64, 16, 0.5, seed=tf.constant([1, 2])).numpy()
    assert hidden.shape == (64, 64, 64, 1)
    squares = hidden[..., 0].reshape(64, 4, 16, 4, 16)
    # each 16x16 square is all hidden or all visible
    assert np.all(squares.min(axis=(2, 4)) == squares.max(axis=(2, 4)))
    assert 0.4 < hidden.mean() < 0.6
    assert hidden_patches(2, 32, 16, 0.0).numpy().sum() == 0
    assert hidden_patches(2, 32, 16, 1.0).numpy().min() == 1
    with pytest.raises(ValueError, match="multiple of"):
        hidden_patches(1, 36, 12, 0.5)


def test_hide_fills_hidden_pixels_with_the_image_mean_and_keeps_the_rest() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(2, 32, 32, 3)).astype(np.float32)
    hidden = hidden_patches(2, 32, 16, 0.5, seed=tf.constant([0, 5])).numpy()
    out = hide(tf.constant(images), tf.constant(hidden)).numpy()
    visible = np.broadcast_to(hidden == 0, images.shape)
    np.testing.assert_allclose(out[visible], images[visible])
    for index in range(2):
        mask = np.broadcast_to(hidden[index] == 1, images[index].shape)
        np.testing.assert_allclose(out[index][mask], images[index].mean(), rtol=1e-5)


def test_block_targets_are_normalised_grey_blocks_with_their_hidden_flag() -> None:
    rng = np.random.default_rng(1)
    grey = rng.uniform(0, 255, size=(1, 16, 16, 1)).astype(np.float32)
    images = np.repeat(grey, 3, axis=-1)
    hidden = np.zeros((1, 16, 16, 1), np.float32)
    hidden[:, :8, 8:] = 1  # the top-right 8x8 block
    targets = block_targets(tf.constant(images), tf.constant(hidden)).numpy()
    assert targets.shape == (1, 2, 2, CELL * CELL + 1)
    np.testing.assert_array_equal(targets[0, ..., -1], [[0, 1], [0, 0]])
    block = grey[0, :8, 8:, 0].reshape(-1) / 255.0
    expected = (block - block.mean()) / (block.std() + 1e-2)
    np.testing.assert_allclose(targets[0, 0, 1, :-1], expected, rtol=1e-4, atol=1e-5)


def test_loss_counts_hidden_blocks_only() -> None:
    rng = np.random.default_rng(2)
    target = rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
    flags = np.array([[[[1], [0]], [[0], [0]]]], np.float32)
    y_true = tf.constant(np.concatenate([target, flags], axis=-1))
    prediction = target.copy()
    prediction[0, 1, 1] += 5.0  # wrong on a visible block: no loss
    assert float(masked_l1(y_true, tf.constant(prediction))[0]) == pytest.approx(0.0, abs=1e-6)
    prediction[0, 0, 0] += 2.0  # wrong by 2 on every value of the hidden block
    assert float(masked_l1(y_true, tf.constant(prediction))[0]) == pytest.approx(2.0, rel=1e-5)


def test_pretraining_uses_training_images_only_and_its_file_loads_bit_for_bit(pretrained: Path) -> None:
    """`pretrain` (the shared 2-epoch run) writes a backbone file from the training split; ``--weights FILE`` loads it."""
    import keras

    from training.export import weights_origin
    from training.model import ClassifierModels, ModelSpec

    weights = pretrained / "backbone.weights.h5"
    info = json.loads((pretrained / "pretrain.json").read_text())
    with open(pretrained / "split.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert info["images"] == sum(row["split"] == "train" for row in rows) < len(rows)
    assert info["epochs"] == 2 and len(info["loss_first_last"]) == 2
    assert info["precision"] == "float32"

    spec = ModelSpec(num_classes=len(CLASSES), image_size=(SIZE, SIZE), weights=str(weights), train_batchnorm=True)
    started = ClassifierModels(spec)
    reference = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    reference.load_weights(weights)
    for got, expected in zip(started.backbone.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert not np.allclose(started.backbone.get_weights()[0],
                           ClassifierModels(ModelSpec(len(CLASSES), (SIZE, SIZE))).backbone.get_weights()[0])
    assert "self-supervised pretraining" in weights_origin(str(weights))


def test_another_file_beside_pretrain_json_is_not_called_pretrained(pretrained: Path, tmp_path: Path) -> None:
    from training.export import weights_origin

    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "pretrain.json").write_bytes((pretrained / "pretrain.json").read_bytes())
    same = folder / "backbone.weights.h5"
    same.write_bytes((pretrained / "backbone.weights.h5").read_bytes())
    assert "self-supervised pretraining" in weights_origin(str(same))  # the very file pretrain.json describes
    other = folder / "other.weights.h5"
    other.write_bytes(same.read_bytes() + b"\0")
    assert "self-supervised" not in weights_origin(str(other))


def test_supervised_run_from_the_pretraining_keeps_its_split(pretrained: Path,
                                                               trained_run: tuple[Path, Path]) -> None:
    """The shared supervised run started from the pretraining's file: validation and test images were never seen."""
    _, run_dir = trained_run
    with open(pretrained / "split.csv", newline="") as handle:
        pretraining_rows = list(csv.DictReader(handle))
    with open(run_dir / "split.csv", newline="") as handle:
        assert list(csv.DictReader(handle)) == pretraining_rows
    config = json.loads((run_dir / "config.json").read_text())
    assert config["weights"] == str(pretrained / "backbone.weights.h5")


@pytest.mark.parametrize("train_batchnorm", [False, True])
def test_batchnorm_of_pretrained_weights_is_frozen_unless_asked(tmp_path: Path, train_batchnorm: bool) -> None:
    import keras

    from training.model import ClassifierModels, ModelSpec, save_backbone

    source = ClassifierModels(ModelSpec(len(CLASSES), (SIZE, SIZE)))
    weights = save_backbone(source.backbone, (SIZE, SIZE), tmp_path / "b.weights.h5")
    models = ClassifierModels(ModelSpec(len(CLASSES), (SIZE, SIZE), weights=str(weights),
                                        train_batchnorm=train_batchnorm))
    models.set_trainable_backbone("all")
    norms = [layer for layer in models.backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.trainable == train_batchnorm for layer in norms)
    # and in a training step the batch statistics move only when BatchNorm learns
    before = [np.array(layer.moving_mean) for layer in norms]
    images = np.random.default_rng(0).uniform(0, 255, size=(4, SIZE, SIZE, 3)).astype(np.float32)
    models.training_model(images, training=True)
    moved = any(not np.allclose(b, np.array(layer.moving_mean)) for b, layer in zip(before, norms))
    assert moved == train_batchnorm
