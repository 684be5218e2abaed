"""A record's timeline on the lead, account, contact and opportunity pages: notes, activities and close
records newest first, filtered and paged; the follow-up shortcuts' quick-create dialogs; disqualify
with the lead's open activities canceled; the lead's activities on the opportunity it became."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from leadflow.activities.activity import create_activity
from leadflow.activities.models import (
    Activity,
    ActivityParty,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Note,
    RegardingTable,
)
from leadflow.activities.service import add_note
from leadflow.core.schemas import parse
from leadflow.customers import service as customers
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.leads import service as leads
from leadflow.leads.models import LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.security.models import User
from leadflow.web import timeline as timeline_module
from tests.factories import make_lead
from tests.web.conftest import page_csrf

NOW = datetime.now(UTC)


def activity(database, actor, table, record_id, *, type="task", subject="Follow up", at=None, **fields):
    """An activity regarding the record, made at ``at`` (its place in the timeline)."""
    with database.unit_of_work() as uow:
        created, _job = create_activity(
            {"type": type, "subject": subject, "regarding_table": table, "regarding_id": str(record_id), **fields},
            uow=uow,
            actor=actor,
        )
        if at is not None:
            uow.session.execute(update(Activity).where(Activity.id == created.id).values(created_at=at))
        uow.commit()
        return created.id


def note(database, actor, table, record_id, *, title, at=None):
    with database.unit_of_work() as uow:
        made = add_note(
            RegardingTable(table),
            record_id,
            title=title,
            body=None,
            attachment=None,
            max_attachment_bytes=1000,
            uow=uow,
            actor=actor,
        )
        if at is not None:
            uow.session.execute(update(Note).where(Note.id == made.id).values(created_at=at))
        uow.commit()
        return made.id


def entry_ids(page_html: str) -> list[str]:
    """The ids of the timeline's entries, in the order shown."""
    timeline = page_html.split('<ol class="timeline" id="timeline">')[1].split("</ol>")[0]
    return re.findall(r'<li id="((?:note|activity|close)-[0-9a-f-]+)"', timeline)


def stored(database, activity_id) -> Activity:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Activity, activity_id)


def activities_of(database, record_id) -> list[Activity]:
    with database.unit_of_work(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Activity).where(Activity.regarding_id == record_id).order_by(Activity.created_at)
            )
        )


def dialog(page_html: str, dialog_id: str) -> str:
    found = re.search(rf'<dialog id="{dialog_id}".*?</dialog>', page_html, re.DOTALL)
    assert found is not None, f"no dialog {dialog_id}"
    return found.group(0)


# ---------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Timeline", "Phone call", "Overdue", "Add phone call", "Add task", "Add appointment", "Add email")),
        (
            "es",
            (
                "Escala de tiempo",
                "Llamada de teléfono",
                "Vencida",
                "Agregar llamada de teléfono",
                "Agregar tarea",
                "Agregar cita",
                "Agregar correo electrónico",
            ),
        ),
    ],
)
def test_the_lead_timeline_shows_notes_and_activities_newest_first_with_overdue_ones_marked(
    web_client_for, database, actor, language, words
):
    lead = make_lead(database, actor)
    first = note(database, actor, "leads", lead.id, title="First visit", at=NOW - timedelta(hours=3))
    overdue = activity(
        database,
        actor,
        "leads",
        lead.id,
        subject="Send the offer",
        due=NOW - timedelta(days=1),
        at=NOW - timedelta(hours=2),
    )
    call = activity(
        database,
        actor,
        "leads",
        lead.id,
        type="phone_call",
        subject="Call the buyer",
        phone_number="+34 600 000 000",
        at=NOW - timedelta(hours=1),
    )
    client = web_client_for(accept_language=language)

    page = client.get(f"/leads/{lead.id}").text

    assert entry_ids(page) == [f"activity-{call}", f"activity-{overdue}", f"note-{first}"]
    for word in words:
        assert word in page, word
    task_entry = page.split(f'id="activity-{overdue}"')[1].split("</li>")[0]
    assert "overdue" in page.split(f'<li id="activity-{overdue}"')[1].split(">")[0]
    assert "overdue-badge" in task_entry and f'href="/activities/{overdue}"' in task_entry
    call_entry = page.split(f'id="activity-{call}"')[1].split("</li>")[0]
    assert "overdue-badge" not in call_entry and "+34 600 000 000" in call_entry
    assert f'action="/leads/{lead.id}/activities/{call}/complete"' in call_entry


