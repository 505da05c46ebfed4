"""ONNX inference session wrapper: opens a contract-following model and classifies images.

Everything the app knows about a model (class names, input size, calibration, OOD statistics) comes from the
model's ``metadata_props``; nothing here names a class.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core import contract
from desktop_app.core.decision import DecisionRule, DecisionRuleError
from desktop_app.core.integrity import IntegrityError, IntegrityReport, verify_model
from desktop_app.core.ood import (
    COLOURFUL_SHARE_LIMIT,
    NOISE_CORRELATION_LIMIT,
    OodStatistics,
    colourful_share,
    neighbour_correlation,
)
from desktop_app.core.preprocessing import preprocess_batch

#: Images per onnxruntime call: bounds memory and keeps Cancel and progress prompt. One at a time peaked at 222 MB
#: RSS over a 500-image folder against 553 MB with 4, at the same speed (python -m bench.throughput --chunk-size N).
DEFAULT_CHUNK_SIZE = 1
#: Intra-op threads: the app shares the machine with the user's other work.
INTRA_OP_THREADS = 2


class ModelError(Exception):
    """The model file cannot be used; the message says why, in words a user understands."""


@dataclass(frozen=True)
class ModelInfo:
    """What the app reads from a model's metadata."""

    path: Path
    labels: tuple[str, ...]
    input_size: tuple[int, int]  # (H, W)
    metadata: Mapping[str, str]
    temperature: float | None
    ood: OodStatistics | None
    has_lesion_mask: bool
    #: How probabilities become one answer (the highest probability unless the metadata says otherwise).
    decision: DecisionRule | None = None
    #: sha256 check against the model's card (see desktop_app.core.integrity); set by ModelSession.open.
    integrity: IntegrityReport | None = None

    @property
    def version(self) -> str:
        return self.metadata.get(contract.META_MODEL_VERSION, "unknown")

    @property
    def decision_rule(self) -> DecisionRule:
        """The model's decision rule; the highest probability where its metadata names none."""
        return self.decision or DecisionRule.highest_probability(self.labels)


@dataclass(frozen=True, eq=False)
class Prediction:
    """The model's answer for one image."""

    labels: tuple[str, ...]
    probabilities: np.ndarray  # [C], calibrated, sums to 1
    cam: np.ndarray  # [h, w, C]
    embedding: np.ndarray  # [D]
    ood_score: float | None = None  # None when the model carries no OOD statistics
    #: True when the embedding score is over the model's threshold, or the image is a colour picture or noise.
    is_ood: bool | None = None
    colourful_share: float = 0.0  # share of colourful pixels (see core.ood.colourful_share)
    neighbour_correlation: float = 1.0  # of neighbouring pixels (see core.ood.neighbour_correlation)
    #: [h, w] lesion probability, when the model has a ``lesion_mask`` output.
    lesion_mask: np.ndarray | None = field(default=None, repr=False)
    #: The model's decision rule; None answers with the highest probability.
    decision: DecisionRule | None = field(default=None, repr=False)

    @property
    def is_colour_picture(self) -> bool:
        return self.colourful_share > COLOURFUL_SHARE_LIMIT

    @property
    def is_noise(self) -> bool:
        return self.neighbour_correlation < NOISE_CORRELATION_LIMIT

    @property
    def ood_reason(self) -> str:
        """Why the image was flagged, in words ("" when it was not)."""
        if not self.is_ood:
            return ""
        reason = "does not look like a breast ultrasound"
        if self.is_colour_picture:
            return f"{reason}: {self.colour_detail}"
        if self.is_noise:
            return (f"{reason}: noise, no image structure (neighbouring pixels correlate "
                    f"{self.neighbour_correlation:.2f}; scans 0.6 or more)")
        return reason

    @property
    def colour_detail(self) -> str:
        return f"a colour picture ({100 * self.colourful_share:.0f} % colourful pixels; ultrasound is grey)"

    @property
    def predicted_index(self) -> int:
        """The answer: the model's decision rule applied to the probabilities."""
        if self.decision is None:
            return self.highest_probability_index
        return int(self.decision.decide(self.probabilities))

    @property
    def highest_probability_index(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def most_probable_label(self) -> str:
        return self.labels[self.highest_probability_index]

    @property
    def decided_by_cost(self) -> bool:
        """True when the decision rule's answer is not the class of highest probability."""
        return self.predicted_index != self.highest_probability_index

    @property
    def predicted_label(self) -> str:
        return self.labels[self.predicted_index]

    @property
    def confidence(self) -> float:
        """Probability of the predicted class."""
        return float(self.probabilities[self.predicted_index])

    def confidence_text(self) -> str:
        """The answer's probability in words, saying so when the decision rule chose a less probable class."""
        text = f"Probability {100.0 * self.confidence:.1f} % (calibrated)"
        if self.decision is None or not self.decided_by_cost:
            return text
        top = self.probabilities[self.highest_probability_index]
        return (f"{text}; {self.most_probable_label} is more probable ({100.0 * top:.1f} %), but the model counts a "
                f"missed {self.predicted_label} as {self.decision.costs[self.predicted_index]:g} errors")

    def probability_by_label(self) -> dict[str, float]:
        return {label: float(p) for label, p in zip(self.labels, self.probabilities)}


def _parse_json(metadata: Mapping[str, str], key: str) -> object:
    try:
        return json.loads(metadata[key])
    except (json.JSONDecodeError, TypeError) as error:
        raise ModelError(f"model metadata '{key}' is not valid JSON ({error})") from error


def _parse_labels(metadata: Mapping[str, str]) -> tuple[str, ...]:
    labels = _parse_json(metadata, contract.META_LABELS)
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(label, str) and label for label in labels)
    ):
        raise ModelError("model metadata 'labels' must be a JSON list of at least two class names")
    if len(set(labels)) != len(labels):
        raise ModelError("model metadata 'labels' contains duplicate class names")
    return tuple(labels)


