"""Duplicate detection criteria and the conditions of a rule (§9), without a database.

A rule's conditions are ANDed. Each compares a column of the base table with a column of the
matching table using one criterion. ``Condition.validate`` refuses a condition whose parameters
make no sense, with a stable machine ``code`` on the error.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from leadflow.core.errors import ValidationFailed

#: Similarity a ``similar`` condition requires when the rule gives no threshold of its own.
DEFAULT_SIMILARITY_THRESHOLD = 0.9


class Criterion(enum.StrEnum):
    """How a condition compares the two columns."""

    EXACT = "exact_match"
    SAME_FIRST_CHARACTERS = "same_first_characters"
    SAME_LAST_CHARACTERS = "same_last_characters"
    SAME_DATE = "same_date"
    SAME_DATE_AND_TIME = "same_date_and_time"
    EXACT_PICKLIST = "exact_picklist"
    NORMALIZED = "normalized"
    SIMILAR = "similar"

    @property
    def takes_n(self) -> bool:
        """Whether the criterion needs a character count N."""
        return self in _TAKES_N

    @property
    def takes_threshold(self) -> bool:
        """Whether the criterion is scored against a similarity threshold."""
        return self is Criterion.SIMILAR


_TAKES_N = frozenset({Criterion.SAME_FIRST_CHARACTERS, Criterion.SAME_LAST_CHARACTERS})


class InvalidCondition(ValidationFailed, ValueError):
    """A duplicate detection condition whose parameters make no sense.

    ``code`` is one of: ``column_required``, ``unknown_criterion``, ``n_required``,
    ``n_not_applicable``, ``threshold_out_of_range``, ``threshold_not_applicable``,
    ``no_conditions``.
    """

    code = "invalid_condition"


@dataclass(frozen=True, slots=True)
class Condition:
    """One ANDed condition of a duplicate detection rule."""

    base_column: str
    matching_column: str
    criterion: Criterion
    n: int | None = None
    ignore_blank: bool = True
    threshold: float | None = None

    def __post_init__(self) -> None:
        # Accept the criterion's stored value ("exact_match"); an unknown one is left for validate().
        if not isinstance(self.criterion, Criterion):
            try:
                object.__setattr__(self, "criterion", Criterion(self.criterion))
            except ValueError:
                pass

    @property
    def effective_threshold(self) -> float:
        """The similarity a ``similar`` condition requires (the default when none is given)."""
        return DEFAULT_SIMILARITY_THRESHOLD if self.threshold is None else float(self.threshold)

    def validate(self) -> Condition:
        """Raise ``InvalidCondition`` when the condition is malformed; return it otherwise."""
        for field in ("base_column", "matching_column"):
            column = getattr(self, field)
            if not isinstance(column, str) or not column.strip():
                label = field.replace("_", " ")
                raise InvalidCondition(f"The condition needs a {label}.", code="column_required")
        if not isinstance(self.criterion, Criterion):
            known = ", ".join(criterion.value for criterion in Criterion)
            raise InvalidCondition(
                f"Unknown criterion {self.criterion!r}; use one of: {known}.", code="unknown_criterion"
            )
        if self.criterion.takes_n:
            if self.n is None or isinstance(self.n, bool) or not isinstance(self.n, int) or self.n <= 0:
                raise InvalidCondition(
                    f"The criterion {self.criterion.value} needs a number of characters N of at least 1.",
                    code="n_required",
                )
        elif self.n is not None:
            raise InvalidCondition(
                f"The criterion {self.criterion.value} takes no number of characters N.",
                code="n_not_applicable",
            )
        if self.criterion.takes_threshold:
            if self.threshold is not None:
                value = self.threshold
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or math.isnan(value)
                    or not 0 < value <= 1
                ):
                    raise InvalidCondition(
                        "The similarity threshold must be greater than 0 and at most 1.",
                        code="threshold_out_of_range",
                    )
        elif self.threshold is not None:
            raise InvalidCondition(
                f"The criterion {self.criterion.value} takes no similarity threshold.",
                code="threshold_not_applicable",
            )
        return self
