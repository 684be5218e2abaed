"""Match keys, rule match codes and similarity scores for duplicate detection (§9), database-free.

* ``match_key`` turns one value into the key a condition compares. Two records satisfy a
  non-``similar`` condition exactly when their keys are equal.
* ``rule_match_code`` combines the keys of all of a rule's conditions into one 40-character SHA-1
  hex digest, small enough for an indexed column: records with equal match codes are candidate
  duplicates under that rule. ``None`` means the record takes no part in the rule.
* ``similarity`` and ``is_match`` verify candidates, scoring ``similar`` conditions with RapidFuzz.

For a ``similar`` condition the key is only a *blocking* key: records whose keys are equal are the
candidates worth scoring. It is the Metaphone code (jellyfish) of the first word of the normalised
value, a ``|``, and the first letter of its last word: "Jonathan Smith" and "Jonathon Smith" both
give ``JN0N|s``. Typos after the first letter of the last word, spelling variants that sound
alike and accents do not change it; a different first letter of the last word, or a different
first word that does not sound alike, do, and such pairs are not found through the key. Company
names take their words in alphabetical order, so that word order does not change the key, and
keep the first letter of every other word, so that the many names sharing a common word
("Transportes ... y asociados") do not all fall into one block: "Velantis Logística" and
"Logística Velantis" both give ``LJSTK|v``, "Transportes Rosa y asociados" ``ASXTS|rty``.

Names (of people and of companies) are scored word by word, each word against its counterpart in
the other name, and score as their least alike pair of words: a shared first name cannot carry
two different surnames over the threshold, as it does when the whole names are compared.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from enum import Enum
from functools import lru_cache
from typing import Literal

import jellyfish
from rapidfuzz.distance import JaroWinkler

from leadflow.duplicates.criteria import Condition, Criterion, InvalidCondition
from leadflow.duplicates.normalize import (
    DEFAULT_REGION,
    TEXT_KIND,
    ColumnKind,
    column_kind,
    normalize_name,
)

Side = Literal["base", "matching"]
#: Kinds of data (``normalize.COLUMN_KINDS``) whose values are names, scored word by word.
NAME_KINDS = frozenset({"person_name", "company"})
#: Of those, the kinds whose word order does not count: "Logística Velantis" is "Velantis Logística".
WORDS_IN_ANY_ORDER = frozenset({"company"})


#: A condition's column naming a custom field (one whose definition lets duplicate rules use it).
CUSTOM_PREFIX = "custom."


def _is_blank(value: object) -> bool:
    """Whether a value counts as blank: None, or text that is empty or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: object) -> str | None:
    """The value as trimmed NFC text (an enum as its value, a bool as true/false); None when blank."""
    if _is_blank(value):
        return None
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, date | time) else str(value)
    return unicodedata.normalize("NFC", text.strip()) or None


def _as_datetime(value: object) -> datetime:
    """A date, datetime or ISO 8601 text as a datetime in UTC (naive values are taken as UTC)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 date or date and time") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    raise ValueError(f"{value!r} is not a date or a date and time")


def _as_date(value: object) -> date:
    """The calendar date of a value: a date as is, a datetime's date in UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    return _as_datetime(value).date()


def condition_kind(condition: Condition) -> ColumnKind:
    """The kind of data a ``normalized``/``similar`` condition compares, the same for both sides.

    Chosen by the base column's name, else by the matching column's, else plain text; one kind for
    both sides keeps their keys comparable (lead ``company_name`` vs account ``name``).
    """
    return column_kind(condition.base_column) or column_kind(condition.matching_column) or TEXT_KIND


def _normalized(condition: Condition, value: object, default_region: str | None) -> str | None:
    """The value normalised as the condition's kind of data."""
    return condition_kind(condition).normalize(value, default_region)


def _fold_case(text: str, case_sensitive: bool) -> str:
    return text if case_sensitive else text.casefold()


