"""Win, lose and reopen over HTTP, the close records, competitors, and the refusals of bad input."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, field_errors, get_record, money


def _opportunity(client, **fields) -> dict:
    response = client.post(
        f"{API}/opportunities", json={"name": "Fleet renewal", "estimated_revenue": "25000", **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _competitor(client, name: str = "Dormobel") -> dict:
    response = client.post(
        f"{API}/competitors",
        json={"name": name, "website": "dormobel.example", "strengths": "Price", "reported_revenue": "1000000"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_win_answers_the_won_opportunity_as_the_contract_shows(client):
    opportunity = _opportunity(client)
    response = client.post(
        f"{API}/opportunities/{opportunity['id']}/win",
        json={
            "actual_revenue": "12000.00",
            "close_date": "2026-12-01",
            "description": "Signed",
            "status_reason": "won",
        },
    )
    assert response.status_code == 200, response.text
    won = response.json()
    assert (won["state"], won["status_reason"], won["actual_close_date"]) == ("won", "won", "2026-12-01")
    assert money(won["actual_revenue"]) == money("12000")
    assert won["process_status"] == "finished"
    assert response.headers["ETag"] == f'"{won["row_version"]}"'
    [record] = client.get(f"{API}/opportunities/{opportunity['id']}/closes").json()
    assert (record["state"], record["opportunity_state"], record["description"]) == ("completed", "won", "Signed")


def test_lose_out_sold_names_the_competitor_and_reopen_cancels_the_close(client):
    opportunity = _opportunity(client)
    competitor = _competitor(client)
    lost = client.post(
        f"{API}/opportunities/{opportunity['id']}/lose",
        json={
            "status_reason": "out_sold",
            "competitor_id": competitor["id"],
            "actual_revenue": "0",
            "close_date": "2026-11-30",
            "description": "Cheaper",
        },
    )
    assert lost.status_code == 200, lost.text
    assert (lost.json()["state"], lost.json()["status_reason"]) == ("lost", "out_sold")
    named = client.get(f"{API}/opportunities/{opportunity['id']}/competitors").json()
    assert [item["name"] for item in named] == ["Dormobel"]
    assert_error(client.delete(f"{API}/competitors/{competitor['id']}"), 409, "competitor_in_use")

    reopened = client.post(f"{API}/opportunities/{opportunity['id']}/reopen")
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert (body["state"], body["status_reason"], body["actual_revenue"], body["actual_close_date"]) == (
        "open",
        "in_progress",
        None,
        None,
    )
    [record] = client.get(f"{API}/opportunities/{opportunity['id']}/closes").json()
    assert record["state"] == "canceled" and record["competitor_id"] == competitor["id"]


def test_a_closed_opportunity_answers_409_opportunity_closed_to_every_change(client):
    opportunity = _opportunity(client)
    path = f"{API}/opportunities/{opportunity['id']}"
    assert client.post(f"{path}/win", json={}).status_code == 200
    before = get_record(client, "opportunities", opportunity["id"])
    assert_error(client.patch(path, json={"name": "Other"}), 409, "opportunity_closed")
    assert_error(client.post(f"{path}/win", json={}), 409, "opportunity_closed")
    assert_error(client.post(f"{path}/lose", json={}), 409, "opportunity_closed")
    assert_error(client.post(f"{path}/process/next-stage"), 409, "opportunity_closed")
    assert get_record(client, "opportunities", opportunity["id"]) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"actual_revenue": "-1"}, "actual_revenue"),
        ({"close_date": "01/12/2026"}, "close_date"),
        ({"close_date": "2026-13-01"}, "close_date"),
        ({"status_reason": "won"}, "status_reason"),
        ({"status_reason": "out_sold"}, "competitor_id"),
        ({"description": "x" * 2001}, "description"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_close_input_answers_422_naming_the_field_and_changes_nothing(client, body, field):
    opportunity = _opportunity(client)
    response = client.post(f"{API}/opportunities/{opportunity['id']}/lose", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in field_errors(error)
    after = get_record(client, "opportunities", opportunity["id"])
    assert (after["state"], after["row_version"]) == ("open", opportunity["row_version"])
    assert client.get(f"{API}/opportunities/{opportunity['id']}/closes").json() == []


def test_an_unknown_competitor_answers_404_and_a_stale_etag_412_or_409(client):
    opportunity = _opportunity(client)
    assert_error(
        client.post(
            f"{API}/opportunities/{opportunity['id']}/lose",
            json={"status_reason": "out_sold", "competitor_id": str(uuid.uuid4())},
        ),
        404,
        "competitor_not_found",
    )
    stale = client.post(f"{API}/opportunities/{opportunity['id']}/win", json={}, headers={"If-Match": '"99"'})
    assert stale.status_code in (409, 412), stale.text
    assert get_record(client, "opportunities", opportunity["id"])["state"] == "open"


def test_competitors_crud_with_etags(client):
    competitor = _competitor(client, "Rival SA")
    path = f"{API}/competitors/{competitor['id']}"
    changed = client.patch(path, json={"weaknesses": "Support"}, headers={"If-Match": f'"{competitor["row_version"]}"'})
    assert changed.status_code == 200 and changed.json()["weaknesses"] == "Support"
    assert client.patch(
        path, json={"weaknesses": "x"}, headers={"If-Match": f'"{competitor["row_version"]}"'}
    ).status_code in (409, 412)
    listed = client.get(f"{API}/competitors", params={"search": "rival"}).json()
    assert [item["name"] for item in listed["items"]] == ["Rival SA"]
    assert client.delete(path).status_code == 204
    assert_error(client.get(path), 404, "competitor_not_found")


def test_a_team_member_may_read_competitors_but_not_add_them(client, database, anonymous_client):
    _competitor(client)
    created = client.post(
        f"{API}/users", json={"email": "member@example.com", "full_name": "Member", "roles": ["Sales Team Member"]}
    )
    assert created.status_code == 201, created.text
    headers = bearer_headers(database, "member@example.com")
    assert anonymous_client.get(f"{API}/competitors", headers=headers).status_code == 200
    assert_error(anonymous_client.post(f"{API}/competitors", json={"name": "X"}, headers=headers), 403, "forbidden")
