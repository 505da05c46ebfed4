"""bench/quantize.py: the int8 model keeps the contract (outputs, metadata) and says which model it came from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from tests.packaging.conftest import ROOT
from tests.tiny_model import make_tiny_model

pytest.importorskip("onnxruntime.quantization")


@pytest.fixture(scope="module")
def quantize_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench_quantize", ROOT / "bench" / "quantize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calibration_folder(root: Path, per_class: int = 4) -> Path:
    rng = np.random.default_rng(1)
    for label in ("benign", "malignant", "normal"):
        folder = root / label
        folder.mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 255, (40 + index, 36, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{label} ({index}).png")
        Image.fromarray(np.zeros((40, 36), np.uint8)).save(
            folder / f"{label} (0)_mask.png"
        )  # masks are skipped
    return root


def test_int8_model_keeps_the_contract_and_records_its_source(tmp_path: Path, quantize_module) -> None:
    fp32 = make_tiny_model(tmp_path / "model.onnx", input_size=(32, 32))
    data = calibration_folder(tmp_path / "data")
    images = quantize_module.training_images(data, None, count=9)
    assert len(images) == 9 and all("_mask" not in p.name for p in images)
    assert {p.parent.name for p in images} == {"benign", "malignant", "normal"}  # balanced over classes

    out = tmp_path / "model_int8.onnx"
    record = quantize_module.quantize_model(fp32, images, out)

    source_meta = {p.key: p.value for p in onnx.load(str(fp32)).metadata_props}
    int8_model = onnx.load(str(out))
    int8_meta = {p.key: p.value for p in int8_model.metadata_props}
    for key, value in source_meta.items():
        if key != contract.META_MODEL_VERSION:
            assert int8_meta[key] == value, key
    assert int8_meta[contract.META_MODEL_VERSION] == source_meta[contract.META_MODEL_VERSION] + "-int8"
    stored = json.loads(int8_meta[quantize_module.META_QUANTIZATION])
    assert stored["source_sha256"] == quantize_module.sha256_of(fp32) == record["source_sha256"]
    assert stored["calibration_images"] == 9
    assert any(node.op_type == "QuantizeLinear" for node in int8_model.graph.node)

    session_fp32, session_int8 = ModelSession.open(fp32), ModelSession.open(out)
    assert set(session_int8._output_names) == set(session_fp32._output_names)
    probe = [Image.open(p).convert("RGB") for p in images[:3]]
    for a, b in zip(session_fp32.classify(probe), session_int8.classify(probe)):
        assert b.cam.shape == a.cam.shape and b.embedding.shape == a.embedding.shape
        assert np.max(np.abs(a.probabilities - b.probabilities)) < 0.05


def test_calibration_uses_only_training_rows_of_a_split(tmp_path: Path, quantize_module) -> None:
    data = calibration_folder(tmp_path / "data")
    split = tmp_path / "split.csv"
    rows = ["path,label,group,split"]
    for label in ("benign", "malignant", "normal"):
        for index in range(4):
            rows.append(
                f"{label}/{label} ({index}).png,{label},{label}{index},{'train' if index < 2 else 'test'}"
            )
    split.write_text("\n".join(rows) + "\n")
    chosen = quantize_module.training_images(data, split, count=100)
    assert sorted(p.name for p in chosen) == sorted(
        f"{c} ({i}).png" for c in ("benign", "malignant", "normal") for i in (0, 1)
    )
