"""Qualifying a lead into an open opportunity that already exists, on SQLite and PostgreSQL.

A second contact of a customer often arrives as a lead about a deal the team already works on: the
seller qualifies it into that opportunity instead of creating another. The lead records the
opportunity as its own, its notes and attachments are copied to the opportunity's timeline, and
nothing else is created for the opportunity. Every refusal leaves the database as it was.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.activities.models import Attachment, Note, RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note, get_attachment, list_notes
from leadflow.core.errors import LeadflowError, ValidationFailed
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact
from leadflow.leads import service
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import closing
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import WinOpportunity
from leadflow.security.actor import Actor
from leadflow.security.audit import AuditEntry
from tests.factories import make_lead


def qualify(database: Database, actor: Actor, lead_id: uuid.UUID, **options: Any):
    with database.unit_of_work() as uow:
        result = service.qualify_lead(lead_id, QualifyOptions(**options), uow=uow, actor=actor)
        uow.commit()
    return result


def state(database: Database) -> dict[str, Any]:
    """Everything a refused qualification must leave as it was."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "counts": {
                model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Lead, Account, Contact, Opportunity, Note, Attachment, AuditEntry)
            },
            "leads": sorted((lead.id, lead.state, lead.row_version) for lead in session.scalars(select(Lead))),
            "opportunities": sorted((o.id, o.row_version) for o in session.scalars(select(Opportunity))),
        }


@pytest.fixture
def deal(database: Database, actor: Actor) -> dict[str, uuid.UUID]:
    """A customer with an open opportunity, made by qualifying a first lead."""
    first = make_lead(database, actor, company_name="Turia Distribuciones S.L.")
    result = qualify(database, actor, first.id)
    return {"account": result.account_id, "contact": result.contact_id, "opportunity": result.opportunity_ids[0]}


def add_lead_note(database: Database, actor: Actor, lead_id: uuid.UUID, title: str, content: bytes | None) -> None:
    with database.unit_of_work() as uow:
        add_note(
            RegardingTable.LEADS,
            lead_id,
            title=title,
            body=f"{title}, in detail",
            attachment=AttachmentUpload("offer.pdf", "application/pdf", content) if content else None,
            max_attachment_bytes=1 << 20,
            uow=uow,
            actor=actor,
        )
        uow.commit()


def test_the_lead_goes_into_the_opportunity_with_copies_of_its_notes_and_attachments(
    database: Database, actor: Actor, deal: dict[str, uuid.UUID]
) -> None:
    second = make_lead(database, actor, company_name="Turia Distribuciones S.L.", first_name="Marta")
    add_lead_note(database, actor, second.id, "Call with Marta", None)
    add_lead_note(database, actor, second.id, "Signed offer", b"%PDF-1.7 offer")
    opportunities_before = state(database)["counts"]["opportunities"]

    result = qualify(
        database,
        actor,
        second.id,
        existing_account_id=deal["account"],
        create_contact=True,
        existing_opportunity_id=deal["opportunity"],
    )

    assert result.opportunity_ids == [] and result.into_opportunity_id == deal["opportunity"]
    assert result.account_id is None  # the account was linked, not created
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.get(Lead, second.id)
        assert lead.state is LeadState.QUALIFIED
        assert lead.qualifying_opportunity_id == deal["opportunity"]
        assert lead.parent_account_id == deal["account"]
        assert uow.session.scalar(select(func.count()).select_from(Opportunity)) == opportunities_before
        copies = list_notes(RegardingTable.OPPORTUNITIES, deal["opportunity"], uow=uow, actor=actor).items
        assert sorted(note.title for note in copies) == ["Call with Marta", "Signed offer"]
        originals = list_notes(RegardingTable.LEADS, second.id, uow=uow, actor=actor).items
        assert len(originals) == 2  # the lead keeps its own
        signed = next(note for note in copies if note.title == "Signed offer")
        original = next(note for note in originals if note.title == "Signed offer")
        assert signed.id != original.id
        assert (signed.body, signed.created_by_id, signed.created_at) == (
            original.body,
            original.created_by_id,
            original.created_at,
        )
        _, content = get_attachment(RegardingTable.OPPORTUNITIES, deal["opportunity"], signed.id, uow=uow, actor=actor)
        assert content == b"%PDF-1.7 offer"
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.record_id == second.id, AuditEntry.action == "qualify")
        ).one()
        assert entry.changes["existing_opportunity_id"] == str(deal["opportunity"])
        assert entry.changes["notes_copied"] == 2


