"""Duplicate detection rules, their stored match codes, find-all jobs and the merge journal (§9)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from leadflow.core.db import Base, RecordMixin, UTCDateTime, enum_column
from leadflow.duplicates.criteria import Condition, Criterion
from leadflow.fields.models import RULES_USING, CustomField

# The tables duplicate detection rules can compare.
DetectionTable = enum.StrEnum("DetectionTable", "LEADS ACCOUNTS CONTACTS OPPORTUNITIES")


RuleState = enum.StrEnum("RuleState", "UNPUBLISHED PUBLISHING PUBLISHED")


class DuplicateRule(RecordMixin, Base):
    """A duplicate detection rule: ANDed conditions comparing a base table with a matching table."""

    __tablename__ = "duplicate_rules"

    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str | None] = mapped_column(Text)
    base_table: Mapped[DetectionTable] = mapped_column(enum_column(DetectionTable, name="base_table"))
    matching_table: Mapped[DetectionTable] = mapped_column(enum_column(DetectionTable, name="matching_table"))
    case_sensitive: Mapped[bool] = mapped_column(default=False)
    exclude_inactive: Mapped[bool] = mapped_column(default=False)
    # Region used to read phone numbers written without a country code (ISO 3166 alpha-2).
    default_region: Mapped[str] = mapped_column(String(2), default="ES")
    state: Mapped[RuleState] = mapped_column(enum_column(RuleState), default=RuleState.UNPUBLISHED)
    is_builtin: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Progress of the current or last publication: records coded so far, and in all.
    publish_done: Mapped[int] = mapped_column(default=0)
    publish_total: Mapped[int] = mapped_column(default=0)

    conditions: Mapped[list[DuplicateRuleCondition]] = relationship(
        order_by="DuplicateRuleCondition.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def is_live(self) -> bool:
        """Whether writes must keep this rule's match codes current (published or publishing)."""
        return self.state in (RuleState.PUBLISHED, RuleState.PUBLISHING)

    @property
    def is_symmetric(self) -> bool:
        """Same table on both sides and every condition compares a column with itself.

        Then the base side's match code of a record equals its matching side's code, so one stored
        code per record serves both directions and find-all can group codes in SQL.
        """
        return self.base_table == self.matching_table and all(
            condition.base_column == condition.matching_column for condition in self.conditions
        )

    def criteria(self) -> list[Condition]:
        """The rule's conditions as the database-free objects the matcher works with."""
        return [condition.as_condition() for condition in self.conditions]


class DuplicateRuleCondition(Base):
    """One condition of a rule, in its stored order."""

    __tablename__ = "duplicate_rule_conditions"

    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duplicate_rules.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_column: Mapped[str] = mapped_column(String(64))
    matching_column: Mapped[str] = mapped_column(String(64))
    criterion: Mapped[Criterion] = mapped_column(enum_column(Criterion))
    n: Mapped[int | None] = mapped_column()
    threshold: Mapped[float | None] = mapped_column(Float)
    ignore_blank: Mapped[bool] = mapped_column(default=True)

    def as_condition(self) -> Condition:
        return Condition(
            base_column=self.base_column,
            matching_column=self.matching_column,
            criterion=self.criterion,
            n=self.n,
            ignore_blank=self.ignore_blank,
            threshold=self.threshold,
        )


class MatchCode(Base):
    """A record's match code under a live rule, on the rule's matching side.

    ``code`` is the first 64 bits of the rule's SHA-1 match code as a signed integer: small and fast
    to index. Two different codes that share these bits only add a candidate, which the scored
    comparison then rejects, so nothing is ever reported on a code alone.
    """

    __tablename__ = "duplicate_match_codes"
    __table_args__ = (Index("ix_duplicate_match_codes_lookup", "rule_id", "code"),)

    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duplicate_rules.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[int] = mapped_column(BigInteger)


JobState = enum.StrEnum("JobState", "QUEUED RUNNING COMPLETED FAILED")


class DuplicateJob(RecordMixin, Base):
    """A find-all-duplicates job over one table: its progress and, once done, its sets."""

    __tablename__ = "duplicate_jobs"

    table_name: Mapped[DetectionTable] = mapped_column(enum_column(DetectionTable, name="table_name"))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    set_count: Mapped[int] = mapped_column(default=0)
    record_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class DuplicateSet(Base):
    """Records that one rule says are duplicates of each other, found by a job."""

    __tablename__ = "duplicate_sets"
    __table_args__ = (Index("uq_duplicate_sets_job_position", "job_id", "position", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duplicate_jobs.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("duplicate_rules.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)


class DuplicateSetMember(Base):
    """One record of a duplicate set."""

    __tablename__ = "duplicate_set_members"
    __table_args__ = (Index("ix_duplicate_set_members_record", "record_id"),)

    set_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duplicate_sets.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


MergeState = enum.StrEnum("MergeState", "MERGED UNDONE")


class MergeJournal(RecordMixin, Base):
    """What one merge changed, kept so that it can be undone exactly (§9, leadflow's unmerge)."""

    __tablename__ = "merge_journal"

    table_name: Mapped[DetectionTable] = mapped_column(enum_column(DetectionTable, name="table_name"))
    master_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    subordinate_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    state: Mapped[MergeState] = mapped_column(enum_column(MergeState), default=MergeState.MERGED)
    merged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    undone_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every column of both records before the merge, as stored (JSON-safe), and the row versions
    # the merge left them at: undo refuses when either has changed since.
    master_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    subordinate_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    master_version_after: Mapped[int] = mapped_column()
    subordinate_version_after: Mapped[int] = mapped_column()
    # The children moved to the master: [{"table", "id", "column", "version_after"}...].
    moved: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Which value survived, field by field: {"column": "master" | "subordinate"}.
    choices: Mapped[dict[str, str]] = mapped_column(JSON)


def rules_using(session: Session, field: CustomField) -> list[str]:
    """The duplicate detection rules that compare a custom field, as the refusal names them."""
    column = f"custom.{field.name}"
    statement = (
        select(DuplicateRule.name)
        .join(DuplicateRuleCondition, DuplicateRuleCondition.rule_id == DuplicateRule.id)
        .where(
            or_(
                (DuplicateRule.base_table == field.table_name) & (DuplicateRuleCondition.base_column == column),
                (DuplicateRule.matching_table == field.table_name) & (DuplicateRuleCondition.matching_column == column),
            )
        )
        .distinct()
        .order_by(DuplicateRule.name)
    )
    return list(session.scalars(statement))


RULES_USING.append(rules_using)
