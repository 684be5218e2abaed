"""Read the text of a spreadsheet cell as a number, date, yes/no or choice, written the English or the Spanish way."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from babel.numbers import list_currencies

__all__ = [
    "ValueProblem",
    "fold",
    "parse_bool",
    "parse_choice",
    "parse_date",
    "parse_decimal",
    "parse_integer",
]


class ValueProblem(Exception):
    """A cell's text that cannot be read as its column's type: a stable code and an English sentence."""

    def __init__(self, code: str, message: str, **values: object) -> None:
        self.code = code
        self.template = message
        self.values = values
        # Interpolated only when there are values: a caller's ready-made message may hold a literal "%".
        self.message = message % values if values else message
        super().__init__(self.message)


_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """A key for comparing labels and headers: no accents, no case, one space between words.

    Remembered: an import folds the same few labels and headers for every row."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_ALPHANUMERIC.sub(" ", bare).strip()


def _uses_english_conventions(language: str) -> bool:
    # "en", "en-US", "en_GB": a decimal point and month-first dates; any other language the continental way.
    return language.replace("_", "-").split("-")[0].strip().lower() == "en"


# numbers

_INVALID_NUMBER = "'%(value)s' is not a number; write it as 25000.50 or 25.000,50."
_INVALID_INTEGER = "'%(value)s' is not a whole number; write it without decimals, as 25000."
# Longer text is no amount a person typed; refusing it early keeps the regular expressions cheap.
_MAX_NUMBER_CHARS = 100
_SIGN = "+\\-\u2212"  # for a character class; U+2212 is the minus sign word processors put in
_GROUP_SPACES = " \u00a0\u202f\u2009"  # space, no-break space, narrow no-break space (Babel's French), thin space
_CURRENCY_SYMBOLS = "".join(chr(code) for code in range(0x20, 0x10000) if unicodedata.category(chr(code)) == "Sc")
_NUMBER = re.compile(
    rf"""
    (?P<sign>[{_SIGN}])?\s*
    (?P<prefix>[A-Za-z]{{3}}\s*|[A-Z]{{0,2}}[{_CURRENCY_SYMBOLS}]\s*)?
    (?P<sign_after_prefix>[{_SIGN}])?\s*
    (?P<body>[0-9.,{_GROUP_SPACES}]*?[0-9][0-9.,{_GROUP_SPACES}]*?)
    (?P<exponent>E[+-][0-9]{{1,3}})?
    \s*(?P<suffix>[A-Za-z]{{3}}|[A-Z]{{0,2}}[{_CURRENCY_SYMBOLS}])?
    """,
    re.VERBOSE,
)
_SCIENTIFIC_MANTISSA = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


@cache
def _currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def _is_currency(token: str | None) -> bool:
    if not token:
        return True
    token = token.strip()
    if token[-1] in _CURRENCY_SYMBOLS:
        return True
    return token.upper() in _currency_codes()  # "EUR", "usd"; not any three letters


def _grouped(text: str, separator: str) -> bool:
    """Whether ``text`` is an integer written with ``separator`` between groups of three digits."""
    return re.fullmatch(rf"[1-9][0-9]{{0,2}}(?:{re.escape(separator)}[0-9]{{3}})+", text) is not None


def _plain_digits(body: str, language: str) -> str | None:
    """The body of a number as "1234.50", or None when its separators make no sense."""
    if any(space in body for space in _GROUP_SPACES):
        # Spaces group thousands (Spanish and French style); the one "." or "," left is the decimal mark.
        marks = [char for char in body if char in ".,"]
        if len(marks) > 1:
            return None
        whole, _, fraction = body.partition(marks[0]) if marks else (body, "", "")
        whole = re.sub(f"[{_GROUP_SPACES}]", " ", whole)
        if not _grouped(whole, " ") or (marks and not fraction.isdigit()):
            return None
        return whole.replace(" ", "") + ("." + fraction if marks else "")
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        # Both marks: the last is the decimal mark, the other must group thousands.
        decimal_mark = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
        if body.count(decimal_mark) != 1:
            return None
        whole, _, fraction = body.partition(decimal_mark)
        if not _grouped(whole, thousands) or not fraction.isdigit():
            return None
        return whole.replace(thousands, "") + "." + fraction
    if dots or commas:
        mark = "." if dots else ","
        if body.count(mark) > 1:
            # "1.234.567": only thousands separators repeat.
            return body.replace(mark, "") if _grouped(body, mark) else None
        whole, _, fraction = body.partition(mark)
        if not fraction.isdigit() or (whole and not whole.isdigit()):
            return None
        if re.fullmatch(r"[1-9][0-9]{0,2}", whole) and len(fraction) == 3:
            # "1.234" or "1,234": a thousand and something, or one and a bit; the reader's language decides.
            thousands_mark = "," if _uses_english_conventions(language) else "."
            if mark == thousands_mark:
                return whole + fraction
        return (whole or "0") + "." + fraction
    return body if body.isdigit() else None


