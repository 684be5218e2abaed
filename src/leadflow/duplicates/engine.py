"""Stored match codes and duplicate checks against them (§9).

* Every live rule (published or publishing) keeps one code per record of its matching table in
  ``duplicate_match_codes``; writes keep them current (``index_rows``, and the session hook below
  for records changed through the ORM).
* A check computes the checked record's base-side code per published rule, looks it up in the
  index, loads the few candidates and verifies them with the scored comparison, so it is a few
  indexed reads whatever the size of the table.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, delete, event, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from leadflow.core.errors import Conflict
from leadflow.duplicates.criteria import Condition, Criterion
from leadflow.duplicates.matchcodes import (
    CUSTOM_PREFIX,
    column_value,
    is_match,
    match_key,
    rule_match_code,
    similarity,
)
from leadflow.duplicates.models import (
    DetectionTable,
    DuplicateRule,
    MatchCode,
    RuleState,
)
from leadflow.duplicates.tables import TABLES, RecordSummary, TableInfo, info_of_record

MATCH_CODES: Table = MatchCode.__table__  # type: ignore[assignment]
_DELETE_SLICE = 500
_CACHE_KEY = "leadflow.live_duplicate_rules"


@dataclass(frozen=True)
class LiveRule:
    """A rule as the engine uses it: plain values, detached from any session."""

    id: uuid.UUID
    name: str
    base_table: DetectionTable
    matching_table: DetectionTable
    case_sensitive: bool
    exclude_inactive: bool
    default_region: str
    conditions: tuple[Condition, ...]
    published: bool

    @classmethod
    def of(cls, rule: DuplicateRule) -> LiveRule:
        return cls(
            id=rule.id,
            name=rule.name,
            base_table=DetectionTable(rule.base_table),
            matching_table=DetectionTable(rule.matching_table),
            case_sensitive=rule.case_sensitive,
            exclude_inactive=rule.exclude_inactive,
            default_region=rule.default_region,
            conditions=tuple(rule.criteria()),
            published=rule.state is RuleState.PUBLISHED,
        )

    @property
    def symmetric(self) -> bool:
        return self.base_table == self.matching_table and all(
            condition.base_column == condition.matching_column for condition in self.conditions
        )

    def columns(self, side: str) -> set[str]:
        return {c.base_column if side == "base" else c.matching_column for c in self.conditions}

    def reads_any(self, side: str, changed: set[str]) -> bool:
        """Whether a save that wrote the ``changed`` columns can change the record's code on ``side``
        (a custom field's condition reads the ``custom`` column)."""
        return any(
            column in changed or (column.startswith(CUSTOM_PREFIX) and "custom" in changed)
            for column in self.columns(side)
        )

    def code(self, record: Mapping[str, Any], side: str) -> int | None:
        """The record's match code on one side of the rule, as the stored 64-bit integer.

        A record's code is asked for several times while it is saved or qualified (the locks, the
        detection, a batch's pending index, the stored codes): it is remembered by the values it
        is made of."""
        columns = tuple(c.base_column if side == "base" else c.matching_column for c in self.conditions)
        try:
            values = tuple(column_value(record, column) for column in columns)
            kinds = tuple(type(value) for value in values)  # True and 1 are equal keys, not equal values
            return _remembered_code(
                self.conditions, self.case_sensitive, self.default_region, side, columns, values, kinds
            )
        except (KeyError, TypeError):  # a missing column (said by rule_match_code) or a value that cannot be a key
            return _code(self.conditions, self.case_sensitive, self.default_region, side, record)


def _code(
    conditions: tuple[Condition, ...],
    case_sensitive: bool,
    default_region: str,
    side: str,
    record: Mapping[str, Any],
) -> int | None:
    digest = rule_match_code(
        conditions,
        record,
        case_sensitive=case_sensitive,
        default_region=default_region,
        side=side,  # type: ignore[arg-type]
    )
    return None if digest is None else code_integer(digest)


@lru_cache(maxsize=65_536)
def _remembered_code(
    conditions: tuple[Condition, ...],
    case_sensitive: bool,
    default_region: str,
    side: str,
    columns: tuple[str, ...],
    values: tuple[Any, ...],
    _kinds: tuple[type, ...],
) -> int | None:
    return _code(conditions, case_sensitive, default_region, side, dict(zip(columns, values, strict=True)))


def code_integer(digest: str) -> int:
    """The first 64 bits of a hex digest as a signed integer (a BIGINT on every database)."""
    value = int(digest[:16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


# ----------------------------------------------------------------------------------------------
# live rules, cached per transaction


def live_rules(session: Session) -> list[LiveRule]:
    """Published and publishing rules, read once per transaction."""
    cached = session.info.get(_CACHE_KEY)
    if cached is None:
        statement = (
            select(DuplicateRule)
            .where(DuplicateRule.state.in_((RuleState.PUBLISHED, RuleState.PUBLISHING)))
            .order_by(DuplicateRule.created_at, DuplicateRule.id)
        )
        cached = session.info[_CACHE_KEY] = [LiveRule.of(rule) for rule in session.scalars(statement)]
    return cached


def forget_rules(session: Session) -> None:
    """Drop the cached rules, after a rule changed state in this session."""
    session.info.pop(_CACHE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_rules_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Only at the end of the outermost transaction: a savepoint's release fires "after_commit" too,
    # and an import saves each row in savepoints, which re-read every rule for each row otherwise.
    if transaction.parent is None:
        forget_rules(session)


# ----------------------------------------------------------------------------------------------
# keeping codes current


def _upsert(session: Session, rows: list[dict[str, Any]], *, overwrite: bool) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(MATCH_CODES)
    if overwrite:
        statement = statement.on_conflict_do_update(
            index_elements=["rule_id", "record_id"], set_={"code": statement.excluded.code}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["rule_id", "record_id"])
    session.execute(statement, rows)


def code_rows(rules: Iterable[LiveRule], records: Iterable[Mapping[str, Any]]) -> tuple[list[dict], list[tuple]]:
    """The code rows to store for these matching-table records, and the (rule, record) pairs to drop."""
    rows: list[dict[str, Any]] = []
    dropped: list[tuple[uuid.UUID, uuid.UUID]] = []
    rules = list(rules)
    for record in records:
        for rule in rules:
            code = rule.code(record, "matching")
            if code is None:
                dropped.append((rule.id, record["id"]))
            else:
                rows.append({"rule_id": rule.id, "record_id": record["id"], "code": code})
    return rows, dropped


def index_rows(
    session: Session,
    table: str | DetectionTable,
    records: Sequence[Mapping[str, Any]],
    *,
    changed: Iterable[str] | None = None,
) -> None:
    """Store the codes of records of ``table`` just written, for every live rule matching into it.

    ``changed`` names the columns written when only some were: rules comparing none of them keep
    their codes, and the records need not be read.
    """
    table = DetectionTable(table)
    rules = [rule for rule in live_rules(session) if rule.matching_table == table]
    if changed is not None:
        changed = set(changed)
        rules = [rule for rule in rules if rule.reads_any("matching", changed)]
    if not rules or not records:
        return
    rows, dropped = code_rows(rules, records)
    if rows:
        _upsert(session, rows, overwrite=True)
    # In slices: a long IN list of pairs exceeds PostgreSQL's parameter and expression-depth limits.
    for start in range(0, len(dropped), _DELETE_SLICE):
        session.execute(
            delete(MATCH_CODES).where(
                tuple_(MATCH_CODES.c.rule_id, MATCH_CODES.c.record_id).in_(dropped[start : start + _DELETE_SLICE])
            )
        )


def unindex(session: Session, record_ids: Sequence[uuid.UUID]) -> None:
    """Forget the codes of deleted records."""
    ids = list(record_ids)
    for start in range(0, len(ids), _DELETE_SLICE):
        session.execute(delete(MATCH_CODES).where(MATCH_CODES.c.record_id.in_(ids[start : start + _DELETE_SLICE])))


def _as_mapping(record: Any, info: TableInfo) -> dict[str, Any]:
    return {column.key: getattr(record, column.key) for column in info.model.__mapper__.column_attrs}


@event.listens_for(Session, "after_flush")
def _index_flushed_records(session: Session, _context: Any) -> None:
    """Keep codes current for records created, changed or deleted through the ORM."""
    changed: dict[DetectionTable, list[dict[str, Any]]] = {}
    deleted: list[uuid.UUID] = []
    for record in (*session.new, *session.dirty):
        info = info_of_record(record)
        if info is not None and record not in session.deleted:
            changed.setdefault(info.name, []).append(_as_mapping(record, info))
    for record in session.deleted:
        if info_of_record(record) is not None:
            deleted.append(record.id)
    if not (changed or deleted) or not live_rules(session):
        return
    for table, records in changed.items():
        index_rows(session, table, records)
    unindex(session, deleted)


# ----------------------------------------------------------------------------------------------
# checks


@dataclass(kw_only=True)
class Match(RecordSummary):
    """A record that a published rule says duplicates the checked one, and why."""

    table: DetectionTable
    rule_id: uuid.UUID
    rule_name: str
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table.value,
            "id": str(self.id),
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "city": self.city,
            "owner_id": str(self.owner_id) if self.owner_id else None,
            "owner_name": self.owner_name,
            "rule_id": str(self.rule_id),
            "rule_name": self.rule_name,
            "score": round(self.score, 4),
            "reasons": self.reasons,
        }


def explain(rule: LiveRule, base: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each condition of the rule with the two values it compared and the score it gave."""
    reasons = []
    for condition in rule.conditions:
        left, right = _read(base, condition.base_column), _read(candidate, condition.matching_column)
        if condition.criterion is Criterion.SIMILAR:
            score = similarity(condition, left, right, default_region=rule.default_region)
        else:
            keys = [
                match_key(condition, value, case_sensitive=rule.case_sensitive, default_region=rule.default_region)
                for value in (left, right)
            ]
            score = 1.0 if keys[0] == keys[1] else 0.0
        reasons.append(
            {
                "base_column": condition.base_column,
                "matching_column": condition.matching_column,
                "criterion": condition.criterion.value,
                **({"n": condition.n} if condition.n is not None else {}),
                **({"threshold": condition.effective_threshold} if condition.criterion is Criterion.SIMILAR else {}),
                "value": _plain(left),
                "matching_value": _plain(right),
                "score": round(score, 4),
            }
        )
    return reasons


def _read(record: Mapping[str, Any], column: str) -> Any:
    try:
        return column_value(record, column)
    except KeyError:
        return None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return getattr(value, "value", None) or str(value)


def detection_rules(
    session: Session, table: str | DetectionTable, *, matching: Iterable[DetectionTable] | None = None
) -> list[LiveRule]:
    """The published rules checking records of ``table``, optionally only into some matching tables."""
    table = DetectionTable(table)
    wanted = set(matching) if matching is not None else None
    return [
        rule
        for rule in live_rules(session)
        if rule.published and rule.base_table == table and (wanted is None or rule.matching_table in wanted)
    ]


def serialise_on_codes(session: Session, records: Mapping[DetectionTable, Sequence[Mapping[str, Any]]]) -> None:
    """Wait for, then hold until this transaction ends, a lock per match code these records have or
    would have under the live rules, taken in one fixed order.

    Detection and the write it guards must be one step: two transactions saving duplicates at the
    same moment would otherwise each miss the other's uncommitted record. With the locks, the second
    waits for the first to commit and its check then sees the first one's record. A record of the
    base side and one of the matching side of a rule that match share a code, so they share a lock.
    SQLite needs none of this: it lets one writer in at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys: set[int] = set()
    for rule in live_rules(session):
        for side, table in (("base", rule.base_table), ("matching", rule.matching_table)):
            for record in records.get(table, ()):
                code = rule.code(record, side)
                if code is not None:
                    keys.add(_lock_key(rule.id, code))
    if not keys:
        return
    try:
        session.execute(_TAKE_LOCKS, {"keys": sorted(keys)})
    except DBAPIError as error:
        if "deadlock" not in str(error.orig).lower():
            raise
        raise Conflict(
            "Someone else is saving a record like this one at the same moment; try again.", code="concurrent_update"
        ) from error


# The locks in key order, one statement: the subquery's order is the order they are taken in.
_TAKE_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS key ORDER BY key) AS keys"
)


def _lock_key(rule_id: uuid.UUID, code: int) -> int:
    """A 64-bit advisory lock key for one rule and code."""
    digest = hashlib.blake2b(rule_id.bytes + code.to_bytes(8, "big", signed=True), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def find_matches(
    session: Session,
    table: str | DetectionTable,
    records: Sequence[Mapping[str, Any]],
    *,
    rules: Sequence[LiveRule] | None = None,
    exclude: Iterable[uuid.UUID] = (),
) -> list[list[Match]]:
    """For each record of ``table`` (a mapping of its columns), the records duplicating it.

    One indexed query per rule for the whole list. A record never matches itself (its ``id``) nor
    the ids in ``exclude``; a rule that excludes inactive records skips closed leads, inactive
    accounts and contacts and closed opportunities. Matches come best first, one per record
    (the rule with the highest score wins when several match).
    """
    if rules is None:
        rules = detection_rules(session, table)
    found: list[dict[uuid.UUID, Match]] = [{} for _ in records]
    excluded = set(exclude)
    for rule in rules:
        codes: dict[int, list[int]] = {}
        for position, record in enumerate(records):
            code = rule.code(record, "base")
            if code is not None:
                codes.setdefault(code, []).append(position)
        if not codes:
            continue
        info = TABLES[rule.matching_table]
        target = info.table
        statement = (
            select(MATCH_CODES.c.code, target)
            .join(target, target.c.id == MATCH_CODES.c.record_id)
            .where(MATCH_CODES.c.rule_id == rule.id, MATCH_CODES.c.code.in_(list(codes)))
        )
        if rule.exclude_inactive:
            statement = statement.where(info.active)
        for row in session.execute(statement).mappings():
            candidate = dict(row)
            for position in codes[candidate["code"]]:
                record = records[position]
                if candidate["id"] == record.get("id") or candidate["id"] in excluded:
                    continue
                holds, score = is_match(
                    rule.conditions,
                    record,
                    candidate,
                    case_sensitive=rule.case_sensitive,
                    default_region=rule.default_region,
                )
                if not holds:
                    continue
                best = found[position].get(candidate["id"])
                if best is None or score > best.score:
                    found[position][candidate["id"]] = _match(info, rule, record, candidate, score)
    results = [sorted(matches.values(), key=lambda m: (-m.score, m.name or "")) for matches in found]
    _name_owners(session, [m for matches in results for m in matches])
    return results


def _match(
    info: TableInfo, rule: LiveRule, record: Mapping[str, Any], candidate: dict[str, Any], score: float
) -> Match:
    return Match.of(
        info,
        candidate,
        table=info.name,
        rule_id=rule.id,
        rule_name=rule.name,
        score=score,
        reasons=explain(rule, record, candidate),
        record=candidate,
    )


def _name_owners(session: Session, matches: list[Match]) -> None:
    from leadflow.security.models import User

    owner_ids = {m.owner_id for m in matches if m.owner_id}
    if not owner_ids:
        return
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(owner_ids))).all())
    for match in matches:
        match.owner_name = names.get(match.owner_id) if match.owner_id else None


