"""How calibrated probabilities become one answer: the class of highest probability, or, where the model's metadata
says so, the class of highest probability × cost (with calibrated probabilities, the answer of least expected cost
when missing that class costs more than any other error).

The rule travels in the model (``contract.META_DECISION``), so the app, the CLI and ``python -m training evaluate``
give the same answer; a model without it answers with the highest probability.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: ``rule`` values of the metadata record.
HIGHEST_PROBABILITY = "highest_probability"
COST_WEIGHTED = "cost_weighted"


class DecisionRuleError(ValueError):
    """The model's decision record cannot be used; the message says why."""


@dataclass(frozen=True)
class DecisionRule:
    """One cost per class, in the model's label order; all 1 is the highest-probability answer."""

    labels: tuple[str, ...]
    costs: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.costs) != len(self.labels):
            raise DecisionRuleError(f"{len(self.costs)} costs for {len(self.labels)} classes")
        if not all(math.isfinite(c) and c > 0 for c in self.costs):
            raise DecisionRuleError(f"decision costs must be positive numbers, got {list(self.costs)}")

    @classmethod
    def highest_probability(cls, labels: Sequence[str]) -> DecisionRule:
        return cls(tuple(labels), (1.0,) * len(labels))

    @classmethod
    def cost_weighted(cls, labels: Sequence[str], class_costs: Mapping[str, float]) -> DecisionRule:
        """Costs for the named classes; every other class costs 1."""
        unknown = sorted(set(class_costs) - set(labels))
        if unknown:
            raise DecisionRuleError(f"decision costs name classes the model does not have: {unknown}")
        return cls(tuple(labels), tuple(float(class_costs.get(label, 1.0)) for label in labels))

    @classmethod
    def from_metadata(cls, text: str | None, labels: Sequence[str]) -> DecisionRule:
        """The rule stored as ``{"rule": "cost_weighted", "class_costs": {"malignant": 3}}`` (absent: highest)."""
        if text is None or not text.strip():
            return cls.highest_probability(labels)
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise DecisionRuleError(f"the decision record is not valid JSON ({error})") from error
        rule = record.get("rule") if isinstance(record, dict) else None
        if rule == HIGHEST_PROBABILITY:
            return cls.highest_probability(labels)
        if rule != COST_WEIGHTED:
            raise DecisionRuleError(
                f"unknown decision rule {rule!r} (known: {HIGHEST_PROBABILITY}, {COST_WEIGHTED})")
        costs = record.get("class_costs")
        if not isinstance(costs, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in costs.values()):
            raise DecisionRuleError("a cost_weighted decision needs 'class_costs': {class name: number}")
        return cls.cost_weighted(labels, costs)

    def to_json(self) -> str:
        """The metadata record (the inverse of :meth:`from_metadata`)."""
        if self.is_highest_probability:
            return json.dumps({"rule": HIGHEST_PROBABILITY})
        costs = {label: cost for label, cost in zip(self.labels, self.costs) if cost != 1.0}
        return json.dumps({"rule": COST_WEIGHTED, "class_costs": costs})

    @property
    def is_highest_probability(self) -> bool:
        return all(cost == 1.0 for cost in self.costs)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """Class index per row of ``probabilities`` [N, C] (or one index for [C]); ties go to the first class."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if probabilities.shape[-1] != len(self.labels):
            raise ValueError(f"{probabilities.shape[-1]} probabilities for {len(self.labels)} classes")
        return np.argmax(probabilities * np.asarray(self.costs), axis=-1)

    def describe(self) -> str:
        """One line for the model card and the result panel."""
        if self.is_highest_probability:
            return "the class of highest probability"
        weighted = ", ".join(f"{label} × {cost:g}" for label, cost in zip(self.labels, self.costs) if cost != 1.0)
        return (f"cost-weighted: the class of highest probability × cost ({weighted}, others × 1), "
                f"so a missed {self._costliest} counts as {self._costliest_cost:g} errors")

    @property
    def _costliest(self) -> str:
        return self.labels[int(np.argmax(self.costs))]

    @property
    def _costliest_cost(self) -> float:
        return max(self.costs)