def parse_decimal(text: str, *, language: str = "en") -> Decimal:
    """A number as people and spreadsheets write it: 25.000,50, 25,000.50, € 1.000, (1,234.50), 1.5E+04."""
    problem = ValueProblem("invalid_number", _INVALID_NUMBER, value=text)
    value = text.strip()
    if not value or len(value) > _MAX_NUMBER_CHARS:
        raise problem
    negative = False
    if value.startswith("(") and value.endswith(")"):
        # Accountants write a negative amount in parentheses.
        negative, value = True, value[1:-1].strip()
    match = _NUMBER.fullmatch(value)
    if match is None or (match["sign"] and match["sign_after_prefix"]):
        raise problem
    sign = match["sign"] or match["sign_after_prefix"]
    if (sign and negative) or (match["prefix"] and match["suffix"]):
        raise problem
    if not (_is_currency(match["prefix"]) and _is_currency(match["suffix"])):
        raise problem
    body = match["body"]
    if match["exponent"]:
        # Excel writes big numbers as 1.5E+04 (1,5E+04 in Spanish): one decimal mark, no grouping.
        if not _SCIENTIFIC_MANTISSA.fullmatch(body):
            raise problem
        number = Decimal(body.replace(",", ".") + match["exponent"])
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            number = Decimal(int(number))  # 1.5E+4 is 15000: say so, exactly
    else:
        digits = _plain_digits(body, language)
        if digits is None:
            raise problem
        try:
            number = Decimal(digits)
        except InvalidOperation:
            raise problem from None
    if negative or sign in ("-", "\u2212"):
        number = number.copy_negate()  # exact; unary minus would round to the context's 28 digits
    return number


def parse_integer(text: str, *, language: str = "en") -> int:
    """A whole number written as parse_decimal reads it: 25.000 in Spanish, 25,000 in English, 2.5E+04."""
    number = parse_decimal(text, language=language)
    if number != number.to_integral_value():
        raise ValueProblem("invalid_integer", _INVALID_INTEGER, value=text)
    return int(number)


# dates

