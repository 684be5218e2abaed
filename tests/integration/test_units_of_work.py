"""Services never commit: a unit of work that ends without ``commit()`` keeps none of their changes.

Each operation below runs to its end inside a unit of work that is then left without committing;
the database must be exactly as it was (records, row versions, notes, shares, merges and audit
entries). This is what lets a caller combine several services into one atomic change.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from leadflow.activities.models import Attachment, Note, RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note
from leadflow.core.errors import Conflict, InvalidState
from leadflow.core.schemas import parse
from leadflow.core.uow import Database, UnitOfWork
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate
from leadflow.duplicates.merge.execute import merge_records
from leadflow.duplicates.merge.undo import undo_merge
from leadflow.duplicates.models import MergeJournal
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadStatusReason
from leadflow.leads.schemas import LeadCreate, LeadUpdate, QualifyOptions
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.security import service as security
from leadflow.security.actor import Actor
from leadflow.security.audit import AuditEntry
from leadflow.security.models import RecordShare
from tests.factories import make_lead

MODELS = (Lead, Account, Contact, Opportunity, Note, Attachment, RecordShare, MergeJournal, AuditEntry)
VERSIONED = (Lead, Account, Contact, Opportunity)


def state_of(database: Database) -> dict[str, Any]:
    """Row counts of every table a service writes, and every record's row version, state and owner."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "counts": {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in MODELS},
            "records": {
                m.__tablename__: sorted(
                    (str(row.id), row.row_version, str(row.state), str(row.owner_user_id))
                    for row in session.scalars(select(m))
                )
                for m in VERSIONED
            },
            "merges": sorted((str(j.id), str(j.state)) for j in session.scalars(select(MergeJournal))),
        }


def _account(uow: UnitOfWork, actor: Actor, name: str) -> Account:
    return customers.create_account(parse(AccountCreate, {"name": name}), uow=uow, actor=actor)


def _merged_accounts(database: Database, actor: Actor) -> uuid.UUID:
    with database.unit_of_work() as uow:
        master, subordinate = _account(uow, actor, "Master S.L."), _account(uow, actor, "Subordinate S.L.")
        journal = merge_records("accounts", master.id, subordinate.id, uow=uow, actor=actor)
        uow.commit()
    return journal.id


