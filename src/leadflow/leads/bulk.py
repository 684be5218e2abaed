"""Qualify many leads (§2.6): each on its own, committed in batches, with a result per lead.

A batch is planned in memory and written with one statement per table (the fast path); when the
database refuses such a batch, it is redone with a savepoint per lead (the careful path), so that
each lead still succeeds or fails on its own.

What happens to a lead whose qualification meets a duplicate (§5) is the caller's choice,
``OnDuplicate``: ``skip`` it (it stays open, reported with the records it matched; the default, and
what bulk qualification always did), ``stop`` the run there (the leads qualified before it stay
qualified), or ``ignore`` duplicates and qualify it anyway.

``ignore`` is the single qualify's own switch, ``suppress_duplicate_detection``, applied to every
lead, and so it needs exactly what that switch needs: no privilege of its own. Suppressing detection
is a per-request choice (§9), "Ignore and save" is offered to whoever sees the warning (§5), and the
commercial product skips detection altogether when qualifying from the grid (§2.6). Each lead still
needs what qualifying it needs (§8: Write on the lead, Create on each record created, Append and
Append To for links), checked by ``plan_qualification`` for every lead, whichever the entry point.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, DuplicateDetected, InvalidState, LeadflowError, NotFound, ValidationFailed
from leadflow.core.uow import Database
from leadflow.duplicates.detection import add_pending_matches, complete
from leadflow.duplicates.engine import PendingIndex
from leadflow.duplicates.models import DetectionTable
from leadflow.leads.models import LEAD_IS_CLOSED, Lead
from leadflow.leads.qualification import (
    PendingQualification,
    QualifyResult,
    plan_qualification,
    prepare_qualify,
    prospects,
    qualify_duplicates,
    qualify_loaded_lead,
    write_qualifications,
)
from leadflow.leads.schemas import QualifyOptions
from leadflow.organisation.service import get_settings
from leadflow.security.actor import Actor

# What to do with a lead whose qualification meets a duplicate: stop the run, skip the lead, or
# ignore duplicates (detection suppressed).
OnDuplicate = enum.StrEnum("OnDuplicate", "STOP SKIP IGNORE")

# One lead's result: qualified; skipped or stopped at a duplicate; failed for any other reason.
BulkResult = enum.StrEnum("BulkResult", "QUALIFIED SKIPPED STOPPED FAILED")

# Called with a batch's outcomes, and the position of its first lead in the whole run, just before
# the batch commits, in its transaction: what it writes (a job's progress) commits with the batch.
BeforeCommit = Callable[[Session, int, "list[QualifyOutcome]"], None]


@dataclass
class QualifyOutcome:
    """One lead's line in a bulk qualification: what was created, or why it was refused."""

    lead_id: uuid.UUID
    result: QualifyResult | None = None
    error: LeadflowError | None = None
    status: BulkResult = BulkResult.QUALIFIED

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def matches(self) -> list[dict[str, Any]]:
        """The records a duplicate refusal matched (accounts and contacts of a warning, or the blocking
        leads or opportunities); [] for any other outcome."""
        if not isinstance(self.error, DuplicateDetected) or not isinstance(self.error.details, dict):
            return []
        details = self.error.details
        return [
            *details.get("matching_accounts", []),
            *details.get("matching_contacts", []),
            *details.get("matches", []),
        ]


def _refused(lead_id: uuid.UUID, error: LeadflowError, *, on_duplicate: OnDuplicate) -> QualifyOutcome:
    """The outcome of a lead whose qualification was refused: a duplicate skips it or stops the run."""
    status = BulkResult.FAILED
    if isinstance(error, DuplicateDetected):
        status = BulkResult.STOPPED if on_duplicate is OnDuplicate.STOP else BulkResult.SKIPPED
    return QualifyOutcome(lead_id, error=error, status=status)


def options_for(options: QualifyOptions, on_duplicate: OnDuplicate) -> QualifyOptions:
    """The options each lead is qualified with: ``ignore`` is the single qualify's
    ``suppress_duplicate_detection``, so it is allowed exactly when that is (see the module's docstring)."""
    if on_duplicate is OnDuplicate.IGNORE and not options.suppress_duplicate_detection:
        return options.model_copy(update={"suppress_duplicate_detection": True})
    return options


