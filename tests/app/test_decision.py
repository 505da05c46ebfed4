"""The decision rule a model may carry: cost-weighted answers in the core, the CLI, the model card and evaluate."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from desktop_app import cli
from desktop_app.__main__ import synthetic_image
from desktop_app.core import contract
from desktop_app.core.decision import DecisionRule, DecisionRuleError
from desktop_app.core.inference import ModelError, ModelSession
from desktop_app.core.model_card import ModelCard
from tests.tiny_model import make_tiny_model

LABELS = ("benign", "malignant", "normal")
#: So large that every image's answer is malignant, whatever the tiny model's probabilities.
OVERWHELMING = 1e6


def cost_weighted_model(path: Path, costs: dict[str, float]) -> Path:
    record = json.dumps({"rule": "cost_weighted", "class_costs": costs})
    return make_tiny_model(path, labels=LABELS, extra_metadata={contract.META_DECISION: record})


def test_cost_weighted_answer_is_the_highest_probability_times_cost() -> None:
    rule = DecisionRule.cost_weighted(LABELS, {"malignant": 3})
    probabilities = np.array([[0.70, 0.25, 0.05], [0.76, 0.24, 0.00], [0.2, 0.1, 0.7], [0.5, 0.4, 0.1]])
    np.testing.assert_array_equal(rule.decide(probabilities), [1, 0, 2, 1])
    assert rule.decide(probabilities[0]) == 1  # one image: one index
    plain = DecisionRule.highest_probability(LABELS)
    np.testing.assert_array_equal(plain.decide(probabilities), probabilities.argmax(axis=1))
    assert plain.is_highest_probability and not rule.is_highest_probability
    assert "malignant × 3" in rule.describe() and "highest probability" in plain.describe()


def test_the_metadata_record_round_trips_and_absent_means_highest_probability() -> None:
    rule = DecisionRule.cost_weighted(LABELS, {"malignant": 3})
    assert DecisionRule.from_metadata(rule.to_json(), LABELS) == rule
    assert json.loads(rule.to_json()) == {"rule": "cost_weighted", "class_costs": {"malignant": 3.0}}
    assert DecisionRule.from_metadata(None, LABELS) == DecisionRule.highest_probability(LABELS)
    assert DecisionRule.from_metadata('{"rule": "highest_probability"}', LABELS).is_highest_probability


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cost", "not valid JSON"),
        ('{"rule": "threshold"}', "unknown decision rule 'threshold'"),
        ('{"rule": "cost_weighted"}', "needs 'class_costs'"),
        ('{"rule": "cost_weighted", "class_costs": {"cancer": 3}}', "classes the model does not have: ['cancer']"),
        ('{"rule": "cost_weighted", "class_costs": {"malignant": 0}}', "positive numbers"),
        ('{"rule": "cost_weighted", "class_costs": {"malignant": true}}', "needs 'class_costs'"),
    ],
)
def test_a_bad_record_is_refused_with_its_reason(text: str, message: str) -> None:
    with pytest.raises(DecisionRuleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        DecisionRule.from_metadata(text, LABELS)


def test_a_model_with_a_bad_record_does_not_open(tmp_path: Path) -> None:
    path = make_tiny_model(tmp_path / "m.onnx", extra_metadata={contract.META_DECISION: '{"rule": "vote"}'})
    with pytest.raises(ModelError, match="'decision' is invalid"):
        ModelSession.open(path)


def test_the_session_answers_by_the_models_rule_and_says_so(tmp_path: Path) -> None:
    images = [synthetic_image((64, 64), seed=s) for s in range(6)]
    plain = ModelSession.open(make_tiny_model(tmp_path / "plain.onnx", labels=LABELS)).classify(images)
    session = ModelSession.open(cost_weighted_model(tmp_path / "costly.onnx", {"malignant": OVERWHELMING}))
    weighted = session.classify(images)
    assert plain[0].predicted_label != "malignant"  # the tiny model's own argmax differs, so the rule shows
    for before, after in zip(plain, weighted):
        np.testing.assert_allclose(after.probabilities, before.probabilities)  # the rule moves the answer only
        assert after.predicted_label == "malignant"
        assert after.confidence == pytest.approx(after.probabilities[1])
        assert after.decided_by_cost == (before.predicted_label != "malignant")
        assert not before.decided_by_cost and "more probable" not in before.confidence_text()
    text = weighted[0].confidence_text()
    assert f"{plain[0].predicted_label} is more probable" in text and "missed malignant as 1e+06 errors" in text
    card = ModelCard.from_info(session.info)
    assert card.to_dict()["decision"].startswith("cost-weighted")
    assert ("Answer", card.decision) in dict(card.sections())["Model"]


def test_the_cli_reports_the_rules_answer(tmp_path: Path) -> None:
    model = cost_weighted_model(tmp_path / "costly.onnx", {"malignant": OVERWHELMING})
    image = tmp_path / "case.png"
    synthetic_image((64, 64), seed=0).save(image)
    out = io.StringIO()
    assert cli.main([str(image), "--model", str(model), "--json"], out=out) == 0
    result = json.loads(out.getvalue())["results"][0]
    assert result["predicted"] == "malignant"
    assert result["p_malignant"] < max(result["p_benign"], result["p_normal"])
    assert "answer by the model's cost-weighted rule" in result["message"]


def test_evaluate_counts_the_rules_answers_and_keeps_the_probability_scores(tmp_path: Path) -> None:
    """``python -m training evaluate`` scores a model as the app answers: recall by the rule, AUC and ECE unchanged."""
    from tests.bench.test_calibration_scores import _data_and_split
    from training.evaluate import evaluate

    data, split = _data_and_split(tmp_path)
    plain = evaluate(make_tiny_model(tmp_path / "plain.onnx", labels=LABELS), data, split, "test")
    costly = evaluate(cost_weighted_model(tmp_path / "costly.onnx", {"malignant": OVERWHELMING}), data, split, "test")
    assert costly["per_class"]["malignant"]["recall"] == 1.0 and costly["per_class"]["benign"]["recall"] == 0.0
    assert costly["accuracy"] == pytest.approx(1 / 3)  # two test images per class, all answered malignant
    assert plain["confusion_matrix"] != costly["confusion_matrix"]
    assert costly["macro_roc_auc"] == pytest.approx(plain["macro_roc_auc"])
    assert costly["ece"] == pytest.approx(plain["ece"]) and costly["nll"] == pytest.approx(plain["nll"])
    assert costly["model"]["decision"].startswith("cost-weighted")
