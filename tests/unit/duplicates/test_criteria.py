"""Conditions of a duplicate detection rule refuse meaningless parameters with a stable code."""

import pytest

from leadflow.core.errors import ValidationFailed
from leadflow.duplicates import Condition, Criterion, InvalidCondition


def test_criteria_have_the_stored_values_of_section_9():
    assert [criterion.value for criterion in Criterion] == [
        "exact_match",
        "same_first_characters",
        "same_last_characters",
        "same_date",
        "same_date_and_time",
        "exact_picklist",
        "normalized",
        "similar",
    ]


def test_a_criterion_given_by_its_stored_value_is_read_as_the_enum():
    assert Condition("email", "email", "exact_match").criterion is Criterion.EXACT


@pytest.mark.parametrize(
    "condition",
    [
        Condition("email", "email", Criterion.EXACT),
        Condition("last_name", "last_name", Criterion.SAME_FIRST_CHARACTERS, n=3),
        Condition("telephone", "business_phone", Criterion.SAME_LAST_CHARACTERS, n=9),
        Condition("full_name", "full_name", Criterion.SIMILAR),
        Condition("full_name", "full_name", Criterion.SIMILAR, threshold=1),
        Condition("full_name", "full_name", Criterion.SIMILAR, threshold=0.85),
    ],
)
def test_well_formed_conditions_validate(condition):
    assert condition.validate() is condition


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        (Condition("last_name", "last_name", Criterion.SAME_FIRST_CHARACTERS), "n_required"),
        (Condition("last_name", "last_name", Criterion.SAME_FIRST_CHARACTERS, n=0), "n_required"),
        (Condition("last_name", "last_name", Criterion.SAME_LAST_CHARACTERS, n=-2), "n_required"),
        (Condition("last_name", "last_name", Criterion.SAME_LAST_CHARACTERS, n=True), "n_required"),
        (Condition("email", "email", Criterion.EXACT, n=3), "n_not_applicable"),
        (Condition("created_on", "created_on", Criterion.SAME_DATE, n=1), "n_not_applicable"),
        (Condition("full_name", "full_name", Criterion.SIMILAR, threshold=0), "threshold_out_of_range"),
        (Condition("full_name", "full_name", Criterion.SIMILAR, threshold=1.01), "threshold_out_of_range"),
        (Condition("full_name", "full_name", Criterion.SIMILAR, threshold=-0.5), "threshold_out_of_range"),
        (Condition("full_name", "full_name", Criterion.SIMILAR, threshold=float("nan")), "threshold_out_of_range"),
        (Condition("email", "email", Criterion.EXACT, threshold=0.9), "threshold_not_applicable"),
        (Condition("email", "email", "sounds_like"), "unknown_criterion"),
        (Condition("", "email", Criterion.EXACT), "column_required"),
        (Condition("email", "  ", Criterion.EXACT), "column_required"),
    ],
)
def test_meaningless_parameters_are_refused_with_a_stable_code(condition, code):
    with pytest.raises(InvalidCondition) as raised:
        condition.validate()
    assert raised.value.code == code
    assert str(raised.value)


def test_an_invalid_condition_is_a_value_error_and_a_validation_failure():
    assert issubclass(InvalidCondition, ValueError)
    assert issubclass(InvalidCondition, ValidationFailed)


def test_a_similar_condition_without_threshold_uses_the_default():
    assert Condition("full_name", "full_name", Criterion.SIMILAR).effective_threshold == 0.9


def test_conditions_are_immutable_and_hashable():
    condition = Condition("email", "email", Criterion.EXACT)
    with pytest.raises(AttributeError):
        condition.n = 3  # type: ignore[misc]
    assert len({condition, Condition("email", "email", Criterion.EXACT)}) == 1
