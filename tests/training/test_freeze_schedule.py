"""Progressive freezing (``--freeze-schedule``): later fine-tune epochs train only the top dense blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from training.__main__ import main as training_main
from training.config import ConfigError, TrainConfig
from training.fast_kernels import fast_training_kernels
from training.model import ClassifierModels
from training.train import (
    ArraySet,
    FineTunePhase,
    PreparedData,
    fine_tune_phases,
    fit,
    model_spec,
    parse_freeze_schedule,
)


def _config(**overrides: object) -> TrainConfig:
    values = {"data": "unused", "out": "unused", "image_size": 128, "epochs": 24}
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


def test_schedule_is_parsed_in_order() -> None:
    assert parse_freeze_schedule(_config(freeze_schedule="9:3,13:2")) == [(9, 3), (13, 2)]
    assert parse_freeze_schedule(_config(freeze_schedule=" ")) == []
    assert parse_freeze_schedule(_config(freeze_schedule="24:4")) == [(24, 4)]  # "all" can give up the stem alone


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"freeze_schedule": "9-3"}, "EPOCH:BLOCKS"),
        ({"freeze_schedule": "9:3:1"}, "EPOCH:BLOCKS"),
        ({"freeze_schedule": "nine:3"}, "EPOCH:BLOCKS"),
        ({"freeze_schedule": "1:3"}, "from 2 to --epochs"),  # epoch 1 would never train the bottom
        ({"freeze_schedule": "25:3"}, "from 2 to --epochs"),
        ({"freeze_schedule": "13:3,9:2"}, "epochs must rise"),
        ({"freeze_schedule": "9:2,13:3"}, "fewer of the top dense blocks"),
        ({"freeze_schedule": "9:3,13:3"}, "fewer of the top dense blocks"),
        ({"freeze_schedule": "9:0"}, "fewer of the top dense blocks"),
        ({"freeze_schedule": "9:5"}, r"\(1\.\.4\)"),
        ({"freeze_schedule": "9:3", "unfreeze": "3"}, r"\(1\.\.2\)"),
        ({"freeze_schedule": "9:1", "unfreeze": "none"}, "needs a trainable backbone"),
    ],
)
def test_impossible_schedules_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_freeze_schedule(_config(**overrides))


def test_phases_cut_where_the_size_or_the_trainable_part_changes() -> None:
    assert fine_tune_phases(_config()) == [FineTunePhase(1, 24, 128, "all")]
    assert fine_tune_phases(_config(progressive_size=96, progressive_epochs=8, freeze_schedule="9:3,13:2")) == [
        FineTunePhase(1, 8, 96, "all"), FineTunePhase(9, 12, 128, "3"), FineTunePhase(13, 24, 128, "2")]
    # Freezing inside the small phase splits it; the size change then keeps the frozen part.
    assert fine_tune_phases(_config(progressive_size=96, progressive_epochs=8, freeze_schedule="5:3")) == [
        FineTunePhase(1, 4, 96, "all"), FineTunePhase(5, 8, 96, "3"), FineTunePhase(9, 24, 128, "3")]
    assert fine_tune_phases(_config(unfreeze="3", freeze_schedule="24:1")) == [
        FineTunePhase(1, 23, 128, "3"), FineTunePhase(24, 24, 128, "1")]


def test_cli_refuses_the_schedule_before_loading_any_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = training_main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"),
                          "--weights", "none", "--image-size", "64", "--epochs", "4", "--freeze-schedule", "5:2"])
    assert code == 2
    assert "from 2 to --epochs" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def _arrays(count: int, size: int, seed: int) -> ArraySet:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    masks = np.zeros((count, size, size, 1), dtype=np.uint8)
    return ArraySet(images, np.arange(count) % 3, masks, [Path(f"{i}.png") for i in range(count)], ["busi"] * count)


def test_frozen_blocks_keep_their_weights_and_statistics_while_the_top_trains() -> None:
    """A real 2-epoch fine-tune with ``--freeze-schedule 2:2``: from epoch 2 the stem, dense blocks 1-2 and their
    transitions (BatchNorm moving statistics included) stay exactly as they were after epoch 1; blocks 3-4 train."""
    config = _config(image_size=32, epochs=2, batch_size=4, frozen_epochs=0, freeze_schedule="2:2", augment=0.0,
                     patience=0, verbose=0, weights="none", learning_rate=1e-2, warmup_epochs=0,
                     average_last_epochs=1)  # keep the last epoch's weights, not the best validation epoch's
    prepared = PreparedData(("benign", "malignant", "normal"), _arrays(12, 32, 0), _arrays(6, 32, 1),
                            _arrays(3, 32, 2), None, {})
    with fast_training_kernels(True):
        models = ClassifierModels(model_spec(config, 3))
        at_freeze: dict[str, list[np.ndarray]] = {}
        set_trainable = models.set_trainable_backbone

        def record(unfreeze: str) -> None:
            if unfreeze == "2":
                at_freeze.update({layer.name: [np.array(w) for w in layer.get_weights()]
                                  for layer in models.backbone.layers if layer.weights})
            set_trainable(unfreeze)

        models.set_trainable_backbone = record  # type: ignore[method-assign]
        history, timing = fit(config, prepared, models)

    assert at_freeze, "the schedule never froze anything"
    assert len(history["loss"]) == 2
    assert timing["stage2_finetune_32px_epochs"] == 1 and timing["stage2_finetune_32px_top2_epochs"] == 1
    frozen_prefixes = ("conv1", "pool1", "conv2_", "pool2_", "conv3_", "pool3_")
    frozen = changed = 0
    for layer in models.backbone.layers:
        if layer.name not in at_freeze:
            continue
        same = all(np.array_equal(before, np.array(after))
                   for before, after in zip(at_freeze[layer.name], layer.get_weights(), strict=True))
        if layer.name.startswith(frozen_prefixes):
            assert same, f"{layer.name} changed after it was frozen"
            frozen += 1
        else:
            changed += not same
    assert frozen > 50  # stem, 6 + 12 dense layers, two transitions: convolutions and BatchNorms
    assert changed > 50  # blocks 3-4 and the final BatchNorm kept training
