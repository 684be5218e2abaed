"""Pure normalisers that fold the spellings of one value to one comparable form.

Every function takes any value, returns ``None`` for a blank one (``None``, empty or whitespace
only) and is idempotent: normalising a normalised value changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "ES"

# Letters that NFKD does not decompose into a base letter plus a combining mark.
_SPECIAL_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th", "ŧ": "t"}
)
# Punctuation that joins the parts of one word ("O'Brien", "S.A."): deleted, not turned into a space.
_WORD_JOINERS = frozenset("'’‘`´.·")
# Unicode categories kept inside words: letters, numbers and spacing vowel signs (Indic scripts).
_KEPT_CATEGORY_PREFIXES = ("L", "N", "Mc")


def _text(value: object) -> str | None:
    """The value as stripped text, or None when it is blank."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text or None


def normalize_email(value: object) -> str | None:
    """The e-mail address trimmed and case-folded; None when blank."""
    text = _text(value)
    return text.casefold() if text else None


def _digits(text: str) -> str:
    """The decimal digits of ``text`` (any script) as ASCII digits."""
    digits = (unicodedata.decimal(char, None) for char in text)
    return "".join(str(digit) for digit in digits if digit is not None)


def _e164(text: str, region: str | None) -> str | None:
    """The E.164 form (plus ``;ext=N``) of a possible phone number, or None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def normalize_phone(value: object, *, default_region: str | None = DEFAULT_REGION) -> str | None:
    """The phone number in E.164 (``;ext=N`` kept); unparsable ones as digits with any leading +."""
    text = _text(value)
    if text is None:
        return None
    parsed = _e164(text, default_region)
    if parsed is not None:
        return parsed
    digits = _digits(text)
    if not digits:
        return None
    fallback = ("+" if text.lstrip("([ ").startswith("+") else "") + digits
    # Parsing the bare digits too keeps the function idempotent on its own fallback output.
    return _e164(fallback, default_region) or fallback


def _keep(char: str) -> bool:
    """Whether a character is part of a word (letter, digit, spacing mark)."""
    return unicodedata.category(char).startswith(_KEPT_CATEGORY_PREFIXES)


def normalize_name(value: object) -> str | None:
    """The name accent-folded, case-folded, without punctuation and with single spaces."""
    text = _text(value)
    if text is None:
        return None
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    folded = "".join(char for char in folded if unicodedata.category(char) not in ("Mn", "Me"))
    folded = folded.translate(_SPECIAL_LETTERS)
    words = "".join(char if _keep(char) else ("" if char in _WORD_JOINERS else " ") for char in folded)
    return " ".join(words.split()) or None


# Legal forms dropped from the end of a company name, as a person would write them. Each is compared
# after the same folding as the name ("S.A. de C.V." -> "sa de cv"); a dotted form also matches
# with its dots written as spaces ("S. A." -> "s a").
LEGAL_FORMS: tuple[str, ...] = (
    # English
    "Inc",
    "Inc.",
    "Incorporated",
    "Ltd",
    "Ltd.",
    "Limited",
    "LLC",
    "L.L.C.",
    "LLP",
    "L.L.P.",
    "LP",
    "L.P.",
    "PLC",
    "P.L.C.",
    "Corp",
    "Corp.",
    "Corporation",
    "Co",
    "Co.",
    "Company",
    "Pty",
    "Pty Ltd",
    "Pty. Ltd.",
    # German, Austrian, Swiss
    "GmbH",
    "gGmbH",
    "AG",
    "KG",
    "KGaA",
    "OHG",
    "UG",
    "e.K.",
    "e.V.",
    "GmbH & Co. KG",
    # Spanish
    "S.A.",
    "SA",
    "S.A.U.",
    "SAU",
    "S.L.",
    "SL",
    "S.L.U.",
    "SLU",
    "S.L.L.",
    "S.L.N.E.",
    "S.Coop.",
    "S.C.",
    "S.Com.",
    "Cía",
    "Compañía",
    # Mexican and Latin American
    "S.A. de C.V.",
    "S.A.B. de C.V.",
    "S.A.P.I. de C.V.",
    "S. de R.L.",
    "S. de R.L. de C.V.",
    "de C.V.",
    "Ltda",
    "Ltda.",
    "S.A.C.",
    "S.A.A.",
    "E.I.R.L.",
    "S.A.S.",
    "SAS",
    # French, Italian, Portuguese
    "SARL",
    "S.A.R.L.",
    "SRL",
    "S.R.L.",
    "SpA",
    "S.p.A.",
    "S.N.C.",
    "SNC",
    "Lda",
    "Lda.",
    # Dutch, Belgian, Nordic, other
    "BV",
    "B.V.",
    "NV",
    "N.V.",
    "VOF",
    "Oy",
    "Oyj",
    "AB",
    "A/S",
    "ApS",
    "AS",
    "ASA",
    "SE",
    "Sdn Bhd",
    "K.K.",
)


def _legal_form_variants(form: str) -> set[tuple[str, ...]]:
    """The folded token sequences under which a legal form can appear."""
    variants = set()
    for spelling in (form, form.replace(".", ". ")):
        folded = normalize_name(spelling)
        if folded:
            variants.add(tuple(folded.split()))
    return variants


_LEGAL_FORM_TOKENS: tuple[tuple[str, ...], ...] = tuple(
    sorted({variant for form in LEGAL_FORMS for variant in _legal_form_variants(form)}, key=len, reverse=True)
)


def normalize_company(value: object) -> str | None:
    """The company name folded as a name, without the legal forms at its end (repeated ones too)."""
    folded = normalize_name(value)
    if folded is None:
        return None
    tokens = folded.split()
    stripped = True
    while stripped:
        stripped = False
        for form in _LEGAL_FORM_TOKENS:
            # Never strip the whole name: a company called "Co" stays "co".
            if len(tokens) > len(form) and tuple(tokens[-len(form) :]) == form:
                del tokens[-len(form) :]
                stripped = True
                break
    return " ".join(tokens)


_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_PATH_START = re.compile(r"[/?#\\]")


def normalize_website(value: object) -> str | None:
    """The lower-case host of the address, without scheme, credentials, port, ``www.`` or path."""
    text = _text(value)
    if text is None:
        return None
    host = _SCHEME.sub("", "".join(text.split()).casefold()).lstrip("/")
    host = _PATH_START.split(host, maxsplit=1)[0].rpartition("@")[2]
    host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    host = host.rstrip(".")
    while host.startswith("www."):
        host = host[len("www.") :]
    return host or None


Normalizer = Callable[[object, str | None], str | None]


#: Values each kind of data remembers the normal form of (per process): one record's value is
#: normalised for several rules and several times while it is qualified (detection, the batch's
#: pending index, its stored codes), and parsing a phone number or folding a company name is most
#: of what computing a match code costs.
NORMALIZED_REMEMBERED = 16_384


def _remembered(function: Normalizer) -> Normalizer:
    """``function`` remembering the normal form of the last ``NORMALIZED_REMEMBERED`` text values."""
    cached = lru_cache(maxsize=NORMALIZED_REMEMBERED)(function)

    def normalize(value: object, default_region: str | None) -> str | None:
        if isinstance(value, str):
            return cached(value, default_region)
        return function(value, default_region)

    return normalize


def _regionless(function: Callable[[object], str | None]) -> Normalizer:
    """Adapt a normaliser that needs no region to the common ``(value, default_region)`` signature."""
    return _remembered(lambda value, _default_region: function(value))


def _phone_with_region(value: object, default_region: str | None) -> str | None:
    return normalize_phone(value, default_region=default_region)


#: ``normalize_phone`` with the common signature.
_phone = _remembered(_phone_with_region)


@dataclass(frozen=True, slots=True)
class ColumnKind:
    """A kind of data, the column names (case-insensitive globs) that hold it, and its normaliser."""

    name: str
    patterns: tuple[str, ...]
    normalize: Normalizer

    def holds(self, column_name: str) -> bool:
        """Whether the column of that name holds this kind of data."""
        name = column_name.strip().casefold()
        return any(fnmatchcase(name, pattern) for pattern in self.patterns)


# Which normaliser a column gets, by its name; the first kind that names the column wins. Both the
# leadflow column names and the well-known logical names of §1 are listed. "name" is the account name.
COLUMN_KINDS: tuple[ColumnKind, ...] = (
    ColumnKind("email", ("email*", "*_email", "emailaddress*"), _regionless(normalize_email)),
    ColumnKind("phone", ("*phone*", "telephone*", "fax"), _phone),
    ColumnKind("website", ("website*", "*_website", "websiteurl"), _regionless(normalize_website)),
    ColumnKind("company", ("company_name", "companyname", "name", "account_name"), _regionless(normalize_company)),
    ColumnKind(
        "person_name",
        ("first_name", "last_name", "full_name", "middle_name", "firstname", "lastname", "fullname"),
        _regionless(normalize_name),
    ),
)
#: Columns that no kind names are folded like a name.
TEXT_KIND = ColumnKind("text", (), _regionless(normalize_name))


@lru_cache(maxsize=1024)
def column_kind(column_name: str) -> ColumnKind | None:
    """The kind of data a column's name says it holds, or None when no kind names it."""
    return next((kind for kind in COLUMN_KINDS if kind.holds(column_name)), None)


def normalize_for_column(column_name: str, value: object, *, default_region: str | None = DEFAULT_REGION) -> str | None:
    """The value normalised as its column's kind of data (folded like a name when the column is unknown)."""
    return (column_kind(column_name) or TEXT_KIND).normalize(value, default_region)
