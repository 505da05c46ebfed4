"""Store a decision rule in an exported model: the app then answers with the class of highest probability × cost.

    python -m training decide --model assets/model.onnx --data ../shared/data/busi \
        --split training/splits/busi_seed0.csv [--extra-data ../shared/data/busbra \
        --extra-split training/splits/busbra_seed0.csv] --class-cost malignant=3 --out NEW.onnx

The graph and its probabilities are not touched; the rule goes into the ``decision`` metadata
(``desktop_app.core.decision``), and the metrics stored in the model are recomputed on the same held-out images with
the rule's answers (accuracy, recall and the confusion matrix move; AUC and calibration do not). With calibrated
probabilities, the class of highest probability × cost is the answer of least expected cost when missing a class
costs that many other errors (training/RESULTS.md, "Shipping criterion and the operating point").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx

from desktop_app.core import contract
from desktop_app.core.decision import DecisionRule, DecisionRuleError
from training import report
from training.recalibrate import add_held_out_arguments, onnx_probabilities, save_with_metadata


def parse_class_costs(items: list[str]) -> dict[str, float]:
    """``["malignant=3"]`` -> ``{"malignant": 3.0}``."""
    costs = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            cost = float(value)
        except ValueError:
            cost = None
        if cost is None or not name.strip():
            raise DecisionRuleError(f"--class-cost takes CLASS=NUMBER, got {item!r}")
        costs[name.strip()] = cost
    return costs


def decide_file(model_path: Path, data: Path, split: Path, out: Path, class_costs: dict[str, float],
                extra_data: Path | None = None, extra_split: Path | None = None) -> dict:
    """Write ``model_path`` with the cost-weighted rule for ``class_costs`` to ``out``; returns its new metrics."""
    from training.evaluate import labelled_images

    model = onnx.load(str(model_path))
    meta = {prop.key: prop.value for prop in model.metadata_props}
    if contract.META_DECISION in meta:
        raise DecisionRuleError(f"{model_path.name} already has a decision rule; start from the model without one")
    labels = json.loads(meta[contract.META_LABELS])
    rule = DecisionRule.cost_weighted(labels, class_costs)
    size = tuple(json.loads(meta[contract.META_INPUT_SIZE]))
    headline = json.loads(meta.get(contract.META_METRICS, "{}"))
    if "extra_test" in headline and (extra_data is None or extra_split is None):
        raise DecisionRuleError("the model stores other-scanner figures: give --extra-data and --extra-split so "
                                "they are recomputed with the rule")
    serialized = model.SerializeToString()

    def held_out(root: Path, split_csv: Path, subset: str) -> report.HeldOutScores:
        images, y = labelled_images(root, split_csv, subset, labels, size)
        probabilities = onnx_probabilities(serialized, images)
        return y, probabilities, np.asarray(rule.decide(probabilities))

    extra = held_out(extra_data, extra_split, "test") if "extra_test" in headline else None
    headline = report.restated_metrics(headline, labels, held_out(data, split, "test"),
                                       held_out(data, split, "val"), extra)
    meta[contract.META_METRICS] = json.dumps(headline)
    meta[contract.META_DECISION] = rule.to_json()
    meta[contract.META_MODEL_VERSION] = f"{meta.get(contract.META_MODEL_VERSION, model_path.stem)}+cost-weighted"
    save_with_metadata(model, meta, out)
    return headline


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``python -m training decide`` flags."""
    add_held_out_arguments(parser, "contract ONNX model without a decision rule",
                           "split.csv whose val and test rows are scored")
    parser.add_argument("--class-cost", action="append", required=True, metavar="CLASS=COST",
                        help="cost of missing CLASS, in other errors (repeatable; unnamed classes cost 1)")


def run(args: argparse.Namespace) -> int:
    """``python -m training decide``: write the model with the rule, print its headline figures."""
    headline = decide_file(args.model, args.data, args.split, args.out, parse_class_costs(args.class_cost),
                           args.extra_data, args.extra_split)
    print(f"wrote {args.out}")
    print(json.dumps({k: headline.get(k) for k in ("accuracy", "macro_f1", "macro_roc_auc")}, indent=2))
    return 0
