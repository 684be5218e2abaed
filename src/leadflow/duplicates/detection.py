"""Duplicate detection where records are saved and qualified (§5, §9).

* ``detect_on_save`` runs on create and update (unless the request suppresses it) and refuses
  the save with ``duplicate_detected`` and the matches.
* ``qualification_duplicates`` checks, for a whole batch of leads at once, the lead itself, the
  account and contact qualifying would create, and the opportunity, one query per rule.

Only published rules take part, only when detection is on for the table, and a match is shown
only when the actor may read it (a record one cannot see is never revealed by a warning).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import DuplicateDetected, ValidationFailed
from leadflow.core.names import compose_full_name
from leadflow.duplicates.engine import (
    Match,
    PendingIndex,
    detection_rules,
    find_matches,
    record_values,
    serialise_on_codes,
)
from leadflow.duplicates.matchcodes import _as_date, _as_datetime, _is_blank
from leadflow.duplicates.models import DetectionTable
from leadflow.duplicates.tables import DATE, DATETIME, TABLES, info_of_record
from leadflow.organisation.service import get_settings
from leadflow.security.access import can
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

# The verbatim blocking messages of §5.
LEAD_DUPLICATE = "No lead record was created or updated because a duplicate of the current record already exists."
OPPORTUNITY_DUPLICATE = (
    "No opportunity record was created or updated because a duplicate of the current record already exists."
)
MIGHT_ALREADY_EXIST = "The account or contact might already exist."
_BLOCKING = {DetectionTable.LEADS: LEAD_DUPLICATE, DetectionTable.OPPORTUNITIES: OPPORTUNITY_DUPLICATE}
WAYS_OUT = (
    "Merge the duplicates and try again.",
    "Unpublish the duplicate detection rule.",
    "Turn on the rule's 'exclude inactive matching records' option so that closed records are not matched.",
)


def complete(table: DetectionTable, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with every comparable column present (missing ones blank), as codes read them, and
    as a save would store them: text trimmed, and the full name composed from first and last name when
    it is not given, so that a check compares exactly what saving the same values compares."""
    info = TABLES[DetectionTable(table)]
    record: dict[str, Any] = {name: None for name in info.columns}
    record.update({name: value.strip() if isinstance(value, str) else value for name, value in values.items()})
    if "full_name" in info.columns and "full_name" not in values and values.keys() & {"first_name", "last_name"}:
        record["full_name"] = compose_full_name(record.get("first_name"), record.get("last_name"))
    return record


def detection_on(session: Session, table: DetectionTable) -> bool:
    return get_settings(session).detects_duplicates_in(DetectionTable(table).value)


def _readable(session: Session, actor: Actor | None, matches: list[Match]) -> list[Match]:
    if actor is None:
        return matches
    return [m for m in matches if can(session, actor, Privilege.READ, m.table.value, _Owned(m.record))]


@dataclass
class _Owned:
    """The ownership columns of a match, as the access check reads them."""

    record: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.record[name]
        except KeyError:
            raise AttributeError(name) from None


def check_record(
    session: Session,
    table: DetectionTable,
    values: Mapping[str, Any],
    *,
    actor: Actor | None,
    record_id: uuid.UUID | None = None,
) -> list[Match]:
    """The readable records duplicating these values of a ``table`` record; [] when detection is off."""
    table = DetectionTable(table)
    columns = TABLES[table].comparable(session)
    unknown = sorted(set(values) - set(columns))
    if unknown:
        raise ValidationFailed(
            f"The {table.value} table has no column {unknown[0]!r} that duplicate detection compares; "
            f"use some of: {', '.join(sorted(columns))}.",
            code="unknown_column",
            details={"columns": unknown},
        )
    for column, value in values.items():
        if columns[column] in (DATE, DATETIME) and not _is_blank(value):
            try:
                _as_datetime(value) if columns[column] == DATETIME else _as_date(value)
            except ValueError:
                raise ValidationFailed(
                    f"{column}: {value!r} is not a date{' and time' if columns[column] == DATETIME else ''} "
                    "(use ISO 8601, e.g. 2026-11-26T09:30:00Z).",
                    code="invalid_value",
                    details={"column": column},
                ) from None
    if not detection_on(session, table):
        return []
    record = complete(table, {**values, "id": record_id})
    return _readable(session, actor, find_matches(session, table, [record])[0])


def duplicate_error(table: DetectionTable, matches: list[Match]) -> DuplicateDetected:
    """The refusal of a save that duplicates existing records."""
    label = TABLES[table].label
    return DuplicateDetected(
        f"No {label} record was created or updated because a duplicate of the current record already exists.",
        code="duplicate_detected",
        details={
            "table": table.value,
            "matches": [match.as_dict() for match in matches],
            "hint": "Save anyway with suppress_duplicate_detection=true, or merge the duplicates.",
        },
    )


def detect_on_save(
    session: Session,
    record: Any,
    *,
    actor: Actor | None,
    suppress: bool = False,
    changed: Iterable[str] | None = None,
) -> None:
    """Refuse saving ``record`` (already flushed) when a published rule finds a duplicate of it.

    ``changed`` names the columns an update changed: only rules comparing one of them run, so that
    editing an unrelated field of a record saved earlier despite a warning is not refused again.
    """
    info = info_of_record(record)
    if info is None:
        raise TypeError(f"Duplicate detection does not compare {type(record).__name__} records.")
    table = info.name
    values = record_values(record)
    # Even a save that skips detection holds its codes, so that a check running beside it sees it.
    serialise_on_codes(session, {table: [values]})
    if suppress:
        return
    rules = detection_rules(session, table)
    if changed is not None:
        changed = set(changed)
        rules = [rule for rule in rules if rule.reads_any("base", changed)]
    if not rules or not detection_on(session, table):
        return
    matches = _readable(session, actor, find_matches(session, table, [values], rules=rules)[0])
    if matches:
        raise duplicate_error(table, matches)


