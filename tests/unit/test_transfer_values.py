"""Reading cell text as numbers, dates, yes/no and choices, written the English or the Spanish way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from leadflow.transfer.values import (
    ValueProblem,
    fold,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_integer,
)


def refusal(parse: object, *args: object, **kwargs: object) -> ValueProblem:
    with pytest.raises(ValueProblem) as caught:
        parse(*args, **kwargs)  # type: ignore[operator]
    return caught.value


# fold


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Correo electrónico", "correo electronico"),
        ("E-mail", "e mail"),
        ("ZIP/Postal Code", "zip postal code"),
        ("  Razón   para el estado ", "razon para el estado"),
        ("address1_line1", "address1 line1"),
        ("ÑANDÚ", "nandu"),
        ("Straße", "strasse"),
        ("País o región", "pais o region"),
        ("---", ""),
    ],
)
def test_fold_drops_accents_case_and_punctuation(text: str, key: str) -> None:
    assert fold(text) == key


# numbers


@pytest.mark.parametrize(
    ("text", "language", "number"),
    [
        ("25.000,50", "es", "25000.50"),
        ("25,000.50", "en", "25000.50"),
        ("25,000.50", "es", "25000.50"),
        ("25.000,50", "en", "25000.50"),
        ("25000.5", "es", "25000.5"),
        ("25000,5", "en", "25000.5"),
        ("-1.234,5", "es", "-1234.5"),
        ("(1,234.50)", "en", "-1234.50"),
        ("1 234,50", "es", "1234.50"),
        ("1\u00a0234,50", "es", "1234.50"),
        ("1\u202f234\u202f567,5", "es", "1234567.5"),
        ("1 234.50", "en", "1234.50"),
        ("€ 1.000", "es", "1000"),
        ("1.000 €", "es", "1000"),
        ("25.000,50\u00a0€", "es", "25000.50"),
        ("EUR 1,000.00", "en", "1000.00"),
        ("$1,000", "en", "1000"),
        ("US$1,234.50", "en", "1234.50"),
        ("1000 USD", "en", "1000"),
        ("1000 eur", "es", "1000"),
        ("-€5", "en", "-5"),
        ("€-5", "en", "-5"),
        ("\u22125", "en", "-5"),
        ("+5", "en", "5"),
        ("1.234.567", "en", "1234567"),
        ("1,234,567", "es", "1234567"),
        ("1.234.567,89", "es", "1234567.89"),
        ("0.500", "es", "0.500"),
        ("0,500", "en", "0.500"),
        (".5", "en", "0.5"),
        ("1234.567", "es", "1234.567"),
        ("  42  ", "en", "42"),
    ],
)
def test_a_number_reads_the_spanish_way_and_the_english_way(text: str, language: str, number: str) -> None:
    parsed = parse_decimal(text, language=language)

    assert parsed == Decimal(number)
    assert str(parsed) == number


@pytest.mark.parametrize(
    ("text", "english", "spanish"),
    [("1.234", "1.234", "1234"), ("1,234", "1234", "1.234"), ("999.999", "999.999", "999999")],
)
def test_one_separator_before_three_digits_is_read_in_the_readers_language(
    text: str, english: str, spanish: str
) -> None:
    assert parse_decimal(text, language="en") == Decimal(english)
    assert parse_decimal(text, language="es") == Decimal(spanish)


@pytest.mark.parametrize(
    ("text", "number"),
    [("1.5E+04", "15000"), ("1,5E+04", "15000"), ("-2.5E-03", "-0.0025"), ("1.23456789012E+11", "123456789012")],
)
def test_excel_scientific_notation_reads_exactly(text: str, number: str) -> None:
    parsed = parse_decimal(text, language="es")

    assert parsed == Decimal(number)
    assert str(parsed) == number


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3",
        "12.34.56",
        "abc",
        "",
        "   ",
        "1e5",
        "1E5",
        "1,5e+04",
        "NaN",
        "Infinity",
        "-Infinity",
        "1,234.5.6",
        "1.234,5,6",
        "1 23,5",
        "0.123.456",
        "5.",
        "--5",
        "-(5)",
        "(5",
        "1000 abc",
        "€ 5 €",
        "12 kg",
        "1/2",
        "0x1F",
        "١٢٣",
        "9" * 101,
    ],
)
def test_text_that_is_not_a_number_is_refused(text: str) -> None:
    problem = refusal(parse_decimal, text, language="es")

    assert problem.code == "invalid_number"
    assert problem.values == {"value": text}
    assert problem.template == "'%(value)s' is not a number; write it as 25000.50 or 25.000,50."
    assert problem.message == f"'{text}' is not a number; write it as 25000.50 or 25.000,50."


def _english(number: Decimal) -> str:
    return format(number, ",f")


def _spanish(number: Decimal) -> str:
    return _english(number).translate(str.maketrans(",.", ".,"))


amounts = st.integers(min_value=0, max_value=4).flatmap(
    lambda places: st.decimals(
        min_value=-(10**15), max_value=10**15, places=places, allow_nan=False, allow_infinity=False
    )
)


@given(amounts)
def test_an_amount_written_the_english_way_reads_back(number: Decimal) -> None:
    assert parse_decimal(_english(number), language="en").as_tuple() == number.as_tuple()


@given(amounts)
def test_an_amount_written_the_spanish_way_reads_back(number: Decimal) -> None:
    assert parse_decimal(_spanish(number), language="es").as_tuple() == number.as_tuple()


@given(amounts, st.sampled_from(["\u00a0", "\u202f", " "]), st.sampled_from(["", " €", "\u00a0€", " EUR"]))
def test_an_amount_grouped_with_spaces_and_a_currency_reads_back_in_any_language(
    number: Decimal, space: str, currency: str
) -> None:
    assume(abs(number) >= 1000)  # below a thousand there is no space, and "1,000" alone is the ambiguous case
    text = _english(number).replace(",", space).replace(".", ",") + currency

    for language in ("es", "en"):
        assert parse_decimal(text, language=language).as_tuple() == number.as_tuple()


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_a_whole_number_written_either_way_reads_back(number: int) -> None:
    assert parse_integer(f"{number:,}", language="en") == number
    assert parse_integer(f"{number:,}".replace(",", "."), language="es") == number


@pytest.mark.parametrize(
    ("text", "language", "number"),
    [("25.000", "es", 25000), ("25,000", "en", 25000), ("1.5E+04", "en", 15000), ("7,00", "es", 7), ("-3", "en", -3)],
)
def test_a_whole_number_reads_as_an_integer(text: str, language: str, number: int) -> None:
    parsed = parse_integer(text, language=language)

    assert parsed == number
    assert type(parsed) is int


def test_a_number_with_decimals_is_refused_as_an_integer() -> None:
    problem = refusal(parse_integer, "2,5", language="es")

    assert problem.code == "invalid_integer"
    assert problem.message == "'2,5' is not a whole number; write it without decimals, as 25000."


def test_text_that_is_no_number_at_all_is_refused_as_a_number_for_an_integer() -> None:
    assert refusal(parse_integer, "many").code == "invalid_number"


# dates


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-07",
        "2026-12-7",
        "2026/12/07",
        "2026-12-07T10:30:00",
        "2026-12-07 10:30",
        "2026-12-07T10:30:00.123456",
        "2026-12-07T23:30:00Z",
        "2026-12-07T23:30:00-05:00",
        "2026-12-07T00:30:00+0200",
    ],
)
def test_an_iso_date_or_datetime_reads_as_the_date_it_writes(text: str) -> None:
    assert parse_date(text, language="en") == date(2026, 12, 7)
    assert parse_date(text, language="es") == date(2026, 12, 7)


@pytest.mark.parametrize("text", ["07/12/2026", "7/12/2026", "07-12-2026", "07.12.2026", "07/12/2026 10:30"])
def test_a_slashed_date_is_day_first_in_spanish_and_month_first_in_english(text: str) -> None:
    assert parse_date(text, language="es") == date(2026, 12, 7)
    assert parse_date(text, language="en") == date(2026, 7, 12)


@pytest.mark.parametrize(("text", "day"), [("13/12/2026", date(2026, 12, 13)), ("12/13/2026", date(2026, 12, 13))])
def test_a_number_over_twelve_decides_the_order_whatever_the_language(text: str, day: date) -> None:
    assert parse_date(text, language="es") == day
    assert parse_date(text, language="en") == day


def test_an_american_date_with_a_time_and_am_pm_reads_as_its_date() -> None:
    assert parse_date("12/7/2026 10:30 AM", language="en") == date(2026, 12, 7)


@pytest.mark.parametrize(
    "text",
    [
        "7 Dec 2026",
        "7 dic 2026",
        "7 dic. 2026",
        "07-Dic-2026",
        "7 de diciembre de 2026",
        "7 de Diciembre del 2026",
        "December 7, 2026",
        "Dec 7 2026",
        "dec. 7th, 2026",
        "7 DICIEMBRE 2026",
    ],
)
def test_a_date_with_its_month_named_in_english_or_spanish_reads(text: str) -> None:
    assert parse_date(text, language="en") == date(2026, 12, 7)
    assert parse_date(text, language="es") == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("1 sept 2026", date(2026, 9, 1)),
        ("1 set 2026", date(2026, 9, 1)),
        ("1 setiembre 2026", date(2026, 9, 1)),
        ("15 ago 2026", date(2026, 8, 15)),
        ("15 de agosto de 2026", date(2026, 8, 15)),
        ("2 ene 2026", date(2026, 1, 2)),
        ("2 abr 2026", date(2026, 4, 2)),
        ("March 3, 2026", date(2026, 3, 3)),
        ("3 de marzo de 2026", date(2026, 3, 3)),
        ("29 feb 2028", date(2028, 2, 29)),
    ],
)
def test_every_month_name_and_abbreviation_reads(text: str, day: date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["07/12/26", "7 Dec 26", "26-12-07"])
def test_a_two_digit_year_is_refused_with_a_request_for_four_digits(text: str) -> None:
    problem = refusal(parse_date, text, language="es")

    assert problem.code == "invalid_date"
    assert "four digits" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2026",
        "29/02/2027",
        "2026-13-01",
        "2026-02-30",
        "13/13/2026",
        "00/12/2026",
        "2026-12-07T25:00",
        "7 Foo 2026",
        "7 Dec",
        "Dec 2026",
        "tomorrow",
        "",
        "46363",
        "07/12/20266",
        "07/12-2026",
    ],
)
def test_text_that_is_not_a_real_date_is_refused(text: str) -> None:
    problem = refusal(parse_date, text, language="es")

    assert problem.code == "invalid_date"
    assert problem.message == f"'{text}' is not a date; write it as 2026-12-31 or 31/12/2026."


days = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@given(days)
def test_any_date_written_the_way_its_language_writes_it_reads_back(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y"), language="es") == day
    assert parse_date(day.strftime("%m/%d/%Y"), language="en") == day
    assert parse_date(f"{day.day} {day.strftime('%b')} {day.year:04d}") == day


# yes and no


@pytest.mark.parametrize(
    "text", ["yes", "Yes", "Y", "sí", "Sí", "SI", "s", "true", "TRUE", "verdadero", "Verdadero", "1", "x", "X", "on"]
)
def test_yes_in_english_or_spanish_reads_as_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["no", "No", "N", "false", "FALSE", "falso", "Falso", "0", "off", " no "])
def test_no_in_english_or_spanish_reads_as_false(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["maybe", "", "2", "quizás", "yes please"])
def test_anything_else_is_neither_yes_nor_no(text: str) -> None:
    problem = refusal(parse_bool, text)

    assert problem.code == "invalid_boolean"
    assert problem.message == f"'{text}' is neither yes nor no; write yes or no (sí or no)."


# choices

SOURCES = {
    "trade_show": ["Trade show", "Feria comercial", "7"],
    "word_of_mouth": ["Word of mouth", "Boca a boca", "9"],
    "web": ["Web", "Web", "8"],
    "other": ["Other", "Otro"],
}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("trade_show", "trade_show"),
        ("TRADE_SHOW", "trade_show"),
        ("trade show", "trade_show"),
        ("Trade Show", "trade_show"),
        ("Feria comercial", "trade_show"),
        ("feria  COMERCIAL", "trade_show"),
        ("7", "trade_show"),
        ("Boca-a-boca", "word_of_mouth"),
        (" web ", "web"),
        ("otro", "other"),
    ],
)
def test_a_choice_reads_by_its_code_or_any_label_in_any_language(text: str, code: str) -> None:
    assert parse_choice(text, SOURCES) == code


def test_a_choice_with_accents_matches_without_them() -> None:
    assert parse_choice("Publicidad", {"advertisement": ["Advertisement", "Publicidád"]}) == "advertisement"


@pytest.mark.parametrize("text", ["Fair", "", "-", "70"])
def test_an_unknown_choice_is_refused_with_the_allowed_labels(text: str) -> None:
    problem = refusal(parse_choice, text, SOURCES)

    assert problem.code == "invalid_choice"
    assert problem.message == f"'{text}' is not one of: Trade show, Word of mouth, Web, Other."
    assert problem.values == {"value": text, "allowed": "Trade show, Word of mouth, Web, Other"}


def test_a_choice_without_labels_is_allowed_by_its_code() -> None:
    assert refusal(parse_choice, "x", {"hot": [], "cold": []}).message == "'x' is not one of: hot, cold."


def test_a_label_two_choices_share_is_refused_as_ambiguous() -> None:
    problem = refusal(parse_choice, "Partner", {"partner": ["Partner", "Socio"], "reseller": ["Reseller", "Partner"]})

    assert problem.code == "ambiguous_choice"
    assert "Partner, Reseller" in problem.message


# the refusal itself


def test_a_value_problem_keeps_its_template_and_fills_its_message() -> None:
    problem = ValueProblem("invalid_number", "'%(value)s' is not a number.", value="abc")

    assert (problem.code, problem.template, problem.message, problem.values) == (
        "invalid_number",
        "'%(value)s' is not a number.",
        "'abc' is not a number.",
        {"value": "abc"},
    )
    assert str(problem) == "'abc' is not a number."


def test_a_ready_made_message_with_a_percent_sign_is_kept_as_it_is() -> None:
    problem = ValueProblem("lookup_not_found", "no account goes by '100% Acme'; create it first.")

    assert problem.message == "no account goes by '100% Acme'; create it first."