def test_the_timeline_shows_due_times_in_the_users_time_zone(web_client_for, database, actor):
    with database.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == actor.user_id).values(time_zone="America/Mexico_City"))
        uow.commit()
    lead = make_lead(database, actor)
    due = datetime(2031, 3, 4, 18, 30, tzinfo=UTC)
    activity(database, actor, "leads", lead.id, subject="Dated", due=due)

    page = web_client_for().get(f"/leads/{lead.id}").text

    local = due.astimezone(ZoneInfo("America/Mexico_City"))
    assert local.strftime("%H:%M") == "12:30" and "12:30" in page.split("Dated")[1].split("</li>")[0]


def test_the_filters_show_one_type_or_one_state(web_client, database, actor):
    lead = make_lead(database, actor)
    note(database, actor, "leads", lead.id, title="A note")
    task = activity(database, actor, "leads", lead.id, subject="A task")
    call = activity(database, actor, "leads", lead.id, type="phone_call", subject="A call")
    done = activity(database, actor, "leads", lead.id, type="phone_call", subject="Made", status_reason="made")

    calls = web_client.get(f"/leads/{lead.id}?kind=phone_call").text
    completed = web_client.get(f"/leads/{lead.id}?state=completed").text
    open_ones = web_client.get(f"/leads/{lead.id}?state=open").text
    notes = web_client.get(f"/leads/{lead.id}?kind=note").text

    assert set(entry_ids(calls)) == {f"activity-{call}", f"activity-{done}"}
    assert '<option value="phone_call" selected>' in calls
    assert entry_ids(completed) == [f"activity-{done}"]
    assert set(entry_ids(open_ones)) == {f"activity-{task}", f"activity-{call}"}
    assert [entry.split("-")[0] for entry in entry_ids(notes)] == ["note"]


def test_older_entries_are_a_page_away(web_client, database, actor, monkeypatch):
    monkeypatch.setattr(timeline_module, "PAGE_SIZE", 2)
    lead = make_lead(database, actor)
    ids = [
        activity(database, actor, "leads", lead.id, subject=f"Task {n}", at=NOW - timedelta(minutes=n))
        for n in range(3)
    ]

    page = web_client.get(f"/leads/{lead.id}?kind=task").text
    older = re.search(r'<a href="([^"]+)" class="button secondary small" id="timeline-older">Older entries</a>', page)

    assert entry_ids(page) == [f"activity-{ids[0]}", f"activity-{ids[1]}"]
    assert older is not None and "kind=task" in older.group(1) and "cursor=" in older.group(1)
    rest = web_client.get(older.group(1).replace("&amp;", "&")).text
    assert entry_ids(rest) == [f"activity-{ids[2]}"] and 'id="timeline-older"' not in rest


