"""The model card: what a user should know about the loaded model, read from the model file itself."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core import contract
from desktop_app.core.inference import ModelInfo
from desktop_app.core.integrity import sha256_of_file

#: Metric names that describe calibration rather than discrimination (shown in their own section).
CALIBRATION_METRIC_WORDS = ("ece", "brier", "nll", "calibration", "temperature")


def file_sha256(path: str | os.PathLike[str], block_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in blocks (the one definition lives in desktop_app.core.integrity)."""
    return sha256_of_file(path, chunk_size=block_size)


def _json_or_text(text: str | None) -> object:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def describe_class_offsets(record: object) -> str:
    """One line for the class-offset correction stored in a model (see training/recalibrate.py)."""
    if not isinstance(record, dict):
        return "none (temperature scaling only)"
    offsets = record.get("offsets", {})
    moved = [f"{name} {value:+.2f}" for name, value in offsets.items() if isinstance(value, (int, float)) and value]
    temperature = record.get("temperature")
    return (f"{', '.join(moved) or 'none'} (logit offsets, second temperature {format_value(temperature)}; "
            f"fitted on {record.get('fitted_on', 'validation')})")


def format_value(value: object) -> str:
    """Readable text for a metadata value (floats to 4 significant digits, lists joined)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value) if len(value) <= 12 else f"{len(value)} values"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def flatten(value: object, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts -> [("a › b", "text"), ...] in a stable order, for display."""
    if isinstance(value, dict):
        items: list[tuple[str, str]] = []
        for key in value:
            items.extend(flatten(value[key], f"{prefix} › {key}" if prefix else str(key)))
        return items
    return [(prefix or "value", format_value(value))]


@dataclass(frozen=True)
class ModelCard:
    """Model facts for Help › Model card, the CLI and reports."""

    path: Path
    sha256: str
    size_bytes: int
    version: str
    created: str
    labels: tuple[str, ...]
    input_size: tuple[int, int]
    preprocessing: str
    temperature: float | None
    parity_max_abs_diff: float | None
    class_offsets: object
    training: object
    metrics: object
    ood_threshold: float | None
    ood_pass_rate: float | None
    has_lesion_mask: bool
    #: How the probabilities become one answer (desktop_app.core.decision), in words.
    decision: str
    #: "verified against model.onnx.sha256 (...)" / "unverified: ..." (desktop_app.core.integrity)
    integrity: str = "not checked"

    @classmethod
    def from_info(cls, info: ModelInfo) -> ModelCard:
        metadata = info.metadata
        parity = metadata.get(contract.META_PARITY)
        try:
            parity_value = float(parity) if parity else None
        except ValueError:
            parity_value = None
        return cls(
            path=info.path,
            sha256=info.integrity.sha256 if info.integrity is not None else file_sha256(info.path),
            size_bytes=info.path.stat().st_size,
            version=metadata.get(contract.META_MODEL_VERSION, "unknown"),
            created=metadata.get(contract.META_CREATED, "unknown"),
            labels=info.labels,
            input_size=info.input_size,
            preprocessing=metadata.get(contract.META_PREPROCESSING, ""),
            temperature=info.temperature,
            parity_max_abs_diff=parity_value,
            class_offsets=_json_or_text(metadata.get(contract.META_CLASS_OFFSETS)),
            training=_json_or_text(metadata.get(contract.META_TRAINING)),
            metrics=_json_or_text(metadata.get(contract.META_METRICS)),
            ood_threshold=info.ood.threshold if info.ood is not None else None,
            ood_pass_rate=info.ood.pass_rate if info.ood is not None else None,
            has_lesion_mask=info.has_lesion_mask,
            decision=info.decision_rule.describe(),
            integrity=info.integrity.describe() if info.integrity is not None else "not checked",
        )

    def _split_metrics(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        performance, calibration = [], []
        for key, text in flatten(self.metrics):
            target = calibration if any(w in key.lower() for w in CALIBRATION_METRIC_WORDS) else performance
            target.append((key, text))
        return performance, calibration

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(title, [(field, value), ...]) sections in display order."""
        performance, calibration_metrics = self._split_metrics()
        ood = (
            [
                ("Threshold", format_value(self.ood_threshold)),
                ("Validation pass rate", format_value(self.ood_pass_rate)),
            ]
            if self.ood_threshold is not None
            else [("Out-of-distribution check", "not available in this model")]
        )
        return [
            (
                "Model",
                [
                    ("Version", self.version),
                    ("Created", self.created),
                    ("File", str(self.path)),
                    ("Size", f"{self.size_bytes / 1e6:.1f} MB"),
                    ("SHA-256", self.sha256),
                    ("Integrity", self.integrity),
                    ("Classes", ", ".join(self.labels)),
                    ("Input size", f"{self.input_size[0]} × {self.input_size[1]} pixels"),
                    ("Lesion mask output", format_value(self.has_lesion_mask)),
                    ("Answer", self.decision),
                ],
            ),
            ("Preprocessing", [("Pipeline", self.preprocessing or "—")]),
            ("Training", flatten(self.training) or [("Training", "—")]),
            ("Held-out metrics", performance or [("Metrics", "—")]),
            (
                "Calibration",
                [
                    ("Temperature", format_value(self.temperature)),
                    ("Class offsets", describe_class_offsets(self.class_offsets)),
                    ("Keras vs ONNX max abs diff", format_value(self.parity_max_abs_diff)),
                    *calibration_metrics,
                ],
            ),
            ("Out-of-distribution check", ood),
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (CLI ``--json``)."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "integrity": self.integrity,
            "size_bytes": self.size_bytes,
            "version": self.version,
            "created": self.created,
            "labels": list(self.labels),
            "input_size": list(self.input_size),
            "temperature": self.temperature,
            "parity_max_abs_diff": self.parity_max_abs_diff,
            "class_offsets": self.class_offsets,
            "training": self.training,
            "metrics": self.metrics,
            "ood_threshold": self.ood_threshold,
            "ood_pass_rate": self.ood_pass_rate,
            "has_lesion_mask": self.has_lesion_mask,
            "decision": self.decision,
        }