# ----------------------------------------------------------------------------------------------
# qualify (§5)


@dataclass
class QualifyDuplicates:
    """What detection found for one lead being qualified."""

    lead_matches: list[Match] = field(default_factory=list)  # other leads: blocking
    accounts: list[Match] = field(default_factory=list)
    contacts: list[Match] = field(default_factory=list)
    opportunities: list[Match] = field(default_factory=list)  # blocking

    def blocking_error(self) -> DuplicateDetected | None:
        for table, matches in (
            (DetectionTable.LEADS, self.lead_matches),
            (DetectionTable.OPPORTUNITIES, self.opportunities),
        ):
            if matches:
                return DuplicateDetected(
                    _BLOCKING[table],
                    code=f"{TABLES[table].label}_duplicate",
                    details={"matches": [m.as_dict() for m in matches], "ways_out": list(WAYS_OUT)},
                )
        return None

    def warning(self, *, account: bool, contact: bool) -> DuplicateDetected | None:
        """The duplicate warning for the account and/or contact qualifying would create, if any."""
        accounts = self.accounts if account else []
        contacts = self.contacts if contact else []
        if not (accounts or contacts):
            return None
        return DuplicateDetected(
            MIGHT_ALREADY_EXIST,
            code="duplicate_detected",
            details={
                "matching_accounts": [m.as_dict() for m in accounts],
                "matching_contacts": [m.as_dict() for m in contacts],
                "resolve_with": "duplicate_resolution: {account_id, contact_id} to link matches (blank creates new), "
                "or 'ignore' to create new records",
            },
        )


def qualification_duplicates(
    session: Session,
    leads: Sequence[Any],
    prospects: Mapping[DetectionTable, Sequence[Mapping[str, Any] | None]],
    *,
    actor: Actor,
) -> list[QualifyDuplicates]:
    """Detection for a batch of leads: each lead and the records its qualification would create.

    ``prospects`` gives, per table, one row per lead (or None when nothing of that table would be
    created for it). Rules on the lead compare it with leads (blocking) and with accounts or
    contacts (added to those matches).
    """
    results = [QualifyDuplicates() for _ in leads]
    if not leads:
        return results
    lead_values = [record_values(lead) for lead in leads]
    serialise_on_codes(
        session,
        {
            DetectionTable.LEADS: lead_values,
            **{table: [complete(table, row) for row in rows if row is not None] for table, rows in prospects.items()},
        },
    )
    settings = get_settings(session)
    excluded = [lead.id for lead in leads]
    if settings.detects_duplicates_in("leads"):
        rules = detection_rules(session, DetectionTable.LEADS)
        if rules:
            found = find_matches(session, DetectionTable.LEADS, lead_values, rules=rules)
            for result, matches in zip(results, found, strict=True):
                for match in _readable(session, actor, matches):
                    if match.id in excluded:
                        continue
                    if match.table is DetectionTable.LEADS:
                        result.lead_matches.append(match)
                    elif match.table is DetectionTable.ACCOUNTS:
                        result.accounts.append(match)
                    elif match.table is DetectionTable.CONTACTS:
                        result.contacts.append(match)
    for table in (DetectionTable.ACCOUNTS, DetectionTable.CONTACTS, DetectionTable.OPPORTUNITIES):
        rows = prospects.get(table)
        if not rows or not settings.detects_duplicates_in(table.value):
            continue
        rules = [rule for rule in detection_rules(session, table) if rule.matching_table is not DetectionTable.LEADS]
        if not rules:
            continue
        positions = [i for i, row in enumerate(rows) if row is not None]
        if not positions:
            continue
        records = [complete(table, rows[i] or {}) for i in positions]
        found = find_matches(session, table, records, rules=rules, exclude=excluded)
        for position, matches in zip(positions, found, strict=True):
            target = results[position]
            for match in _readable(session, actor, matches):
                bucket = {
                    DetectionTable.ACCOUNTS: target.accounts,
                    DetectionTable.CONTACTS: target.contacts,
                    DetectionTable.OPPORTUNITIES: target.opportunities,
                }[match.table]
                if all(existing.id != match.id for existing in bucket):
                    bucket.append(match)
    return results


def add_pending_matches(
    result: QualifyDuplicates,
    index: PendingIndex,
    prospects: Mapping[DetectionTable, Mapping[str, Any] | None],
    *,
    enabled: Callable[[str], bool],
) -> None:
    """Add to one lead's result the records written earlier in the same batch that duplicate its prospects."""
    buckets = {
        DetectionTable.ACCOUNTS: result.accounts,
        DetectionTable.CONTACTS: result.contacts,
        DetectionTable.OPPORTUNITIES: result.opportunities,
    }
    for table, row in prospects.items():
        if row is None or not enabled(table.value):
            continue
        for match in index.find(table, complete(table, row)):
            bucket = buckets.get(match.table)
            if bucket is not None and all(existing.id != match.id for existing in bucket):
                bucket.append(match)
