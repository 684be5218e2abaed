"""`leadflow leads qualify --view VIEW --all --on-duplicate stop|skip|ignore` (§2.6, §5): a line per lead
with its result and the duplicate it matched or why it failed, a summary line, `--json` with the REST
API's fields, and exit code 1 whenever a lead was not qualified.
"""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.uow import Database
from leadflow.security.service import create_user
from tests.e2e.helpers import API, create_lead, get_lead

TWIN_COMPANY = "Muebles Repetidos S.L."
READER = "reader@example.com"


def leadflow(database: Database, *arguments: str) -> Any:
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, ["--database-url", database.url, *arguments], env={"COLUMNS": "400"})


def qualify_open_leads(database: Database, *arguments: str) -> Any:
    return leadflow(database, "leads", "qualify", "--view", "open", "--all", *arguments)


def existing_account(client: TestClient) -> dict[str, Any]:
    response = client.post(f"{API}/accounts", json={"name": TWIN_COMPANY})
    assert response.status_code == 201, response.text
    return response.json()


def line_of(output: str, lead_id: str) -> str:
    [line] = [line for line in output.splitlines() if lead_id in line]
    return line


def states(client: TestClient, leads: list[dict[str, Any]]) -> list[str]:
    return [get_lead(client, lead["id"])["state"] for lead in leads]


def test_skip_prints_each_lead_the_duplicate_it_matched_and_a_summary_and_exits_1(database, client):
    account = existing_account(client)
    first, twin, last = create_lead(client), create_lead(client, company_name=TWIN_COMPANY), create_lead(client)

    result = qualify_open_leads(database, "--on-duplicate", "skip")

    assert result.exit_code == 1, result.output
    assert "duplicate matched or reason" in result.stdout
    assert "qualified" in line_of(result.stdout, first["id"]) and "qualified" in line_of(result.stdout, last["id"])
    twin_line = line_of(result.stdout, twin["id"])
    assert "skipped" in twin_line and TWIN_COMPANY in twin_line and account["id"] in twin_line
    assert "3 leads: 2 qualified, 1 skipped, 0 stopped, 0 failed, 0 not attempted." in result.stdout
    assert "--on-duplicate ignore" in result.stdout
    assert states(client, [first, twin, last]) == ["qualified", "open", "qualified"]


def test_stop_ends_the_run_at_the_first_duplicate_and_counts_the_leads_not_attempted(database, client):
    existing_account(client)
    first, twin = create_lead(client), create_lead(client, company_name=TWIN_COMPANY)
    rest = [create_lead(client), create_lead(client, company_name=TWIN_COMPANY)]

    result = qualify_open_leads(database, "--on-duplicate", "stop", "--batch-size", "1")

    assert result.exit_code == 1, result.output
    assert "stopped" in line_of(result.stdout, twin["id"])
    assert all(lead["id"] not in result.stdout for lead in rest)
    assert "4 leads: 1 qualified, 0 skipped, 1 stopped, 0 failed, 2 not attempted." in result.stdout
    assert states(client, [first, twin, *rest]) == ["qualified", "open", "open", "open"]


def test_ignore_qualifies_every_lead_and_exits_0(database, client):
    existing_account(client)
    leads = [create_lead(client, company_name=TWIN_COMPANY), create_lead(client)]

    result = qualify_open_leads(database, "--on-duplicate", "ignore")

    assert result.exit_code == 0, result.output
    assert "2 leads: 2 qualified, 0 skipped, 0 stopped, 0 failed, 0 not attempted." in result.stdout
    assert states(client, leads) == ["qualified", "qualified"]


def test_a_lead_refused_for_another_reason_is_failed_with_the_reason(database, client):
    lead = create_lead(client)
    with database.unit_of_work() as uow:
        create_user(
            email=READER,
            full_name="Reader",
            role_names=["Sales Team Member"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()

    result = leadflow(
        database, "--as", READER, "leads", "qualify", "--view", "open", "--all", "--on-duplicate", "ignore"
    )

    assert result.exit_code == 1, result.output
    lead_line = line_of(result.stdout, lead["id"])
    assert "failed" in lead_line and "(forbidden)" in lead_line
    assert "1 leads: 0 qualified, 0 skipped, 0 stopped, 1 failed, 0 not attempted." in result.stdout
    assert states(client, [lead]) == ["open"]


def test_json_prints_the_rest_apis_answer_and_still_exits_1(database, client):
    existing_account(client)
    twins = [create_lead(client, company_name=TWIN_COMPANY) for _ in range(3)]
    ids = [lead["id"] for lead in twins]

    result = qualify_open_leads(database, "--on-duplicate", "stop", "--json")

    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    document = json.loads(result.stdout)  # one JSON document, no table nor progress bar around it
    assert [line["result"] for line in document["results"]] == ["stopped"]
    assert document["not_attempted"] == ids[1:]
    # Nothing was qualified, so the API answers the same request with the same document.
    response = client.post(f"{API}/leads/qualify", json={"lead_ids": ids, "on_duplicate": "stop"})
    assert document == response.json()
    assert states(client, twins) == ["open"] * 3


def test_one_lead_with_on_duplicate_ignore_is_qualified_despite_its_duplicate(database, client):
    existing_account(client)
    twin = create_lead(client, company_name=TWIN_COMPANY)

    refused = leadflow(database, "leads", "qualify", twin["id"])
    assert refused.exit_code == 1 and "might already exist" in refused.stderr
    qualified = leadflow(database, "leads", "qualify", twin["id"], "--on-duplicate", "ignore", "--json")

    assert qualified.exit_code == 0, qualified.output
    document = json.loads(qualified.stdout)
    assert document["lead"]["state"] == "qualified" and document["created"]["account_id"]
    assert get_lead(client, twin["id"])["state"] == "qualified"
