"""Duplicate detection (§5, §9): rules as data, match codes, detection on create, update and qualify,
find-all jobs, and merge with undo.

The database-free core (criteria, normalisation, match codes and scoring) is re-exported here;
``tables`` says how each compared table is read, ``engine`` stores and looks up codes, ``detection``
answers "is this a duplicate?", ``scan`` and ``sets`` find every duplicate set of a table, ``merge``
joins two records and undoes it.
"""

from leadflow.duplicates.criteria import (
    DEFAULT_SIMILARITY_THRESHOLD,
    Condition,
    Criterion,
    InvalidCondition,
)
from leadflow.duplicates.matchcodes import (
    blocking_key,
    condition_kind,
    is_match,
    match_key,
    rule_match_code,
    similarity,
)
from leadflow.duplicates.normalize import (
    normalize_company,
    normalize_email,
    normalize_for_column,
    normalize_name,
    normalize_phone,
    normalize_website,
)

__all__ = [
    "DEFAULT_SIMILARITY_THRESHOLD",
    "Condition",
    "Criterion",
    "InvalidCondition",
    "blocking_key",
    "condition_kind",
    "is_match",
    "match_key",
    "normalize_company",
    "normalize_email",
    "normalize_for_column",
    "normalize_name",
    "normalize_phone",
    "normalize_website",
    "rule_match_code",
    "similarity",
]
