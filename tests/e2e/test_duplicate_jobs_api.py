"""Find-all-duplicates jobs through HTTP: start, follow, page through and export the sets (§9)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadflow.security.service import create_business_unit, create_user
from tests.builtin_rules import unpublish_builtin_rules
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error
from tests.integration.test_duplicate_scan import NAME_RULE, everything, insert_accounts

JOBS = f"{API}/duplicate-jobs"


@pytest.fixture(autouse=True)
def _without_the_similar_account_name_rule(database, actor) -> None:
    """As in tests/integration/test_duplicate_scan.py: these tests count the sets of the account name
    rule, on names the same but for capitals, which the out-of-box similar name rule would set again."""
    unpublish_builtin_rules(database, actor, "Accounts with a similar account name")


def start(client: TestClient, table: str = "accounts") -> dict[str, Any]:
    response = client.post(JOBS, json={"table": table})
    assert response.status_code == 202, response.text
    return response.json()


def add_salesperson(database, actor, *, unit: str | None = None) -> dict[str, str]:
    with database.unit_of_work() as uow:
        if unit:
            create_business_unit(unit, parent_name=None, uow=uow, actor=actor)
        create_user(
            email="sam@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=unit,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return bearer_headers(database, "sam@example.com")


def test_a_job_is_accepted_then_runs_to_completion(client, database, actor):
    acme = insert_accounts(database, actor, "Acme", "ACME")
    insert_accounts(database, actor, "Globex")

    response = client.post(JOBS, json={"table": "accounts"})

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["table"] == "accounts" and accepted["state"] == "queued"
    assert response.headers["Location"] == f"{JOBS}/{accepted['id']}"
    job = client.get(response.headers["Location"]).json()
    assert job["state"] == "completed", job
    assert (job["set_count"], job["record_count"], job["error"]) == (1, 2, None)
    assert job["progress"]["done"] == job["progress"]["total"] == 2
    assert job["started_at"] and job["finished_at"]
    assert job["rules"] == [{"rule_id": job["rules"][0]["rule_id"], "rule_name": NAME_RULE, "sets": 1, "records": 2}]
    sets = client.get(f"{JOBS}/{job['id']}/sets").json()
    assert sets["next_cursor"] is None
    [found] = sets["items"]
    assert (found["position"], found["rule_name"], found["score"], found["size"]) == (1, NAME_RULE, 1.0, 2)
    assert {member["id"] for member in found["members"]} == {str(record_id) for record_id in acme}
    assert set(found["members"][0]) == {"id", "name", "email", "phone", "city", "owner_id", "owner_name"}
    assert found["members"][0]["owner_name"] == "Ada Admin"


def test_jobs_are_listed_newest_first_and_paged(client):
    ids = [start(client, table)["id"] for table in ("accounts", "contacts", "leads")]
    first = client.get(JOBS, params={"limit": 2}).json()
    assert [job["id"] for job in first["items"]] == ids[:0:-1]
    second = client.get(JOBS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [job["id"] for job in second["items"]] == ids[:1] and second["next_cursor"] is None
    assert {job["state"] for job in first["items"] + second["items"]} == {"completed"}


def test_the_sets_are_paged_by_position(client, database, actor):
    names = [f"Company {n}" for n in range(7)]
    insert_accounts(database, actor, *names, *(name.upper() for name in names))
    job = start(client)
    positions, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor is not None else {})
        page = client.get(f"{JOBS}/{job['id']}/sets", params=params).json()
        pages += 1
        positions += [found["position"] for found in page["items"]]
        assert all(len(found["members"]) == 2 for found in page["items"])
        if (cursor := page["next_cursor"]) is None:
            break
    assert positions == list(range(1, 8)) and pages == 3


def test_the_csv_export_is_an_attachment_with_formulas_neutralised(client, database, actor):
    evil = insert_accounts(
        database,
        actor,
        "=cmd|' /C calc'!A0",
        "=CMD|' /C CALC'!A0",
        email="@evil.example",
        telephone="+34 910 000 000",
        address_city="-Madrid",
    )
    job = start(client)

    response = client.get(f"{JOBS}/{job['id']}/sets.csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f"attachment; filename=duplicate-sets-{job['id']}.csv"
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == ["set", "rule", "score", "table", "record_id", "name", "email", "phone", "city", "owner"]
    by_rule: dict[str, list[list[str]]] = {}
    for line in lines[1:]:
        by_rule.setdefault(line[1], []).append(line)
    name_rows = sorted(by_rule[NAME_RULE], key=lambda line: line[4])
    assert [line[4] for line in name_rows] == sorted(str(record_id) for record_id in evil)
    row = next(line for line in name_rows if line[4] == str(evil[0]))
    assert row == [
        "1",
        NAME_RULE,
        "1.0000",
        "accounts",
        str(evil[0]),
        "'=cmd|' /C calc'!A0",
        "'@evil.example",
        "'+34 910 000 000",
        "'-Madrid",
        "Ada Admin",
    ]
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_a_salesperson_may_not_start_a_job_and_nothing_changes(anonymous_client, database, actor):
    headers = add_salesperson(database, actor)
    before = everything(database)
    response = anonymous_client.post(JOBS, json={"table": "accounts"}, headers=headers)
    error = assert_error(response, 403, "forbidden")
    assert error["details"]["table"] == "settings" and error["details"]["privilege"] == "write"
    assert everything(database) == before


def test_a_reader_sees_only_the_members_they_may_read(client, anonymous_client, database, actor):
    headers = add_salesperson(database, actor, unit="Valencia")
    insert_accounts(database, actor, "Acme", "acme")  # the administrator's, in another business unit
    job = start(client)

    sets = anonymous_client.get(f"{JOBS}/{job['id']}/sets", headers=headers)
    export = anonymous_client.get(f"{JOBS}/{job['id']}/sets.csv", headers=headers)

    assert sets.status_code == 200, sets.text
    assert [(found["size"], found["members"]) for found in sets.json()["items"]] == [(2, [])]
    assert export.status_code == 200 and export.text.strip().splitlines()[1:] == []


def test_an_unknown_table_is_refused(client, database):
    before = everything(database)
    error = assert_error(client.post(JOBS, json={"table": "invoices"}), 422, "invalid_option")
    assert "'accounts'" in error["message"] and error["details"]["fields"][0]["field"] == "table"
    assert client.post(JOBS, json={}).status_code == 422
    assert everything(database) == before


def test_an_unknown_job_is_not_found(client):
    missing = uuid.uuid4()
    for path in (f"{JOBS}/{missing}", f"{JOBS}/{missing}/sets", f"{JOBS}/{missing}/sets.csv"):
        assert_error(client.get(path), 404, "duplicate_job_not_found")


def test_signing_in_is_required(anonymous_client):
    assert_error(anonymous_client.get(JOBS), 401, "not_authenticated")
