"""Class offsets: make over-predicted classes less likely by amounts fitted on validation, inside the model's graph.

    python -m training recalibrate --model assets/model.onnx --data ../shared/data/busi \
        --split training/splits/busi_seed0.csv [--extra-data ../shared/data/busbra \
        --extra-split training/splits/busbra_seed0.csv] [--offset-classes normal] --out NEW.onnx

Why: class weights balance the classes during training. Joint training with BUS-BRA (benign and malignant only)
leaves "normal" with 76 of 1,945 training images, so its weight is about 17 times benign's, and every joint model
answered "normal" far more often than the data hold it (r5: 26 "normal" answers for 17 normal images on BUSI test,
8 on BUS-BRA, which has none). The correction: ``p' = softmax(log p / T + b)`` after the model's probabilities, with
a temperature T and an offset b <= 0 for each chosen class, fitted together by validation NLL
(``training.calibration.fit_temperature_and_offsets``). Offsets only lower their classes: with the offset on "normal"
alone, the benign-vs-malignant order of every image stays as it was and no "malignant" answer is taken away, so
malignant recall can only rise.

``finalize`` (training) appends the correction to every new export; this command gives an already exported model
the same, without its checkpoint, and recomputes the metrics stored in it on the same held-out images.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from desktop_app.core import contract
from desktop_app.core.integrity import write_sidecar
from training import report
from training.calibration import (
    PROBABILITY_FLOOR,
    fit_temperature_and_offsets,
    logits_from_probabilities,
    recalibrated,
)

#: Tensor name the model's own probabilities get once the correction produces ``probabilities``.
UNCORRECTED_PROBABILITIES = "probabilities_before_class_offsets"


class RecalibrationError(ValueError):
    """The model cannot take the correction (already has one, lacks the output, names unknown classes)."""


def offset_class_indices(labels: Sequence[str], names: Sequence[str]) -> list[int]:
    """Output indices of the classes named in ``names`` that the model has; other names are skipped."""
    return [list(labels).index(name) for name in names if name in labels]


def parse_class_names(text: str) -> list[str]:
    """``"normal, benign"`` -> ``["normal", "benign"]``; empty text -> no class."""
    return [name.strip() for name in text.split(",") if name.strip()]


def fit_class_offsets(val_probabilities: np.ndarray, val_labels: np.ndarray, labels: Sequence[str],
                      class_names: Sequence[str]) -> dict:
    """Fit T and the offsets on validation; returns the record stored in the model's metadata."""
    indices = offset_class_indices(labels, class_names)
    temperature, offsets = fit_temperature_and_offsets(
        logits_from_probabilities(val_probabilities), val_labels, indices)
    return {
        "formula": "probabilities = softmax(log(max(p, floor)) / temperature + offsets), p = the model's own output",
        "temperature": float(temperature),
        "offsets": {label: float(offsets[i]) for i, label in enumerate(labels)},
        "floor": PROBABILITY_FLOOR,
        "fitted_on": f"{len(val_labels)} validation images (NLL)",
        "classes_offset": [labels[i] for i in indices],
    }


def apply_record(probabilities: np.ndarray, record: dict, labels: Sequence[str]) -> np.ndarray:
    """The correction of ``record`` applied in numpy (the graph computes the same)."""
    offsets = np.array([record["offsets"][label] for label in labels])
    return recalibrated(probabilities, record["temperature"], offsets)


def append_class_offsets(model: onnx.ModelProto, record: dict, labels: Sequence[str]) -> None:
    """Append the correction after the ``probabilities`` output, in place; the output keeps its name and shape."""
    graph = model.graph
    if any(UNCORRECTED_PROBABILITIES in node.output for node in graph.node):
        raise RecalibrationError("the model already has class offsets; recalibrate the model they were added to")
    name = contract.OUTPUT_PROBABILITIES
    producers = [node for node in graph.node if name in node.output]
    if not producers:
        raise RecalibrationError(f"the model has no '{name}' output to correct")
    for node in graph.node:
        node.output[:] = [UNCORRECTED_PROBABILITIES if out == name else out for out in node.output]
        node.input[:] = [UNCORRECTED_PROBABILITIES if inp == name else inp for inp in node.input]
    offsets = np.array([record["offsets"][label] for label in labels], dtype=np.float32)
    prefix = "class_offsets"
    graph.initializer.extend([
        numpy_helper.from_array(np.array(record["floor"], dtype=np.float32), f"{prefix}/floor"),
        numpy_helper.from_array(np.array(record["temperature"], dtype=np.float32), f"{prefix}/temperature"),
        numpy_helper.from_array(offsets, f"{prefix}/offsets"),
    ])
    graph.node.extend([
        helper.make_node("Max", [UNCORRECTED_PROBABILITIES, f"{prefix}/floor"], [f"{prefix}/floored"],
                         name=f"{prefix}/max"),
        helper.make_node("Log", [f"{prefix}/floored"], [f"{prefix}/log"], name=f"{prefix}/log"),
        helper.make_node("Div", [f"{prefix}/log", f"{prefix}/temperature"], [f"{prefix}/scaled"],
                         name=f"{prefix}/div"),
        helper.make_node("Add", [f"{prefix}/scaled", f"{prefix}/offsets"], [f"{prefix}/shifted"],
                         name=f"{prefix}/add"),
        helper.make_node("Softmax", [f"{prefix}/shifted"], [name], name=f"{prefix}/softmax", axis=-1),
    ])
    onnx.checker.check_model(model)


