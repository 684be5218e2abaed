"""The activity rules every entry point shares, on both databases: states and status reasons of each
type, privileges per type, what happens to a record's activities when it is qualified, disqualified,
merged, unmerged or deleted, and a timeline that pages through every kind of entry without losing one."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from leadflow.activities import activity as activities
from leadflow.activities.models import (
    Activity,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Note,
    RegardingTable,
)
from leadflow.activities.timeline import record_timeline
from leadflow.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from leadflow.core.uow import Database
from leadflow.leads import service as leads
from leadflow.leads.models import LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities.models import Opportunity
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.privileges import BUILTIN_ROLES, Depth, Privilege
from leadflow.security.service import create_role, create_user
from tests.factories import make_lead
from tests.integration.test_merge import make_note, merge, undo


def add(database: Database, actor: Actor, **fields: Any) -> Activity:
    with database.unit_of_work() as uow:
        activity, _job = activities.create_activity(fields, uow=uow, actor=actor)
        uow.commit()
    return activity


def reload(database: Database, activity_id: uuid.UUID) -> Activity | None:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Activity, activity_id)


def user(database: Database, admin: Actor, email: str, role: str, unit: str | None = None) -> Actor:
    with database.unit_of_work() as uow:
        create_user(
            email=email,
            full_name=email.split("@")[0].title(),
            role_names=[role],
            business_unit_name=unit,
            password=None,
            uow=uow,
            actor=admin,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def call(database: Database, operation: Any, *args: Any, **kwargs: Any) -> Any:
    with database.unit_of_work() as uow:
        result = operation(*args, uow=uow, **kwargs)
        uow.commit()
    return result


# ---------------------------------------------------------------------------------------------- states


@pytest.mark.parametrize(
    ("kind", "fields", "open_reason", "completed_reason"),
    [
        (ActivityType.TASK, {"due": "2030-01-01T10:00:00Z"}, ActivityStatus.NOT_STARTED, ActivityStatus.COMPLETED),
        (ActivityType.PHONE_CALL, {"phone_number": "+34 600 111 222"}, ActivityStatus.OPEN, ActivityStatus.MADE),
        (ActivityType.APPOINTMENT, {"start": "2030-01-01T10:00:00Z"}, ActivityStatus.BUSY, ActivityStatus.COMPLETED),
        (ActivityType.EMAIL, {"to": ["ana@example.es"]}, ActivityStatus.DRAFT, ActivityStatus.COMPLETED),
    ],
)
def test_each_type_opens_with_its_default_reason_and_completes_with_its_own(
    database, actor, kind, fields, open_reason, completed_reason
):
    created = add(database, actor, type=kind, subject="Follow up", **fields)
    assert (created.state, created.status_reason) == (ActivityState.OPEN, open_reason)
    done = call(database, activities.complete_activity, created.id, actor=actor)
    assert (done.state, done.status_reason) == (ActivityState.COMPLETED, completed_reason)
    assert done.actual_end is not None
    reopened = call(database, activities.reopen_activity, created.id, actor=actor)
    assert (reopened.state, reopened.status_reason, reopened.actual_end) == (ActivityState.OPEN, open_reason, None)


def test_an_incoming_call_completes_as_received_and_a_completed_task_is_done_in_full(database, actor):
    incoming = add(database, actor, type="phone_call", subject="Customer rang", direction="incoming")
    assert call(database, activities.complete_activity, incoming.id, actor=actor).status_reason is (
        ActivityStatus.RECEIVED
    )
    task = add(database, actor, type="task", subject="Draft offer", percent_complete=30)
    assert call(database, activities.complete_activity, task.id, actor=actor).percent_complete == 100


def test_a_canceled_activity_is_reopened_before_it_is_completed_and_is_read_only_meanwhile(database, actor):
    task = add(database, actor, type="task", subject="Send brochure")
    call(database, activities.cancel_activity, task.id, actor=actor)
    with pytest.raises(InvalidState) as refused:
        call(database, activities.complete_activity, task.id, actor=actor)
    assert refused.value.code == "activity_canceled"
    with pytest.raises(InvalidState) as refused:
        call(database, activities.update_activity, task.id, {"subject": "Changed"}, actor=actor)
    assert refused.value.code == "activity_closed"
    assert reload(database, task.id).subject == "Send brochure"


def test_a_call_recorded_as_already_made_is_completed_from_the_start(database, actor):
    made = add(database, actor, type="phone_call", subject="Intro call", status_reason="made", duration_minutes=15)
    assert (made.state, made.status_reason, made.duration_minutes) == (
        ActivityState.COMPLETED,
        ActivityStatus.MADE,
        15,
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"type": "task", "subject": "x", "location": "Madrid"}, "not_for_type"),
        ({"type": "appointment", "subject": "x"}, "start_required"),
        (
            {"type": "appointment", "subject": "x", "start": "2030-01-02T10:00:00Z", "end": "2030-01-01T10:00:00Z"},
            "end_before_start",
        ),
        ({"type": "email", "subject": "x", "to": ["not an address"]}, "invalid_email"),
        ({"type": "email", "subject": "x", "status_reason": "sent"}, "set_by_sending"),
        ({"type": "task", "subject": "x", "status_reason": "made"}, "invalid_status_reason"),
        ({"type": "task", "subject": "x", "regarding_table": "leads"}, "regarding_incomplete"),
        ({"type": "task", "subject": "x", "regarding_table": "leads", "regarding_id": str(uuid.uuid4())}, None),
        ({"type": "appointment", "subject": "x", "start": "2030-01-01T10:00:00Z",
          "attendees": [{"kind": "user", "id": str(uuid.uuid4())}]}, "attendees_not_found"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_by_field_and_nothing_is_written(database, actor, fields, code):
    with pytest.raises(ValidationFailed) as refused:
        add(database, actor, **fields)
    assert code is None or refused.value.code == code
    assert refused.value.details["fields"][0]["field"]
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Activity)) == 0


def test_an_activity_cannot_regard_a_closed_lead(database, actor):
    lead = make_lead(database, actor)
    call(database, leads.disqualify_lead, lead.id, LeadStatusReason.LOST, actor=actor)
    with pytest.raises(InvalidState) as refused:
        add(database, actor, type="task", subject="Too late", regarding_table="leads", regarding_id=lead.id)
    assert refused.value.code == "lead_closed"


# ------------------------------------------------------------------------------------------ privileges


def test_privileges_are_per_type(database, actor):
    """A role that may work with phone calls but not tasks sees and makes calls only."""
    with database.unit_of_work() as uow:
        matrix = {table: dict(row) for table, row in BUILTIN_ROLES["Salesperson"].items()}
        matrix["tasks"] = dict.fromkeys(Privilege, Depth.NONE)
        create_role("Caller", matrix, uow=uow, actor=actor)
        uow.commit()
    caller = user(database, actor, "caller@example.com", "Caller")
    own_call = add(database, caller, type="phone_call", subject="Ring back")
    with pytest.raises(Forbidden) as refused:
        add(database, caller, type="task", subject="Not allowed")
    assert refused.value.details["table"] == "tasks"
    admins_task = add(database, actor, type="task", subject="Admin's task", owner_user_id=caller.user_id)
    with database.unit_of_work(read_only=True) as uow:
        seen = activities.list_activities(activities.ActivityFilter(), uow=uow, actor=caller).items
        assert [a.id for a in seen] == [own_call.id]
        with pytest.raises(NotFound):
            activities.get_activity(admins_task.id, uow=uow, actor=caller)


def test_a_salesperson_reads_the_units_activities_but_changes_only_their_own(database, actor):
    ana = user(database, actor, "ana@example.com", "Salesperson")
    ben = user(database, actor, "ben@example.com", "Salesperson")
    bens = add(database, ben, type="task", subject="Ben's task")
    with database.unit_of_work(read_only=True) as uow:
        assert activities.get_activity(bens.id, uow=uow, actor=ana).subject == "Ben's task"
    with pytest.raises(Forbidden):
        call(database, activities.complete_activity, bens.id, actor=ana)
    assert reload(database, bens.id).state is ActivityState.OPEN


def test_a_sales_team_member_records_their_own_calls_but_creates_no_leads(database, actor):
    member = user(database, actor, "member@example.com", "Sales Team Member")
    assert add(database, member, type="phone_call", subject="Logged call").owner_user_id == member.user_id
    with pytest.raises(Forbidden):
        make_lead(database, member)


# ------------------------------------------------------------------------------- the record's lifecycle


def test_qualify_leaves_the_activities_with_the_lead_and_shows_them_on_the_opportunity(database, actor):
    lead = make_lead(database, actor)
    task = add(database, actor, type="task", subject="Send prices", regarding_table="leads", regarding_id=lead.id)
    with database.unit_of_work() as uow:
        leads.qualify_lead(lead.id, QualifyOptions(create_opportunity=True), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.scalars(select(Opportunity).where(Opportunity.originating_lead_id == lead.id)).one()
        page = record_timeline(RegardingTable.OPPORTUNITIES, opportunity.id, uow=uow, actor=actor)
    assert [entry.id for entry in page.items if entry.kind == "task"] == [task.id]
    kept = reload(database, task.id)
    assert (kept.regarding_table, kept.regarding_id, kept.state) == (RegardingTable.LEADS, lead.id, ActivityState.OPEN)
    # Still the lead's, and still open: it can be completed though the lead is closed.
    assert call(database, activities.complete_activity, task.id, actor=actor).state is ActivityState.COMPLETED


@pytest.mark.parametrize("cancel", [True, False])
def test_disqualify_cancels_the_open_activities_only_when_asked(database, actor, cancel):
    lead = make_lead(database, actor)
    regarding = {"regarding_table": "leads", "regarding_id": lead.id}
    open_task = add(database, actor, type="task", subject="Call again", **regarding)
    done = add(database, actor, type="phone_call", subject="First call", status_reason="made", **regarding)
    call(database, leads.disqualify_lead, lead.id, LeadStatusReason.LOST, actor=actor, cancel_open_activities=cancel)
    assert reload(database, open_task.id).state is (ActivityState.CANCELED if cancel else ActivityState.OPEN)
    assert reload(database, done.id).status_reason is ActivityStatus.MADE


def test_disqualify_cancels_only_the_activities_the_user_may_change(database, actor):
    seller = user(database, actor, "seller@example.com", "Salesperson")
    lead = make_lead(database, seller)
    theirs = add(database, seller, type="task", subject="Mine", regarding_table="leads", regarding_id=lead.id)
    someone_elses = add(
        database, actor, type="task", subject="The manager's", regarding_table="leads", regarding_id=lead.id
    )
    call(database, leads.disqualify_lead, lead.id, LeadStatusReason.LOST, actor=seller, cancel_open_activities=True)
    assert reload(database, theirs.id).state is ActivityState.CANCELED
    assert reload(database, someone_elses.id).state is ActivityState.OPEN


def test_merge_moves_the_activities_to_the_master_and_unmerge_brings_them_back(database, actor):
    master = make_lead(database, actor, last_name="Master", email="master@example.com")
    subordinate = make_lead(database, actor, last_name="Subordinate", email="sub@example.com")
    moved = add(database, actor, type="task", subject="Moves", regarding_table="leads", regarding_id=subordinate.id)
    journal = merge(database, actor, "leads", master.id, subordinate.id)
    assert reload(database, moved.id).regarding_id == master.id
    undo(database, actor, journal.id)
    assert reload(database, moved.id).regarding_id == subordinate.id


def test_deleting_a_record_deletes_its_activities(database, actor):
    lead = make_lead(database, actor)
    gone = add(database, actor, type="appointment", subject="Meeting", start="2030-01-01T10:00:00Z",
               regarding_table="leads", regarding_id=lead.id,
               attendees=[{"kind": "user", "id": str(actor.user_id)}])  # fmt: skip
    kept = add(database, actor, type="task", subject="Unrelated")
    call(database, leads.delete_lead, lead.id, actor=actor)
    assert reload(database, gone.id) is None
    assert reload(database, kept.id) is not None


# ------------------------------------------------------------------------------------------ timeline


def test_the_timeline_pages_through_every_kind_newest_first_without_losing_or_repeating_one(database, actor):
    """Notes and activities made at the same instants (ties broken by id) and at random ones: following
    the cursors yields each entry once, in the order of (time, id) descending."""
    lead = make_lead(database, actor)
    regarding = {"regarding_table": "leads", "regarding_id": lead.id}
    made = [add(database, actor, type=kind, subject=f"{kind} {n}", **regarding,
                **({"start": "2030-01-01T10:00:00Z"} if kind == "appointment" else {}))
            for n in range(6) for kind in ("task", "phone_call", "appointment", "email")]  # fmt: skip
    notes = [make_note(database, actor, RegardingTable.LEADS, lead.id, title=f"note {n}") for n in range(10)]
    rng = random.Random(7)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with database.unit_of_work() as uow:
        for model, rows in ((Activity, made), (Note, notes)):
            for row in rows:
                at = base + timedelta(minutes=rng.choice([0, 0, 1, 2, 3]))  # many ties across kinds
                uow.session.execute(update(model).where(model.id == row.id).values(created_at=at))
        uow.commit()
    expected_ids = {row.id for row in made} | {note.id for note in notes}
    seen: list[tuple[datetime, uuid.UUID]] = []
    cursor = None
    with database.unit_of_work(read_only=True) as uow:
        while True:
            page = record_timeline(RegardingTable.LEADS, lead.id, uow=uow, actor=actor, limit=7, cursor=cursor)
            seen += [(entry.at, entry.id) for entry in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert [entry_id for _, entry_id in seen] == [entry_id for _, entry_id in sorted(seen, reverse=True)]
    assert len(seen) == len(expected_ids) and {entry_id for _, entry_id in seen} == expected_ids


def test_the_timeline_filters_by_type_and_state(database, actor):
    lead = make_lead(database, actor)
    regarding = {"regarding_table": "leads", "regarding_id": lead.id}
    task = add(database, actor, type="task", subject="Open task", **regarding)
    done = add(database, actor, type="phone_call", subject="Made call", status_reason="made", **regarding)
    make_note(database, actor, RegardingTable.LEADS, lead.id)
    with database.unit_of_work(read_only=True) as uow:

        def ids(**filters: Any) -> list[uuid.UUID]:
            return [e.id for e in record_timeline(RegardingTable.LEADS, lead.id, uow=uow, actor=actor, **filters).items]

        assert ids(kinds=["task"]) == [task.id]
        assert ids(states=[ActivityState.COMPLETED]) == [done.id]
        assert len(ids()) == 3
        with pytest.raises(ValidationFailed):
            ids(kinds=["fax"])


def test_an_accounts_timeline_includes_its_contacts_and_opportunities_only_when_asked(database, actor):
    lead = make_lead(database, actor, company_name="Northwind")
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(create_opportunity=True), uow=uow, actor=actor)
        uow.commit()
    account_id, contact_id = result.account_id, result.contact_id
    assert account_id is not None and contact_id is not None
    on_contact = add(database, actor, type="task", subject="For the contact", regarding_table="contacts",
                     regarding_id=contact_id)  # fmt: skip
    on_account = add(database, actor, type="task", subject="For the account", regarding_table="accounts",
                     regarding_id=account_id)  # fmt: skip
    with database.unit_of_work(read_only=True) as uow:
        alone = record_timeline(RegardingTable.ACCOUNTS, account_id, uow=uow, actor=actor, kinds=["task"])
        related = record_timeline(
            RegardingTable.ACCOUNTS, account_id, uow=uow, actor=actor, kinds=["task"], include_related=True
        )
    assert [e.id for e in alone.items] == [on_account.id]
    assert {e.id for e in related.items} == {on_account.id, on_contact.id}


# ---------------------------------------------------------------------------------------------- lists


def test_the_views_show_the_users_own_open_due_today_overdue_and_completed_this_week(database, actor):
    now = datetime.now(UTC)
    other = user(database, actor, "other@example.com", "Salesperson")
    overdue = add(database, actor, type="task", subject="Overdue", due=now - timedelta(days=2))
    later = add(database, actor, type="task", subject="Next week", due=now + timedelta(days=8))
    undated = add(database, actor, type="task", subject="Someday")
    done = add(database, actor, type="task", subject="Done")
    call(database, activities.complete_activity, done.id, actor=actor)
    add(database, other, type="task", subject="Not mine", due=now - timedelta(days=1))
    with database.unit_of_work(read_only=True) as uow:

        def view(name: str) -> list[uuid.UUID]:
            filters = activities.ActivityFilter(view=name)
            return [a.id for a in activities.list_activities(filters, uow=uow, actor=actor, time_zone="UTC").items]

        assert view("my_open") == [overdue.id, later.id, undated.id]  # soonest due first, undated last
        assert view("overdue") == [overdue.id]
        assert view("completed_this_week") == [done.id]
        assert later.id not in view("due_today") and overdue.id not in view("due_today")


def test_due_today_follows_the_readers_time_zone(database, actor):
    """23:30 in Madrid on a day is already the next day in UTC... and the other way round in Mexico City."""
    from zoneinfo import ZoneInfo

    madrid_today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    late = datetime.combine(madrid_today, datetime.min.time(), ZoneInfo("Europe/Madrid")) + timedelta(minutes=30)
    task = add(database, actor, type="task", subject="Just after midnight in Madrid", due=late)
    with database.unit_of_work(read_only=True) as uow:
        filters = activities.ActivityFilter(view="due_today")
        in_madrid = activities.list_activities(filters, uow=uow, actor=actor, time_zone="Europe/Madrid").items
    assert task.id in [a.id for a in in_madrid]


def test_an_all_day_appointment_keeps_the_days_as_written_whatever_the_offset(database, actor):
    """Midnight in Madrid is 23:00 UTC the day before; the appointment is still on the day written."""
    meeting = add(
        database,
        actor,
        type="appointment",
        subject="Trade fair",
        all_day=True,
        start="2027-03-10T00:00:00+01:00",
        end="2027-03-12T00:00:00+01:00",
    )
    assert (meeting.scheduled_start, meeting.scheduled_end) == (
        datetime(2027, 3, 10, tzinfo=UTC),
        datetime(2027, 3, 12, tzinfo=UTC),
    )