@lru_cache(maxsize=16_384)  # a value's key is asked for by several rules and steps of one qualification
def blocking_key(normalized: str | None, *, any_order: bool = False) -> str | None:
    """The phonetic blocking key of a normalised value (see the module docstring), or None.

    With ``any_order`` the words are taken in alphabetical order, so that their order does not
    count, and the key ends with the first letter of each word after the first.
    """
    words = (normalize_name(normalized) or "").split()
    if not words:
        return None
    if any_order:
        words.sort()
        ending = "".join(word[0] for word in words[1:])
    else:
        ending = words[-1][0]
    # Metaphone codes nothing for some words ("123", "gh"): the word itself then stands in.
    return f"{jellyfish.metaphone(words[0]) or words[0]}|{ending}"


def match_key(
    condition: Condition,
    value: object,
    *,
    case_sensitive: bool = False,
    default_region: str | None = DEFAULT_REGION,
) -> str | None:
    """The key that ``condition`` compares for ``value``; None when the value is blank.

    ``case_sensitive`` applies to the text criteria (exact, first/last N characters); the
    ``normalized`` and ``similar`` criteria always fold case, pick-list values are compared as they are.
    Raises ``ValueError`` for a date criterion given something that is not a date.
    """
    if _is_blank(value):
        return None
    criterion = condition.criterion
    if criterion is Criterion.SAME_DATE:
        return _as_date(value).isoformat()
    if criterion is Criterion.SAME_DATE_AND_TIME:
        return _as_datetime(value).strftime("%Y-%m-%dT%H:%MZ")
    if criterion is Criterion.NORMALIZED:
        return _normalized(condition, value, default_region)
    if criterion is Criterion.SIMILAR:
        kind = condition_kind(condition)
        return blocking_key(kind.normalize(value, default_region), any_order=kind.name in WORDS_IN_ANY_ORDER)
    text = _as_text(value)
    if text is None:
        return None
    if criterion is Criterion.EXACT_PICKLIST:
        return text
    text = _fold_case(text, case_sensitive)
    if criterion is Criterion.EXACT:
        return text
    n = condition.n
    if n is None or n <= 0:
        raise InvalidCondition(f"The criterion {criterion.value} needs a number of characters N.", code="n_required")
    if criterion is Criterion.SAME_FIRST_CHARACTERS:
        return text[:n]
    if criterion is Criterion.SAME_LAST_CHARACTERS:
        return text[-n:]
    raise InvalidCondition(f"Unknown criterion {criterion!r}.", code="unknown_criterion")


def _column(condition: Condition, side: Side) -> str:
    return condition.base_column if side == "base" else condition.matching_column


def column_value(record: Mapping[str, object], column: str) -> object:
    """The value a condition reads from a record: its column, or for ``custom.<name>`` the custom
    field's stored value inside the record's ``custom`` values (blank when the record has none)."""
    try:
        return record[column]
    except KeyError:
        if column.startswith(CUSTOM_PREFIX):
            values = record.get("custom")
            return values.get(column.removeprefix(CUSTOM_PREFIX)) if isinstance(values, Mapping) else None
        raise KeyError(f"the record has no column {column!r} that the rule compares") from None


def _checked(conditions: Sequence[Condition]) -> Sequence[Condition]:
    if not conditions:
        raise InvalidCondition("A duplicate detection rule needs at least one condition.", code="no_conditions")
    for condition in conditions:
        condition.validate()
    return conditions