def _other_user(database: Database, actor: Actor) -> uuid.UUID:
    with database.unit_of_work() as uow:
        user = security.create_user(
            email="other@example.com",
            full_name="Other",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return user.id


# Each case: (set-up run and committed first, returning what the operation needs) and the operation.
Operation = Callable[[UnitOfWork, Actor, Any], Any]
CASES: dict[str, tuple[Callable[[Database, Actor], Any], Operation]] = {
    "create lead": (
        lambda d, a: None,
        lambda uow, a, _: leads.create_lead(
            parse(LeadCreate, {"topic": "Sillas", "last_name": "Ruiz"}), uow=uow, actor=a
        ),
    ),
    "update lead": (
        lambda d, a: make_lead(d, a).id,
        lambda uow, a, lead_id: leads.update_lead(lead_id, LeadUpdate(topic="Changed"), uow=uow, actor=a),
    ),
    "delete lead": (
        lambda d, a: make_lead(d, a).id,
        lambda uow, a, lead_id: leads.delete_lead(lead_id, uow=uow, actor=a),
    ),
    "qualify lead": (
        lambda d, a: make_lead(d, a).id,
        lambda uow, a, lead_id: leads.qualify_lead(lead_id, QualifyOptions(), uow=uow, actor=a),
    ),
    "disqualify lead": (
        lambda d, a: make_lead(d, a).id,
        lambda uow, a, lead_id: leads.disqualify_lead(lead_id, LeadStatusReason.LOST, uow=uow, actor=a),
    ),
    "add a note with an attachment": (
        lambda d, a: make_lead(d, a).id,
        lambda uow, a, lead_id: add_note(
            RegardingTable.LEADS,
            lead_id,
            title="Call",
            body=None,
            attachment=AttachmentUpload("offer.pdf", "application/pdf", b"%PDF-1.7"),
            max_attachment_bytes=1024,
            uow=uow,
            actor=a,
        ),
    ),
    "create account": (lambda d, a: None, lambda uow, a, _: _account(uow, a, "Acme")),
    "update account": (
        lambda d, a: _committed(d, lambda uow: _account(uow, a, "Acme").id),
        lambda uow, a, account_id: customers.update_account(
            account_id, parse(AccountUpdate, {"name": "Acme Corp"}), uow=uow, actor=a
        ),
    ),
    "delete account": (
        lambda d, a: _committed(d, lambda uow: _account(uow, a, "Acme").id),
        lambda uow, a, account_id: customers.delete_account(account_id, uow=uow, actor=a),
    ),
    "create contact": (
        lambda d, a: None,
        lambda uow, a, _: customers.create_contact(parse(ContactCreate, {"last_name": "Dupont"}), uow=uow, actor=a),
    ),
    "create opportunity": (
        lambda d, a: None,
        lambda uow, a, _: opportunities.create_opportunity(
            parse(OpportunityCreate, {"name": "Fleet renewal"}), uow=uow, actor=a
        ),
    ),
    "merge accounts": (
        lambda d, a: _committed(d, lambda uow: (_account(uow, a, "One S.L.").id, _account(uow, a, "Two S.L.").id)),
        lambda uow, a, pair: merge_records("accounts", *pair, uow=uow, actor=a),
    ),
    "undo a merge": (_merged_accounts, lambda uow, a, merge_id: undo_merge(merge_id, uow=uow, actor=a)),
    "assign lead": (
        lambda d, a: (make_lead(d, a).id, _other_user(d, a)),
        lambda uow, a, ids: security.assign_record("leads", uow.session.get(Lead, ids[0]), ids[1], uow=uow, actor=a),
    ),
    "share lead": (
        lambda d, a: (make_lead(d, a).id, _other_user(d, a)),
        lambda uow, a, ids: security.share_record(
            "leads", uow.session.get(Lead, ids[0]), user_id=ids[1], team_id=None, rights={"read"}, uow=uow, actor=a
        ),
    ),
}


def _committed(database: Database, change: Callable[[UnitOfWork], Any]) -> Any:
    with database.unit_of_work() as uow:
        done = change(uow)
        uow.commit()
    return done


@pytest.mark.parametrize("case", CASES)
def test_a_unit_of_work_left_without_commit_keeps_nothing(database: Database, actor: Actor, case: str) -> None:
    prepare, operation = CASES[case]
    prepared = prepare(database, actor)
    before = state_of(database)

    with database.unit_of_work() as uow:
        operation(uow, actor, prepared)
        uow.flush()  # everything the operation did has reached the database, inside the transaction

    assert state_of(database) == before


def test_reactivating_a_lead_without_commit_keeps_it_closed(database: Database, actor: Actor) -> None:
    lead_id = make_lead(database, actor).id
    _committed(database, lambda uow: leads.disqualify_lead(lead_id, LeadStatusReason.LOST, uow=uow, actor=actor))
    before = state_of(database)

    with database.unit_of_work() as uow:
        leads.reactivate_lead(lead_id, uow=uow, actor=actor)

    assert state_of(database) == before


def test_a_refused_change_after_an_allowed_one_undoes_both(database: Database, actor: Actor) -> None:
    """Two services in one unit: the second one's refusal leaves the first one's change unsaved too."""
    lead_id = make_lead(database, actor).id
    before = state_of(database)

    with pytest.raises(InvalidState) as refused:
        with database.unit_of_work() as uow:
            leads.update_lead(lead_id, LeadUpdate(topic="Changed"), uow=uow, actor=actor)
            leads.reactivate_lead(lead_id, uow=uow, actor=actor)  # an open lead: refused
            uow.commit()

    assert refused.value.code == "lead_already_open"
    assert state_of(database) == before


# ------------------------------------------------------------------------------------------------
# a change to a record someone else changed meanwhile is a Conflict (409), whether it is found when
# the unit sends its changes (flush) or when it commits; nothing of the unit is kept


def _changed_behind_its_back(uow: UnitOfWork, lead_id: uuid.UUID) -> Lead:
    """The lead, loaded; then another writer's change moves its row to the next version."""
    lead = uow.session.get(Lead, lead_id)
    table = Lead.__table__
    uow.session.execute(update(table).where(table.c.id == lead_id).values(row_version=table.c.row_version + 1))
    return lead


@pytest.mark.parametrize("step", ["flush", "commit"])
def test_writing_a_record_changed_since_it_was_loaded_is_a_conflict(
    database: Database, actor: Actor, step: str
) -> None:
    lead_id = make_lead(database, actor).id
    before = state_of(database)

    with pytest.raises(Conflict) as refused:
        with database.unit_of_work() as uow:
            leads.create_lead(parse(LeadCreate, {"topic": "Another", "last_name": "Ruiz"}), uow=uow, actor=actor)
            _changed_behind_its_back(uow, lead_id).topic = "Lost update"
            uow.flush() if step == "flush" else uow.commit()

    assert refused.value.code == "concurrent_update"
    assert state_of(database) == before


class _Session:
    """A session whose commit fails as the database says."""

    def __init__(self, failure: Exception) -> None:
        self.failure, self.rolled_back, self.closed = failure, False, False

    def commit(self) -> None:
        raise self.failure

    def rollback(self) -> None:
        self.rolled_back = True

    def close(self) -> None:
        self.closed = True


def _operational(message: str) -> OperationalError:
    return OperationalError("COMMIT", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize("message", ["database is locked", "deadlock detected"])
def test_a_commit_the_database_refuses_for_a_concurrent_writer_is_a_conflict(message: str) -> None:
    session = _Session(_operational(message))
    with pytest.raises(Conflict) as refused:
        with UnitOfWork(lambda: session) as uow:
            uow.commit()
    assert refused.value.code == "concurrent_update"
    assert session.rolled_back and session.closed


def test_any_other_failure_of_a_commit_is_raised_as_it_is() -> None:
    failure = _operational("disk I/O error")
    session = _Session(failure)
    with pytest.raises(OperationalError) as raised:
        with UnitOfWork(lambda: session) as uow:
            uow.commit()
    assert raised.value is failure
    assert session.rolled_back and session.closed
