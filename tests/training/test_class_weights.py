"""Class weights: scikit-learn's 'balanced' weights raised to --class-weight-power (over --primary-weight's
source-weighted counts), fed to the loss per image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from training.__main__ import main as training_main
from training.config import TrainConfig
from training.train import (
    ArraySet,
    balanced_class_weights,
    make_train_dataset,
    source_weights,
    training_class_weights,
)

# The joint training set's shape: many benign, fewer malignant, few normal images.
LABELS = np.array([0] * 60 + [1] * 30 + [2] * 6)


def _weighted_shares(weights: np.ndarray) -> np.ndarray:
    totals = np.bincount(LABELS, weights=weights[LABELS], minlength=3)
    return totals / totals.sum()


def test_power_one_is_balanced_and_gives_every_class_the_same_total_weight() -> None:
    weights = balanced_class_weights(LABELS, 3)
    np.testing.assert_allclose(weights, [96 / (3 * 60), 96 / (3 * 30), 96 / (3 * 6)])
    np.testing.assert_allclose(_weighted_shares(weights), [1 / 3] * 3)


def test_power_half_is_the_square_root_and_keeps_the_order_of_the_class_sizes() -> None:
    balanced = balanced_class_weights(LABELS, 3)
    tempered = balanced_class_weights(LABELS, 3, 0.5)
    np.testing.assert_allclose(tempered, np.sqrt(balanced))
    shares = _weighted_shares(tempered)
    raw = np.bincount(LABELS) / len(LABELS)
    assert raw[2] < shares[2] < 1 / 3  # the rare class gains weight, but less than under full balancing
    assert shares[0] > shares[1] > shares[2]


def test_power_zero_weighs_every_image_equally_and_absent_classes_get_zero() -> None:
    np.testing.assert_allclose(balanced_class_weights(LABELS, 3, 0.0), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(balanced_class_weights(np.array([0, 0, 1]), 3, 0.5)[2], 0.0)


def test_the_dataset_carries_each_images_class_weight() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0, 0, 0, 1, 2, 2])
    arrays = ArraySet(rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8), labels,
                      np.zeros((6, 32, 32, 1), dtype=np.uint8), [Path(f"{i}.png") for i in range(6)], ["busi"] * 6)
    config = TrainConfig(data="unused", out="unused", image_size=32, batch_size=6, augment=0.0, class_weight_power=0.5)
    weights = balanced_class_weights(labels, 3, config.class_weight_power)
    _, targets, sample_weights = next(iter(make_train_dataset(arrays, config, weights, 3)))
    seen = np.argmax(targets["logits"].numpy(), axis=1)
    np.testing.assert_allclose(sample_weights["logits"].numpy(), weights[seen], rtol=1e-6)


def test_cli_refuses_a_negative_power_before_loading_any_data(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = training_main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"),
                          "--weights", "none", "--image-size", "64", "--class-weight-power", "-1"])
    assert code == 2
    assert "--class-weight-power must be 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def _joint_arrays(labels: np.ndarray, extra: np.ndarray) -> ArraySet:
    rng = np.random.default_rng(1)
    count = len(labels)
    return ArraySet(rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8), labels,
                    np.zeros((count, 32, 32, 1), dtype=np.uint8), [Path(f"{i}.png") for i in range(count)],
                    ["busbra" if is_extra else "busi" for is_extra in extra], extra)


def test_primary_weight_scales_the_data_sets_images_and_class_weights_stay_balanced_over_the_weighted_counts() -> None:
    # Primary (BUSI-like) images of all three classes, then extra (BUS-BRA-like) ones without "normal".
    labels = np.array([0, 0, 0, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1])
    extra = np.arange(len(labels)) >= 6
    arrays = _joint_arrays(labels, extra)
    config = TrainConfig(data="unused", out="unused", image_size=32, batch_size=len(labels), augment=0.0,
                         primary_weight=2.0)
    sources = source_weights(arrays, config.primary_weight)
    np.testing.assert_allclose(sources, np.where(extra, 1.0, 2.0))
    class_weight = training_class_weights(arrays, config, 3)
    totals = np.bincount(labels, weights=class_weight[labels] * sources, minlength=3)
    np.testing.assert_allclose(totals, [totals.sum() / 3] * 3)  # every class the same total weight
    assert not np.allclose(class_weight, balanced_class_weights(labels, 3))  # the weighted counts changed them
    _, _, sample_weights = next(iter(make_train_dataset(arrays, config, class_weight, 3)))
    seen = np.sort(sample_weights["logits"].numpy())
    np.testing.assert_allclose(seen, np.sort(class_weight[labels] * sources), rtol=1e-6)


def test_primary_weight_one_or_no_extra_data_changes_nothing() -> None:
    labels = np.array([0, 0, 0, 1, 2, 2])
    arrays = _joint_arrays(labels, np.zeros(len(labels), dtype=bool))
    weighted = TrainConfig(data="unused", out="unused", primary_weight=3.0)
    np.testing.assert_allclose(training_class_weights(arrays, weighted, 3), balanced_class_weights(labels, 3))
    joint = _joint_arrays(labels, np.array([False, False, False, True, True, True]))
    plain = TrainConfig(data="unused", out="unused")
    np.testing.assert_allclose(source_weights(joint, plain.primary_weight), np.ones(len(labels)))
    np.testing.assert_allclose(training_class_weights(joint, plain, 3), balanced_class_weights(labels, 3))


def test_cli_refuses_a_primary_weight_of_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = training_main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"),
                          "--weights", "none", "--image-size", "64", "--primary-weight", "0"])
    assert code == 2
    assert "--primary-weight must be above 0" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