def test_a_copied_note_stays_when_the_lead_is_deleted(
    database: Database, actor: Actor, deal: dict[str, uuid.UUID]
) -> None:
    second = make_lead(database, actor, company_name="Turia Distribuciones S.L.", first_name="Marta")
    add_lead_note(database, actor, second.id, "Signed offer", b"%PDF-1.7 offer")
    qualify(
        database,
        actor,
        second.id,
        existing_account_id=deal["account"],
        create_contact=False,
        existing_opportunity_id=deal["opportunity"],
    )
    with database.unit_of_work() as uow:
        service.delete_lead(second.id, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        copies = list_notes(RegardingTable.OPPORTUNITIES, deal["opportunity"], uow=uow, actor=actor).items
        assert [note.title for note in copies] == ["Signed offer"]
        _, content = get_attachment(
            RegardingTable.OPPORTUNITIES, deal["opportunity"], copies[0].id, uow=uow, actor=actor
        )
        assert content == b"%PDF-1.7 offer"


def refused(database: Database, actor: Actor, lead_id: uuid.UUID, **options: Any) -> LeadflowError:
    before = state(database)
    with pytest.raises(LeadflowError) as caught:
        qualify(database, actor, lead_id, **options)
    assert state(database) == before
    return caught.value


def test_a_closed_opportunity_takes_no_lead(database: Database, actor: Actor, deal: dict[str, uuid.UUID]) -> None:
    with database.unit_of_work() as uow:
        closing.win_opportunity(deal["opportunity"], WinOpportunity(), uow=uow, actor=actor)
        uow.commit()
    second = make_lead(database, actor, company_name="Turia Distribuciones S.L.")
    add_lead_note(database, actor, second.id, "Call", None)
    error = refused(
        database,
        actor,
        second.id,
        existing_account_id=deal["account"],
        create_contact=False,
        existing_opportunity_id=deal["opportunity"],
    )
    assert isinstance(error, ValidationFailed) and error.code == "existing_opportunity_id_closed"
    assert error.details["fields"][0]["field"] == "existing_opportunity_id"


def test_an_opportunity_of_another_customer_takes_no_lead(
    database: Database, actor: Actor, deal: dict[str, uuid.UUID]
) -> None:
    other = qualify(database, actor, make_lead(database, actor, company_name="Hermanos Sala S.A.").id)
    second = make_lead(database, actor, company_name="Turia Distribuciones S.L.")
    add_lead_note(database, actor, second.id, "Call", None)
    error = refused(
        database,
        actor,
        second.id,
        existing_account_id=deal["account"],
        create_contact=False,
        existing_opportunity_id=other.opportunity_ids[0],
    )
    assert isinstance(error, ValidationFailed) and error.code == "existing_opportunity_id_other_customer"


def test_a_lead_whose_account_would_be_new_cannot_join_an_existing_opportunity(
    database: Database, actor: Actor, deal: dict[str, uuid.UUID]
) -> None:
    # Qualifying creates a new account for this lead: no existing opportunity can be that account's.
    second = make_lead(database, actor, company_name="Otra Empresa Nueva S.L.")
    error = refused(database, actor, second.id, existing_opportunity_id=deal["opportunity"])
    assert isinstance(error, ValidationFailed) and error.code == "existing_opportunity_id_other_customer"


@pytest.mark.parametrize(
    "options",
    [{"create_opportunity": True}, {"opportunities": [{"name": "Another deal"}]}],
    ids=["create_opportunity", "opportunities"],
)
def test_naming_an_existing_opportunity_and_a_new_one_is_contradictory(
    database: Database, actor: Actor, deal: dict[str, uuid.UUID], options: dict[str, Any]
) -> None:
    second = make_lead(database, actor, company_name="Turia Distribuciones S.L.")
    error = refused(
        database,
        actor,
        second.id,
        existing_account_id=deal["account"],
        existing_opportunity_id=deal["opportunity"],
        **options,
    )
    assert isinstance(error, ValidationFailed) and error.code == "contradictory_options"


def test_an_opportunity_that_does_not_exist_is_named_in_the_field(
    database: Database, actor: Actor, deal: dict[str, uuid.UUID]
) -> None:
    second = make_lead(database, actor, company_name="Turia Distribuciones S.L.")
    error = refused(
        database, actor, second.id, existing_account_id=deal["account"], existing_opportunity_id=uuid.uuid4()
    )
    assert isinstance(error, ValidationFailed)
    assert "existing_opportunity_id" in str(error.details)
