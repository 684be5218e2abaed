"""Duplicate detection core (§5, §9): criteria, normalisation, match codes and scoring, database-free.

Rules, stored match codes and detection on create, update, import and qualify build on this package.
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
