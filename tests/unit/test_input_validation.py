"""Input validation gives one stable code per problem and names the field."""

import pytest

from leadflow.core.errors import ValidationFailed
from leadflow.core.schemas import parse
from leadflow.leads.schemas import LeadCreate, LeadUpdate


def refused(model, data) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as error:
        parse(model, data)
    return error.value


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"last_name": "García"}, "topic", "required"),
        ({"topic": "   ", "last_name": "García"}, "topic", "required"),
        ({"topic": "Chairs"}, "last_name", "required"),
        ({"topic": "Chairs", "last_name": "G", "email": "not-an-email"}, "email", "invalid_email"),
        ({"topic": "Chairs", "last_name": "G", "budget_amount": "-1"}, "budget_amount", "out_of_range"),
        ({"topic": "Chairs", "last_name": "G", "budget_amount": "1000000000000.01"}, "budget_amount", "out_of_range"),
        ({"topic": "Chairs", "last_name": "G", "rating": "lukewarm"}, "rating", "invalid_option"),
        (
            {"topic": "Chairs", "last_name": "G", "purchase_timeframe": "someday"},
            "purchase_timeframe",
            "invalid_option",
        ),
        (
            {"topic": "Chairs", "last_name": "G", "qualification_comments": "x" * 2001},
            "qualification_comments",
            "too_long",
        ),
        ({"topic": "Chairs", "last_name": "G", "favourite_colour": "blue"}, "favourite_colour", "unknown_field"),
    ],
)
def test_bad_lead_input_names_the_field_and_a_stable_code(data, field, code):
    error = refused(LeadCreate, data)
    assert error.code == code
    assert error.details["fields"] == [{"field": field, "code": code, "message": error.message}]


def test_budget_bounds_are_inclusive():
    assert parse(LeadCreate, {"topic": "T", "last_name": "L", "budget_amount": "0"}).budget_amount == 0
    assert parse(LeadCreate, {"topic": "T", "last_name": "L", "budget_amount": "1000000000000"}).budget_amount == 10**12


def test_a_partial_update_cannot_clear_the_topic():
    assert refused(LeadUpdate, {"topic": None}).code == "required"


def test_a_partial_update_records_only_the_fields_sent():
    assert parse(LeadUpdate, {"rating": "warm"}).model_fields_set == {"rating"}


def test_several_problems_are_reported_together():
    error = refused(LeadCreate, {"email": "x"})
    assert error.code == "validation_failed"
    assert {f["field"] for f in error.details["fields"]} == {"topic", "last_name", "email"}