def check_bulk_options(
    options: QualifyOptions, *, on_duplicate: OnDuplicate, database: Database, actor: Actor
) -> QualifyOptions:
    """Refuse options that no lead of a bulk run could be qualified with, once, before any lead; the
    options each lead is qualified with."""
    if options.duplicate_resolution is not None and options.duplicate_resolution.links:
        raise ValidationFailed(
            "Linking duplicate matches applies to one lead at a time; qualify the leads with duplicates one by one, "
            "or use duplicate_resolution 'ignore' to create new records for all of them.",
            code="duplicate_link_not_allowed_in_bulk",
        )
    options = options_for(options, on_duplicate)
    with database.unit_of_work(read_only=True) as uow:
        prepare_qualify(options, uow=uow, actor=actor)
    return options


def qualify_leads(
    lead_ids: Iterable[uuid.UUID],
    options: QualifyOptions,
    *,
    database: Database,
    actor: Actor,
    batch_size: int = 500,
    on_duplicate: OnDuplicate = OnDuplicate.SKIP,
    before_commit: BeforeCommit | None = None,
    between_batches: Callable[[], None] | None = None,
    first_position: int = 0,
) -> Iterator[QualifyOutcome]:
    """Qualify many leads (§2.6): each atomically on its own, committed in batches, results streamed.

    Memory stays flat whatever the number of leads: each batch has its own unit of work, and the
    ids are consumed lazily. With ``stop``, the stream ends with the lead that met a duplicate; the
    leads after it are not attempted (and no more ids are read than its batch took).

    ``before_commit`` runs in each batch's transaction (see ``BeforeCommit``), numbering the leads
    from ``first_position``; ``between_batches`` runs after each committed batch but the last, and
    may raise to end the run there.
    """
    options = check_bulk_options(options, on_duplicate=on_duplicate, database=database, actor=actor)
    position = first_position
    batch: list[uuid.UUID] = []

    def run(batch: list[uuid.UUID]) -> list[QualifyOutcome]:
        hook = None if before_commit is None else (lambda session, outcomes: before_commit(session, position, outcomes))
        return _qualify_batch(batch, options, database=database, actor=actor, on_duplicate=on_duplicate, hook=hook)

    after_batch = False
    for lead_id in lead_ids:
        if after_batch and between_batches is not None:
            between_batches()
        after_batch = False
        batch.append(lead_id)
        if len(batch) >= batch_size:
            outcomes = run(batch)
            yield from outcomes
            if _stopped(outcomes):
                return
            position += len(outcomes)
            batch, after_batch = [], True
    if batch:
        yield from run(batch)


def _stopped(outcomes: list[QualifyOutcome]) -> bool:
    return bool(outcomes) and outcomes[-1].status is BulkResult.STOPPED


class _RetryLeadByLead(Exception):
    """The fast path of a batch met an unexpected failure; redo the batch one savepoint per lead."""


def _lock_leads(session: Any, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, Lead]:
    """Load a batch of leads in one query, locked against concurrent qualification."""
    statement = select(Lead).where(Lead.id.in_(set(lead_ids))).order_by(Lead.id).with_for_update()
    return {lead.id: lead for lead in session.scalars(statement)}


Hook = Callable[[Session, list[QualifyOutcome]], None]


def _qualify_batch(
    lead_ids: list[uuid.UUID],
    options: QualifyOptions,
    *,
    database: Database,
    actor: Actor,
    on_duplicate: OnDuplicate,
    hook: Hook | None = None,
) -> list[QualifyOutcome]:
    arguments: dict[str, Any] = {"database": database, "actor": actor, "on_duplicate": on_duplicate, "hook": hook}
    try:
        return _qualify_batch_at_once(lead_ids, options, **arguments)
    except _RetryLeadByLead:
        return _qualify_batch_lead_by_lead(lead_ids, options, **arguments)


