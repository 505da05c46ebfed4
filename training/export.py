"""Calibration, evaluation report, OOD statistics and the self-describing ONNX export (tf2onnx, opset 17)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx

from desktop_app.core import contract
from desktop_app.core.integrity import sha256_of_file, write_sidecar
from desktop_app.core.ood import fit_ood_statistics
from training import report
from training.calibration import fit_temperature
from training.card import OWN_PRETRAINING
from training.config import TrainConfig
from training.model import IMAGENET_NOTOP_MD5, PRETRAIN_INFO_NAME, ClassifierModels, save_backbone
from training.recalibrate import (
    append_class_offsets,
    apply_record,
    fit_class_offsets,
    offset_class_indices,
    parse_class_names,
)
from training.train import (
    CHECKPOINT_NAME,
    CONFIG_NAME,
    PreparedData,
    model_spec,
    models_from_checkpoint,
    predict_logits,
    prepare_data,
    refresh_batchnorm,
)

OPSET = 17
PARITY_TOLERANCE = 1e-4
MODEL_NAME = "model.onnx"


class ExportError(Exception):
    """The exported model failed a check (parity, contract); the message gives the figure."""


def weights_origin(weights: str) -> str:
    """Plain-words provenance of the backbone's starting weights."""
    if weights == "none":
        return "random initialisation (no ImageNet weights: they cannot be downloaded on the training machine)"
    if weights == "imagenet":
        return f"ImageNet (Keras DenseNet121 no-top weights, md5 {IMAGENET_NOTOP_MD5})"
    path = Path(weights)
    digest = sha256_of_file(path) if path.is_file() else None
    origin = f"file {path.name}" + (f" (sha256 {digest})" if digest else "")
    info_file = path.parent / PRETRAIN_INFO_NAME
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    if digest and info.get("weights_sha256") == digest:  # this very file came from `python -m training pretrain`
        origin += (f": {OWN_PRETRAINING}, {info['method']}, {info['epochs']} epochs on "
                   f"{info['images']} training images of {' + '.join(info['data'])} (no labels), "
                   f"{info['wall_seconds'] / 60:.1f} min")
    return origin


def convert_to_onnx(keras_model: tf.keras.Model, image_size: tuple[int, int]) -> onnx.ModelProto:
    """tf2onnx conversion with a dynamic batch dimension and the contract's input name."""
    signature = [tf.TensorSpec([None, *image_size, 3], tf.float32, name=contract.INPUT_NAME)]
    proto, _ = tf2onnx.convert.from_keras(keras_model, input_signature=signature, opset=OPSET)
    names = {output.name for output in proto.graph.output}
    missing = set(contract.REQUIRED_OUTPUTS) - names
    if missing:
        raise ExportError(f"exported graph lacks outputs {sorted(missing)} (has {sorted(names)})")
    return proto


