"""bench/epoch_time.py: whole epochs timed with the augmenting pipeline and with the same batches replayed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import tensorflow as tf

from bench import epoch_time
from desktop_app.core import contract
from tests.tiny_model import make_tiny_model
from tests.training.synthetic import write_dataset


def test_cached_copy_replays_the_same_batches() -> None:
    images = np.arange(6 * 2 * 2 * 3, dtype=np.float32).reshape(6, 2, 2, 3)
    labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    source = tf.data.Dataset.from_tensor_slices(
        (images, {"logits": labels}, {"logits": np.arange(6, dtype=np.float32)})).batch(2)
    replayed = list(epoch_time.cached_copy(source.repeat(), steps=3, batch_size=2))
    assert len(replayed) == 3
    for (image, target, weight), (want_image, want_target, want_weight) in zip(replayed, source, strict=True):
        np.testing.assert_array_equal(image.numpy(), want_image.numpy())
        np.testing.assert_array_equal(target["logits"].numpy(), want_target["logits"].numpy())
        np.testing.assert_array_equal(weight["logits"].numpy(), want_weight["logits"].numpy())


def test_recipe_comes_from_the_model_metadata(tmp_path: Path) -> None:
    recipe = {"image_size": 64, "batch_size": 8, "seg_head": True, "extra_data": ["../shared/data/busbra"],
              "learning_rate": 5e-4, "not_a_config_field": 1}
    model = make_tiny_model(tmp_path / "model.onnx",
                            extra_metadata={contract.META_TRAINING: json.dumps({"recipe": recipe})})
    config = epoch_time.recipe_config(model, tmp_path / "busi", None, None, None, tmp_path / "run")
    assert (config.image_size, config.batch_size, config.seg_head, config.learning_rate) == (64, 8, True, 5e-4)
    assert config.weights == "none"  # never a download: speed does not depend on the weights
    assert config.data == str(tmp_path / "busi") and config.out == str(tmp_path / "run")
    assert config.extra_data == [str(epoch_time.SHARED_DATA / "busbra")]  # found by name on this machine
    mine = epoch_time.recipe_config(model, tmp_path / "busi", None, None, [tmp_path / "other"], tmp_path / "run")
    assert mine.extra_data == [str(tmp_path / "other")]


class _PoolingModels:
    """Stands in for the DenseNet121 models (the timing harness is under test, not the network): pooled pixels
    into a dense layer, with the training model's ``logits`` output."""

    built: ClassVar[list] = []

    def __init__(self, spec) -> None:
        import keras

        inputs = keras.Input((*spec.image_size, 3))
        logits = keras.layers.Dense(spec.num_classes, name="logits")(keras.layers.GlobalAveragePooling2D()(inputs))
        self.training_model = keras.Model(inputs, {"logits": logits})
        _PoolingModels.built.append(spec)


def test_times_both_modes_on_a_tiny_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training import train

    data = write_dataset(tmp_path / "busi", per_class=6)
    model = make_tiny_model(tmp_path / "model.onnx")  # no recorded recipe: the training defaults
    written: dict = {}
    monkeypatch.setattr(epoch_time, "write_result", lambda name, result: written.setdefault(name, result))
    monkeypatch.setattr(train, "ClassifierModels", _PoolingModels)
    code = epoch_time.main(["--model", str(model), "--data", str(data), "--image-size", "32", "--batch-size", "2",
                            "--epochs", "3", "--steps", "2", "--steps-csv", str(tmp_path / "steps.csv")])
    assert code == 0
    result = written["epoch_time"]
    assert (result["input_size"], result["batch_size"], result["steps_per_epoch"]) == (32, 2, 2)
    assert result["extra_data"] == [] and 0 < result["train_images"] < 18
    assert result["precision"] == "float32"  # the training defaults do not ask for bfloat16
    for mode in ("pipeline", "cached"):
        timing = result["modes"][mode]
        assert timing["first_epoch_s"] > 0
        assert len(timing["epoch_s"]) == 2 and all(seconds > 0 for seconds in timing["epoch_s"])
        assert timing["step"]["n"] == 4  # two timed epochs of two steps
        slowest = timing["slowest_steps_s"]
        assert len(slowest) == 4 and slowest == sorted(slowest, reverse=True)
        assert len(timing["slowest_steps_cpu_s"]) == 4 and all(cpu >= 0 for cpu in timing["slowest_steps_cpu_s"])
        assert len(timing["epoch_cpu_s"]) == 2 and all(cpu > 0 for cpu in timing["epoch_cpu_s"])
    rows = (tmp_path / "steps.csv").read_text().splitlines()
    assert rows[0] == "mode,epoch,step,wall_s,cpu_s" and len(rows) == 1 + 2 * 2 * 2  # 2 modes x 2 epochs x 2 steps
    assert {row.split(",")[0] for row in rows[1:]} == {"pipeline", "cached"}
    spec = _PoolingModels.built[-1]
    assert spec.image_size == (32, 32) and spec.weights == "none" and spec.num_classes == 3


def test_refuses_a_single_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        epoch_time.main(["--epochs", "1"])
    assert raised.value.code == 2
    assert "at least 2" in capsys.readouterr().err