def _qualify_batch_at_once(
    lead_ids: list[uuid.UUID],
    options: QualifyOptions,
    *,
    database: Database,
    actor: Actor,
    on_duplicate: OnDuplicate,
    hook: Hook | None,
) -> list[QualifyOutcome]:
    """The fast path: every lead of the batch planned in memory, then written with one statement per table.

    Leads that the access, state or duplicate rules refuse are reported and left untouched (with
    ``stop``, a duplicate ends the batch there). Anything else that fails (an unexpected error, or the
    database refusing the batch) rolls the batch back and it is redone lead by lead, so that each lead
    still succeeds or fails on its own.
    """
    outcomes: list[QualifyOutcome] = []
    pending: list[PendingQualification] = []
    with database.unit_of_work() as uow:
        context = prepare_qualify(options, uow=uow, actor=actor)
        leads = _lock_leads(uow.session, lead_ids)
        # Detection for the whole batch at once: one query per rule, not one per lead and rule.
        found = list(leads.values())
        duplicates = dict(
            zip((lead.id for lead in found), qualify_duplicates(uow.session, found, context, actor=actor), strict=True)
        )
        # Records planned earlier in this batch are not in the index yet: they are checked here.
        pending_index = None if context.options.suppress_duplicate_detection else PendingIndex(uow.session)
        detects = get_settings(uow.session).detects_duplicates_in
        planned: set[uuid.UUID] = set()
        for lead_id in lead_ids:
            lead = leads.get(lead_id)
            if lead is None:
                outcomes.append(_refused(lead_id, _lead_not_found(lead_id), on_duplicate=on_duplicate))
                continue
            if lead_id in planned:  # named twice: the first mention closes it
                closed = InvalidState(LEAD_IS_CLOSED, code="lead_closed")
                outcomes.append(_refused(lead_id, closed, on_duplicate=on_duplicate))
                continue
            planned.add(lead_id)
            if pending_index is not None:
                add_pending_matches(duplicates[lead_id], pending_index, prospects(lead, context), enabled=detects)
            try:
                item = plan_qualification(
                    lead, context, session=uow.session, actor=actor, duplicates=duplicates[lead_id]
                )
            except LeadflowError as refusal:  # raised by the checks, before the lead changed
                outcomes.append(_refused(lead_id, refusal, on_duplicate=on_duplicate))
                if _stopped(outcomes):
                    break
                continue
            except Exception as error:
                raise _RetryLeadByLead from error
            pending.append(item)
            outcomes.append(QualifyOutcome(lead_id, result=item.result))
            if pending_index is not None:
                for table, rows in item.rows.items():
                    pending_index.add(
                        DetectionTable(table.name), [complete(DetectionTable(table.name), row) for row in rows]
                    )
        try:
            write_qualifications(uow.session, pending, actor=actor)
            if hook is not None:
                hook(uow.session, outcomes)
            uow.commit()
        except (LeadflowError, SQLAlchemyError) as error:
            raise _RetryLeadByLead from error
    return outcomes


def _qualify_batch_lead_by_lead(
    lead_ids: list[uuid.UUID],
    options: QualifyOptions,
    *,
    database: Database,
    actor: Actor,
    on_duplicate: OnDuplicate,
    hook: Hook | None,
) -> list[QualifyOutcome]:
    """The careful path: a savepoint per lead, so one lead's failure takes back only its records."""
    outcomes: list[QualifyOutcome] = []
    with database.unit_of_work() as uow:
        session = uow.session
        context = prepare_qualify(options, uow=uow, actor=actor)
        leads = _lock_leads(session, lead_ids)
        for lead_id in lead_ids:
            lead = leads.get(lead_id)
            if lead is None:
                outcomes.append(_refused(lead_id, _lead_not_found(lead_id), on_duplicate=on_duplicate))
                continue
            savepoint = session.begin_nested()
            try:
                result = qualify_loaded_lead(lead, context, uow=uow, actor=actor)
            except LeadflowError as error:
                savepoint.rollback()
                outcomes.append(_refused(lead_id, error, on_duplicate=on_duplicate))
                if _stopped(outcomes):
                    break
            except SQLAlchemyError as error:
                savepoint.rollback()
                refusal = Conflict(
                    "The database refused this lead's records; nothing was saved for it.",
                    code="lead_not_saved",
                    details={"reason": str(getattr(error, "orig", error)).splitlines()[0]},
                )
                outcomes.append(_refused(lead_id, refusal, on_duplicate=on_duplicate))
            else:
                savepoint.commit()
                outcomes.append(QualifyOutcome(lead_id, result=result))
        if hook is not None:
            hook(session, outcomes)
        uow.commit()
    return outcomes


def _lead_not_found(lead_id: uuid.UUID) -> NotFound:
    return NotFound(f"No lead has the id {lead_id}.", code="lead_not_found")
