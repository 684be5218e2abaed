"""Time zones over HTTP: the organisation's default (/settings/regional), your own (/me), a user's at
creation; an unknown zone is a 422, and the API's own times stay UTC whatever zone anyone reads in."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.security.service import create_user
from tests.conftest import app_for, bearer_headers
from tests.e2e.helpers import API, assert_error, create_lead, field_errors, get_lead

SELLER = "seller@example.com"
MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"


@pytest.fixture
def seller_client(database: Database, settings: Settings):  # type: ignore[no-untyped-def]
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with TestClient(app_for(database, settings), headers=bearer_headers(database, SELLER)) as client:
        yield client


def regional(client: TestClient) -> dict:
    response = client.get(f"{API}/settings/regional")
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{response.json()["row_version"]}"'
    return response.json()


def me(client: TestClient) -> dict:
    response = client.get(f"{API}/me")
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------------- the organisation's default


def test_a_new_organisation_reads_utc(client: TestClient) -> None:
    assert regional(client)["default_time_zone"] == "UTC"


def test_put_and_patch_set_the_default_in_its_iana_spelling(client: TestClient) -> None:
    before = client.get(f"{API}/settings/regional")
    put = client.put(
        f"{API}/settings/regional",
        json={"default_time_zone": "america/new_york"},
        headers={"If-Match": before.headers["ETag"]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["default_time_zone"] == NEW_YORK and put.headers["ETag"] != before.headers["ETag"]
    patched = client.patch(f"{API}/settings/regional", json={"default_time_zone": MADRID})
    assert patched.status_code == 200, patched.text
    assert regional(client)["default_time_zone"] == MADRID
    assert client.patch(f"{API}/settings/regional", json={}).json()["default_time_zone"] == MADRID


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", None, 1, "x" * 65])
def test_an_unknown_default_is_a_422_and_changes_nothing(client: TestClient, method: str, zone: object) -> None:
    before = regional(client)
    response = getattr(client, method)(f"{API}/settings/regional", json={"default_time_zone": zone})
    assert response.status_code == 422, response.text
    assert set(field_errors(response.json()["error"])) == {"default_time_zone"}
    assert regional(client) == before


def test_a_stale_etag_is_refused(client: TestClient) -> None:
    stale = client.get(f"{API}/settings/regional").headers["ETag"]
    client.patch(f"{API}/settings/regional", json={"default_time_zone": MADRID})
    response = client.patch(
        f"{API}/settings/regional", json={"default_time_zone": NEW_YORK}, headers={"If-Match": stale}
    )
    assert_error(response, 412, "stale_etag")
    assert regional(client)["default_time_zone"] == MADRID


def test_a_salesperson_reads_the_default_but_may_not_change_it(client: TestClient, seller_client: TestClient) -> None:
    assert regional(seller_client)["default_time_zone"] == "UTC"
    assert_error(seller_client.put(f"{API}/settings/regional", json={"default_time_zone": MADRID}), 403, "forbidden")
    assert_error(seller_client.patch(f"{API}/settings/regional", json={"default_time_zone": MADRID}), 403, "forbidden")
    assert regional(client)["default_time_zone"] == "UTC"


# ---------------------------------------------------------------------------------------------- your own


def test_me_says_your_zone_and_the_one_in_force(client: TestClient, seller_client: TestClient) -> None:
    assert {key: me(seller_client)[key] for key in ("time_zone", "effective_time_zone")} == {
        "time_zone": None,
        "effective_time_zone": "UTC",
    }
    client.patch(f"{API}/settings/regional", json={"default_time_zone": MADRID})
    assert me(seller_client)["effective_time_zone"] == MADRID

    changed = seller_client.patch(f"{API}/me", json={"time_zone": "america/new_york"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["time_zone"], changed.json()["effective_time_zone"]) == (NEW_YORK, NEW_YORK)
    assert me(seller_client)["time_zone"] == NEW_YORK
    assert me(client)["effective_time_zone"] == MADRID  # the administrator's own is untouched

    assert seller_client.patch(f"{API}/me", json={}).json()["time_zone"] == NEW_YORK  # nothing sent, nothing changes
    cleared = seller_client.patch(f"{API}/me", json={"time_zone": None})
    assert (cleared.json()["time_zone"], cleared.json()["effective_time_zone"]) == (None, MADRID)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "localtime"])
def test_an_unknown_own_zone_is_a_422_and_changes_nothing(seller_client: TestClient, zone: object) -> None:
    seller_client.patch(f"{API}/me", json={"time_zone": MADRID})
    response = seller_client.patch(f"{API}/me", json={"time_zone": zone})
    assert response.status_code == 422, response.text
    assert set(field_errors(response.json()["error"])) == {"time_zone"}
    assert me(seller_client)["time_zone"] == MADRID


def test_me_takes_no_other_field(seller_client: TestClient) -> None:
    response = seller_client.patch(f"{API}/me", json={"email": "someone.else@example.com"})
    assert response.status_code == 422
    assert field_errors(response.json()["error"]) == {"email": "unknown_field"}


# ---------------------------------------------------------------------------------------------- a user's, at creation


def test_a_user_is_created_with_a_zone_and_an_unknown_one_is_a_422(client: TestClient) -> None:
    body = {"email": "ines@example.com", "full_name": "Inés", "roles": ["Salesperson"]}
    created = client.post(f"{API}/users", json={**body, "time_zone": "asia/kolkata"})
    assert created.status_code == 201, created.text
    assert created.json()["time_zone"] == "Asia/Kolkata"
    refused = client.post(f"{API}/users", json={**body, "email": "otto@example.com", "time_zone": "Asia/Atlantis"})
    assert refused.status_code == 422
    assert set(field_errors(refused.json()["error"])) == {"time_zone"}
    emails = {user["email"] for user in client.get(f"{API}/users").json()["items"]}
    assert "ines@example.com" in emails and "otto@example.com" not in emails


# ---------------------------------------------------------------------------------------------- the API's own times


def test_the_apis_times_stay_utc_whatever_zone_the_reader_chose(client: TestClient) -> None:
    lead = create_lead(client)
    before = get_lead(client, lead["id"])
    client.patch(f"{API}/settings/regional", json={"default_time_zone": MADRID})
    client.patch(f"{API}/me", json={"time_zone": "Asia/Kolkata"})
    after = get_lead(client, lead["id"])
    assert (after["created_at"], after["modified_at"]) == (before["created_at"], before["modified_at"])
    assert datetime.fromisoformat(after["created_at"]).utcoffset().total_seconds() == 0