def rule_match_code(
    conditions: Sequence[Condition],
    record: Mapping[str, object],
    *,
    case_sensitive: bool = False,
    default_region: str | None = DEFAULT_REGION,
    side: Side = "base",
) -> str | None:
    """The record's match code under a rule: a SHA-1 hex digest (40 characters), or None.

    ``side`` says whether the record belongs to the rule's base table (read ``base_column``) or
    matching table (read ``matching_column``). The conditions are taken in the order given, which
    must be the rule's stored order. None means the record cannot match: one of its values is
    blank and that condition ignores blanks (a single-condition rule always does, §9). A blank
    value in a condition that does not ignore blanks takes part as a blank, so blanks match blanks.
    """
    keys: list[str | None] = []
    always_ignore_blanks = len(_checked(conditions)) == 1
    for condition in conditions:
        value = column_value(record, _column(condition, side))
        key = match_key(condition, value, case_sensitive=case_sensitive, default_region=default_region)
        if key is None and (condition.ignore_blank or always_ignore_blanks):
            return None
        keys.append(key)
    # JSON of the key list: unambiguous whatever the keys contain, and a blank (null) differs from "".
    encoded = json.dumps(keys, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(encoded.encode("utf-8"), usedforsecurity=False).hexdigest()


def similarity(condition: Condition, a: object, b: object, *, default_region: str | None = DEFAULT_REGION) -> float:
    """How alike two values are for a ``similar`` condition, from 0.0 to 1.0.

    Both values are normalised for the condition's columns first. Names of people and companies
    are scored word by word (``name_similarity``; a company's words in any order); other values
    with Jaro-Winkler over the whole text. A blank value scores 0.0.
    """
    if condition.criterion is not Criterion.SIMILAR:
        raise ValueError(f"similarity scores only 'similar' conditions, not {condition.criterion!r}")
    kind = condition_kind(condition)
    left = kind.normalize(a, default_region)
    right = kind.normalize(b, default_region)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    if kind.name in NAME_KINDS:
        return name_similarity(left, right, any_order=kind.name in WORDS_IN_ANY_ORDER)
    return JaroWinkler.normalized_similarity(left, right)


def word_similarity(left: str, right: str) -> float:
    """Jaro-Winkler of two words; a word with a digit in it (a number, a branch) matches only itself."""
    if left == right:
        return 1.0
    if any(char.isdigit() for char in left + right):
        return 0.0
    return JaroWinkler.normalized_similarity(left, right)


def name_similarity(left: str, right: str, *, any_order: bool = False) -> float:
    """How alike two normalised names are: the score of their least alike pair of words.

    Each word is paired with the word in the same place of the other name or, with ``any_order``,
    with the most alike word of the other name (both ways). Names of different numbers of words
    score 0.0: a word more or less makes another name, not a typo ("Lucía Fernández" is not
    "Lucía Fernández Ruiz"). Scored as whole names, "Pablo Navarro" and "Pablo Navarrete" reach
    0.945 on the strength of the shared first name; word by word they score 0.905, the
    Navarro / Navarrete pair, and a typo scores what the word with the typo scores.
    """
    left_words, right_words = left.split(), right.split()
    if not left_words or len(left_words) != len(right_words):
        return 0.0
    if not any_order:
        return min(word_similarity(a, b) for a, b in zip(left_words, right_words, strict=True))
    return min(
        min(max(word_similarity(a, b) for b in right_words) for a in left_words),
        min(max(word_similarity(a, b) for a in left_words) for b in right_words),
    )


def is_match(
    conditions: Sequence[Condition],
    base: Mapping[str, object],
    candidate: Mapping[str, object],
    *,
    case_sensitive: bool = False,
    default_region: str | None = DEFAULT_REGION,
) -> tuple[bool, float]:
    """Whether ``candidate`` (matching table) duplicates ``base`` (base table), and the lowest score.

    A ``similar`` condition holds when its score reaches the condition's threshold; the others
    hold when their keys are equal and score 1.0 when they hold, 0.0 when they do not. A blank
    value never matches in a condition that ignores blanks (a single-condition rule always does);
    otherwise two blanks match (1.0) and a blank against a value does not (0.0). Blocking keys
    are not required to be equal here: this verifies candidates however they were found.
    """
    always_ignore_blanks = len(_checked(conditions)) == 1
    holds, lowest = True, 1.0
    for condition in conditions:
        ignores_blanks = condition.ignore_blank or always_ignore_blanks
        pair = (column_value(base, condition.base_column), column_value(candidate, condition.matching_column))
        if condition.criterion is Criterion.SIMILAR:
            # Blank means blank once normalised, exactly as for the blocking key.
            left, right = (_normalized(condition, value, default_region) for value in pair)
        else:
            left, right = (
                match_key(condition, value, case_sensitive=case_sensitive, default_region=default_region)
                for value in pair
            )
        if left is None or right is None:
            ok = left is None and right is None and not ignores_blanks
            score = 1.0 if ok else 0.0
        elif condition.criterion is Criterion.SIMILAR:
            score = similarity(condition, left, right, default_region=default_region)
            ok = score >= condition.effective_threshold
        else:
            ok = left == right
            score = 1.0 if ok else 0.0
        holds = holds and ok
        lowest = min(lowest, score)
    return holds, lowest