def record_values(record: Any) -> dict[str, Any]:
    """An ORM record's column values as the mapping checks and codes read."""
    info = info_of_record(record)
    if info is None:
        raise TypeError(f"Duplicate detection does not compare {type(record).__name__} records.")
    return _as_mapping(record, info)


class PendingIndex:
    """Match codes of records a batch is about to write, so that its later records see its earlier ones.

    Bulk qualification plans a whole batch before writing it: without this, two leads of one batch
    from the same company would each create the account.
    """

    def __init__(self, session: Session) -> None:
        self.rules = live_rules(session)
        self.entries: dict[tuple[uuid.UUID, int], list[dict[str, Any]]] = {}

    def add(self, table: DetectionTable, rows: Iterable[Mapping[str, Any]]) -> None:
        rules = [rule for rule in self.rules if rule.matching_table == table]
        for row in rows:
            for rule in rules:
                code = rule.code(row, "matching")
                if code is not None:
                    self.entries.setdefault((rule.id, code), []).append(dict(row))

    def find(self, table: DetectionTable, record: Mapping[str, Any]) -> list[Match]:
        """Pending records that published rules on ``table`` say duplicate ``record``."""
        matches: list[Match] = []
        if not self.entries:
            return matches
        for rule in self.rules:
            if not rule.published or rule.base_table != table:
                continue
            code = rule.code(record, "base")
            for candidate in self.entries.get((rule.id, code), ()) if code is not None else ():
                if candidate["id"] == record.get("id"):
                    continue
                holds, score = is_match(
                    rule.conditions,
                    record,
                    candidate,
                    case_sensitive=rule.case_sensitive,
                    default_region=rule.default_region,
                )
                if holds and all(m.id != candidate["id"] for m in matches):
                    matches.append(_match(TABLES[rule.matching_table], rule, record, candidate, score))
        return matches
