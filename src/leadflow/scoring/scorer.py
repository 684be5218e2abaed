"""Scoring a lead with a trained version: the score, and the exact reasons behind it.

A version's parameters are those of a logistic regression over one-hot field values: an intercept and,
for every field, one weight per value. A lead's log-odds of qualifying is the intercept plus the
weight of each of its values, so each field's share of it is exact: its weight minus the field's
average weight over the training leads (the SHAP value of a linear model with independent features).
A value the model never saw is an average lead's for a blank, a range or a yes/no field (a share of nothing),
a rare one for free text ("other"), and makes the lead unscorable for a pick-list (a new lead source):
"not enough information" rather than a guess. Those shares are turned into points of the 0-100 score in proportion, so that the reasons of a lead
add up exactly to its score minus the score of an average lead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from heapq import nlargest
from typing import Any

from leadflow.scoring.features import BLANK, BY_KEY, OTHER, Kind

FORMAT = 1
TOP_REASONS = 6  # the reasons kept with a score: the fields that moved it most, up or down


@dataclass
class Scored:
    """A lead's score (empty when it cannot be scored, ``message`` says why) and its reasons."""

    score: int | None
    probability: float | None = None
    # (field, value, effect in points), largest effect first.
    reasons: list[tuple[str, str, float]] = field(default_factory=list)
    message: str | None = None


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class Scorer:
    """A trained version, ready to score: read once from its parameters, shared by every score."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.intercept = float(parameters["intercept"])
        self.fields = [
            (spec["key"], int(spec["version"]), dict(spec["weights"]), float(spec["mean"]))
            for spec in parameters["fields"]
        ]
        self.keys = [key for key, *_ in self.fields]
        self.base_logit = self.intercept + sum(mean for *_, mean in self.fields)
        self.base_score = 100.0 * sigmoid(self.base_logit)
        self.problem = self._check()

    def _check(self) -> str | None:
        """Why this version cannot score any lead: a field gone, or derived differently since."""
        for key, version, *_ in self.fields:
            if key not in BY_KEY:
                return f"unknown_field:{key}"
            if BY_KEY[key].version != version:
                return f"stale_field:{key}"
        return None

    def score(self, values: dict[str, str]) -> Scored:
        """The score of a lead with these field values (``features.values_of``)."""
        if self.problem:
            return Scored(score=None, message=self.problem)
        logit = self.intercept
        shares: list[tuple[float, str, str]] = []
        for key, _version, weights, mean in self.fields:
            value = values.get(key, "")
            weight = weights.get(value)
            if weight is None:
                kind = BY_KEY[key].kind
                if kind is Kind.OPEN and OTHER in weights:
                    weight = weights[OTHER]
                elif kind is Kind.CHOICE and value != BLANK:  # a pick-list value it never saw (a new lead source)
                    return Scored(score=None, message=f"unseen_value:{key}:{value}"[:300])
                else:  # a blank, a range or a yes/no it never saw: it knows nothing of it, an average lead's
                    weight = mean
            logit += weight
            shares.append((weight - mean, key, value))
        probability = sigmoid(logit)
        points = 100.0 * probability
        total = logit - self.base_logit
        if abs(total) > 1e-12:
            scale = (points - self.base_score) / total
        else:  # an average lead: the slope of the curve there
            scale = 100.0 * probability * (1.0 - probability)
        largest = nlargest(TOP_REASONS, shares, key=_size)
        reasons = [(key, value, round(share * scale, 2)) for share, key, value in largest]
        return Scored(score=round(points), probability=probability, reasons=reasons)


def _size(share: tuple[float, str, str]) -> float:
    return abs(share[0])


def message_parts(message: str) -> tuple[str, str, str]:
    """A stored message's kind (unseen_value, unknown_field, stale_field, out_of_scope), field and value."""
    kind, _, rest = message.partition(":")
    key, _, value = rest.partition(":")
    return kind, key, value
