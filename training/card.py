"""Readable model card (MODEL_CARD.md) written from an exported model's own metadata: nothing is typed twice."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from desktop_app.core import contract
from desktop_app.core.decision import DecisionRule
from desktop_app.core.integrity import sha256_of_file
from desktop_app.core.model_card import describe_class_offsets
from training.split import DEFAULT_SPLIT_ORDER

#: How model cards name a backbone from ``python -m training pretrain`` (``training.export.weights_origin``).
OWN_PRETRAINING = "the project's own self-supervised pretraining"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(value: object) -> str:
    return f"{100 * float(value):.1f} %" if isinstance(value, (int, float)) else "n/a"


def _num(value: object, digits: int = 3) -> str:
    return f"{float(value):.{digits}f}" if isinstance(value, (int, float)) else "n/a"


def _calibration_set_note(split: dict) -> str:
    """Which images besides the data's validation split the calibration saw (``--extra-val-fraction``)."""
    fraction = split.get("extra_val_fraction", 0.0)
    return f" (and {fraction:g} of the extra data's training patients, kept out of training)" if fraction else ""


def _split_order_note(split: dict) -> str:
    """How the split placed its groups, where it is not the split of record's largest-first order."""
    order = split.get("order", DEFAULT_SPLIT_ORDER)
    return "" if order == DEFAULT_SPLIT_ORDER else f" ({order} group order: any group can be held out)"


def _why_these_weights(weights: str, origin: str) -> str:
    """One sentence on why the backbone started where it did (``weights``: the recipe's --weights value)."""
    if weights == "imagenet":
        return "transfer learning from ImageNet (keras-io's two-stage recipe)."
    start = ("started from the project's own self-supervised pretraining (no labels) on the training split's images "
             "and was then trained on the data below" if OWN_PRETRAINING in origin
             else "was trained from scratch on the data below" if weights == "none"
             else "started from the weights file above and was then trained on the data below")
    return (f"ImageNet weights cannot be downloaded on the machines this model was trained on, so the DenseNet121 "
            f"backbone {start}. The training code keeps the real `--weights imagenet` path (Keras download with its "
            "md5 check) for machines that can reach it.")


def _decision(meta: dict[str, str], labels: list[str]) -> str:
    return DecisionRule.from_metadata(meta[contract.META_DECISION], labels).describe()


