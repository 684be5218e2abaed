"""Training a version: a logistic regression (scikit-learn) over one-hot field values, learned from
the older leads of the history and tested on the newest, so that the report's figures are honest.

The version published is exactly the one tested: it is not refitted on the held-out leads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

from leadflow.core.errors import ValidationFailed
from leadflow.scoring.features import BY_KEY, OTHER, Kind
from leadflow.scoring.models import GRADES, grade_of
from leadflow.scoring.scorer import FORMAT, Scorer

TEST_SHARE = 0.2  # the newest fifth of the history is held out
RARE = 5  # an open field's values seen fewer times than this in training count as "other"
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Sample:
    """One closed lead of the history: its field values, whether it qualified, and when it closed."""

    values: dict[str, str]
    qualified: bool
    closed_at: datetime


Step = Callable[[str], None]


def _split(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample]]:
    ordered = sorted(samples, key=lambda sample: sample.closed_at)
    cut = int(round(len(ordered) * (1 - TEST_SHARE)))
    train, test = ordered[:cut], ordered[cut:]
    for part, name in ((train, "older"), (test, "newest")):
        outcomes = {sample.qualified for sample in part}
        if len(outcomes) < 2:
            only = "qualified" if True in outcomes else "disqualified"
            raise ValidationFailed(
                f"The {name} leads of the history are all {only}; a model needs both outcomes to learn from "
                "and to be tested on. Widen the period of history, or wait for more closed leads.",
                code="scoring_one_outcome",
                details={"part": name},
            )
    return train, test


def _vocabulary(train: Sequence[Sample], keys: Sequence[str]) -> dict[str, list[str]]:
    vocabulary: dict[str, list[str]] = {}
    for key in keys:
        counts = Counter(sample.values[key] for sample in train)
        if BY_KEY[key].kind is Kind.OPEN:
            kept = sorted(value for value, count in counts.items() if count >= RARE)
            vocabulary[key] = [*kept, OTHER]
        else:
            vocabulary[key] = sorted(counts)
    return vocabulary


def _matrix(samples: Sequence[Sample], keys: Sequence[str], vocabulary: dict[str, list[str]]) -> sparse.csr_matrix:
    offsets: dict[str, dict[str, int]] = {}
    width = 0
    for key in keys:
        offsets[key] = {value: width + i for i, value in enumerate(vocabulary[key])}
        width += len(vocabulary[key])
    columns = np.empty(len(samples) * len(keys), dtype=np.int32)
    i = 0
    for sample in samples:
        for key in keys:
            place = offsets[key]
            column = place.get(sample.values[key])
            columns[i] = place[OTHER] if column is None else column
            i += 1
    from scipy import sparse  # scipy and scikit-learn load when a model is trained, not with every command

    rows = np.repeat(np.arange(len(samples), dtype=np.int32), len(keys))
    data = np.ones(len(columns), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, columns)), shape=(len(samples), width))


def fit(samples: Sequence[Sample], keys: Sequence[str], *, step: Step) -> tuple[dict[str, Any], dict[str, Any]]:
    """Learn a version from closed leads: its parameters and its report (AUC, calibration, grades)."""
    train, test = _split(samples)
    vocabulary = _vocabulary(train, keys)
    step("fitting")
    matrix = _matrix(train, keys, vocabulary)
    from sklearn.linear_model import LogisticRegression

    outcome = np.array([sample.qualified for sample in train], dtype=np.int8)
    learner = LogisticRegression(C=1.0, max_iter=2000)
    learner.fit(matrix, outcome)
    coefficients = learner.coef_[0]
    fields: list[dict[str, Any]] = []
    position = 0
    for key in keys:
        weights = {value: float(coefficients[position + i]) for i, value in enumerate(vocabulary[key])}
        position += len(vocabulary[key])
        counts = Counter(sample.values[key] for sample in train)
        used = {value: weights.get(value, weights.get(OTHER, 0.0)) for value in counts}
        mean = sum(used[value] * count for value, count in counts.items()) / len(train)
        fields.append({"key": key, "version": BY_KEY[key].version, "weights": weights, "mean": mean})
    parameters = {"format": FORMAT, "intercept": float(learner.intercept_[0]), "fields": fields}
    step("testing")
    report = _report(Scorer(parameters), train, test)
    return parameters, report


def _period(part: Sequence[Sample]) -> dict[str, Any]:
    qualified = sum(sample.qualified for sample in part)
    return {
        "from": part[0].closed_at.isoformat(),
        "to": part[-1].closed_at.isoformat(),
        "leads": len(part),
        "qualified": qualified,
        "disqualified": len(part) - qualified,
    }


def _report(scorer: Scorer, train: Sequence[Sample], test: Sequence[Sample]) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    scored = [(scorer.score(sample.values), sample.qualified) for sample in test]
    usable = [(result, qualified) for result, qualified in scored if result.probability is not None]
    probabilities = np.array([result.probability for result, _ in usable])
    outcomes = np.array([qualified for _, qualified in usable], dtype=np.int8)
    auc = float(roc_auc_score(outcomes, probabilities)) if len(set(outcomes.tolist())) == 2 else None
    calibration = []
    for bin_ in range(CALIBRATION_BINS):
        low, high = bin_ / CALIBRATION_BINS, (bin_ + 1) / CALIBRATION_BINS
        inside = (probabilities >= low) & ((probabilities < high) if bin_ < CALIBRATION_BINS - 1 else True)
        count = int(inside.sum())
        if count:
            calibration.append(
                {
                    "from": low,
                    "to": high,
                    "leads": count,
                    "predicted": round(float(probabilities[inside].mean()), 4),
                    "observed": round(float(outcomes[inside].mean()), 4),
                }
            )
    histogram = [[0, 0] for _ in range(101)]  # per score: leads, qualified (grades under any thresholds)
    for result, qualified in usable:
        assert result.score is not None
        histogram[result.score][0] += 1
        histogram[result.score][1] += int(qualified)
    drivers = sorted(
        (
            {"field": key, "spread": round(max(weights.values()) - min(weights.values()), 4)}
            for key, _version, weights, _mean in scorer.fields
        ),
        key=lambda driver: -driver["spread"],
    )
    return {
        "auc": None if auc is None else round(auc, 4),
        "train": _period(train),
        "test": {**_period(test), "unscored": len(test) - len(usable)},
        "calibration": calibration,
        "scores": histogram,
        "drivers": drivers,
    }


def grade_shares(report: dict[str, Any], thresholds: dict[str, int]) -> dict[str, dict[str, Any]]:
    """How many held-out leads each grade held under these thresholds, and the share that qualified."""
    grades: dict[str, dict[str, Any]] = {grade: {"leads": 0, "qualified": 0} for grade in GRADES}
    for score, (leads, qualified) in enumerate(report.get("scores") or []):
        grade = grades[grade_of(score, thresholds)]
        grade["leads"] += leads
        grade["qualified"] += qualified
    for grade in grades.values():
        grade["qualified_share"] = round(grade["qualified"] / grade["leads"], 4) if grade["leads"] else None
    return grades
