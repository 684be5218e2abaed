"""Predictive scoring without a database: on a generated history whose true drivers are planted
(leadflow.demo.history), the learner ranks held-out leads well and names each lead's true driver as its
first reason; the scorer's reasons add up to the score; values never seen, fields gone or changed are
handled as documented; the fields read leads as documented; thresholds, grades and the split."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadflow.core.errors import ValidationFailed
from leadflow.demo.history import planted_leads
from leadflow.leads.models import LeadSource, Rating
from leadflow.scoring import scorer as scorer_module
from leadflow.scoring.features import (
    BLANK,
    BY_KEY,
    DEFAULT_FIELDS,
    FIELDS,
    OTHER,
    closed_values,
    email_kind,
    unknown_fields,
    values_of,
)
from leadflow.scoring.learner import TEST_SHARE, Sample, _split, fit, grade_shares
from leadflow.scoring.models import DEFAULT_THRESHOLDS, check_thresholds, grade_of
from leadflow.scoring.scorer import Scorer, message_parts

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def _no_steps(_name: str) -> None:
    return None


# ---------------------------------------------------------------------------------------------- quality


@pytest.mark.parametrize(
    ("count", "seed"),
    # The demo's own history (480 leads), and larger ones on three seeds, where chance matters less.
    [(480, 7), (4000, 7), (4000, 11), (4000, 23)],
)
def test_on_a_planted_history_the_model_ranks_well_and_names_each_leads_true_driver_first(count: int, seed: int):
    leads = list(planted_leads(count, seed=seed, now=NOW))
    samples = [Sample(values_of(lead.row(), DEFAULT_FIELDS, now=NOW), lead.qualified, lead.closed_at) for lead in leads]

    parameters, report = fit(samples, DEFAULT_FIELDS, step=_no_steps)

    assert report["auc"] is not None and report["auc"] >= 0.75, report["auc"]
    scorer = Scorer(parameters)
    held_out = leads[report["train"]["leads"] :]  # planted_leads come oldest first, as the split cuts
    assert len(held_out) == report["test"]["leads"] == count - round(count * (1 - TEST_SHARE))
    named = [scorer.score(values_of(lead.row(), DEFAULT_FIELDS, now=NOW)).reasons[0][0] for lead in held_out]
    agreement = sum(first == lead.driver for first, lead in zip(named, held_out, strict=True)) / len(held_out)
    assert agreement >= 0.8, agreement


def test_the_learner_reports_the_planted_fields_as_the_strongest_drivers():
    leads = list(planted_leads(4000, seed=11, now=NOW))
    samples = [Sample(values_of(lead.row(), DEFAULT_FIELDS, now=NOW), lead.qualified, lead.closed_at) for lead in leads]
    _parameters, report = fit(samples, DEFAULT_FIELDS, step=_no_steps)
    strongest = {driver["field"] for driver in report["drivers"][:4]}
    assert strongest == {"budget_status", "lead_source", "rating", "email_kind"}


# ---------------------------------------------------------------------------------------------- scorer


def _parameters(**changes: Any) -> dict[str, Any]:
    fields = [
        {"key": "lead_source", "version": 1, "weights": {"trade_show": 1.5, "web": -0.5, "": -0.2}, "mean": 0.1},
        {"key": "budget_amount", "version": 1, "weights": {"0-10000": -0.3, "10000-50000": 0.4}, "mean": 0.05},
        {"key": "company_name", "version": 1, "weights": {"yes": 0.6}, "mean": 0.6},
        {"key": "country", "version": 1, "weights": {"españa": 0.3, OTHER: -0.1}, "mean": 0.1},
    ]
    return {"format": scorer_module.FORMAT, "intercept": 0.2, "fields": fields, **changes}


def _assert_reasons_add_up(scorer: Scorer, values: dict[str, str]) -> None:
    scored = scorer.score(values)
    assert scored.score is not None and scored.probability is not None
    total = sum(effect for _key, _value, effect in scored.reasons)
    # Exact to the rounding of each effect to hundredths...
    assert abs(total - (100 * scored.probability - scorer.base_score)) <= 0.005 * len(scored.reasons) + 1e-9
    # ... and of the score to a whole number.
    assert abs(total - (scored.score - scorer.base_score)) <= 0.5 + 0.005 * len(scored.reasons) + 1e-9


@pytest.mark.parametrize(
    "values",
    [
        {"lead_source": "trade_show", "budget_amount": "10000-50000", "company_name": "yes", "country": "españa"},
        {"lead_source": "web", "budget_amount": "0-10000", "company_name": "yes", "country": "méxico"},
        {"lead_source": "", "budget_amount": "250000+", "company_name": "no", "country": ""},
    ],
)
def test_the_reasons_add_up_to_the_score_minus_the_score_of_an_average_lead(values: dict[str, str]):
    scorer = Scorer(_parameters())
    assert len(scorer.keys) <= scorer_module.TOP_REASONS  # every field's reason is kept
    assert len(scorer.score(values).reasons) == len(scorer.keys)
    _assert_reasons_add_up(scorer, values)


def test_the_reasons_of_a_trained_model_add_up_too_and_the_largest_come_first(monkeypatch: pytest.MonkeyPatch):
    leads = list(planted_leads(480, seed=7, now=NOW))
    samples = [Sample(values_of(lead.row(), DEFAULT_FIELDS, now=NOW), lead.qualified, lead.closed_at) for lead in leads]
    parameters, _report = fit(samples, DEFAULT_FIELDS, step=_no_steps)
    kept = Scorer(parameters).score(samples[-1].values).reasons
    assert len(kept) == scorer_module.TOP_REASONS
    assert [abs(effect) for *_, effect in kept] == sorted((abs(effect) for *_, effect in kept), reverse=True)
    monkeypatch.setattr(scorer_module, "TOP_REASONS", len(FIELDS))  # keep every field's reason
    scorer = Scorer(parameters)
    for sample in samples[-20:]:
        assert len(scorer.score(sample.values).reasons) == len(DEFAULT_FIELDS)
        _assert_reasons_add_up(scorer, sample.values)


def test_a_pick_list_value_never_seen_leaves_the_lead_unscored_saying_which():
    scored = Scorer(_parameters()).score(
        {"lead_source": "advertisement", "budget_amount": "0-10000", "company_name": "yes", "country": "españa"}
    )
    assert (scored.score, scored.probability, scored.reasons) == (None, None, [])
    assert scored.message == "unseen_value:lead_source:advertisement"
    assert message_parts(scored.message) == ("unseen_value", "lead_source", "advertisement")


def test_a_range_or_yes_no_value_never_seen_is_scored_with_no_effect_of_that_field():
    scorer = Scorer(_parameters())
    seen = {"lead_source": "trade_show", "budget_amount": "10000-50000", "company_name": "yes", "country": "españa"}
    unseen = {**seen, "budget_amount": "250000+", "company_name": "no"}
    scored = scorer.score(unseen)
    assert scored.score is not None and scored.message is None
    effects = {key: (value, effect) for key, value, effect in scored.reasons}
    assert effects["budget_amount"] == ("250000+", 0.0)
    assert effects["company_name"] == ("no", 0.0)
    assert effects["lead_source"][1] > 0
    # An open field's unseen value counts as "other".
    other = {key: value for key, value, _ in scorer.score({**seen, "country": "méxico"}).reasons}
    assert other["country"] == "méxico"
    assert (
        scorer.score({**seen, "country": "méxico"}).probability == scorer.score({**seen, "country": OTHER}).probability
    )


def test_a_blank_pick_list_value_never_seen_is_scored_with_no_effect_of_that_field():
    fields = _parameters()["fields"]
    fields[0] = {**fields[0], "weights": {"trade_show": 1.5, "web": -0.5}}  # no lead of the history was blank
    scored = Scorer(_parameters(fields=fields)).score(
        {"lead_source": BLANK, "budget_amount": "0-10000", "company_name": "yes", "country": "españa"}
    )
    assert scored.score is not None and scored.message is None
    assert ("lead_source", BLANK, 0.0) in scored.reasons


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ({"key": "shoe_size", "version": 1, "weights": {"42": 0.1}, "mean": 0.0}, "unknown_field:shoe_size"),
        ({"key": "lead_source", "version": 2, "weights": {"web": 0.1}, "mean": 0.0}, "stale_field:lead_source"),
    ],
)
def test_a_version_using_a_field_gone_or_changed_has_a_problem_and_scores_nothing(field: dict[str, Any], problem: str):
    scorer = Scorer(_parameters(fields=[*_parameters()["fields"][1:], field]))
    assert scorer.problem == problem
    scored = scorer.score({"lead_source": "web", "budget_amount": "0-10000", "company_name": "yes", "country": ""})
    assert (scored.score, scored.message, scored.reasons) == (None, problem, [])
    assert Scorer(_parameters()).problem is None


# ---------------------------------------------------------------------------------------------- features


@pytest.mark.parametrize(
    ("email", "kind"),
    [
        ("ana@gmail.com", "free"),
        ("Ana@GMAIL.COM ", "free"),
        ("ana@hotmail.es", "free"),
        ("juan@proton.me", "free"),
        ("ana@harbourfoods.example", "company"),
        ("ana@mail.gmail.com.example", "company"),
        ("weird@name@telefonica.net", "free"),
        (None, BLANK),
        ("", BLANK),
        ("not an address", BLANK),
    ],
)
def test_the_email_domain_is_free_company_or_blank(email: str | None, kind: str):
    assert email_kind(email) == kind


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        (None, BLANK),
        (0, "0-10000"),
        (9999.99, "0-10000"),
        (10_000, "10000-50000"),
        (249_999, "50000-250000"),
        (250_000, "250000+"),
    ],
)
def test_an_amount_falls_in_its_range(amount: float | None, value: str):
    assert BY_KEY["budget_amount"].range_value(amount) == value
    assert value in closed_values("budget_amount")


def _row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {key: None for key in ("lead_source", "rating", "budget_status", "budget_amount_base")}
    row.update(
        purchase_timeframe=None,
        purchase_process=None,
        need=None,
        decision_maker=None,
        address_country=None,
        email=None,
        company_name=None,
        job_title=None,
        business_phone=None,
        website=None,
        notes_count=0,
        activities_count=None,
        created_at=NOW - timedelta(days=3),
        closed_at=None,
    )
    row.update(values)
    return row


def test_a_blank_lead_reads_as_blanks_and_nos():
    values = values_of(_row(), DEFAULT_FIELDS, now=NOW)
    assert values == {
        "lead_source": BLANK,
        "rating": BLANK,
        "budget_status": BLANK,
        "budget_amount": BLANK,
        "purchase_timeframe": BLANK,
        "purchase_process": BLANK,
        "need": BLANK,
        "decision_maker": BLANK,
        "country": BLANK,
        "email_kind": BLANK,
        "company_name": "no",
        "job_title": "no",
        "business_phone": "no",
        "website": "no",
        "notes": "0-1",
        "activities": "0-1",
        "days_open": "0-8",
    }


def test_a_filled_in_lead_reads_as_its_values_and_ranges():
    row = _row(
        lead_source=LeadSource.TRADE_SHOW,
        rating=Rating.HOT,
        budget_amount_base=60_000,
        decision_maker=False,
        address_country="  España ",
        email="ana@gmail.com",
        company_name="Aceros Bravo",
        job_title="   ",
        notes_count=3,
        activities_count=4,
        created_at=NOW - timedelta(days=100),
        closed_at=NOW - timedelta(days=60),
    )
    values = values_of(row, DEFAULT_FIELDS, now=NOW)
    assert values["lead_source"] == "trade_show" and values["rating"] == "hot"
    assert values["budget_amount"] == "50000-250000"
    assert values["decision_maker"] == "no"
    assert values_of(_row(decision_maker=True), ["decision_maker"], now=NOW) == {"decision_maker": "yes"}
    assert values["country"] == "españa"
    assert values["email_kind"] == "free"
    assert (values["company_name"], values["job_title"]) == ("yes", "no")  # spaces only: not filled in
    assert (values["notes"], values["activities"]) == ("2-4", "4+")
    assert values["days_open"] == "31-91"  # open from creation to closing, not to now
    open_for = values_of(_row(created_at=NOW - timedelta(days=200)), ["days_open"], now=NOW)
    assert open_for == {"days_open": "91+"}


def test_the_closed_values_and_unknown_fields():
    assert closed_values("email_kind") == [BLANK, "company", "free"]
    assert closed_values("decision_maker") == [BLANK, "yes", "no"]
    assert closed_values("company_name") == ["yes", "no"]
    assert closed_values("notes") == ["0-1", "1-2", "2-4", "4+"]
    assert closed_values("lead_source") == [BLANK, *(source.value for source in LeadSource)]
    assert closed_values("country") == []
    assert unknown_fields(["lead_source", "fax", "rating", "shoe_size"]) == ["fax", "shoe_size"]


# ---------------------------------------------------------------------------------------------- thresholds


def test_thresholds_falling_from_a_to_c_are_kept_as_whole_numbers():
    assert check_thresholds({"A": "90", "B": 60.0, "C": 1}) == {"A": 90, "B": 60, "C": 1}
    assert check_thresholds({"A": 100, "B": 99, "C": 98, "D": 5}) == {"A": 100, "B": 99, "C": 98}
    assert check_thresholds(DEFAULT_THRESHOLDS) == DEFAULT_THRESHOLDS


@pytest.mark.parametrize(
    "thresholds",
    [
        {"A": 50, "B": 75, "C": 25},
        {"A": 75, "B": 50, "C": 50},
        {"A": 101, "B": 50, "C": 25},
        {"A": 75, "B": 50, "C": 0},
        {"A": 75, "B": 50},
        {"A": "high", "B": 50, "C": 25},
        {"A": None, "B": 50, "C": 25},
    ],
)
def test_thresholds_out_of_order_out_of_range_or_missing_are_refused(thresholds: dict[str, Any]):
    with pytest.raises(ValidationFailed) as refused:
        check_thresholds(thresholds)
    assert refused.value.code == "invalid_thresholds"


@pytest.mark.parametrize(
    ("score", "grade"), [(100, "A"), (75, "A"), (74, "B"), (50, "B"), (49, "C"), (25, "C"), (24, "D"), (0, "D")]
)
def test_a_score_has_the_grade_of_the_highest_threshold_it_reaches(score: int, grade: str):
    assert grade_of(score, DEFAULT_THRESHOLDS) == grade


def test_grade_shares_count_the_held_out_leads_and_their_qualified_share_under_any_thresholds():
    histogram = [[0, 0] for _ in range(101)]
    histogram[80] = [3, 2]
    histogram[60] = [2, 1]
    histogram[30] = [1, 0]
    histogram[10] = [4, 0]
    report = {"scores": histogram}
    assert grade_shares(report, DEFAULT_THRESHOLDS) == {
        "A": {"leads": 3, "qualified": 2, "qualified_share": 0.6667},
        "B": {"leads": 2, "qualified": 1, "qualified_share": 0.5},
        "C": {"leads": 1, "qualified": 0, "qualified_share": 0.0},
        "D": {"leads": 4, "qualified": 0, "qualified_share": 0.0},
    }
    assert grade_shares(report, {"A": 90, "B": 70, "C": 20}) == {
        "A": {"leads": 0, "qualified": 0, "qualified_share": None},
        "B": {"leads": 3, "qualified": 2, "qualified_share": 0.6667},
        "C": {"leads": 3, "qualified": 1, "qualified_share": 0.3333},
        "D": {"leads": 4, "qualified": 0, "qualified_share": 0.0},
    }
    assert all(grade["leads"] == 0 for grade in grade_shares({}, DEFAULT_THRESHOLDS).values())


# ---------------------------------------------------------------------------------------------- split


def _samples(outcomes: list[bool]) -> list[Sample]:
    start = NOW - timedelta(days=len(outcomes))
    samples = [
        Sample({"rating": "hot"}, qualified, start + timedelta(days=day)) for day, qualified in enumerate(outcomes)
    ]
    random.Random(3).shuffle(samples)
    return samples


def test_the_split_holds_out_the_newest_fifth():
    samples = _samples([True, False] * 10)
    train, test = _split(samples)
    assert (len(train), len(test)) == (16, 4)
    assert max(sample.closed_at for sample in train) < min(sample.closed_at for sample in test)
    assert train == sorted(train, key=lambda sample: sample.closed_at)


@pytest.mark.parametrize(
    ("outcomes", "part"),
    [
        ([True, False] * 8 + [True] * 4, "newest"),
        ([True, False] * 8 + [False] * 4, "newest"),
        ([True] * 16 + [True, False, True, False], "older"),
    ],
)
def test_the_split_refuses_a_part_with_a_single_outcome(outcomes: list[bool], part: str):
    with pytest.raises(ValidationFailed) as refused:
        _split(_samples(outcomes))
    assert refused.value.code == "scoring_one_outcome"
    assert refused.value.details == {"part": part}
    with pytest.raises(ValidationFailed):
        fit(_samples(outcomes), ["rating"], step=_no_steps)