def render_card(model_path: Path, command: str, notes: str = "") -> str:
    """Markdown card for ``model_path``; ``command`` is the exact command that reproduces it."""
    model = onnx.load(str(model_path), load_external_data=False)
    meta = {prop.key: prop.value for prop in model.metadata_props}
    labels = json.loads(meta[contract.META_LABELS])
    training = json.loads(meta.get(contract.META_TRAINING, "{}"))
    metrics = json.loads(meta.get(contract.META_METRICS, "{}"))
    ood = json.loads(meta.get(contract.META_OOD, "{}"))
    counts = training.get("data", {}).get("counts", {})
    recipe = training.get("recipe", {})
    timing = training.get("timing", {})
    per_class = metrics.get("per_class", {})
    outputs = [output.name for output in model.graph.output]

    split_rows = [[name] + [str(counts.get(name, {}).get(label, "")) for label in labels]
                  for name in ("train", "val", "test") if name in counts]
    class_rows = [[label, _num(per_class.get(label, {}).get("precision")), _num(per_class.get(label, {}).get("recall")),
                   _num(per_class.get(label, {}).get("f1")), str(per_class.get(label, {}).get("support", ""))]
                  for label in labels]
    confusion = metrics.get("confusion_matrix", [])
    confusion_rows = [[labels[i]] + [str(v) for v in row] for i, row in enumerate(confusion)]
    extra = metrics.get("extra_test")

    parts = [
        f"# Model card — {meta.get(contract.META_MODEL_VERSION, model_path.stem)}",
        "",
        "**Research tool, not a medical device.** Not for diagnosis, screening or treatment decisions.",
        "",
        "## Identity",
        f"- file: `{model_path.name}` ({model_path.stat().st_size / 1e6:.1f} MB)",
        f"- sha256: {sha256_of_file(model_path)}",
        f"- created: {meta.get(contract.META_CREATED, '')}",
        f"- classes (output order): {', '.join(labels)}",
        (f"- input: `{contract.INPUT_NAME}` float32 [N, {', '.join(map(str, json.loads(meta[contract.META_INPUT_SIZE])))}, 3]"
        ", RGB 0..255"),
        f"- outputs: {', '.join(f'`{name}`' for name in outputs)}",
        f"- preprocessing: {meta.get(contract.META_PREPROCESSING, '')}",
        "",
        "## Starting weights",
        f"- {training.get('weights_origin', 'unknown')}",
        f"- Why: {_why_these_weights(recipe.get('weights', 'none'), training.get('weights_origin', ''))}",
        "",
        "## Data and split",
        f"- data: {training.get('data', {}).get('root', '')} ({', '.join(f'{k} {v}' for k, v in counts.get('total', {}).items())})"
        + (f"; extra training data: {', '.join(training['data']['extra_data'])}"
           if training.get("data", {}).get("extra_data") else ""),
        (f"- split: {training.get('split', {}).get('method', '')}; seed {training.get('split', {}).get('seed')}"
        f"{_split_order_note(training.get('split', {}))}; {counts.get('groups', '?')} groups; groups file: {training.get('split', {}).get('groups_file')}"),
        "",
        _table(["split", *labels], split_rows) if split_rows else "",
        "",
        "## Recipe",
        "```",
        command,
        "```",
        "",
        ", ".join(f"{key}={value}" for key, value in recipe.items() if key not in ("data", "out", "masks", "groups",
                                                                                  "extra_data")),
        "",
        (f"Training wall time: {timing.get('train_wall_seconds', 'n/a')} s "
        f"({timing.get('stage2_finetune_seconds_per_epoch', 'n/a')} s per fine-tune epoch, "
        f"{timing.get('stage2_finetune_images_per_second', 'n/a')} images/s); kept weights: {timing.get('kept_weights', 'best epoch ' + str(timing.get('best_epoch')))}."),
        "",
        f"## Held-out test metrics (own group-aware split, n = {metrics.get('n', '?')})",
        (f"- accuracy {_pct(metrics.get('accuracy'))}, macro-F1 {_num(metrics.get('macro_f1'))}, "
        f"macro ROC-AUC {_num(metrics.get('macro_roc_auc'))}"),
        (f"- calibration: temperature {_num(float(meta.get(contract.META_TEMPERATURE, 'nan')))} fitted on validation"
        f"{_calibration_set_note(training.get('split', {}))}; "
        f"class offsets: {describe_class_offsets(json.loads(meta.get(contract.META_CLASS_OFFSETS, 'null')))}; "
        f"ECE {_num(metrics.get('ece_before_calibration'))} before, {_num(metrics.get('ece_after_calibration'))} after"
        + (f"; NLL {_num(metrics['nll'])}, Brier score {_num(metrics['brier'])}" if "nll" in metrics else "")),
        "",
        *([f"- answers (the counts above and below): {_decision(meta, labels)}", ""]
          if contract.META_DECISION in meta else []),
        _table(["class", "precision", "recall", "F1", "support"], class_rows),
        "",
        "Confusion matrix (rows = true class, columns = predicted):",
        "",
        _table(["", *labels], confusion_rows) if confusion_rows else "",
        "",
    ]
    if extra:
        parts += [
            (f"Other scanners (BUS-BRA held-out patients, n = {extra.get('n')}, benign/malignant only): accuracy "
            f"{_pct(extra.get('accuracy'))}, macro ROC-AUC {_num(extra.get('macro_roc_auc'))}."),
            "",
        ]
    parts += [
        "## Out-of-distribution check",
        (f"- {ood.get('method', 'none')}; threshold {_num(ood.get('threshold'))} lets "
        f"{_pct(ood.get('pass_rate'))} of validation images pass; held-out test pass rate "
        f"{_pct(metrics.get('ood_test_pass_rate'))}."),
        "",
        "## Export",
        (f"- tf2onnx {training.get('framework', {}).get('tf2onnx', '')}, opset "
        f"{training.get('framework', {}).get('opset', '')}; Keras vs onnxruntime max |Δp| on validation images: "
        f"{meta.get(contract.META_PARITY, 'n/a')}"),
        "",
        "## Limitations",
        ("- Trained on few images from few scanners; performance on other devices, populations and image "
        "settings is unknown. The held-out figures above come from one split of the same data sets."),
        "- The heatmap shows what drove the score, not a lesion outline.",
    ]
    if notes:
        parts += ["", "## Notes", notes]
    return "\n".join(parts) + "\n"