_INVALID_DATE = "'%(value)s' is not a date; write it as 2026-12-31 or 31/12/2026."
_TWO_DIGIT_YEAR = "'%(value)s' has a two-digit year; write the year with four digits, as 2026-12-31 or 31/12/2026."
_TIME = r"(?:[T ]\s*(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:[.,][0-9]{1,9})?)?)"
_YEAR_FIRST = re.compile(
    rf"(?P<year>[0-9]{{4}})(?P<sep>[-/.])(?P<month>[0-9]{{1,2}})(?P=sep)(?P<day>[0-9]{{1,2}})"
    rf"(?:{_TIME}\s*(?:Z|[+-][0-9]{{2}}(?::?[0-9]{{2}})?)?)?"
)
_YEAR_LAST = re.compile(
    rf"(?P<first>[0-9]{{1,2}})(?P<sep>[-/.])(?P<second_part>[0-9]{{1,2}})(?P=sep)(?P<year>[0-9]+)"
    rf"(?:{_TIME}(?:\s*[AaPp]\.?\s?[Mm]\.?)?)?"
)
_MONTH_NAMES = (
    ("january", "jan", "enero", "ene"),
    ("february", "feb", "febrero"),
    ("march", "mar", "marzo"),
    ("april", "apr", "abril", "abr"),
    ("may", "mayo"),
    ("june", "jun", "junio"),
    ("july", "jul", "julio"),
    ("august", "aug", "agosto", "ago"),
    ("september", "sep", "sept", "septiembre", "setiembre", "set"),
    ("october", "oct", "octubre"),
    ("november", "nov", "noviembre"),
    ("december", "dec", "diciembre", "dic"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_FILLER_WORDS = frozenset({"de", "del", "of", "the"})
_DAY = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th|o)?")


def parse_date(text: str, *, language: str = "en") -> date:
    """A date as 2026-12-07, 07/12/2026 (day first in Spanish, month first in English) or 7 Dec 2026."""
    value = text.strip()
    problem = ValueProblem("invalid_date", _INVALID_DATE, value=text)
    if match := _YEAR_FIRST.fullmatch(value):
        _check_time(match, problem)
        return _real_date(int(match["year"]), int(match["month"]), int(match["day"]), problem)
    if match := _YEAR_LAST.fullmatch(value):
        _check_time(match, problem)
        year = _four_digit_year(match["year"], text, problem)
        first, second = int(match["first"]), int(match["second_part"])
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            month, day = first, second
        elif _uses_english_conventions(language):
            month, day = first, second
        else:
            day, month = first, second
        return _real_date(year, month, day, problem)
    return _date_with_month_name(value, text, problem)


def _check_time(match: re.Match[str], problem: ValueProblem) -> None:
    if match["hour"] is None:
        return
    if int(match["hour"]) > 23 or int(match["minute"]) > 59 or int(match["second"] or 0) > 59:
        raise problem


def _four_digit_year(year: str, text: str, problem: ValueProblem) -> int:
    if len(year) == 2:
        # 07/12/26 could be 1926 or 2026; a CRM holds both birthdays and deadlines, so guessing is wrong.
        raise ValueProblem("invalid_date", _TWO_DIGIT_YEAR, value=text)
    if len(year) != 4:
        raise problem
    return int(year)


def _real_date(year: int, month: int, day: int, problem: ValueProblem) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise problem from None  # 31/02/2026, month 13, year 0


def _date_with_month_name(value: str, text: str, problem: ValueProblem) -> date:
    # "7 Dec 2026", "7 de diciembre de 2026", "December 7, 2026", "Dec 7 2026", "7-dic.-2026".
    words = [word for word in fold(value).split() if word not in _FILLER_WORDS]
    if len(words) != 3:
        raise problem
    if words[1] in _MONTHS:
        day_word, month_word, year_word = words
    elif words[0] in _MONTHS:
        month_word, day_word, year_word = words
    else:
        raise problem
    day_match = _DAY.fullmatch(day_word)
    if day_match is None or not year_word.isdigit():
        raise problem
    year = _four_digit_year(year_word, text, problem)
    return _real_date(year, _MONTHS[month_word], int(day_match[1]), problem)


# yes/no

_INVALID_BOOLEAN = "'%(value)s' is neither yes nor no; write yes or no (sí or no)."
_TRUE = frozenset({"yes", "y", "si", "s", "true", "verdadero", "1", "x", "on"})
_FALSE = frozenset({"no", "n", "false", "falso", "0", "off"})


def parse_bool(text: str) -> bool:
    """Yes or no in English or Spanish, as a word, a letter, 1/0, an "x" for yes, or on/off."""
    key = fold(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueProblem("invalid_boolean", _INVALID_BOOLEAN, value=text)


# choices

_INVALID_CHOICE = "'%(value)s' is not one of: %(allowed)s."
_AMBIGUOUS_CHOICE = "'%(value)s' could mean any of: %(matches)s; write the full label of the one you mean."


def parse_choice(text: str, choices: Mapping[str, Sequence[str]]) -> str:
    """The stored code of the choice whose code or any label (in any language) ``text`` names."""
    key = fold(text)
    matches = [
        code
        for code, labels in choices.items()
        if key and key in {fold(code), fold(code.replace("_", " ")), *(fold(label) for label in labels)}
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(_first_label(code, choices[code]) for code in matches)
        raise ValueProblem("ambiguous_choice", _AMBIGUOUS_CHOICE, value=text, matches=names)
    allowed = ", ".join(_first_label(code, labels) for code, labels in choices.items())
    raise ValueProblem("invalid_choice", _INVALID_CHOICE, value=text, allowed=allowed)


def _first_label(code: str, labels: Sequence[str]) -> str:
    return labels[0] if labels else code