def onnx_outputs(model_bytes: bytes, images: np.ndarray, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Run the exported model with onnxruntime over uint8 or float images, batched."""
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].astype(np.float32)
        for name, value in zip(names, session.run(names, {contract.INPUT_NAME: batch})):
            chunks[name].append(value)
    return {name: np.concatenate(values) for name, values in chunks.items()}


def keras_outputs(model: tf.keras.Model, images: np.ndarray, batch_size: int = 32) -> dict[str, np.ndarray]:
    outputs = model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
    return {name: np.asarray(value) for name, value in outputs.items()}


def set_metadata(proto: onnx.ModelProto, metadata: dict[str, str]) -> None:
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, metadata)


def finalize(config: TrainConfig, prepared: PreparedData, models: ClassifierModels, run_dir: Path,
             history: dict | None = None, timing: dict | None = None, out: Path | None = None) -> Path:
    """Calibrate on validation (temperature, then class offsets), report on test, fit OOD statistics, export ONNX
    (with the offsets appended to its graph), check parity, write the card."""
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / MODEL_NAME
    labels = list(prepared.classes)

    calibration_images, calibration_labels = prepared.calibration_set()
    described = f"{len(calibration_labels)} validation images"
    if len(calibration_labels) > len(prepared.val):
        described += f" ({len(prepared.val)} of --data, {len(calibration_labels) - len(prepared.val)} of --extra-data)"
    temperature = fit_temperature(predict_logits(models.training_model, calibration_images), calibration_labels)
    print(f"temperature (fitted on {described}): {temperature:.3f}", flush=True)

    calibrated = models.export_model(temperature=temperature, flip_tta=config.flip_tta)
    uncalibrated = models.export_model(temperature=1.0, flip_tta=config.flip_tta)
    test_cal = keras_outputs(calibrated, prepared.test.images)
    test_uncal = keras_outputs(uncalibrated, prepared.test.images)
    val_cal = keras_outputs(calibrated, prepared.val.images)
    extra_val_cal = None
    calibration_probabilities = val_cal[contract.OUTPUT_PROBABILITIES]
    if prepared.extra_val is not None and len(prepared.extra_val):  # calibration_set's order: --data's, then these
        extra_val_cal = keras_outputs(calibrated, prepared.extra_val.images)
        calibration_probabilities = np.concatenate([calibration_probabilities,
                                                    extra_val_cal[contract.OUTPUT_PROBABILITIES]])
    offsets_record = None
    offset_names = parse_class_names(config.offset_classes)
    if offset_class_indices(labels, offset_names):
        offsets_record = fit_class_offsets(calibration_probabilities, calibration_labels, labels, offset_names)
        print(f"class offsets (fitted on {described}): {offsets_record['offsets']}, "
              f"temperature {offsets_record['temperature']:.3f}", flush=True)

    def final_probabilities(outputs: dict[str, np.ndarray]) -> np.ndarray:
        """What the exported graph outputs: calibrated, then class offsets if any."""
        probabilities = outputs[contract.OUTPUT_PROBABILITIES]
        return apply_record(probabilities, offsets_record, labels) if offsets_record else probabilities

    metrics = report.write_report(
        run_dir, prepared.test.labels, test_uncal[contract.OUTPUT_PROBABILITIES],
        final_probabilities(test_cal), labels, history or {},
    )
    metrics["validation"] = report.compute_metrics(prepared.val.labels, final_probabilities(val_cal), labels)
    extra_test_cal = None
    if prepared.extra_test is not None and len(prepared.extra_test):
        extra_test_cal = keras_outputs(calibrated, prepared.extra_test.images)
        metrics["extra_test"] = report.compute_metrics(prepared.extra_test.labels, final_probabilities(extra_test_cal),
                                                       labels)
    if extra_val_cal is not None:
        metrics["extra_validation"] = report.compute_metrics(prepared.extra_val.labels,
                                                             final_probabilities(extra_val_cal), labels)
        if offsets_record:  # the same network calibrated the old way, for comparison
            metrics["calibration_on_primary_validation_only"] = primary_only_calibration(
                prepared, val_cal, test_cal, extra_test_cal, labels, offset_names)
    metrics["temperature"] = temperature
    if offsets_record:
        metrics["class_offsets"] = offsets_record
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    train_embeddings = keras_outputs(calibrated, prepared.train.images)[contract.OUTPUT_EMBEDDING]
    ood = fit_ood_statistics(train_embeddings, n_components=config.ood_components).with_threshold(
        val_cal[contract.OUTPUT_EMBEDDING], pass_rate=config.ood_pass_rate)
    test_ood_pass = float(np.mean(~ood.is_outlier(test_cal[contract.OUTPUT_EMBEDDING])))
    metrics["ood_test_pass_rate"] = test_ood_pass

    print("converting to ONNX with tf2onnx ...", flush=True)
    proto = convert_to_onnx(calibrated, config.size)
    if offsets_record:
        append_class_offsets(proto, offsets_record, labels)
    parity_images = prepared.val.images
    onnx_probs = onnx_outputs(proto.SerializeToString(), parity_images)[contract.OUTPUT_PROBABILITIES]
    parity = float(np.max(np.abs(onnx_probs - final_probabilities(val_cal))))
    print(f"parity Keras vs onnxruntime on {len(parity_images)} validation images: max |dp| = {parity:.2e}")
    if not parity <= PARITY_TOLERANCE:
        raise ExportError(f"Keras/onnxruntime parity {parity:.3e} exceeds {PARITY_TOLERANCE:g}")

    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    version = config.model_version or f"{Path(config.out).name}-{created[:10]}"
    training_info = {
        "data": {"root": Path(config.data).name, "counts": prepared.counts, "extra_data":
                 [Path(p).name for p in config.extra_data]},
        "split": {"method": "group-aware (near-duplicate groups kept together), stratified by class",
                  "seed": config.data_split_seed, "order": config.split_order,
                  "fractions": {"val": config.val_fraction, "test": config.test_fraction},
                  "extra_val_fraction": config.extra_val_fraction,
                  "groups_file": Path(config.groups).name if config.groups else None},
        "weights_origin": weights_origin(config.weights),
        "recipe": json.loads(config.to_json()) | {"data": Path(config.data).name, "out": Path(config.out).name},
        "timing": timing or {},
        "framework": {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__, "opset": OPSET},
    }
    metadata = {
        contract.META_LABELS: json.dumps(labels),
        contract.META_INPUT_SIZE: json.dumps(list(config.size)),
        contract.META_PREPROCESSING: contract.PREPROCESSING_TEXT,
        contract.META_MODEL_VERSION: version,
        contract.META_CREATED: created,
        contract.META_TRAINING: json.dumps(training_info),
        contract.META_METRICS: json.dumps(_headline(metrics)),
        contract.META_TEMPERATURE: f"{temperature:.6f}",
        contract.META_PARITY: f"{parity:.3e}",
        contract.META_OOD: ood.to_json(),
    }
    if offsets_record:
        metadata[contract.META_CLASS_OFFSETS] = json.dumps(offsets_record)
    set_metadata(proto, metadata)
    proto.producer_name = "bus-classifier training"
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
    write_sidecar(out)
    digest = sha256_of_file(out)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, sha256 {digest})")
    print(json.dumps(_headline(metrics), indent=2))
    return out


def primary_only_calibration(prepared: PreparedData, val_cal: dict, test_cal: dict, extra_test_cal: dict | None,
                             labels: list[str], offset_names: list[str]) -> dict:
    """Offsets fitted on --data's validation images alone and the held-out figures they give (not exported).

    The probabilities passed in already went through the exported temperature; the offsets record fits its own, so
    the pair spans the same corrections as a fit from the raw logits.
    """
    record = fit_class_offsets(val_cal[contract.OUTPUT_PROBABILITIES], prepared.val.labels, labels, offset_names)
    result = {"class_offsets": record, "test": report.compute_metrics(
        prepared.test.labels, apply_record(test_cal[contract.OUTPUT_PROBABILITIES], record, labels), labels)}
    if extra_test_cal is not None:
        result["extra_test"] = report.compute_metrics(
            prepared.extra_test.labels, apply_record(extra_test_cal[contract.OUTPUT_PROBABILITIES], record, labels),
            labels)
    return result


def _headline(metrics: dict) -> dict:
    """The metrics stored in the model: test figures, calibration, and the other-scanner test if any."""
    test = metrics.get("test", {})
    headline = {key: test[key] for key in report.STORED_TEST_METRICS if key in test}
    headline["split"] = "test"
    for key in ("ece_before_calibration", "ece_after_calibration", "temperature", "ood_test_pass_rate"):
        if key in metrics:
            headline[key] = metrics[key]
    if "validation" in metrics:
        headline["validation"] = {k: metrics["validation"][k] for k in ("n", "accuracy", "macro_f1")}
    if "extra_test" in metrics:
        headline["extra_test"] = {k: metrics["extra_test"][k] for k in ("n", "accuracy", "macro_f1", "per_class",
                                                                           "macro_roc_auc")}
    return headline


def export_checkpoint(checkpoint: Path, out: Path, recompute_batchnorm: bool = False) -> Path:
    """Re-export a run's checkpoint: rebuild from its config.json, reload the split, recalibrate, export.

    With ``out`` in another folder the run's split files are copied there and the report, metrics and config are
    written there, so the run's own files stay as they were. ``recompute_batchnorm``: as ``train
    --recompute-batchnorm``, on the checkpoint's weights.
    """
    checkpoint = Path(checkpoint)
    run_dir = checkpoint.parent if checkpoint.is_file() else checkpoint
    weights_file = checkpoint if checkpoint.is_file() else run_dir / CHECKPOINT_NAME
    config = TrainConfig.load(run_dir / CONFIG_NAME)
    out = Path(out)
    report_dir = run_dir
    if out.parent.resolve() != run_dir.resolve():
        report_dir = out.parent
        report_dir.mkdir(parents=True, exist_ok=True)
        for split_file in run_dir.glob("split*.csv"):
            shutil.copyfile(split_file, report_dir / split_file.name)
    prepared = prepare_data(config, report_dir)
    models = models_from_checkpoint(model_spec(config, len(prepared.classes)), weights_file)
    timing: dict = {}
    if recompute_batchnorm:
        config = dataclasses.replace(config, recompute_batchnorm=True)
        timing.update(refresh_batchnorm(config, prepared, models))
    if report_dir != run_dir:  # its own version string and config
        config = dataclasses.replace(config, out=str(report_dir))
        config.save(report_dir / CONFIG_NAME)
    history_path = run_dir / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else {}
    return finalize(config, prepared, models, report_dir, history=history, timing=timing or None, out=out)


def export_backbone(checkpoint: Path, out: Path) -> Path:
    """Save a run's DenseNet121 backbone as a plain weights file, usable as ``--weights FILE`` (own pretraining)."""
    checkpoint = Path(checkpoint)
    run_dir = checkpoint.parent if checkpoint.is_file() else checkpoint
    weights_file = checkpoint if checkpoint.is_file() else run_dir / CHECKPOINT_NAME
    config = TrainConfig.load(run_dir / CONFIG_NAME)
    counts = json.loads((run_dir / "data_counts.json").read_text())
    models = models_from_checkpoint(model_spec(config, len(counts["classes"])), weights_file)
    out = save_backbone(models.backbone, models.spec.image_size, Path(out))
    print(f"wrote {out} (backbone of {weights_file})")
    return out
