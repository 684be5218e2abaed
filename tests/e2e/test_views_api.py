"""Lead views over HTTP (§10): the six system views, search, sort and keyset paging."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from leadflow.leads.models import Lead
from leadflow.security.models import User
from tests.e2e.helpers import API, assert_error, create_lead, disqualify, ids, list_view, qualify, snapshot
from tests.factories import lead_data


def _set_created_at(database, lead_id: str, when: datetime) -> None:
    with database.unit_of_work() as uow:
        uow.session.execute(update(Lead).where(Lead.id == uuid.UUID(lead_id)).values(created_at=when))
        uow.commit()


def _other_user(database, actor) -> str:
    with database.unit_of_work() as uow:
        user = User(
            id=uuid.uuid4(),
            email=f"seller-{uuid.uuid4().hex[:6]}@leadflow.local",
            full_name="Another Seller",
            business_unit_id=actor.business_unit_id,
        )
        uow.session.add(user)
        uow.commit()
        return str(user.id)


def _monday(now: datetime) -> datetime:
    monday = now - timedelta(days=now.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_lead_can_be_created_for_another_owner(client, database, actor):
    seller = _other_user(database, actor)

    response = client.post(f"{API}/leads", json=lead_data(owner_user_id=seller))

    assert response.status_code == 201, response.text
    assert response.json()["owner_user_id"] == seller
    assert ids(list_view(client, view="my-open")) == []
    assert ids(list_view(client, view="open", owner_user_id=seller)) == [response.json()["id"]]


def test_my_open_leads_lists_only_open_leads_owned_by_me(client, database, actor):
    mine = create_lead(client)
    theirs = create_lead(client)
    reassigned = client.patch(f"{API}/leads/{theirs['id']}", json={"owner_user_id": _other_user(database, actor)})
    assert reassigned.status_code == 200, reassigned.text
    qualified = create_lead(client)
    qualify(client, qualified["id"])
    disqualified = create_lead(client)
    disqualify(client, disqualified["id"], "cannot_contact")

    assert ids(list_view(client, view="my-open")) == [mine["id"]]
    assert set(ids(list_view(client, view="open"))) == {mine["id"], theirs["id"]}


def test_qualified_and_disqualified_leads_move_from_open_to_closed(client):
    first = create_lead(client)
    second = create_lead(client)
    third = create_lead(client)
    assert set(ids(list_view(client, view="my-open"))) == {first["id"], second["id"], third["id"]}
    assert list_view(client, view="closed") == []

    qualify(client, first["id"])
    disqualify(client, second["id"], "no_longer_interested")

    assert ids(list_view(client, view="my-open")) == [third["id"]]
    assert ids(list_view(client, view="open")) == [third["id"]]
    closed = list_view(client, view="closed")
    assert set(ids(closed)) == {first["id"], second["id"]}
    assert {lead["state"] for lead in closed} == {"qualified", "disqualified"}
    assert set(ids(list_view(client, view="all"))) == {first["id"], second["id"], third["id"]}


def test_a_reactivated_lead_returns_to_the_open_views(client):
    lead = create_lead(client)
    disqualify(client, lead["id"])
    assert list_view(client, view="my-open") == []

    client.post(f"{API}/leads/{lead['id']}/reactivate")

    assert ids(list_view(client, view="my-open")) == [lead["id"]]
    assert list_view(client, view="closed") == []


def test_the_default_view_is_all_leads(client):
    open_lead = create_lead(client)
    closed_lead = create_lead(client)
    disqualify(client, closed_lead["id"])

    response = client.get(f"{API}/leads")

    assert response.status_code == 200
    assert set(ids(response.json()["items"])) == {open_lead["id"], closed_lead["id"]}


def test_week_views_split_leads_at_monday_midnight_utc(client, database):
    monday = _monday(datetime.now(UTC))
    at = {
        "this_week_start": monday,
        "now": datetime.now(UTC) - timedelta(seconds=1),
        "last_week_end": monday - timedelta(microseconds=1),
        "last_week_start": monday - timedelta(days=7),
        "before_last_week": monday - timedelta(days=7, microseconds=1),
        "long_ago": monday - timedelta(days=30),
    }
    leads = {}
    for name, when in at.items():
        leads[name] = create_lead(client, topic=f"Lead {name}")["id"]
        _set_created_at(database, leads[name], when)

    this_week = list_view(client, view="opened-this-week")
    last_week = list_view(client, view="opened-last-week")

    assert set(ids(this_week)) == {leads["this_week_start"], leads["now"]}
    assert set(ids(last_week)) == {leads["last_week_end"], leads["last_week_start"]}
    assert len(list_view(client, view="all")) == len(at)


def test_week_views_include_closed_leads(client, database):
    lead = create_lead(client)
    disqualify(client, lead["id"])

    assert ids(list_view(client, view="opened-this-week")) == [lead["id"]]
    assert list_view(client, view="opened-last-week") == []


def test_search_matches_topic_name_company_and_email_case_insensitively(client):
    by_topic = create_lead(client, topic="Solar PANELS for the roof")
    by_name = create_lead(client, first_name="Panela", last_name="Ruiz")
    by_company = create_lead(client, company_name="Panelworks Ltd")
    by_email = create_lead(client, email="buyer@panelmakers.example")
    create_lead(
        client, topic="Chairs", first_name="Ana", last_name="Díaz", company_name="Sillas SA", email="ana@sillas.example"
    )

    found = list_view(client, view="all", q="panel")

    assert set(ids(found)) == {by_topic["id"], by_name["id"], by_company["id"], by_email["id"]}


def test_search_combines_with_the_view(client):
    open_lead = create_lead(client, topic="Standing desks")
    closed_lead = create_lead(client, topic="Standing desks too")
    disqualify(client, closed_lead["id"])

    assert ids(list_view(client, view="open", q="standing")) == [open_lead["id"]]
    assert ids(list_view(client, view="closed", q="standing")) == [closed_lead["id"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", {"percent"}),
        ("_", {"underscore"}),
        ("' OR 1=1 --", {"quote"}),
        ("\\", {"backslash"}),
        ("50%", {"percent"}),
        ("a_b", {"underscore"}),
        ("'; DROP TABLE leads; --", set()),
    ],
)
def test_sql_metacharacters_in_the_search_are_matched_literally(client, database, q, expected):
    leads = {
        "percent": create_lead(client, topic="50% discount on desks")["id"],
        "underscore": create_lead(client, topic="Export a_b report")["id"],
        "quote": create_lead(client, topic="It's ' OR 1=1 -- in the notes")["id"],
        "backslash": create_lead(client, topic="Path C:\\chairs")["id"],
        "plain": create_lead(client, topic="Ordinary lead")["id"],
    }
    before = snapshot(database)

    found = list_view(client, view="all", q=q)

    assert set(ids(found)) == {leads[name] for name in expected}
    assert snapshot(database) == before
    assert len(list_view(client, view="all")) == len(leads)


def test_sort_by_topic_ascending_and_descending(client):
    for topic in ("Charlie", "Alpha", "Delta", "Bravo"):
        create_lead(client, topic=topic)

    ascending = [lead["topic"] for lead in list_view(client, view="all", sort="topic")]
    descending = [lead["topic"] for lead in list_view(client, view="all", sort="-topic")]

    assert ascending == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert descending == ["Delta", "Charlie", "Bravo", "Alpha"]


def test_sort_by_topic_ignores_letter_case(client):
    for topic in ("Delta", "alpha", "charlie", "Bravo"):
        create_lead(client, topic=topic)

    ascending = [lead["topic"] for lead in list_view(client, view="all", sort="topic", limit=2)]

    assert ascending == ["alpha", "Bravo", "charlie", "Delta"]


def test_sort_by_newest_first_is_the_default(client, database):
    base = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    created = []
    for index in range(4):
        lead = create_lead(client)
        _set_created_at(database, lead["id"], base + timedelta(hours=index))
        created.append(lead["id"])

    assert ids(list_view(client, view="all")) == list(reversed(created))
    assert ids(list_view(client, view="all", sort="-created_at")) == list(reversed(created))
    assert ids(list_view(client, view="all", sort="created_at")) == created


@pytest.mark.parametrize(
    "sort",
    [
        "topic",
        "-topic",
        "-created_at",
        "created_at",
        "company_name",
        "budget_amount",
        "-budget_amount",
        "rating",
        "email",
        "status_reason",
        "full_name",
        "modified_at",
    ],
)
def test_keyset_paging_walks_every_lead_once_in_order(client, database, sort):
    base = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    expected = []
    for index in range(11):
        lead = create_lead(
            client,
            topic=f"Topic {index % 4}",  # ties on the sort column must still page correctly
            company_name=None if index % 3 == 0 else f"Company {index % 2}",
            budget_amount=None if index % 5 == 0 else str(1000 * (index % 3)),
            rating=None if index % 4 == 0 else "warm",
            email=None if index % 2 else f"lead{index}@example.com",
        )
        # several leads share one creation instant
        _set_created_at(database, lead["id"], base + timedelta(minutes=index // 3))
        expected.append(lead["id"])
    everything = list_view(client, view="all", sort=sort, limit=500)
    assert len(everything) == 11

    pages = []
    cursor = None
    for _ in range(10):  # 11 leads fit in 4 pages; a cursor that never advances must not loop forever
        params = {"view": "all", "sort": sort, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = client.get(f"{API}/leads", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 3
        pages.append(ids(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    walked = [lead_id for page in pages for lead_id in page]
    assert walked == ids(everything)  # same order as one big page: no duplicates, nothing missing
    assert len(pages) == 4
    assert sorted(walked) == sorted(expected)


def test_paging_a_search_result(client):
    matching = {create_lead(client, topic=f"Desk order {n}")["id"] for n in range(5)}
    for n in range(4):
        create_lead(client, topic=f"Chair order {n}")

    walked = list_view(client, view="all", q="desk", sort="topic", limit=2)

    assert len(walked) == 5
    assert set(ids(walked)) == matching


def test_an_unknown_sort_column_is_refused(client):
    create_lead(client)

    for sort in ("password", "-owner_user_id", "topic; DROP TABLE leads"):
        response = client.get(f"{API}/leads", params={"sort": sort})
        error = assert_error(response, 422, "invalid_sort")
        assert "topic" in error["message"]
    assert len(list_view(client, view="all")) == 1


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        _encode(b"garbage"),
        _encode(json.dumps(["2024-01-01T00:00:00+00:00", "not-a-uuid"]).encode()),
        _encode(json.dumps({"a": 1}).encode()),
        _encode(json.dumps(123).encode()),
        _encode(json.dumps(["yesterday", "0b0e5c2a-2f54-4c3e-9d7e-3f1f8a9c1d2e"]).encode()),
        _encode(json.dumps([1, 2, 3]).encode()),
    ],
)
def test_a_tampered_cursor_is_refused(client, cursor):
    for _ in range(3):
        create_lead(client)

    response = client.get(f"{API}/leads", params={"cursor": cursor, "limit": 1})

    assert_error(response, 422, "invalid_cursor")


def test_a_cursor_from_another_sort_is_refused(client):
    for _ in range(3):
        create_lead(client)
    cursor = client.get(f"{API}/leads", params={"sort": "topic", "limit": 1}).json()["next_cursor"]
    assert cursor

    response = client.get(f"{API}/leads", params={"sort": "-created_at", "limit": 1, "cursor": cursor})

    assert_error(response, 422, "invalid_cursor")


def test_an_unknown_view_and_an_out_of_range_limit_are_refused(client):
    assert_error(client.get(f"{API}/leads", params={"view": "everything"}), 422, "invalid_option")
    assert_error(client.get(f"{API}/leads", params={"limit": 0}), 422, "out_of_range")
    assert_error(client.get(f"{API}/leads", params={"limit": 501}), 422, "out_of_range")


def test_views_filter_by_rating(client):
    hot = create_lead(client, rating="hot")
    create_lead(client, rating="cold")

    assert ids(list_view(client, view="all", rating="hot")) == [hot["id"]]


def test_search_ignores_case_of_accented_letters_too(client):
    upper = create_lead(client, first_name="JOSÉ", last_name="GARCÍA", company_name="IBÉRICA SA", topic="Sillas")
    # The same name in other capitals: a duplicate for the out-of-box rules, saved anyway.
    response = client.post(
        f"{API}/leads",
        json=lead_data(first_name="josé", last_name="garcía", company_name="ibérica sa", topic="Mesas"),
        params={"suppress_duplicate_detection": "true"},
    )
    assert response.status_code == 201, response.text
    lower = response.json()

    for q in ("garcía", "GARCÍA", "Ibérica"):
        assert set(ids(list_view(client, view="all", q=q))) == {upper["id"], lower["id"]}, q
