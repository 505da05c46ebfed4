"""bench/int8_fidelity.py: variants are scored against the fp32 answers on images that are neither test nor
calibration images."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench import int8_fidelity
from tests.bench.split_data import write_split_data
from tests.tiny_model import make_tiny_model

pytest.importorskip("onnxruntime.quantization")


def make_split(root: Path, prefix: str, counts: dict[str, int]) -> Path:
    """Images under root/<class>/ and root/split.csv with ``counts[subset]`` rows per class for each subset."""
    return write_split_data(root, root / "split.csv", counts, seed=len(prefix), prefix=prefix)


def test_fidelity_set_holds_no_test_and_no_calibration_image(tmp_path: Path) -> None:
    split = make_split(tmp_path / "busi", "a", {"train": 4, "val": 2, "test": 2})
    other_split = make_split(tmp_path / "other", "b", {"train": 3, "test": 2})
    calibration = int8_fidelity.training_images(tmp_path / "busi", split, 5)
    pairs, n_validation = int8_fidelity.fidelity_set(
        tmp_path / "busi", split, tmp_path / "other", other_split, calibration, per_set=100
    )
    with open(split) as handle:
        subset = {str(tmp_path / "busi" / r["path"]): r["split"] for r in csv.DictReader(handle)}
    with open(other_split) as handle:
        subset |= {str(tmp_path / "other" / r["path"]): r["split"] for r in csv.DictReader(handle)}
    names = [str(path) for path, _ in pairs]
    assert n_validation == 6 and all(subset[name] == "val" for name in names[:n_validation])
    assert all(subset[name] == "train" for name in names[n_validation:])
    assert not {str(path) for path in calibration} & set(names)
    assert len(names) == len(set(names)) == 6 + (12 - 5) + 9


def test_variants_are_scored_against_the_fp32_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    split = make_split(tmp_path / "busi", "a", {"train": 4, "val": 2, "test": 2})
    model = make_tiny_model(tmp_path / "model.onnx", input_size=(32, 32))
    monkeypatch.setattr(int8_fidelity, "CALIBRATION_COUNT", 6)
    monkeypatch.setattr(int8_fidelity, "write_result", lambda name, result: tmp_path / f"{name}.json")
    assert (
        int8_fidelity.main(
            [
                "--model",
                str(model),
                "--data",
                str(tmp_path / "busi"),
                "--split",
                str(split),
                "--variants",
                "plain:MinMax:0",
                "stem:MinMax:1",
                "--out-dir",
                str(tmp_path / "variants"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (tmp_path / "variants" / "plain.onnx").is_file() and (
        tmp_path / "variants" / "stem.onnx"
    ).is_file()
    rows = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    assert [row["name"] for row in rows] == ["plain", "stem"]
    assert [row["float_first_convs"] for row in rows] == [0, 1]
    for row in rows:
        assert (
            0 <= row["agreement"] <= 1
            and row["max_abs_probability_change"] >= row["mean_abs_probability_change"]
        )

    # The fp32 model scored against itself agrees everywhere and moves nothing: the reference is its own answers.
    calibration = int8_fidelity.training_images(tmp_path / "busi", split, 6)
    pairs, n_validation = int8_fidelity.fidelity_set(tmp_path / "busi", split, None, None, calibration, 10)
    _, probabilities, _ = int8_fidelity.evaluate(model, pairs)
    itself = int8_fidelity.score(
        "fp32", model, (probabilities, int8_fidelity.answers(model, probabilities)), pairs, n_validation
    )
    assert itself["agreement"] == 1.0 and itself["max_abs_probability_change"] == 0.0