def onnx_probabilities(model_bytes: bytes, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """The ``probabilities`` output of a serialized model for preprocessed images [N, H, W, 3], batched."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    chunks = [session.run([contract.OUTPUT_PROBABILITIES], {contract.INPUT_NAME: images[i:i + batch_size]
                                                             .astype(np.float32)})[0]
              for i in range(0, len(images), batch_size)]
    return np.concatenate(chunks).astype(np.float64)


def recalibrate_file(model_path: Path, data: Path, split: Path, out: Path, class_names: Sequence[str],
                     extra_data: Path | None = None, extra_split: Path | None = None) -> dict:
    """Append class offsets fitted on the split's validation images to ``model_path``; write ``out``.

    The stored metrics are recomputed on the same held-out images (the split's test rows, and the extra data's test
    rows if the model stores figures for them); returns the new headline metrics.
    """
    from training.evaluate import labelled_images

    model = onnx.load(str(model_path))
    meta = {prop.key: prop.value for prop in model.metadata_props}
    if contract.META_CLASS_OFFSETS in meta:
        raise RecalibrationError(f"{model_path.name} already has class offsets")
    labels = json.loads(meta[contract.META_LABELS])
    if not offset_class_indices(labels, class_names):
        raise RecalibrationError(f"none of the classes {list(class_names)} is among the model's labels {labels}")
    size = tuple(json.loads(meta[contract.META_INPUT_SIZE]))
    headline = json.loads(meta.get(contract.META_METRICS, "{}"))
    if "extra_test" in headline and (extra_data is None or extra_split is None):
        raise RecalibrationError("the model stores other-scanner figures: give --extra-data and --extra-split so "
                                 "they are recomputed with the correction")
    original = model.SerializeToString()

    def held_out(root: Path, split_csv: Path, subset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        images, y = labelled_images(root, split_csv, subset, labels, size)
        return onnx_probabilities(original, images), y, images

    val_p, val_y, val_images = held_out(data, split, "val")
    record = fit_class_offsets(val_p, val_y, labels, class_names)
    record["added"] = dt.date.today().isoformat()
    append_class_offsets(model, record, labels)
    corrected = model.SerializeToString()
    parity = float(np.max(np.abs(onnx_probabilities(corrected, val_images) - apply_record(val_p, record, labels))))
    record["parity_numpy_vs_onnxruntime"] = parity
    if not parity <= 1e-4:
        raise RecalibrationError(f"the corrected graph disagrees with the formula by {parity:.2e}")

    test_p, test_y, _ = held_out(data, split, "test")
    extra = None
    if "extra_test" in headline:
        extra_p, extra_y, _ = held_out(extra_data, extra_split, "test")
        extra = (extra_y, apply_record(extra_p, record, labels), None)
    headline = report.restated_metrics(headline, labels, (test_y, apply_record(test_p, record, labels), None),
                                       (val_y, apply_record(val_p, record, labels), None), extra)
    meta[contract.META_METRICS] = json.dumps(headline)
    meta[contract.META_CLASS_OFFSETS] = json.dumps(record)
    meta[contract.META_MODEL_VERSION] = f"{meta.get(contract.META_MODEL_VERSION, model_path.stem)}+class-offsets"
    save_with_metadata(model, meta, out)
    return headline


def save_with_metadata(model: onnx.ModelProto, meta: dict[str, str], out: Path) -> None:
    """Save ``model`` with ``meta`` as its whole metadata to ``out``, and the sha256 sidecar beside it."""
    del model.metadata_props[:]
    helper.set_model_props(model, meta)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    write_sidecar(out)


def add_held_out_arguments(parser: argparse.ArgumentParser, model_help: str, split_help: str) -> None:
    """The flags naming a model, its held-out images and the output (``recalibrate`` and ``decide``)."""
    parser.add_argument("--model", required=True, type=Path, help=model_help)
    parser.add_argument("--data", required=True, type=Path, help="the image root its split's paths are relative to")
    parser.add_argument("--split", required=True, type=Path, help=split_help)
    parser.add_argument("--extra-data", type=Path, default=None, help="other-scanner data (its test rows are scored)")
    parser.add_argument("--extra-split", type=Path, default=None, help="split.csv of --extra-data")
    parser.add_argument("--out", required=True, type=Path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``python -m training recalibrate`` flags."""
    add_held_out_arguments(parser, "contract ONNX model without class offsets",
                           "split.csv whose val rows fit, test rows score")
    parser.add_argument("--offset-classes", default="normal", help="comma-separated classes to offset "
                        "(default: normal)")


def run(args: argparse.Namespace) -> int:
    """``python -m training recalibrate``: write the corrected model, print its headline figures."""
    headline = recalibrate_file(args.model, args.data, args.split, args.out, parse_class_names(args.offset_classes),
                                args.extra_data, args.extra_split)
    print(f"wrote {args.out}")
    print(json.dumps({k: headline.get(k) for k in ("accuracy", "macro_f1", "ece_after_calibration")}, indent=2))
    return 0