def _parse_input_size(metadata: Mapping[str, str]) -> tuple[int, int]:
    size = _parse_json(metadata, contract.META_INPUT_SIZE)
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise ModelError(
            "model metadata 'input_size' must be a JSON list [height, width] of positive integers"
        )
    return int(size[0]), int(size[1])


def _parse_temperature(metadata: Mapping[str, str]) -> float | None:
    text = metadata.get(contract.META_TEMPERATURE, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as error:
        raise ModelError(f"model metadata 'temperature' is not a number ({text!r})") from error
    if not math.isfinite(value) or value <= 0:
        raise ModelError(f"model metadata 'temperature' must be a positive number, got {text!r}")
    return value


def _parse_ood(metadata: Mapping[str, str]) -> OodStatistics | None:
    text = metadata.get(contract.META_OOD)
    if not text:
        return None
    try:
        return OodStatistics.from_json(text)
    except (ValueError, TypeError, KeyError) as error:
        raise ModelError(f"model metadata 'ood' is invalid ({error})") from error


def _parse_decision(metadata: Mapping[str, str], labels: Sequence[str]) -> DecisionRule:
    try:
        return DecisionRule.from_metadata(metadata.get(contract.META_DECISION), labels)
    except DecisionRuleError as error:
        raise ModelError(f"model metadata 'decision' is invalid ({error})") from error


def _static_dim(dim: object) -> int | None:
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None


class ModelSession:
    """An opened model. Create with :meth:`open`; thread-safe for :meth:`run` (onnxruntime sessions are)."""

    def __init__(self, session: object, info: ModelInfo, output_names: Sequence[str]) -> None:
        self._session = session
        self.info = info
        self._output_names = list(output_names)

    # The one place a model file is opened (hook integrity checks here).
    @classmethod
    def open(cls, path: str | os.PathLike[str], allow_spinning: bool = False) -> ModelSession:
        """Open and validate ``path``; raises :class:`ModelError` with a clear message on any problem.

        ``allow_spinning`` lets idle onnxruntime threads busy-wait (its default); off here, because on a
        shared CPU spinning threads steal time from decoding and the UI (measured in bench/app_batch.py).
        """
        import onnxruntime as ort  # imported lazily: keeps `import desktop_app.core` light

        path = Path(path)
        if not path.exists():
            raise ModelError(f"Model file not found: {path}")
        if path.is_dir():
            raise ModelError(f"Model path is a folder, not an ONNX file: {path}")
        try:
            integrity = verify_model(path)
        except IntegrityError as error:
            raise ModelError(f"{path.name} refused: {error}") from error
        except OSError as error:
            raise ModelError(f"Cannot read model file {path}: {error.strerror or error}") from error
        options = ort.SessionOptions()
        options.intra_op_num_threads = INTRA_OP_THREADS
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises several private exception types
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ModelError(f"{path.name} is not a valid ONNX model ({first_line[:300]})") from error
        info = replace(cls._validate(session, path), integrity=integrity)
        return cls(session, info, [o.name for o in session.get_outputs()])

    @staticmethod
    def _validate(session: object, path: Path) -> ModelInfo:
        metadata = dict(session.get_modelmeta().custom_metadata_map)  # type: ignore[attr-defined]
        missing = [key for key in contract.REQUIRED_METADATA if key not in metadata]
        if missing:
            raise ModelError(
                f"{path.name} does not follow the app's model contract: missing metadata {', '.join(missing)}"
            )
        labels = _parse_labels(metadata)
        input_size = _parse_input_size(metadata)

        inputs = session.get_inputs()  # type: ignore[attr-defined]
        if len(inputs) != 1 or inputs[0].name != contract.INPUT_NAME:
            names = ", ".join(i.name for i in inputs)
            raise ModelError(
                f"{path.name} must have one input named '{contract.INPUT_NAME}' (found: {names})"
            )
        model_input = inputs[0]
        if model_input.type != "tensor(float)":
            raise ModelError(
                f"{path.name}: input '{contract.INPUT_NAME}' must be float32, not {model_input.type}"
            )
        shape = list(model_input.shape)
        if len(shape) != 4 or _static_dim(shape[3]) != 3:
            raise ModelError(f"{path.name}: input must have shape [N, H, W, 3], found {shape}")
        for axis, expected in ((1, input_size[0]), (2, input_size[1])):
            if _static_dim(shape[axis]) is not None and shape[axis] != expected:
                raise ModelError(
                    f"{path.name}: input shape {shape} disagrees with metadata input_size {list(input_size)}"
                )

        outputs = {o.name: o for o in session.get_outputs()}  # type: ignore[attr-defined]
        missing_outputs = [name for name in contract.REQUIRED_OUTPUTS if name not in outputs]
        if missing_outputs:
            raise ModelError(f"{path.name} is missing required output(s): {', '.join(missing_outputs)}")
        n_classes = _static_dim(list(outputs[contract.OUTPUT_PROBABILITIES].shape)[-1])
        if n_classes is not None and n_classes != len(labels):
            raise ModelError(
                f"{path.name}: the model outputs {n_classes} probabilities but its metadata names "
                f"{len(labels)} classes"
            )
        return ModelInfo(
            path=path,
            labels=labels,
            input_size=input_size,
            metadata=metadata,
            temperature=_parse_temperature(metadata),
            ood=_parse_ood(metadata),
            has_lesion_mask=contract.OUTPUT_LESION_MASK in outputs,
            decision=_parse_decision(metadata, labels),
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    @property
    def input_size(self) -> tuple[int, int]:
        return self.info.input_size

    def preprocess(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Model input [N, H, W, 3] for ``images`` (the shared preprocessing definition)."""
        return preprocess_batch(images, self.input_size)

    def run(self, batch: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Prediction]:
        """Classify preprocessed images [N, H, W, 3], ``chunk_size`` at a time."""
        batch = np.asarray(batch, dtype=np.float32)
        expected = (*self.input_size, 3)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(
                f"expected a batch of shape [N, {expected[0]}, {expected[1]}, 3], got {batch.shape}"
            )
        predictions: list[Prediction] = []
        for start in range(0, len(batch), max(1, chunk_size)):
            chunk = batch[start : start + max(1, chunk_size)]
            outputs = self._session.run(self._output_names, {contract.INPUT_NAME: chunk})  # type: ignore[attr-defined]
            values = dict(zip(self._output_names, outputs))
            predictions.extend(
                self._to_predictions(values, colourful_share(chunk), neighbour_correlation(chunk))
            )
        return predictions

    def classify(
        self, images: Sequence[Image.Image], chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> list[Prediction]:
        """Classify decoded images (any size/mode), one :class:`Prediction` each, in order."""
        predictions: list[Prediction] = []
        for start in range(0, len(images), max(1, chunk_size)):
            predictions.extend(
                self.run(self.preprocess(images[start : start + max(1, chunk_size)]), chunk_size)
            )
        return predictions

    def _to_predictions(
        self, values: Mapping[str, np.ndarray], colour_shares: np.ndarray, correlations: np.ndarray
    ) -> list[Prediction]:
        probabilities = np.asarray(values[contract.OUTPUT_PROBABILITIES], dtype=np.float64)
        if probabilities.ndim != 2 or probabilities.shape[1] != len(self.labels):
            raise ModelError(
                f"model returned probabilities of shape {probabilities.shape}; expected [N, {len(self.labels)}]"
            )
        cams = np.asarray(values[contract.OUTPUT_CAM], dtype=np.float32)
        embeddings = np.asarray(values[contract.OUTPUT_EMBEDDING], dtype=np.float32)
        masks = values.get(contract.OUTPUT_LESION_MASK)
        ood = self.info.ood
        scores = ood.score(embeddings) if ood is not None else None
        predictions = []
        for i in range(len(probabilities)):
            score = float(scores[i]) if scores is not None else None
            embedding_flag = (score > ood.threshold) if ood is not None and score is not None else None
            colour, correlation = float(colour_shares[i]), float(correlations[i])
            foreign_pixels = colour > COLOURFUL_SHARE_LIMIT or correlation < NOISE_CORRELATION_LIMIT
            predictions.append(
                Prediction(
                    labels=self.labels,
                    probabilities=probabilities[i],
                    cam=cams[i],
                    embedding=embeddings[i],
                    ood_score=score,
                    is_ood=True if foreign_pixels else embedding_flag,
                    colourful_share=colour,
                    neighbour_correlation=correlation,
                    lesion_mask=np.asarray(masks[i][..., 0], dtype=np.float32) if masks is not None else None,
                    decision=self.info.decision,
                )
            )
        return predictions
