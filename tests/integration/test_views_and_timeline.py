"""Views of §10, the timeline of §2.7, the process of §7 and delete, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from leadflow.activities.models import Attachment, Note, RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note, timeline
from leadflow.core.db import utcnow
from leadflow.core.errors import TooLarge
from leadflow.leads import service
from leadflow.leads.models import Lead, LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.leads.views import LeadQuery, LeadView, list_leads, start_of_week
from leadflow.process.flow import lead_process, move_stage, opportunity_process
from leadflow.security.actor import load_actor
from leadflow.security.service import create_user
from tests.factories import make_lead


def view_ids(database, actor, view: LeadView, **query) -> set:
    with database.unit_of_work(read_only=True) as uow:
        return {lead.id for lead in list_leads(LeadQuery(view=view, limit=500, **query), uow=uow, actor=actor).items}


def note(database, actor, lead_id, title, content: bytes | None = None):
    with database.unit_of_work() as uow:
        created = add_note(
            RegardingTable.LEADS,
            lead_id,
            title=title,
            body="body",
            attachment=AttachmentUpload("minutes.txt", "text/plain", content) if content else None,
            max_attachment_bytes=1024 * 1024,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return created


def test_qualified_and_disqualified_leads_move_from_my_open_leads_to_closed_leads(database, actor):
    open_lead, qualified, disqualified = (make_lead(database, actor) for _ in range(3))
    with database.unit_of_work() as uow:
        service.qualify_lead(qualified.id, QualifyOptions(), uow=uow, actor=actor)
        service.disqualify_lead(disqualified.id, LeadStatusReason.CANCELED, uow=uow, actor=actor)
        uow.commit()
    assert view_ids(database, actor, LeadView.MY_OPEN) == {open_lead.id}
    assert view_ids(database, actor, LeadView.OPEN) == {open_lead.id}
    assert view_ids(database, actor, LeadView.CLOSED) == {qualified.id, disqualified.id}
    assert view_ids(database, actor, LeadView.ALL) == {open_lead.id, qualified.id, disqualified.id}


def test_my_open_leads_shows_only_the_actors_leads(database, actor):
    mine = make_lead(database, actor)
    with database.unit_of_work() as uow:
        colleague = create_user(
            email="colleague@example.com",
            full_name="Colleague",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        colleague_actor = load_actor(uow.session, colleague)
    theirs = make_lead(database, colleague_actor)
    assert view_ids(database, actor, LeadView.MY_OPEN) == {mine.id}
    assert view_ids(database, actor, LeadView.OPEN) == {mine.id, theirs.id}


def test_leads_opened_this_week_and_last_week(database, actor):
    this_week, last_week, older = (make_lead(database, actor) for _ in range(3))
    monday = start_of_week(utcnow())
    with database.unit_of_work() as uow:
        for lead, moment in ((last_week, monday - timedelta(days=3)), (older, monday - timedelta(days=10))):
            uow.session.execute(update(Lead).where(Lead.id == lead.id).values(created_at=moment))
        uow.commit()
    assert view_ids(database, actor, LeadView.OPENED_THIS_WEEK) == {this_week.id}
    assert view_ids(database, actor, LeadView.OPENED_LAST_WEEK) == {last_week.id}


def test_search_and_keyset_paging_visit_every_lead_once(database, actor):
    leads = [make_lead(database, actor, topic=f"Sillas {n:02d}") for n in range(7)]
    make_lead(database, actor, topic="Mesas")
    seen, cursor = [], None
    while True:
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(
                LeadQuery(view=LeadView.ALL, q="SILLAS", sort="topic", limit=3, cursor=cursor), uow=uow, actor=actor
            )
        seen += [lead.topic for lead in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(lead.topic for lead in leads)


def test_the_opportunity_timeline_shows_the_lead_notes_without_copying_them(database, actor):
    lead = make_lead(database, actor)
    note(database, actor, lead.id, "Visited the office", b"10 desks, 100 chairs")
    with database.unit_of_work() as uow:
        result = service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        entries = timeline(RegardingTable.OPPORTUNITIES, result.opportunity_ids[0], uow=uow, actor=actor).items
        account_entries = timeline(RegardingTable.ACCOUNTS, result.account_id, uow=uow, actor=actor).items
        stored_notes = uow.session.scalar(select(func.count()).select_from(Note))
    assert [entry.title for entry in entries] == ["Visited the office"]
    assert entries[0].file_name == "minutes.txt"
    assert [entry.title for entry in account_entries] == ["Visited the office"]
    assert stored_notes == 1


def test_deleting_a_lead_deletes_its_notes_and_attachments(database, actor):
    lead, other = make_lead(database, actor), make_lead(database, actor)
    note(database, actor, lead.id, "With file", b"bytes")
    note(database, actor, lead.id, "Plain")
    kept = note(database, actor, other.id, "Other lead", b"kept")
    with database.unit_of_work() as uow:
        service.delete_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Lead, lead.id) is None
        assert list(uow.session.scalars(select(Note.id))) == [kept.id]
        assert list(uow.session.scalars(select(Attachment.note_id))) == [kept.id]


@pytest.mark.parametrize(("size", "accepted"), [(1024, True), (1025, False)])
def test_the_note_service_itself_holds_attachments_to_the_limit(database, actor, size, accepted):
    """Whoever calls it (the API, the pages, the demo loader), a note's attachment stays within the limit."""
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:

        def attach() -> Note:
            return add_note(
                RegardingTable.LEADS,
                lead.id,
                title="Offer",
                body=None,
                attachment=AttachmentUpload("offer.bin", "application/octet-stream", b"x" * size),
                max_attachment_bytes=1024,
                uow=uow,
                actor=actor,
            )

        if accepted:
            assert attach().file_size == size
        else:
            with pytest.raises(TooLarge) as refused:
                attach()
            assert refused.value.code == "attachment_too_large"
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Attachment)) == (1 if accepted else 0)


def test_the_flow_moves_to_develop_only_when_an_opportunity_was_created(database, actor):
    with_opportunity, without = make_lead(database, actor), make_lead(database, actor)
    with database.unit_of_work() as uow:
        result = service.qualify_lead(with_opportunity.id, QualifyOptions(), uow=uow, actor=actor)
        service.qualify_lead(without.id, QualifyOptions(create_opportunity=False), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        assert lead_process(with_opportunity.id, uow=uow, actor=actor).active_stage == "develop"
        assert lead_process(without.id, uow=uow, actor=actor).active_stage == "qualify"
        assert opportunity_process(result.opportunity_ids[0], uow=uow, actor=actor).active_stage == "develop"
    with database.unit_of_work() as uow:
        assert move_stage(result.opportunity_ids[0], forward=True, uow=uow, actor=actor).active_stage == "propose"
        uow.commit()
