"""The seller's day from the command line, on SQLite and PostgreSQL: `leadflow activities ...` creates
tasks, calls, appointments and e-mails as it says, completes, cancels and reopens them with the
domain's refusals, lists the seller's views, prints a record's timeline, keeps other units' activities
out of sight, refuses bad input without writing anything, and issues a calendar feed whose address
works; `leads disqualify --cancel-activities` cancels the lead's open activities."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadflow.activities.activity import create_activity
from leadflow.activities.calendar import feed_calendar
from leadflow.activities.models import (
    Activity,
    ActivityParty,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Direction,
    RegardingTable,
)
from leadflow.activities.service import add_note
from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.errors import NotFound
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.schemas import ContactCreate
from leadflow.leads.models import Lead, LeadState
from leadflow.security import service as security
from leadflow.security.actor import Actor, actor_for_email, default_actor
from tests.conftest import ADMIN_EMAIL
from tests.e2e.helpers import API
from tests.factories import make_lead
from tests.integration.test_reset_mail import Inbox, inbox  # noqa: F401  (the SMTP server fixture)

SELLER = "vendedora@example.com"
OTHER_SELLER = "vendedor.sur@example.com"
MADRID = ZoneInfo("Europe/Madrid")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ------------------------------------------------------------------------------------------ helpers


def leadflow(database: Database, *arguments: str, as_user: str = SELLER, env: dict[str, str] | None = None) -> Any:
    """Run ``leadflow ARGUMENTS`` as ``as_user`` on ``database``."""
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(
            app,
            ["--database-url", database.url, "--as", as_user, *arguments],
            env={"COLUMNS": "400", **(env or {})},
        )


def ok(database: Database, *arguments: str, **options: Any) -> str:
    """What a command that must succeed prints."""
    result = leadflow(database, *arguments, **options)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(database: Database, *arguments: str, exit_code: int | None = None, **options: Any) -> str:
    """What a refused command says on stderr (it prints nothing on stdout and no traceback), on one line."""
    result = leadflow(database, *arguments, **options)
    assert result.exit_code != 0, result.output
    if exit_code is not None:
        assert result.exit_code == exit_code, result.output
    assert result.stdout == "" and "Traceback" not in result.output, result.output
    return " ".join(result.stderr.split())


def created_id(output: str) -> uuid.UUID:
    """The id a `Created ...` line ends with."""
    return uuid.UUID(output.split()[-1])


def activity(database: Database, activity_id: uuid.UUID) -> Activity:
    with database.unit_of_work(read_only=True) as uow:
        found = uow.session.get(Activity, activity_id)
        assert found is not None
        return found


def parties(database: Database, activity_id: uuid.UUID) -> list[ActivityParty]:
    with database.unit_of_work(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(ActivityParty)
                .where(ActivityParty.activity_id == activity_id)
                .order_by(ActivityParty.role, ActivityParty.position)
            )
        )


def activity_count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Activity)) or 0


def as_user(database: Database, email: str) -> Actor:
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def listed_ids(database: Database, *arguments: str, as_user: str = SELLER) -> list[uuid.UUID]:
    """The ids ``activities list ARGUMENTS --json`` answers, in its order."""
    document = json.loads(ok(database, "activities", "list", *arguments, "--json", as_user=as_user))
    return [uuid.UUID(item["id"]) for item in document["items"]]


@pytest.fixture
def sellers(database: Database) -> Database:
    """Two salespeople, in the units Norte (SELLER, on Madrid's clock) and Sur (OTHER_SELLER)."""
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        for unit, email, zone in (("Norte", SELLER, "Europe/Madrid"), ("Sur", OTHER_SELLER, None)):
            security.create_business_unit(unit, parent_name=None, uow=uow, actor=admin)
            security.create_user(
                email=email,
                full_name=email.split("@")[0].title(),
                role_names=["Salesperson"],
                business_unit_name=unit,
                password=None,
                time_zone=zone,
                uow=uow,
                actor=admin,
            )
        uow.commit()
    return database


def seller_lead(database: Database, email: str = SELLER) -> uuid.UUID:
    return make_lead(database, as_user(database, email)).id


def seller_task(database: Database, subject: str, *, due: datetime | None = None, **fields: Any) -> uuid.UUID:
    """A task of the salesperson, made through the service."""
    data = {"type": "task", "subject": subject, **({"due": due} if due else {}), **fields}
    with database.unit_of_work() as uow:
        task, _ = create_activity(data, uow=uow, actor=as_user(database, SELLER))
        uow.commit()
    return task.id


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------ creating


def test_each_add_command_creates_what_it_says(sellers: Database) -> None:
    database = sellers
    lead_id = seller_lead(database)
    due = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

    task_id = created_id(
        ok(database, "activities", "add-task", "Enviar propuesta", "--regarding", f"lead:{lead_id}",
           "--due", iso(due), "--priority", "high", "--description", "Con descuento")
    )  # fmt: skip
    task = activity(database, task_id)
    assert (task.type, task.subject, task.priority.value, task.description) == (
        ActivityType.TASK,
        "Enviar propuesta",
        "high",
        "Con descuento",
    )
    assert (task.regarding_table, task.regarding_id, task.scheduled_end) == (RegardingTable.LEADS, lead_id, due)
    assert (task.state, task.status_reason) == (ActivityState.OPEN, ActivityStatus.NOT_STARTED)

    call_id = created_id(
        ok(database, "activities", "add-call", "Llamada de seguimiento", "--phone", "+34 600 000 000", "--made")
    )
    call = activity(database, call_id)
    assert (call.type, call.phone_number, call.direction) == (
        ActivityType.PHONE_CALL,
        "+34 600 000 000",
        Direction.OUTGOING,
    )
    assert (call.state, call.status_reason) == (ActivityState.COMPLETED, ActivityStatus.MADE)
    received = activity(database, created_id(ok(database, "activities", "add-call", "Nos llamó", "--received")))
    assert (received.direction, received.status_reason) == (Direction.INCOMING, ActivityStatus.RECEIVED)
    planned = activity(database, created_id(ok(database, "activities", "add-call", "Llamar", "--due", iso(due))))
    assert (planned.state, planned.status_reason, planned.scheduled_end) == (
        ActivityState.OPEN,
        ActivityStatus.OPEN,
        due,
    )

    with database.unit_of_work() as uow:
        contact = customers.create_contact(
            parse(ContactCreate, {"first_name": "Lucía", "last_name": "Ortega", "email": "lucia@example.com"}),
            uow=uow,
            actor=as_user(database, SELLER),
        )
        uow.commit()
    start = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    appointment_id = created_id(
        ok(database, "activities", "add-appointment", "Demostración", "--start", iso(start),
           "--end", iso(start + timedelta(hours=2)), "--location", "Oficina Madrid",
           "--attendee", f"user:{OTHER_SELLER}", "--attendee", f"contact:{contact.id}",
           "--optional-attendee", "user:admin@example.com")
    )  # fmt: skip
    appointment = activity(database, appointment_id)
    assert (appointment.scheduled_start, appointment.scheduled_end, appointment.location) == (
        start,
        start + timedelta(hours=2),
        "Oficina Madrid",
    )
    assert appointment.status_reason is ActivityStatus.BUSY
    attendees = sorted((p.role.value, p.position, p.party_table, p.address) for p in parties(database, appointment_id))
    assert attendees == [
        ("optional", 2, "users", "admin@example.com"),
        ("required", 0, "users", OTHER_SELLER),
        ("required", 1, "contacts", "lucia@example.com"),
    ]
    all_day = activity(
        database,
        created_id(ok(database, "activities", "add-appointment", "Feria", "--start", "2027-03-05", "--all-day")),
    )
    assert all_day.all_day and (all_day.scheduled_start, all_day.scheduled_end) == (
        datetime(2027, 3, 5, tzinfo=UTC),
        datetime(2027, 3, 6, tzinfo=UTC),
    )

    email_id = created_id(
        ok(database, "activities", "add-email", "Propuesta", "--to", "ana@example.com, luis@example.com",
           "--cc", "jefe@example.com", "--body", "Adjunto la propuesta.")
    )  # fmt: skip
    email = activity(database, email_id)
    assert (email.type, email.description, email.status_reason) == (
        ActivityType.EMAIL,
        "Adjunto la propuesta.",
        ActivityStatus.DRAFT,
    )
    assert sorted((p.role.value, p.position, p.address) for p in parties(database, email_id)) == [
        ("cc", 0, "jefe@example.com"),
        ("sender", 0, SELLER),
        ("to", 0, "ana@example.com"),
        ("to", 1, "luis@example.com"),
    ]
    incoming = activity(
        database,
        created_id(
            ok(
                database,
                "activities",
                "add-email",
                "Consulta",
                "--to",
                SELLER,
                "--sender",
                "cliente@example.com",
                "--incoming",
            )
        ),  # fmt: skip
    )
    assert (incoming.direction, incoming.state, incoming.status_reason) == (
        Direction.INCOMING,
        ActivityState.COMPLETED,
        ActivityStatus.RECEIVED,
    )
    assert sorted((p.role.value, p.address) for p in parties(database, incoming.id)) == [
        ("sender", "cliente@example.com"),
        ("to", SELLER),
    ]


def test_a_date_time_without_a_zone_is_on_the_users_clock(sellers: Database) -> None:
    task_id = created_id(ok(sellers, "activities", "add-task", "Llamar a Ana", "--due", "2027-03-01T10:00"))
    assert activity(sellers, task_id).scheduled_end == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # Madrid: UTC+1
    shown = ok(sellers, "activities", "show", str(task_id))
    assert "2027-03-01 10:00 (Europe/Madrid)" in shown


def test_show_and_update_an_activity(sellers: Database) -> None:
    task_id = seller_task(sellers, "Preparar demo")
    document = json.loads(ok(sellers, "activities", "show", str(task_id), "--json"))
    assert (document["id"], document["type"], document["state"], document["subject"]) == (
        str(task_id),
        "task",
        "open",
        "Preparar demo",
    )
    assert "Changed task Preparar demo y datos" in ok(
        sellers, "activities", "update", str(task_id), "--subject", "Preparar demo y datos",
        "--status-reason", "in_progress", "--percent-complete", "40",
    )  # fmt: skip
    task = activity(sellers, task_id)
    assert (task.subject, task.status_reason, task.percent_complete) == (
        "Preparar demo y datos",
        ActivityStatus.IN_PROGRESS,
        40,
    )
    said = refused(sellers, "activities", "update", str(task_id), "--location", "Sala 1", exit_code=2)
    assert "a task has no such field" in said and "not_for_type" in said
    assert activity(sellers, task_id).location is None


# ------------------------------------------------------------------------------------------ states


def test_complete_cancel_and_reopen_with_their_refusals(sellers: Database) -> None:
    task_id = str(seller_task(sellers, "Revisar contrato"))
    assert "Completed task Revisar contrato (completed/completed)" in ok(sellers, "activities", "complete", task_id)
    assert activity(sellers, uuid.UUID(task_id)).percent_complete == 100
    said = refused(sellers, "activities", "complete", task_id, exit_code=1)
    assert "already completed" in said and "(activity_completed)" in said
    said = refused(sellers, "activities", "cancel", task_id, exit_code=1)
    assert "reopen it before canceling it" in said
    assert "Reopened task Revisar contrato (open/not_started)" in ok(sellers, "activities", "reopen", task_id)
    said = refused(sellers, "activities", "reopen", task_id, exit_code=1)
    assert "already open" in said and "(activity_open)" in said
    assert "Canceled task Revisar contrato (canceled/canceled)" in ok(sellers, "activities", "cancel", task_id)

    said = refused(sellers, "activities", "complete", task_id, exit_code=1)
    assert "This task is canceled; reopen it before completing it." in said and "(activity_canceled)" in said
    assert activity(sellers, uuid.UUID(task_id)).state is ActivityState.CANCELED

    call_id = created_id(ok(sellers, "activities", "add-call", "Llamar a Luis"))
    assert "(completed/received)" in ok(sellers, "activities", "complete", str(call_id), "--reason", "received")
    assert "Deleted phone call Llamar a Luis" in ok(sellers, "activities", "delete", str(call_id))
    assert refused(sellers, "activities", "show", str(call_id), exit_code=3).startswith("Error:")


# ------------------------------------------------------------------------------------------ lists


def test_the_views_list_what_is_due_today_and_overdue(sellers: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    dues = {
        "a minute ago": now - timedelta(minutes=1),
        "in an hour": now + timedelta(hours=1),
        "in three days": now + timedelta(days=3),
        "three days ago": now - timedelta(days=3),
    }
    tasks = {name: seller_task(sellers, name, due=due) for name, due in dues.items()}
    undated = seller_task(sellers, "sin fecha")
    done = seller_task(sellers, "hecha", due=now - timedelta(days=1), status_reason="completed")
    seller_today = datetime.now(MADRID).date()
    today_starts = datetime.combine(seller_today, time(), MADRID)
    today_ends = datetime.combine(seller_today + timedelta(days=1), time(), MADRID)

    overdue = listed_ids(sellers, "--view", "overdue")
    assert overdue == [tasks["three days ago"], tasks["a minute ago"]]  # soonest due first
    due_today = listed_ids(sellers, "--view", "due-today")
    assert due_today == [tasks[name] for name, due in dues.items() if today_starts <= due < today_ends]
    assert listed_ids(sellers, "--view", "my-open") == [
        tasks["three days ago"],
        tasks["a minute ago"],
        tasks["in an hour"],
        tasks["in three days"],
        undated,
    ]
    assert listed_ids(sellers, "--view", "completed-this-week") == [done]

    table = ok(sellers, "activities", "list", "--view", "my-open")
    overdue_rows = {
        match.group() for line in table.splitlines() if "OVERDUE" in line for match in [UUID.search(line)] if match
    }
    assert overdue_rows == {str(tasks["three days ago"]), str(tasks["a minute ago"])}
    assert set(listed_ids(sellers, "--due-before", iso(now))) == {tasks["three days ago"], tasks["a minute ago"], done}
    assert listed_ids(sellers, "--due-before", iso(now), "--state", "open") == [
        tasks["three days ago"],
        tasks["a minute ago"],
    ]


def test_the_list_narrows_by_type_state_regarding_and_owner(sellers: Database) -> None:
    lead_id = seller_lead(sellers)
    on_lead = seller_task(sellers, "sobre el lead", regarding_table="leads", regarding_id=lead_id)
    alone = seller_task(sellers, "sola")
    call_id = created_id(ok(sellers, "activities", "add-call", "Llamada", "--regarding", f"lead:{lead_id}"))
    assert set(listed_ids(sellers, "--type", "task")) == {on_lead, alone}
    assert set(listed_ids(sellers, "--type", "task", "--type", "phone_call")) == {on_lead, alone, call_id}
    assert set(listed_ids(sellers, "--regarding", f"lead:{lead_id}")) == {on_lead, call_id}
    ok(sellers, "activities", "complete", str(alone))
    assert listed_ids(sellers, "--state", "completed") == [alone]
    assert set(listed_ids(sellers, "--owner", "me")) == {on_lead, alone, call_id}
    assert listed_ids(sellers, "--owner", "admin@example.com") == []
    first = json.loads(ok(sellers, "activities", "list", "--limit", "2", "--json"))
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = json.loads(ok(sellers, "activities", "list", "--limit", "2", "--cursor", first["next_cursor"], "--json"))
    assert {item["id"] for item in first["items"] + rest["items"]} == {str(on_lead), str(alone), str(call_id)}


def test_a_salesperson_does_not_see_the_activities_of_another_unit(sellers: Database) -> None:
    theirs = created_id(ok(sellers, "activities", "add-task", "Tarea del Sur", as_user=OTHER_SELLER))
    mine = seller_task(sellers, "Tarea del Norte")
    assert listed_ids(sellers) == [mine]
    assert "Tarea del Sur" not in ok(sellers, "activities", "list")
    said = refused(sellers, "activities", "show", str(theirs), exit_code=3)
    assert "activity" in said
    refused(sellers, "activities", "complete", str(theirs), exit_code=3)
    assert activity(sellers, theirs).state is ActivityState.OPEN
    assert listed_ids(sellers, as_user=OTHER_SELLER) == [theirs]


# ------------------------------------------------------------------------------------------ timeline


def test_the_timeline_shows_a_note_and_an_activity_newest_first(sellers: Database) -> None:
    lead_id = seller_lead(sellers)
    with sellers.unit_of_work() as uow:
        note = add_note(
            RegardingTable.LEADS,
            lead_id,
            title="Primera visita",
            body="Quiere 100 sillas",
            attachment=None,
            max_attachment_bytes=1024,
            uow=uow,
            actor=as_user(sellers, SELLER),
        )
        uow.commit()
    task_id = created_id(ok(sellers, "activities", "add-task", "Enviar catálogo", "--regarding", f"lead:{lead_id}"))
    document = json.loads(ok(sellers, "activities", "timeline", "lead", str(lead_id), "--json"))
    assert [(entry["kind"], entry["id"]) for entry in document["items"]] == [
        ("task", str(task_id)),
        ("note", str(note.id)),
    ]
    table = ok(sellers, "activities", "timeline", "leads", str(lead_id))
    assert table.index("Enviar catálogo") < table.index("Primera visita")
    only_tasks = json.loads(ok(sellers, "activities", "timeline", "lead", str(lead_id), "--type", "task", "--json"))
    assert [entry["kind"] for entry in only_tasks["items"]] == ["task"]
    open_ones = json.loads(ok(sellers, "activities", "timeline", "lead", str(lead_id), "--state", "open", "--json"))
    assert [entry["kind"] for entry in open_ones["items"]] == ["task"]


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (
            ["add-appointment", "Demo", "--start", "2027-03-02T10:00", "--end", "2027-03-02T09:00"],
            2,
            "end: the appointment ends before it starts. (end: end_before_start)",
        ),
        (["add-email", "Hola", "--to", "no-es-un-correo"], 2, "'no-es-un-correo' is not an e-mail address"),
        (
            ["add-task", "Llamar", "--regarding", f"lead:{uuid.UUID(int=7)}"],
            2,
            "(regarding_id_not_found) • No such record. (regarding_id: not_found)",
        ),
        (["add-task", "Llamar", "--regarding", "pedido:123"], 2, "write TABLE:ID"),
        (["add-task", "Llamar", "--due", "mañana"], 2, "is not an ISO 8601 date-time"),
        (["add-appointment", "Demo", "--start", "2027-03-02T10:00", "--attendee", "user:nadie@example.com"], 2,
         "'nadie@example.com' is not the id of a user nor the address of a user"),
        (["add-call", "Llamar", "--made", "--received"], 2, "give --made or --received, not both"),
        (["add-email", "Hola", "--to", "ana@example.com", "--send"], 1, "No mail server is configured"),
    ],
    ids=[
        "end before start",
        "invalid e-mail",
        "unknown regarding id",
        "malformed regarding",
        "bad date",
        "unknown attendee",
        "made and received",
        "no mail server",
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_clear_message_and_writes_nothing(
    sellers: Database, arguments: list[str], exit_code: int, message: str
) -> None:
    result = leadflow(sellers, "activities", *arguments)
    assert result.exit_code == exit_code, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert activity_count(sellers) == 0


def test_an_activity_on_a_closed_lead_is_refused(sellers: Database) -> None:
    lead_id = seller_lead(sellers)
    ok(sellers, "leads", "disqualify", str(lead_id), "--reason", "lost")
    said = refused(sellers, "activities", "add-task", "Tarde", "--regarding", f"lead:{lead_id}", exit_code=1)
    assert "(lead_closed)" in said
    assert activity_count(sellers) == 0


# ------------------------------------------------------------------------------------------ disqualify


def test_disqualify_with_cancel_activities_cancels_the_leads_open_activities(sellers: Database) -> None:
    lead_id = seller_lead(sellers)
    regarding: dict[str, Any] = {"regarding_table": "leads", "regarding_id": lead_id}
    open_task = seller_task(sellers, "Pendiente", **regarding)
    done = seller_task(sellers, "Hecha", status_reason="completed", **regarding)
    elsewhere = seller_task(sellers, "De otro lead", regarding_table="leads", regarding_id=seller_lead(sellers))
    said = ok(sellers, "leads", "disqualify", str(lead_id), "--reason", "no_longer_interested", "--cancel-activities")
    assert "Disqualified" in said and "open activities" in said
    assert activity(sellers, open_task).state is ActivityState.CANCELED
    assert activity(sellers, done).state is ActivityState.COMPLETED
    assert activity(sellers, elsewhere).state is ActivityState.OPEN
    with sellers.unit_of_work(read_only=True) as uow:
        assert uow.session.get_one(Lead, lead_id).state is LeadState.DISQUALIFIED

    kept_lead = seller_lead(sellers)
    kept = seller_task(sellers, "Sigue abierta", regarding_table="leads", regarding_id=kept_lead)
    ok(sellers, "leads", "disqualify", str(kept_lead), "--reason", "lost")
    assert activity(sellers, kept).state is ActivityState.OPEN


# ------------------------------------------------------------------------------------------ calendar feed


def test_the_calendar_feed_address_works_until_revoked(sellers: Database) -> None:
    seller_task(sellers, "Llamar a Ana", due=datetime(2027, 3, 1, 9, tzinfo=UTC))
    assert "no calendar feed" in ok(sellers, "activities", "calendar-feed", "status")
    url = ok(sellers, "activities", "calendar-feed", "issue", env={"LEADFLOW_PUBLIC_URL": "https://crm.example.com/"})
    prefix, suffix = "https://crm.example.com/calendar/", ".ics"
    address = url.strip()
    assert address.startswith(prefix) and address.endswith(suffix), address
    token = address[len(prefix) : -len(suffix)]
    with sellers.unit_of_work(read_only=True) as uow:
        calendar = feed_calendar(token, uow=uow).decode()
    assert "BEGIN:VTODO" in calendar and "Llamar a Ana" in calendar
    assert "You have a calendar feed" in ok(sellers, "activities", "calendar-feed", "status")
    assert "Revoked" in ok(sellers, "activities", "calendar-feed", "revoke")
    with sellers.unit_of_work(read_only=True) as uow, pytest.raises(NotFound):
        feed_calendar(token, uow=uow)


# ------------------------------------------------------------------------------------------ sending


@pytest.fixture
def mail_server(inbox: tuple[Inbox, str]) -> Iterator[tuple[Inbox, dict[str, str]]]:  # noqa: F811
    handler, url = inbox
    yield handler, {"LEADFLOW_SMTP_URL": url}


def test_an_email_is_sent_through_the_mail_server(sellers: Database, mail_server: tuple[Inbox, dict[str, str]]) -> None:
    received, env = mail_server
    sent = ok(sellers, "activities", "add-email", "Propuesta", "--to", "ana@example.com", "--body", "Hola Ana",
              "--send", env=env)  # fmt: skip
    email_id = uuid.UUID(sent.splitlines()[0].split()[-1])
    assert f"E-mail {email_id}: completed/sent" in sent
    assert activity(sellers, email_id).status_reason is ActivityStatus.SENT
    [message] = received.messages
    assert message["Subject"] == "Propuesta" and message["To"] == "ana@example.com"

    draft_id = created_id(ok(sellers, "activities", "add-email", "Segunda", "--to", "luis@example.com"))
    assert f"E-mail {draft_id}: completed/sent" in ok(sellers, "activities", "send", str(draft_id), env=env)
    assert [m["Subject"] for m in received.messages] == ["Propuesta", "Segunda"]
    said = refused(sellers, "activities", "send", str(draft_id), env=env, exit_code=1)
    assert "(email_not_draft)" in said


# ------------------------------------------------------------------------------------------ --json


def test_json_answers_what_the_api_answers(database: Database, client: TestClient) -> None:
    lead_id = make_lead(database, as_user(database, ADMIN_EMAIL)).id
    regarding = f"lead:{lead_id}"
    ok(database, "activities", "add-task", "Tarea", "--regarding", regarding, "--due", "2027-03-01T10:00Z",
       as_user=ADMIN_EMAIL)  # fmt: skip
    ok(database, "activities", "add-appointment", "Visita", "--regarding", regarding, "--start", "2027-03-02T10:00Z",
       "--attendee", f"user:{ADMIN_EMAIL}", as_user=ADMIN_EMAIL)  # fmt: skip
    email_id = created_id(
        ok(database, "activities", "add-email", "Correo", "--regarding", regarding, "--to", "ana@example.com",
           as_user=ADMIN_EMAIL)
    )  # fmt: skip

    def both(cli: list[str], path: str) -> Any:
        from_cli = json.loads(ok(database, *cli, "--json", as_user=ADMIN_EMAIL))
        response = client.get(API + path)
        assert response.status_code == 200, response.text
        assert from_cli == response.json()
        return from_cli

    assert len(both(["activities", "list"], "/activities")["items"]) == 3
    assert both(["activities", "show", str(email_id)], f"/activities/{email_id}")["to"] == ["ana@example.com"]
    timeline = both(["activities", "timeline", "lead", str(lead_id)], f"/leads/{lead_id}/timeline")
    assert [entry["kind"] for entry in timeline["items"]] == ["email", "appointment", "task"]


def test_an_appointment_is_moved_and_a_move_ending_before_its_start_is_refused(sellers: Database) -> None:
    appointment_id = str(
        created_id(ok(sellers, "activities", "add-appointment", "Visita", "--start", "2027-03-02T10:00"))
    )
    ok(sellers, "activities", "update", appointment_id, "--start", "2027-03-03T12:00", "--end", "2027-03-03T13:00")
    moved = activity(sellers, uuid.UUID(appointment_id))
    assert (moved.scheduled_start, moved.scheduled_end) == (  # Madrid: UTC+1 in March
        datetime(2027, 3, 3, 11, tzinfo=UTC),
        datetime(2027, 3, 3, 12, tzinfo=UTC),
    )
    said = refused(sellers, "activities", "update", appointment_id, "--end", "2027-03-03T11:00", exit_code=2)
    assert "ends before it starts" in said
    assert activity(sellers, uuid.UUID(appointment_id)).scheduled_end == datetime(2027, 3, 3, 12, tzinfo=UTC)
    assert "give at least one field" in refused(sellers, "activities", "update", appointment_id, exit_code=2)
