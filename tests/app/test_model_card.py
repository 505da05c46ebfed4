"""Model card fields come from the model file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from desktop_app.core import contract
from desktop_app.core.inference import ModelSession
from desktop_app.core.model_card import ModelCard
from tests.tiny_model import make_tiny_model


def test_card_fields(tmp_path: Path) -> None:
    metrics = {"test": {"accuracy": 0.875, "macro_auc": 0.93}, "ece_after": 0.031}
    training = {"counts": {"train": 500, "val": 100}, "weights_origin": "imagenet"}
    path = make_tiny_model(
        tmp_path / "m.onnx",
        temperature=1.7,
        extra_metadata={
            contract.META_MODEL_VERSION: "2026.11-test",
            contract.META_METRICS: json.dumps(metrics),
            contract.META_TRAINING: json.dumps(training),
            contract.META_PARITY: "1.2e-06",
        },
    )
    card = ModelCard.from_info(ModelSession.open(path).info)
    assert card.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card.version == "2026.11-test"
    assert card.labels == ("benign", "malignant", "normal")
    assert card.temperature == 1.7
    assert card.parity_max_abs_diff == 1.2e-06
    assert card.metrics == metrics and card.training == training
    sections = dict(card.sections())
    model_fields = dict(sections["Model"])
    assert model_fields["SHA-256"] == card.sha256
    assert model_fields["Version"] == "2026.11-test"
    assert dict(sections["Held-out metrics"])["test › accuracy"] == "0.875"
    calibration = dict(sections["Calibration"])
    assert calibration["Temperature"] == "1.7" and calibration["ece_after"] == "0.031"
    assert dict(sections["Training"])["counts › train"] == "500"
    assert card.to_dict()["sha256"] == card.sha256
