"""Progressive resizing: the first fine-tune epochs see downscaled images, the exported model keeps the full size.

A whole progressive run (both phases, export at the full size) is trained with the other recipe options in
``test_end_to_end.test_recipe_options_train_together_and_export_a_float32_full_size_model``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import tensorflow as tf

from training.__main__ import main as training_main
from training.config import ConfigError, TrainConfig
from training.model import ClassifierModels, ImageSizeError, ModelSpec
from training.train import ArraySet, check_progressive_resizing, make_train_dataset


def _arrays(count: int = 4, size: int = 64) -> ArraySet:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    masks = np.zeros((count, size, size, 1), dtype=np.uint8)
    masks[:, 8:40, 16:48] = 1  # a 32 x 32 lesion
    return ArraySet(images, np.arange(count) % 3, masks, [Path(f"{i}.png") for i in range(count)], ["busi"] * count)


def _config(**overrides: object) -> TrainConfig:
    values = {"data": "unused", "out": "unused", "image_size": 64, "batch_size": 4, "seg_head": True, "augment": 0.0,
              "epochs": 3, "progressive_size": 32, "progressive_epochs": 2}
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


def test_small_phase_feeds_downscaled_images_and_matching_mask_targets() -> None:
    arrays = _arrays()
    config = _config()
    weights = np.ones(3, dtype=np.float32)
    full_images, full_targets, _ = next(iter(make_train_dataset(arrays, config, weights, 3)))
    small_images, small_targets, _ = next(iter(make_train_dataset(arrays, config, weights, 3, size=32)))
    assert full_images.shape == (4, 64, 64, 3) and full_targets["mask"].shape == (4, 8, 8, 1)
    assert small_images.shape == (4, 32, 32, 3) and small_targets["mask"].shape == (4, 4, 4, 1)
    # Same shuffling seed, no augmentation: the small batch is the full batch, downscaled with antialiasing.
    expected = tf.image.resize(full_images, (32, 32), method="bilinear", antialias=True)
    np.testing.assert_allclose(small_images.numpy(), expected.numpy(), atol=1e-3)
    # The lesion covers rows 8-39 and columns 16-47 of 64 px. Mask targets are at 1/8 of the network's input:
    # 8 px cells at full size (rows 1-4, columns 2-5), 16 px cells in the small phase, where rows 0 and 2 are only
    # half covered (row 1, columns 1-2).
    expected_full = np.zeros((8, 8), dtype=np.float32)
    expected_full[1:5, 2:6] = 1
    expected_small = np.zeros((4, 4), dtype=np.float32)
    expected_small[1, 1:3] = 1
    for index in range(4):
        np.testing.assert_array_equal(full_targets["mask"].numpy()[index, ..., 0], expected_full)
        np.testing.assert_array_equal(small_targets["mask"].numpy()[index, ..., 0], expected_small)


def test_a_model_built_for_any_training_size_trains_small_and_exports_at_its_size() -> None:
    models = ClassifierModels(ModelSpec(num_classes=3, image_size=(64, 64), seg_head=True, any_training_size=True))
    small = models.training_model(np.zeros((2, 32, 32, 3), dtype=np.float32))
    full = models.training_model(np.zeros((2, 64, 64, 3), dtype=np.float32))
    assert small["mask"].shape == (2, 4, 4, 1) and full["mask"].shape == (2, 8, 8, 1)
    assert tuple(models.export_model().input_shape) == (None, 64, 64, 3)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"progressive_size": 64}, ImageSizeError, "above 0 and below --image-size"),
        ({"progressive_size": 0}, ImageSizeError, "above 0 and below --image-size"),
        ({"progressive_size": 48}, ImageSizeError, "multiple of 32"),  # the mask head's pyramid
        ({"progressive_epochs": 3}, ConfigError, "fewer than --epochs"),
    ],
)
def test_impossible_plans_are_refused(overrides: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        check_progressive_resizing(_config(**overrides))


def test_without_progressive_epochs_nothing_is_checked() -> None:
    check_progressive_resizing(_config(progressive_epochs=0, progressive_size=500))


def test_cli_refuses_the_plan_before_loading_any_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = training_main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"),
                          "--weights", "none", "--image-size", "64", "--epochs", "2", "--progressive-size", "32",
                          "--progressive-epochs", "2"])
    assert code == 2
    assert "fewer than --epochs" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
