"""Tasks, phone calls, appointments and e-mails over HTTP (reference §5): each type created and read back,
the complete / cancel / reopen rules, the lists and the seller's views, timelines that mix notes,
activities and close records, per-type privileges, If-Match, and disqualifying a lead with its
open activities."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from leadflow.activities.models import Activity
from leadflow.core.uow import Database
from leadflow.security.service import create_business_unit, create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, add_note, assert_error, create_lead, qualify

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def create_activity(client: TestClient, **fields: Any) -> dict[str, Any]:
    """POST an activity (a task with a subject unless told otherwise) and return its JSON."""
    body = {"type": "task", "subject": "Call back", **fields}
    response = client.post(f"{API}/activities", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def act(client: TestClient, activity_id: str, action: str, **kwargs: Any) -> Any:
    return client.post(f"{API}/activities/{activity_id}/{action}", **kwargs)


def listed(client: TestClient, path: str = f"{API}/activities", **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list, walking its pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("the list never ended")


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def make_user(
    database: Database,
    email: str,
    *,
    roles: tuple[str, ...] = ("Salesperson",),
    business_unit: str | None = None,
) -> str:
    with database.unit_of_work() as uow:
        if business_unit is not None:
            create_business_unit(business_unit, parent_name=None, uow=uow, actor=None)
        user = create_user(
            email=email,
            full_name=email.split("@")[0].title(),
            role_names=list(roles),
            business_unit_name=business_unit,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
        return str(user.id)


def client_of(app_client: TestClient, database: Database, email: str) -> TestClient:
    """A client of the same app signed in as another user."""
    return TestClient(app_client.app, headers=bearer_headers(database, email))


# ------------------------------------------------------------------------------------------ each type


def test_a_task_is_created_and_read_back_with_its_own_fields(client):
    lead = create_lead(client)
    due = now() + timedelta(days=2)

    response = client.post(
        f"{API}/activities",
        json={
            "type": "task",
            "subject": "Send the brochure",
            "description": "The 2027 one",
            "regarding_table": "leads",
            "regarding_id": lead["id"],
            "priority": "high",
            "due": iso(due),
            "percent_complete": 20,
            "duration_minutes": 30,
        },
    )

    assert response.status_code == 201, response.text
    task = response.json()
    assert response.headers["Location"] == f"/api/v1/activities/{task['id']}"
    assert response.headers["ETag"] == f'"{task["row_version"]}"'
    assert (task["type"], task["state"], task["status_reason"]) == ("task", "open", "not_started")
    assert (task["subject"], task["description"], task["priority"]) == ("Send the brochure", "The 2027 one", "high")
    assert (task["regarding_table"], task["regarding_id"]) == ("leads", lead["id"])
    assert moment(task["due"]) == due and task["overdue"] is False
    assert (task["percent_complete"], task["duration_minutes"]) == (20, 30)
    assert task["owner_user_id"] and task["created_at"] and task["modified_at"]
    assert "start" not in task and "to" not in task  # the fields of other types are not answered
    read = client.get(f"{API}/activities/{task['id']}")
    assert read.status_code == 200 and read.json() == task
    assert read.headers["ETag"] == response.headers["ETag"]


def test_a_phone_call_is_created_already_made(client):
    call = create_activity(
        client,
        type="phone_call",
        subject="Intro call",
        direction="outgoing",
        phone_number=" +34 600 000 000 ",
        left_voicemail=True,
        status_reason="made",
    )

    assert (call["type"], call["state"], call["status_reason"]) == ("phone_call", "completed", "made")
    assert (call["direction"], call["phone_number"], call["left_voicemail"]) == ("outgoing", "+34 600 000 000", True)
    assert call["actual_end"] is not None and call["due"] is None


def test_an_appointment_answers_its_start_end_and_attendees(client, database):
    make_user(database, "bea@example.com")
    users = {user["email"]: user["id"] for user in client.get(f"{API}/users").json()["items"]}
    contact = client.post(f"{API}/contacts", json={"first_name": "Ana", "last_name": "Gil", "email": "ana@x.example"})
    assert contact.status_code == 201, contact.text
    start = now() + timedelta(days=1)

    appointment = create_activity(
        client,
        type="appointment",
        subject="Demo",
        start=iso(start),
        location="Room 4",
        attendees=[
            {"kind": "user", "id": users["bea@example.com"]},
            {"kind": "contact", "id": contact.json()["id"], "optional": True},
        ],
    )

    assert (appointment["state"], appointment["status_reason"]) == ("open", "busy")
    assert moment(appointment["start"]) == start
    assert moment(appointment["end"]) == start + timedelta(minutes=30)  # half an hour unless told
    assert (appointment["location"], appointment["all_day"]) == ("Room 4", False)
    assert appointment["attendees"] == [
        {
            "kind": "user",
            "id": users["bea@example.com"],
            "name": "Bea",
            "address": "bea@example.com",
            "optional": False,
        },
        {
            "kind": "contact",
            "id": contact.json()["id"],
            "name": "Ana Gil",
            "address": "ana@x.example",
            "optional": True,
        },
    ]
    assert "due" not in appointment


def test_an_email_is_recorded_from_the_user_to_its_recipients(client):
    email = create_activity(
        client, type="email", subject="Proposal", to=["buyer@x.example"], cc=["boss@x.example", "cfo@x.example"]
    )

    assert (email["type"], email["state"], email["status_reason"]) == ("email", "open", "draft")
    assert email["sender"] == ["admin@example.com"]
    assert (email["to"], email["cc"]) == (["buyer@x.example"], ["boss@x.example", "cfo@x.example"])
    assert (email["direction"], email["send_attempts"], email["send_error"], email["sent_at"]) == (
        "outgoing",
        0,
        None,
        None,
    )
    assert email["job_id"] is None


def test_an_email_cannot_be_sent_without_a_mail_server(client, database):
    email = create_activity(client, type="email", subject="Proposal", to=["buyer@x.example"])

    response = act(client, email["id"], "send", headers=SPANISH)

    error = assert_error(response, 409, "smtp_not_configured")
    assert error["message"].startswith("No hay ningún servidor de correo configurado")
    assert client.get(f"{API}/activities/{email['id']}").json()["status_reason"] == "draft"


def test_a_change_replaces_the_named_fields_only(client):
    email = create_activity(client, type="email", subject="Proposal", to=["a@x.example"], cc=["c@x.example"])

    response = client.patch(f"{API}/activities/{email['id']}", json={"to": ["b@x.example"], "subject": "Offer"})

    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["subject"], changed["to"], changed["cc"]) == ("Offer", ["b@x.example"], ["c@x.example"])
    assert changed["row_version"] == email["row_version"] + 1
    assert response.headers["ETag"] == f'"{changed["row_version"]}"'


def test_an_activity_is_deleted(client):
    task = create_activity(client)

    assert client.delete(f"{API}/activities/{task['id']}").status_code == 204

    assert_error(client.get(f"{API}/activities/{task['id']}"), 404, "activity_not_found")


# ------------------------------------------------------------------------------- complete / cancel / reopen


def test_completing_a_task_makes_it_completed_and_read_only(client):
    task = create_activity(client, percent_complete=40)

    done = act(client, task["id"], "complete")

    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["status_reason"], done.json()["percent_complete"]) == (
        "completed",
        "completed",
        100,
    )
    assert done.json()["actual_end"] is not None
    assert_error(act(client, task["id"], "complete"), 409, "activity_completed")
    assert_error(client.patch(f"{API}/activities/{task['id']}", json={"subject": "x"}), 409, "activity_closed")
    assert_error(act(client, task["id"], "cancel"), 409, "activity_completed")


def test_a_call_is_completed_with_the_reason_given(client):
    call = create_activity(client, type="phone_call", subject="Call", direction="incoming")

    received = act(client, call["id"], "complete", json={"status_reason": "received"})
    assert received.status_code == 200, received.text
    assert received.json()["status_reason"] == "received"

    other = create_activity(client, type="phone_call", subject="Call")
    refused = act(client, other["id"], "complete", json={"status_reason": "canceled"})
    assert_error(refused, 422, "invalid_status_reason")


def test_a_canceled_activity_is_reopened_before_it_is_completed(client):
    task = create_activity(client)

    canceled = act(client, task["id"], "cancel")
    assert (canceled.json()["state"], canceled.json()["status_reason"]) == ("canceled", "canceled")
    assert_error(act(client, task["id"], "complete"), 409, "activity_canceled")
    assert_error(act(client, task["id"], "cancel"), 409, "activity_canceled")

    reopened = act(client, task["id"], "reopen")
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["state"], reopened.json()["status_reason"], reopened.json()["actual_end"]) == (
        "open",
        "not_started",
        None,
    )
    assert_error(act(client, task["id"], "reopen"), 409, "activity_open")
    assert act(client, task["id"], "complete").json()["state"] == "completed"


def test_a_closed_status_reason_is_given_by_completing_not_by_a_change(client):
    task = create_activity(client)

    response = client.patch(f"{API}/activities/{task['id']}", json={"status_reason": "completed"})

    assert_error(response, 422, "use_complete_or_cancel")
    assert client.patch(f"{API}/activities/{task['id']}", json={"status_reason": "waiting"}).json()[
        "status_reason"
    ] == ("waiting")


def test_only_an_email_is_sent(client):
    task = create_activity(client)

    assert_error(act(client, task["id"], "send"), 409, "not_an_email")


# ------------------------------------------------------------------------------------- lists and views


def test_the_list_is_narrowed_by_type_state_regarding_owner_and_due_time(client, database):
    lead = create_lead(client)
    soon = now() + timedelta(hours=2)
    later = now() + timedelta(days=5)
    task = create_activity(client, due=iso(soon), regarding_table="leads", regarding_id=lead["id"])
    call = create_activity(client, type="phone_call", subject="Call", due=iso(later))
    email = create_activity(client, type="email", subject="Mail", to=["a@x.example"])
    done = create_activity(client, subject="Done")
    act(client, done["id"], "complete")
    make_user(database, "bea@example.com")
    bea = client_of(client, database, "bea@example.com")
    theirs = create_activity(bea, subject="Bea's")
    admin_id = task["owner_user_id"]

    assert set(ids(listed(client, type="task"))) == {task["id"], done["id"], theirs["id"]}
    assert set(ids(listed(client, type=["phone_call", "email"]))) == {call["id"], email["id"]}
    assert set(ids(listed(client, state="completed"))) == {done["id"]}
    # Open ones soonest due first, those without a due time last.
    assert ids(listed(client, state="open"))[:2] == [task["id"], call["id"]]
    assert ids(listed(client, regarding_table="leads", regarding_id=lead["id"])) == [task["id"]]
    assert set(ids(listed(client, owner="me"))) == {task["id"], call["id"], email["id"], done["id"]}
    assert set(ids(listed(client, owner_id=admin_id))) == set(ids(listed(client, owner="me")))
    assert ids(listed(bea, owner="me")) == [theirs["id"]]
    assert set(ids(listed(client, due_before=iso(now() + timedelta(days=1))))) == {task["id"]}


def test_the_list_pages_without_losing_or_repeating_an_activity(client):
    made = [create_activity(client, subject=f"Task {number}")["id"] for number in range(7)]

    pages = []
    cursor = None
    while True:
        page = client.get(f"{API}/activities", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        pages.append(ids(page["items"]))
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert [len(page) for page in pages] == [3, 3, 1]
    assert sorted(sum(pages, [])) == sorted(made)


def test_my_open_shows_my_open_activities_soonest_due_first(client, database):
    undated = create_activity(client, subject="Some day")
    tomorrow = create_activity(client, subject="Tomorrow", due=iso(now() + timedelta(days=1)))
    past = create_activity(client, subject="Late", due=iso(now() - timedelta(days=1)))
    closed = create_activity(client, subject="Done", due=iso(now()))
    act(client, closed["id"], "complete")
    make_user(database, "bea@example.com")
    create_activity(client_of(client, database, "bea@example.com"), subject="Not mine", due=iso(now()))

    assert ids(listed(client, view="my_open")) == [past["id"], tomorrow["id"], undated["id"]]


def test_overdue_shows_open_activities_past_their_due_time(client):
    late = create_activity(client, subject="Late", due=iso(now() - timedelta(hours=1)))
    ended = create_activity(
        client,
        type="appointment",
        subject="Ended",
        start=iso(now() - timedelta(hours=3)),
        end=iso(now() - timedelta(hours=2)),
    )
    create_activity(client, subject="Coming", due=iso(now() + timedelta(hours=1)))
    done = create_activity(client, subject="Late but done", due=iso(now() - timedelta(hours=1)))
    act(client, done["id"], "complete")

    overdue = listed(client, view="overdue")

    assert ids(overdue) == [ended["id"], late["id"]]
    assert all(item["overdue"] for item in overdue)
    assert client.get(f"{API}/activities/{done['id']}").json()["overdue"] is False


def test_due_today_is_today_in_the_readers_time_zone(client):
    # A zone whose date differs from UTC's now, so that a list by UTC's day would be wrong.
    zone_name = "Pacific/Pago_Pago" if datetime.now(UTC).hour < 10 else "Pacific/Kiritimati"
    zone = ZoneInfo(zone_name)
    assert client.patch(f"{API}/me", json={"time_zone": zone_name}).status_code == 200
    today = datetime.now(zone).date()
    assert today != datetime.now(UTC).date()

    def at_noon(day: date) -> str:
        return iso(datetime.combine(day, time(12), zone))

    due_today = create_activity(client, subject="Today", due=at_noon(today))
    create_activity(client, subject="Yesterday", due=at_noon(today - timedelta(days=1)))
    create_activity(client, subject="Tomorrow", due=at_noon(today + timedelta(days=1)))
    # Due today by UTC's calendar, but not by the reader's.
    utc_today = [datetime.combine(datetime.now(UTC).date(), moment, UTC) for moment in (time(0, 1), time(23, 59))]
    only_utc_today = next(moment for moment in utc_today if moment.astimezone(zone).date() != today)
    create_activity(client, subject="Today in UTC", due=iso(only_utc_today))

    assert ids(listed(client, view="due_today")) == [due_today["id"]]


def test_completed_this_week_shows_what_i_completed_since_monday(client, database):
    this_week = create_activity(client, subject="Done now")
    act(client, this_week["id"], "complete")
    last_week = create_activity(client, subject="Done long ago")
    act(client, last_week["id"], "complete")
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(Activity)
            .where(Activity.id == uuid.UUID(last_week["id"]))
            .values(actual_end=datetime.now(UTC) - timedelta(days=8))
        )
        uow.commit()
    create_activity(client, subject="Still open")

    assert ids(listed(client, view="completed_this_week")) == [this_week["id"]]


def test_an_unknown_view_is_refused_in_the_language_asked_for(client):
    english = assert_error(client.get(f"{API}/activities", params={"view": "someday"}), 422, "invalid_view")
    spanish = assert_error(
        client.get(f"{API}/activities", params={"view": "someday"}, headers=SPANISH), 422, "invalid_view"
    )

    assert "my_open" in english["message"]
    assert spanish["message"].startswith("No existe esa vista de actividades")
    assert spanish["details"]["fields"][0]["message"] == "Elija una de las vistas."


# ------------------------------------------------------------------------------------------- timelines


def _win(client: TestClient, opportunity_id: str) -> None:
    response = client.post(f"{API}/opportunities/{opportunity_id}/win", json={"actual_revenue": "1000"})
    assert response.status_code == 200, response.text


def test_the_timeline_mixes_notes_activities_and_close_records_newest_first(client):
    lead = create_lead(client)
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]
    regarding = {"regarding_table": "opportunities", "regarding_id": opportunity_id}
    note = add_note(client, "opportunities", opportunity_id, title="Kick-off").json()
    task = create_activity(client, subject="Prepare", **regarding)
    email = create_activity(client, type="email", subject="Offer", to=["a@x.example"], **regarding)
    call = create_activity(client, type="phone_call", subject="Call", **regarding)
    act(client, call["id"], "complete")
    _win(client, opportunity_id)

    response = client.get(f"{API}/opportunities/{opportunity_id}/timeline")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["kind"] for item in items] == ["close", "phone_call", "email", "task", "note"]
    assert ids(items)[1:] == [call["id"], email["id"], task["id"], note["id"]]
    assert [moment(item["at"]) for item in items] == sorted((moment(item["at"]) for item in items), reverse=True)
    close = items[0]
    assert (close["opportunity_id"], close["state"], close["opportunity_state"], close["status_reason"]) == (
        opportunity_id,
        "completed",
        "won",
        "won",
    )
    assert float(close["actual_revenue"]) == 1000 and close["close_date"]
    assert items[-1]["title"] == "Kick-off" and items[-1]["body"] == note["body"]  # a note keeps its fields
    assert items[2]["to"] == ["a@x.example"] and items[2]["status_reason"] == "draft"


def test_the_timeline_is_narrowed_by_kind_and_state(client):
    lead = create_lead(client)
    regarding = {"regarding_table": "leads", "regarding_id": lead["id"]}
    add_note(client, "leads", lead["id"])
    task = create_activity(client, **regarding)
    done = create_activity(client, subject="Done", **regarding)
    act(client, done["id"], "complete")
    call = create_activity(client, type="phone_call", subject="Call", **regarding)
    path = f"{API}/leads/{lead['id']}/timeline"

    assert [item["kind"] for item in listed(client, path, type="note")] == ["note"]
    assert ids(listed(client, path, type="task")) == [done["id"], task["id"]]
    assert ids(listed(client, path, type=["task", "phone_call"], state="open")) == [call["id"], task["id"]]
    # A state shows activities only: notes have none.
    assert ids(listed(client, path, state="completed")) == [done["id"]]
    assert_error(client.get(path, params={"type": "memo"}), 422, "invalid_type")


def test_the_timeline_pages_across_kinds_without_losing_or_repeating_an_entry(client):
    lead = create_lead(client)
    regarding = {"regarding_table": "leads", "regarding_id": lead["id"]}
    for number in range(4):
        add_note(client, "leads", lead["id"], title=f"Note {number}")
        create_activity(client, subject=f"Task {number}", **regarding)
        create_activity(client, type="phone_call", subject=f"Call {number}", **regarding)
    path = f"{API}/leads/{lead['id']}/timeline"
    whole = ids(listed(client, path, limit=100))

    paged = listed(client, path, limit=5)

    assert len(whole) == 12 and len(set(whole)) == 12
    assert ids(paged) == whole


def test_the_leads_activities_show_on_the_opportunity_it_became(client):
    lead = create_lead(client)
    regarding = {"regarding_table": "leads", "regarding_id": lead["id"]}
    task = create_activity(client, subject="Before qualifying", **regarding)
    note = add_note(client, "leads", lead["id"]).json()
    created = qualify(client, lead["id"])["created"]
    on_opportunity = create_activity(
        client, subject="After", regarding_table="opportunities", regarding_id=created["opportunity_ids"][0]
    )

    items = listed(client, f"{API}/opportunities/{created['opportunity_ids'][0]}/timeline")

    assert ids(items) == [on_opportunity["id"], note["id"], task["id"]]
    assert items[2]["regarding_table"] == "leads"


def test_an_account_timeline_includes_its_contacts_and_opportunities_on_request(client):
    created = qualify(client, create_lead(client)["id"])["created"]
    account_id = created["account_id"]
    on_account = create_activity(client, subject="Account", regarding_table="accounts", regarding_id=account_id)
    on_contact = create_activity(
        client, subject="Contact", regarding_table="contacts", regarding_id=created["contact_id"]
    )
    on_opportunity = create_activity(
        client, subject="Deal", regarding_table="opportunities", regarding_id=created["opportunity_ids"][0]
    )
    path = f"{API}/accounts/{account_id}/timeline"

    assert ids(listed(client, path, type="task")) == [on_account["id"]]
    assert ids(listed(client, path, type="task", include_related="true")) == [
        on_opportunity["id"],
        on_contact["id"],
        on_account["id"],
    ]


# ------------------------------------------------------------------------------------------- privileges


def test_a_salesperson_reads_only_the_types_their_roles_reach_in_another_business_unit(client, database):
    role = client.post(f"{API}/roles", json={"name": "Task reader", "privileges": {"tasks": {"read": 4}}})
    assert role.status_code == 201, role.text
    make_user(database, "nora@example.com", roles=("Salesperson", "Task reader"), business_unit="North")
    nora = client_of(client, database, "nora@example.com")
    task = create_activity(client, subject="Root task")
    appointment = create_activity(client, type="appointment", subject="Root meeting", start=iso(now()))
    call = create_activity(client, type="phone_call", subject="Root call")

    assert nora.get(f"{API}/activities/{task['id']}").status_code == 200
    assert_error(nora.get(f"{API}/activities/{appointment['id']}"), 404, "activity_not_found")
    assert_error(nora.get(f"{API}/activities/{call['id']}"), 404, "activity_not_found")
    assert ids(listed(nora)) == [task["id"]]
    assert_error(act(nora, appointment["id"], "complete"), 404, "activity_not_found")


def test_a_user_without_privileges_on_tasks_cannot_create_a_task(client, database):
    role = client.post(
        f"{API}/roles",
        json={"name": "Caller", "privileges": {"phone_calls": {"create": 1, "read": 1, "write": 1}}},
    )
    assert role.status_code == 201, role.text
    make_user(database, "carl@example.com", roles=("Caller",))
    carl = client_of(client, database, "carl@example.com")

    refused = carl.post(f"{API}/activities", json={"type": "task", "subject": "Not allowed"})

    error = assert_error(refused, 403, "forbidden")
    assert (error["details"]["privilege"], error["details"]["table"]) == ("create", "tasks")
    assert "tasks" in error["message"]
    allowed = carl.post(f"{API}/activities", json={"type": "phone_call", "subject": "Allowed"})
    assert allowed.status_code == 201, allowed.text


def test_regarding_a_record_the_user_cannot_read_is_refused_as_not_found(client, database):
    lead = create_lead(client)
    make_user(database, "nora@example.com", business_unit="North")
    nora = client_of(client, database, "nora@example.com")

    refused = nora.post(
        f"{API}/activities",
        json={"type": "task", "subject": "Snoop", "regarding_table": "leads", "regarding_id": lead["id"]},
    )
    missing = nora.post(
        f"{API}/activities",
        json={"type": "task", "subject": "Snoop", "regarding_table": "leads", "regarding_id": str(uuid.uuid4())},
    )

    assert (
        assert_error(refused, 422, "regarding_id_not_found")["details"]
        == assert_error(missing, 422, "regarding_id_not_found")["details"]
    )
    assert listed(client) == []


# ------------------------------------------------------------------------------------------- If-Match


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "", {"subject": "Mine"}),
        ("POST", "/complete", None),
        ("POST", "/cancel", None),
        ("DELETE", "", None),
    ],
)
def test_a_stale_etag_is_refused_and_changes_nothing(client, method, path, body):
    task = create_activity(client)
    stale = f'"{task["row_version"]}"'
    assert client.patch(f"{API}/activities/{task['id']}", json={"subject": "Theirs"}).status_code == 200

    response = client.request(method, f"{API}/activities/{task['id']}{path}", json=body, headers={"If-Match": stale})

    assert_error(response, 412, "stale_etag")
    current = client.get(f"{API}/activities/{task['id']}")
    assert (current.json()["subject"], current.json()["state"]) == ("Theirs", "open")
    fresh = client.request(
        method, f"{API}/activities/{task['id']}{path}", json=body, headers={"If-Match": current.headers["ETag"]}
    )
    assert fresh.status_code in (200, 204), fresh.text


# ------------------------------------------------------------------------------------------- disqualify


def test_disqualifying_with_cancel_open_activities_cancels_the_open_ones(client):
    lead = create_lead(client)
    regarding = {"regarding_table": "leads", "regarding_id": lead["id"]}
    task = create_activity(client, **regarding)
    call = create_activity(client, type="phone_call", subject="Call", **regarding)
    done = create_activity(client, subject="Done", **regarding)
    act(client, done["id"], "complete")

    response = client.post(
        f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost", "cancel_open_activities": True}
    )

    assert response.status_code == 200, response.text
    states = {item["id"]: (item["state"], item["status_reason"]) for item in listed(client)}
    assert states == {
        task["id"]: ("canceled", "canceled"),
        call["id"]: ("canceled", "canceled"),
        done["id"]: ("completed", "completed"),
    }


def test_disqualifying_without_cancel_open_activities_leaves_them_open(client):
    lead = create_lead(client)
    task = create_activity(client, regarding_table="leads", regarding_id=lead["id"])

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost"})

    assert response.status_code == 200, response.text
    assert client.get(f"{API}/activities/{task['id']}").json()["state"] == "open"
