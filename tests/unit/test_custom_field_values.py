"""A custom value from input to storage and back, kind by kind, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.values import MAX_WHOLE, FieldProblem, as_text, base_of, to_output, to_stored

OPTIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
    {"value": "east", "label_en": "East", "label_es": "Este"},
]


def field(kind: FieldKind, **settings: Any) -> CustomField:
    """A field definition held in memory only."""
    return CustomField(table_name="leads", name="probe", label_en="Probe", label_es="Sonda", kind=kind, **settings)


def problem_of(definition: CustomField, value: Any) -> str:
    """The code of the problem ``value`` has for ``definition`` (fails when it has none)."""
    with pytest.raises(FieldProblem) as raised:
        to_stored(definition, value)
    assert raised.value.message.strip()
    return raised.value.code


# --- blanks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [kind for kind in FieldKind if kind is not FieldKind.MULTILINE])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_blank_input_is_stored_as_no_value_for_every_kind(kind: FieldKind, blank: Any) -> None:
    assert to_stored(field(kind, options=OPTIONS, lookup_table="accounts"), blank) is None


def test_no_stored_value_is_shown_as_none_and_as_empty_text() -> None:
    for kind in FieldKind:
        definition = field(kind, options=OPTIONS)
        assert to_output(definition, None) is None
        assert as_text(definition, None) == ""


def test_multiline_text_of_only_spaces_and_line_breaks_is_no_value() -> None:
    assert to_stored(field(FieldKind.MULTILINE), "  \n\t ") is None


def test_an_empty_list_clears_a_multi_choice_field() -> None:
    assert to_stored(field(FieldKind.MULTI_CHOICE, options=OPTIONS), []) is None


# --- text kinds ------------------------------------------------------------------------------------


def test_text_is_stored_trimmed_and_limited_to_100_characters_by_default() -> None:
    text = field(FieldKind.TEXT)
    assert to_stored(text, "  North region  ") == "North region"
    assert to_stored(text, "x" * 100) == "x" * 100
    assert problem_of(text, "x" * 101) == "too_long"


def test_text_respects_its_own_maximum_length() -> None:
    short = field(FieldKind.TEXT, max_length=5)
    assert to_stored(short, "abcde") == "abcde"
    assert problem_of(short, "abcdef") == "too_long"


def test_multiline_text_keeps_its_line_breaks_and_spaces_and_allows_4000_characters() -> None:
    notes = field(FieldKind.MULTILINE)
    assert to_stored(notes, "  first line\nsecond line\n") == "  first line\nsecond line\n"
    assert to_stored(notes, "y" * 4000) == "y" * 4000
    assert problem_of(notes, "y" * 4001) == "too_long"


@pytest.mark.parametrize("kind", [FieldKind.TEXT, FieldKind.MULTILINE, FieldKind.EMAIL, FieldKind.URL])
def test_text_with_a_character_no_database_can_keep_is_refused(kind: FieldKind) -> None:
    assert problem_of(field(kind), "bad\x00value") == "invalid_character"
    assert problem_of(field(kind), "half \ud800 a pair") == "invalid_character"


@pytest.mark.parametrize("value", [12, 1.5, True, ["a"], {"a": 1}])
def test_text_refuses_what_is_not_text(value: Any) -> None:
    assert problem_of(field(FieldKind.TEXT), value) == "invalid_value"


def test_an_email_address_is_checked_and_its_domain_normalised() -> None:
    email = field(FieldKind.EMAIL)
    assert to_stored(email, " Ana@Example.COM ") == "Ana@example.com"
    for bad in ("ana", "ana@", "@example.com", "ana at example.com"):
        assert problem_of(email, bad) == "invalid_email", bad


def test_a_phone_number_must_be_possible_and_is_kept_as_typed() -> None:
    phone = field(FieldKind.PHONE)
    assert to_stored(phone, "+34 912 345 678") == "+34 912 345 678"
    assert to_stored(phone, "912 345 678") == "912 345 678"  # Spanish by default
    for bad in ("12", "call me", "+34 1"):
        assert problem_of(phone, bad) == "invalid_phone", bad


def test_a_web_address_needs_http_or_https_and_a_domain() -> None:
    url = field(FieldKind.URL)
    assert to_stored(url, "https://muebles.example.com/chairs?x=1") == "https://muebles.example.com/chairs?x=1"
    assert to_stored(url, "HTTP://example.org") == "HTTP://example.org"
    for bad in ("example.com", "ftp://example.com", "https://localhost", "https://exa mple.com"):
        assert problem_of(url, bad) == "invalid_url", bad


# --- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given_value", "stored"), [(12, 12), ("12", 12), (" 1 000 ", 1000), ("12.0", 12), (-3, -3)])
def test_a_whole_number_is_stored_as_an_integer(given_value: Any, stored: int) -> None:
    assert to_stored(field(FieldKind.WHOLE_NUMBER), given_value) == stored


def test_a_whole_number_refuses_fractions_words_booleans_and_huge_numbers() -> None:
    whole = field(FieldKind.WHOLE_NUMBER)
    assert problem_of(whole, "1.5") == "invalid_value"
    assert problem_of(whole, "many") == "invalid_amount"
    assert problem_of(whole, True) == "invalid_amount"
    assert problem_of(whole, "NaN") == "invalid_amount"
    assert problem_of(whole, "Infinity") == "invalid_amount"
    assert problem_of(whole, MAX_WHOLE + 1) == "out_of_range"
    assert problem_of(whole, -MAX_WHOLE - 1) == "out_of_range"
    assert to_stored(whole, MAX_WHOLE) == MAX_WHOLE


def test_a_decimal_is_stored_scaled_by_ten_thousand_and_shown_with_its_precision() -> None:
    two_places = field(FieldKind.DECIMAL, precision=2)
    assert to_stored(two_places, "12.5") == 125_000
    assert to_output(two_places, 125_000) == Decimal("12.50")
    assert problem_of(two_places, "12.345") == "too_precise"
    assert problem_of(two_places, "ten") == "invalid_amount"


def test_a_decimal_without_precision_keeps_four_places_and_money_two() -> None:
    assert to_stored(field(FieldKind.DECIMAL), "0.0001") == 1
    assert problem_of(field(FieldKind.DECIMAL), "0.00001") == "too_precise"
    assert to_stored(field(FieldKind.MONEY), "1500.50") == 15_005_000
    assert to_output(field(FieldKind.MONEY), 15_005_000) == Decimal("1500.50")
    assert problem_of(field(FieldKind.MONEY), "1500.505") == "too_precise"


def test_money_beyond_a_trillion_is_out_of_range() -> None:
    money = field(FieldKind.MONEY)
    assert to_stored(money, "1000000000000") == 10**16
    assert problem_of(money, "1000000000000.01") == "out_of_range"
    assert problem_of(money, "-1000000000001") == "out_of_range"


def test_a_money_amount_in_the_base_currency_divides_by_the_exchange_rate() -> None:
    assert base_of(10_000_000, Decimal("0.5")) == 20_000_000
    assert base_of(10_000_000, Decimal(1)) == 10_000_000
    assert base_of(None, Decimal("0.5")) is None


# --- dates and yes/no ------------------------------------------------------------------------------


def test_a_date_is_stored_as_iso_text() -> None:
    day = field(FieldKind.DATE)
    assert to_stored(day, "2026-12-31") == "2026-12-31"
    assert to_stored(day, date(2026, 2, 1)) == "2026-02-01"
    assert to_stored(day, datetime(2026, 2, 1, 23, 0, tzinfo=UTC)) == "2026-02-01"
    for bad in ("2026-02-30", "31/12/2026", "tomorrow", 20261231):
        assert problem_of(day, bad) == "invalid_date", bad


def test_a_date_and_time_is_stored_in_utc_and_needs_a_time_zone() -> None:
    moment = field(FieldKind.DATETIME)
    assert to_stored(moment, "2026-12-31T10:30:00+01:00") == "2026-12-31T09:30:00Z"
    assert to_stored(moment, "2026-12-31T09:30:00Z") == "2026-12-31T09:30:00Z"
    assert to_stored(moment, datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-12-31T22:30:00Z"
    )
    assert problem_of(moment, "2026-12-31T09:30:00") == "invalid_date"
    assert problem_of(moment, "not a time") == "invalid_date"
    assert problem_of(moment, 1_700_000_000) == "invalid_date"


def test_a_date_and_time_before_the_year_1000_is_still_stored_as_four_digit_iso_text() -> None:
    assert to_stored(field(FieldKind.DATETIME), "0999-06-01T12:00:00Z") == "0999-06-01T12:00:00Z"


@pytest.mark.parametrize("value", [True, "true", "Yes", "sí", "SI", "1", 1, "verdadero"])
def test_yes_no_reads_yes_in_english_and_spanish(value: Any) -> None:
    assert to_stored(field(FieldKind.YES_NO), value) is True


@pytest.mark.parametrize("value", [False, "false", "No", "n", "0", 0, "falso"])
def test_yes_no_reads_no_in_english_and_spanish(value: Any) -> None:
    assert to_stored(field(FieldKind.YES_NO), value) is False


@pytest.mark.parametrize("value", ["maybe", 2, 0.5, ["yes"]])
def test_yes_no_refuses_anything_else(value: Any) -> None:
    assert problem_of(field(FieldKind.YES_NO), value) == "invalid_option"


def test_yes_no_is_shown_as_words_in_the_reader_s_language() -> None:
    flag = field(FieldKind.YES_NO)
    assert (as_text(flag, True), as_text(flag, False)) == ("Yes", "No")
    assert (as_text(flag, True, "es"), as_text(flag, False, "es")) == ("Sí", "No")


# --- choices and lookups ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["north", "North", "NORTH", "Norte", " norte "])
def test_a_choice_accepts_the_option_value_or_either_label(value: str) -> None:
    assert to_stored(field(FieldKind.CHOICE, options=OPTIONS), value) == "north"


@pytest.mark.parametrize("value", ["west", 1, ["north"]])
def test_a_choice_refuses_what_is_not_one_of_its_options(value: Any) -> None:
    assert problem_of(field(FieldKind.CHOICE, options=OPTIONS), value) == "invalid_option"


def test_a_multi_choice_keeps_each_option_once_in_the_options_order() -> None:
    several = field(FieldKind.MULTI_CHOICE, options=OPTIONS)
    assert to_stored(several, ["Este", "north", "East"]) == ["north", "east"]
    assert to_stored(several, "Sur; north") == ["north", "south"]
    assert problem_of(several, ["north", "west"]) == "invalid_option"
    assert problem_of(several, 3) == "invalid_option"


def test_choices_are_shown_by_their_labels_in_the_reader_s_language() -> None:
    one = field(FieldKind.CHOICE, options=OPTIONS)
    several = field(FieldKind.MULTI_CHOICE, options=OPTIONS)
    assert as_text(one, "south") == "South"
    assert as_text(one, "south", "es") == "Sur"
    assert as_text(several, ["north", "east"], "es") == "Norte; Este"


def test_a_lookup_keeps_the_record_id_in_its_canonical_form() -> None:
    lookup = field(FieldKind.LOOKUP, lookup_table="accounts")
    record_id = uuid.uuid4()
    assert to_stored(lookup, str(record_id).upper()) == str(record_id)
    assert to_stored(lookup, record_id) == str(record_id)
    assert problem_of(lookup, "account 7") == "invalid_id"


def test_numbers_are_shown_as_text_with_their_precision() -> None:
    assert as_text(field(FieldKind.MONEY), 15_005_000) == "1500.50"
    assert as_text(field(FieldKind.DECIMAL, precision=1), 15_000) == "1.5"
    assert as_text(field(FieldKind.WHOLE_NUMBER), 7) == "7"


# --- properties ------------------------------------------------------------------------------------


@given(precision=st.integers(min_value=0, max_value=4), data=st.data())
def test_a_decimal_comes_back_as_it_was_given_within_its_precision(precision: int, data: st.DataObject) -> None:
    number = data.draw(
        st.decimals(min_value=-(10**12), max_value=10**12, places=precision, allow_nan=False, allow_infinity=False)
    )
    for kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        definition = field(kind, precision=precision)
        stored = to_stored(definition, str(number))
        assert isinstance(stored, int)
        assert to_output(definition, stored) == number
        assert to_stored(definition, to_output(definition, stored)) == stored


@given(st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False), min_size=2, max_size=10))
def test_stored_decimals_sort_as_the_numbers_do(numbers: list[Decimal]) -> None:
    definition = field(FieldKind.DECIMAL)
    stored = {number: to_stored(definition, number) for number in numbers}
    assert sorted(numbers) == sorted(numbers, key=lambda number: stored[number])


@given(st.integers(min_value=-MAX_WHOLE, max_value=MAX_WHOLE))
def test_a_whole_number_comes_back_as_it_was_given(number: int) -> None:
    whole = field(FieldKind.WHOLE_NUMBER)
    assert to_output(whole, to_stored(whole, number)) == number
    assert to_stored(whole, str(number)) == number


@given(st.dates())
def test_a_date_comes_back_as_it_was_given(day: date) -> None:
    stored = to_stored(field(FieldKind.DATE), day.isoformat())
    assert date.fromisoformat(stored) == day
    assert to_stored(field(FieldKind.DATE), stored) == stored


@given(st.lists(st.dates(), min_size=2, max_size=10))
def test_stored_dates_sort_as_the_days_do(days: list[date]) -> None:
    stored = [to_stored(field(FieldKind.DATE), day) for day in days]
    assert sorted(stored) == [day.isoformat() for day in sorted(days)]


_OFFSETS = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(min_value=-14 * 60, max_value=14 * 60)
)
_MOMENTS = st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=_OFFSETS)


@given(_MOMENTS)
def test_a_date_and_time_comes_back_as_the_same_instant_to_the_second(moment: datetime) -> None:
    stored = to_stored(field(FieldKind.DATETIME), moment.isoformat())
    assert stored.endswith("Z")
    assert datetime.fromisoformat(stored) == moment.replace(microsecond=0)
    assert to_stored(field(FieldKind.DATETIME), stored) == stored


@given(st.lists(_MOMENTS, min_size=2, max_size=10))
def test_stored_dates_and_times_sort_as_the_instants_do(moments: list[datetime]) -> None:
    definition = field(FieldKind.DATETIME)
    in_time_order = sorted(moments, key=lambda moment: moment.replace(microsecond=0))
    stored_in_time_order = [to_stored(definition, moment) for moment in in_time_order]
    assert sorted(stored_in_time_order) == stored_in_time_order


@given(
    st.text(max_size=100).filter(lambda text: "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text))
)
def test_text_that_fits_is_stored_trimmed_and_stays_the_same_when_stored_again(text: str) -> None:
    definition = field(FieldKind.TEXT)
    stored = to_stored(definition, text)
    assert stored == (text.strip() or None)
    if stored is not None:
        assert to_stored(definition, stored) == stored