def test_an_account_includes_its_contacts_and_opportunities_entries_when_asked(web_client_for, database, actor):
    with database.unit_of_work() as uow:
        account = customers.create_account(parse(AccountCreate, {"name": "Muebles Norte"}), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        contact = customers.create_contact(
            parse(ContactCreate, {"last_name": "Vidal", "first_name": "Rosa", "account_id": str(account.id)}),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    own = activity(database, actor, "accounts", account.id, subject="Account review")
    theirs = activity(database, actor, "contacts", contact.id, type="phone_call", subject="Call Rosa")
    client = web_client_for(accept_language="es")

    alone = client.get(f"/accounts/{account.id}").text
    related = client.get(f"/accounts/{account.id}?related=1").text

    assert entry_ids(alone) == [f"activity-{own}"]
    assert "Incluir contactos y oportunidades" in alone
    assert set(entry_ids(related)) == {f"activity-{own}", f"activity-{theirs}"}
    assert "Rosa Vidal" in related.split(f'id="activity-{theirs}"')[1].split("</li>")[0]


# ---------------------------------------------------------------------------------------------- quick create


def quick_form(client, lead_id, kind, **fields):
    page = client.get(f"/leads/{lead_id}").text
    return client.post(
        f"/leads/{lead_id}/activities",
        data={"csrf_token": page_csrf(page), "type": kind, **fields},
        follow_redirects=False,
    )


def test_each_quick_create_form_of_a_lead_page_makes_an_activity_regarding_the_lead(web_client, database, actor):
    lead = make_lead(database, actor, email="buyer@example.com", business_phone="+34 911 000 000")
    page = web_client.get(f"/leads/{lead.id}").text
    # The forms start with the lead's phone number and address.
    assert 'value="+34 911 000 000"' in dialog(page, "quick-phone-call-dialog")
    assert 'value="buyer@example.com"' in dialog(page, "quick-email-dialog")

    answers = [
        quick_form(web_client, lead.id, "task", subject="Prepare the offer", due="2031-05-06T09:00", priority="high"),
        quick_form(
            web_client,
            lead.id,
            "phone_call",
            subject="First call",
            phone_number="+34 911 000 000",
            direction="outgoing",
            made="1",
        ),
        quick_form(
            web_client,
            lead.id,
            "appointment",
            subject="Visit",
            start="2031-05-07T10:00",
            end="2031-05-07T11:30",
            location="Their office",
            attendees=f"user:{actor.user_id}",
        ),
        quick_form(web_client, lead.id, "email", subject="Our prices", to="buyer@example.com", description="Hello"),
    ]

    assert [answer.status_code for answer in answers] == [303] * 4
    assert answers[0].headers["location"] == f"/leads/{lead.id}?done=activity#timeline-section"
    task, call, visit, mail = activities_of(database, lead.id)
    assert all(
        (a.regarding_table, a.regarding_id) == (RegardingTable.LEADS, lead.id) for a in (task, call, visit, mail)
    )
    assert (task.type, task.priority.value, task.scheduled_end) == (
        ActivityType.TASK,
        "high",
        datetime(2031, 5, 6, 9, 0, tzinfo=UTC),
    )
    assert (call.state, call.status_reason) == (ActivityState.COMPLETED, ActivityStatus.MADE)
    assert (visit.scheduled_start, visit.scheduled_end, visit.location) == (
        datetime(2031, 5, 7, 10, 0, tzinfo=UTC),
        datetime(2031, 5, 7, 11, 30, tzinfo=UTC),
        "Their office",
    )
    assert (mail.type, mail.status_reason, mail.description) == (ActivityType.EMAIL, ActivityStatus.DRAFT, "Hello")
    with database.unit_of_work(read_only=True) as uow:
        parties = uow.session.scalars(select(ActivityParty).where(ActivityParty.activity_id.in_([visit.id, mail.id])))
        assert {(p.role.value, p.party_id or p.address) for p in parties} >= {
            ("required", actor.user_id),
            ("to", "buyer@example.com"),
        }
    shown = web_client.get(answers[0].headers["location"]).text
    assert "The activity was created." in shown and entry_ids(shown)[0] == f"activity-{mail.id}"


@pytest.mark.parametrize(
    ("language", "message"), [("en", "The end comes before the start."), ("es", "El fin es anterior al inicio.")]
)
def test_a_refused_quick_create_opens_its_dialog_again_with_the_message_beside_the_field(
    web_client_for, database, actor, language, message
):
    lead = make_lead(database, actor)
    client = web_client_for(accept_language=language)

    answer = quick_form(
        client, lead.id, "appointment", subject="Too short", start="2031-05-07T10:00", end="2031-05-07T09:00"
    )

    assert answer.status_code == 422
    refused = dialog(answer.text, "quick-appointment-dialog")
    assert 'data-reopen="1"' in refused
    end_field = refused.split('id="quick-appointment-end-field"')[1].split("</div>")[0]
    assert message in end_field and 'aria-invalid="true"' in end_field
    assert 'value="Too short"' in refused and 'value="2031-05-07T09:00"' in refused
    assert activities_of(database, lead.id) == []


def test_a_bad_address_is_refused_next_to_the_to_field(web_client, database, actor):
    lead = make_lead(database, actor)

    answer = quick_form(web_client, lead.id, "email", subject="Prices", to="not an address")

    refused = dialog(answer.text, "quick-email-dialog")
    assert answer.status_code == 422 and 'data-reopen="1"' in refused
    assert "Enter a valid email address" in refused.split('id="quick-email-to-field"')[1].split("</div>")[0]


def test_without_javascript_the_shortcut_is_a_page_of_its_own(web_client, database, actor):
    lead = make_lead(database, actor)
    page = web_client.get(f"/leads/{lead.id}").text
    href = re.search(r'id="add-task-button" href="([^"]+)"', page).group(1)

    form_page = web_client.get(href)
    refused = web_client.post(
        f"/leads/{lead.id}/activities",
        data={"csrf_token": page_csrf(form_page.text), "type": "task", "from": "page", "subject": ""},
    )

    assert form_page.status_code == 200 and 'name="from" value="page"' in form_page.text
    assert refused.status_code == 422 and 'id="quick-task-form"' in refused.text and "<dialog" not in refused.text


def test_the_shortcuts_are_hidden_on_a_closed_lead_and_its_activities_stay_readable(web_client, database, actor):
    lead = make_lead(database, actor)
    task = activity(database, actor, "leads", lead.id, subject="Before closing")
    with database.unit_of_work() as uow:
        leads.disqualify_lead(lead.id, LeadStatusReason.NO_LONGER_INTERESTED, uow=uow, actor=actor)
        uow.commit()

    page = web_client.get(f"/leads/{lead.id}").text
    posted = quick_form(web_client, lead.id, "task", subject="After closing")

    assert 'id="timeline-shortcuts"' not in page and '<dialog id="quick-' not in page
    assert f'id="activity-{task}"' in page
    assert posted.status_code == 409 and len(activities_of(database, lead.id)) == 1


def test_mark_complete_cancel_and_reopen_come_back_to_the_record(web_client, database, actor):
    lead = make_lead(database, actor)
    task = activity(database, actor, "leads", lead.id, subject="Chase")
    page = web_client.get(f"/leads/{lead.id}?kind=task").text
    csrf = page_csrf(page)

    completed = web_client.post(
        f"/leads/{lead.id}/activities/{task}/complete",
        data={"csrf_token": csrf, "row_version": "1", "back": f"/leads/{lead.id}?kind=task"},
        follow_redirects=False,
    )
    after = web_client.get(completed.headers["location"]).text
    reopened = web_client.post(
        f"/leads/{lead.id}/activities/{task}/reopen", data={"csrf_token": csrf}, follow_redirects=False
    )
    canceled = web_client.post(
        f"/leads/{lead.id}/activities/{task}/cancel", data={"csrf_token": csrf}, follow_redirects=False
    )

    assert completed.headers["location"] == f"/leads/{lead.id}?kind=task&done=activity_completed#timeline-section"
    assert "The activity is completed." in after and f'id="reopen-{task}"' in after
    assert reopened.status_code == canceled.status_code == 303
    assert stored(database, task).state is ActivityState.CANCELED


# ---------------------------------------------------------------------------------------------- disqualify, qualify


@pytest.mark.parametrize("cancel", [True, False])
def test_disqualify_cancels_the_open_activities_only_when_asked(web_client, database, actor, cancel):
    lead = make_lead(database, actor)
    task = activity(database, actor, "leads", lead.id, subject="Open one")
    page = web_client.get(f"/leads/{lead.id}").text
    assert "Cancel this lead" in dialog(page, "disqualify-dialog")
    assert "open activities (1)" in dialog(page, "disqualify-dialog")
    data = {"csrf_token": page_csrf(page), "status_reason": "no_longer_interested"}
    if cancel:
        data["cancel_open_activities"] = "1"

    answer = web_client.post(f"/leads/{lead.id}/disqualify", data=data, follow_redirects=False)

    assert answer.status_code == 303
    assert stored(database, task).state is (ActivityState.CANCELED if cancel else ActivityState.OPEN)


def test_the_disqualify_dialog_counts_only_the_activities_the_seller_could_cancel(web_client_for, database, actor):
    """A seller disqualifying their lead cancels their own open activities, not the manager's: the
    checkbox counts what it would cancel."""
    from leadflow.security import service as security

    with database.unit_of_work() as uow:
        security.create_user(
            email="sam.seller@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password="a long enough seller password",
            uow=uow,
            actor=actor,
        )
        uow.commit()
    client = web_client_for("sam.seller@example.com", "a long enough seller password")
    with database.unit_of_work(read_only=True) as uow:
        seller = uow.session.scalars(select(User).where(User.email == "sam.seller@example.com")).one()
    lead = make_lead(database, actor, owner_user_id=str(seller.id))
    activity(database, actor, "leads", lead.id, subject="The seller's", owner_user_id=str(seller.id))
    activity(database, actor, "leads", lead.id, subject="The administrator's")

    page = client.get(f"/leads/{lead.id}").text

    assert "open activities (1)" in dialog(page, "disqualify-dialog")
    assert "open activities (2)" in dialog(web_client_for().get(f"/leads/{lead.id}").text, "disqualify-dialog")


def test_the_disqualify_page_offers_the_checkbox_in_spanish(web_client_for, database, actor):
    lead = make_lead(database, actor)
    activity(database, actor, "leads", lead.id, subject="Open one")

    page = web_client_for(accept_language="es").get(f"/leads/{lead.id}/disqualify").text

    assert "Cancelar las actividades abiertas de este cliente potencial (1)" in page


def test_the_opportunity_made_by_qualifying_shows_the_leads_activities(web_client, database, actor):
    lead = make_lead(database, actor)
    task = activity(database, actor, "leads", lead.id, subject="Lead task")
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()

    page = web_client.get(f"/opportunities/{result.opportunity_ids[0]}").text

    entry = page.split(f'id="activity-{task}"')[1].split("</li>")[0]
    assert "Lead task" in entry and "From the lead" in entry
    assert uuid.UUID(str(task))


def test_the_shortcuts_are_hidden_on_a_closed_opportunity(web_client, database, actor):
    from leadflow.opportunities import closing
    from leadflow.opportunities.schemas import LoseOpportunity

    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    opportunity_id = result.opportunity_ids[0]
    assert 'id="add-task-button"' in web_client.get(f"/opportunities/{opportunity_id}").text
    with database.unit_of_work() as uow:
        closing.lose_opportunity(opportunity_id, LoseOpportunity(description="Budget cut"), uow=uow, actor=actor)
        uow.commit()

    page = web_client.get(f"/opportunities/{opportunity_id}").text

    assert 'id="timeline-shortcuts"' not in page
    close_entry = page.split('<ol class="timeline" id="timeline">')[1]
    assert 'class="timeline-entry close-entry' in close_entry and "Budget cut" in close_entry


def test_a_shortcut_is_hidden_from_whom_may_not_create_its_type(web_client_for, database, actor):
    from leadflow.security import service as security
    from leadflow.security.models import Role
    from leadflow.security.privileges import Depth, Privilege

    with database.unit_of_work() as uow:
        role = uow.session.scalars(select(Role).where(Role.name == "Salesperson")).one()
        security.update_role_privileges(
            role.id, {"tasks": {Privilege.CREATE: Depth.NONE}}, expected_version=None, uow=uow, actor=actor
        )
        security.create_user(
            email="sam.seller@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password="a long enough seller password",
            uow=uow,
            actor=actor,
        )
        uow.commit()
    client = web_client_for("sam.seller@example.com", "a long enough seller password")
    with database.unit_of_work(read_only=True) as uow:
        seller = uow.session.scalars(select(User).where(User.email == "sam.seller@example.com")).one()
    lead = make_lead(database, actor, owner_user_id=str(seller.id))

    page = client.get(f"/leads/{lead.id}").text

    assert 'id="add-phone-call-button"' in page and 'id="add-task-button"' not in page
    assert 'id="quick-task-dialog"' not in page
