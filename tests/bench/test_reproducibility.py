"""bench/reproducibility.py: tensor-by-tensor comparison of two runs' weights, and of ONNX graphs without metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import reproducibility
from tests.tiny_model import make_tiny_model

h5py = pytest.importorskip("h5py")


def _write_weights(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    with h5py.File(path, "w") as handle:
        for name, values in tensors.items():
            handle.create_dataset(name, data=values)
    return path


def _tensors(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"layers/conv/vars/0": rng.normal(size=(3, 3, 4)).astype(np.float32),
            "layers/dense/vars/0": rng.normal(size=(4, 3)).astype(np.float32),
            "optimizer/vars/0": np.array(7, dtype=np.int64)}


def test_identical_runs_have_every_tensor_identical(tmp_path: Path) -> None:
    first = reproducibility.weight_tensors(_write_weights(tmp_path / "a.h5", _tensors()))
    second = reproducibility.weight_tensors(_write_weights(tmp_path / "b.h5", _tensors()))
    assert set(first) == set(_tensors())  # nested groups are walked
    result = reproducibility.compare_weights(first, second)
    assert result == {"same_tensor_names": True, "tensors": 3, "identical_tensors": 3, "differing_kinds": {},
                      "max_abs_difference": 0.0, "first_differing": []}


def test_a_changed_tensor_is_named_with_its_largest_difference(tmp_path: Path) -> None:
    changed = _tensors()
    changed["layers/dense/vars/0"] = changed["layers/dense/vars/0"].copy()
    changed["layers/dense/vars/0"][1, 2] += 0.25
    result = reproducibility.compare_weights(
        reproducibility.weight_tensors(_write_weights(tmp_path / "a.h5", _tensors())),
        reproducibility.weight_tensors(_write_weights(tmp_path / "b.h5", changed)))
    assert result["identical_tensors"] == 2 and result["first_differing"] == ["layers/dense/vars/0"]
    assert result["differing_kinds"] == {"weights": 1}
    assert result["max_abs_difference"] == pytest.approx(0.25, abs=1e-6)


def test_different_tensor_names_are_reported() -> None:
    renamed = {f"other/{name}": values for name, values in _tensors().items()}
    result = reproducibility.compare_weights(_tensors(), renamed)
    assert result["same_tensor_names"] is False and result["only_in_a"] and result["tensors"] == 0


def test_tensors_both_files_hold_are_compared_when_one_lacks_the_optimizer_state() -> None:
    without_optimizer = {name: values for name, values in _tensors().items() if not name.startswith("optimizer/")}
    without_optimizer["layers/dense/vars/0"] = without_optimizer["layers/dense/vars/0"] + 1
    result = reproducibility.compare_weights(_tensors(), without_optimizer)
    assert result["same_tensor_names"] is False and result["only_in_a_kinds"] == {"optimizer": 1}
    assert result["tensors"] == 2 and result["identical_tensors"] == 1
    assert result["differing_kinds"] == {"weights": 1} and result["max_abs_difference"] == pytest.approx(1.0)


def test_content_digest_ignores_names_and_metadata_but_not_weights(tmp_path: Path) -> None:
    import onnx

    base = make_tiny_model(tmp_path / "a.onnx", seed=0)
    renamed = onnx.load(str(base))
    renamed.metadata_props.add(key="created", value="another day")
    old_name, new_name = renamed.graph.initializer[0].name, "const_fold_opt__9999"
    renamed.graph.initializer[0].name = new_name
    for node in renamed.graph.node:
        node.input[:] = [new_name if name == old_name else name for name in node.input]
    onnx.save(renamed, str(tmp_path / "b.onnx"))
    other_weights = make_tiny_model(tmp_path / "c.onnx", seed=1)
    assert base.read_bytes() != (tmp_path / "b.onnx").read_bytes()
    digest = reproducibility.onnx_content_digest
    assert digest(base) == digest(tmp_path / "b.onnx")
    assert digest(base) != digest(other_weights)
    same = reproducibility.output_differences(base, tmp_path / "b.onnx")
    assert same and set(same.values()) == {0.0}
    assert max(reproducibility.output_differences(base, other_weights).values()) > 0


def test_differing_tensors_are_counted_by_kind() -> None:
    names = ["optimizer/vars/3", "layers/functional/layers/batch_normalization_12/vars/2",
             "layers/functional/layers/batch_normalization/vars/3", "layers/functional/layers/batch_normalization/vars/0",
             "layers/conv2d/vars/0"]
    first = {name: np.zeros(2, np.float32) for name in names}
    second = {name: np.ones(2, np.float32) for name in names}
    result = reproducibility.compare_weights(first, second)
    assert result["differing_kinds"] == {"batchnorm statistics": 2, "optimizer": 1, "weights": 2}  # gamma: a weight


def test_two_existing_run_folders_are_compared_without_training(tmp_path: Path, monkeypatch) -> None:
    import json

    monkeypatch.setattr(reproducibility, "write_result", lambda name, result: written.update({name: result}))
    written: dict = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        run = tmp_path / name
        run.mkdir()
        make_tiny_model(run / "model.onnx", seed=seed)
        (run / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.5, "macro_f1": 0.4, "ece": 0.1}}))
    _write_weights(tmp_path / "a" / "checkpoint.weights.h5", _tensors())
    _write_weights(tmp_path / "b" / "checkpoint.weights.h5", _tensors())
    assert reproducibility.main(["--runs", str(tmp_path / "a"), str(tmp_path / "b"), "--name", "ab"]) == 0
    assert written["ab"]["checkpoint"]["identical_tensors"] == 3 and written["ab"]["onnx_contents_identical"]
    assert reproducibility.main(["--runs", str(tmp_path / "a"), str(tmp_path / "c"), "--name", "ac"]) == 0
    assert written["ac"]["checkpoint"] is None  # c has no checkpoint: only the models are compared
    assert not written["ac"]["onnx_contents_identical"]
    assert max(written["ac"]["onnx_output_max_abs_difference"].values()) > 0
