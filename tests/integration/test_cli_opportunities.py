"""`leadflow opportunities win|lose|reopen|closes` and `leadflow competitors`, run as the API runs them."""

from __future__ import annotations

import json

from tests.e2e.helpers import API, get_record
from tests.integration.test_cli_json import cli_json, leadflow


def _opportunity(client) -> dict:
    response = client.post(f"{API}/opportunities", json={"name": "Fleet renewal", "estimated_revenue": "25000"})
    assert response.status_code == 201, response.text
    return response.json()


def test_win_reopen_and_the_close_history_from_the_command_line(database, client):
    opportunity = _opportunity(client)
    won = leadflow(
        database,
        "opportunities",
        "win",
        opportunity["id"],
        "--actual-revenue",
        "12000",
        "--close-date",
        "2026-12-01",
        "--description",
        "Signed",
    )
    assert won.exit_code == 0, won.output
    assert "Won opportunity" in won.stdout
    stored = get_record(client, "opportunities", opportunity["id"])
    assert (stored["state"], stored["actual_close_date"]) == ("won", "2026-12-01")

    again = leadflow(database, "opportunities", "win", opportunity["id"])
    assert again.exit_code != 0
    assert "reopen it" in again.output and "Traceback" not in again.output

    assert leadflow(database, "opportunities", "reopen", opportunity["id"]).exit_code == 0
    history = cli_json(database, "opportunities", "closes", opportunity["id"])
    assert history == client.get(f"{API}/opportunities/{opportunity['id']}/closes").json()
    assert [record["state"] for record in history] == ["canceled"]


def test_lose_out_sold_needs_a_competitor_and_takes_one_made_from_the_command_line(database, client):
    opportunity = _opportunity(client)
    refused = leadflow(database, "opportunities", "lose", opportunity["id"], "--status-reason", "out_sold")
    assert refused.exit_code == 2, refused.output
    assert "competitor" in refused.output
    assert get_record(client, "opportunities", opportunity["id"])["state"] == "open"

    created = leadflow(database, "competitors", "create", "Dormobel", "--website", "dormobel.example")
    assert created.exit_code == 0, created.output
    [competitor] = cli_json(database, "competitors", "list")["items"]
    assert competitor == client.get(f"{API}/competitors/{competitor['id']}").json()

    lost = leadflow(
        database,
        "opportunities",
        "lose",
        opportunity["id"],
        "--status-reason",
        "out_sold",
        "--competitor",
        competitor["id"],
    )
    assert lost.exit_code == 0, lost.output
    assert get_record(client, "opportunities", opportunity["id"])["status_reason"] == "out_sold"
    in_use = leadflow(database, "competitors", "delete", competitor["id"])
    assert in_use.exit_code != 0 and "named by opportunities" in in_use.output
    shown = json.loads(leadflow(database, "competitors", "show", competitor["id"], "--json").stdout)
    assert shown["name"] == "Dormobel"


def test_currencies_from_the_command_line_answer_as_the_api(database, client):
    created = leadflow(database, "currencies", "create", "CHF", "--rate", "0.95", "--precision", "2")
    assert created.exit_code == 0, created.output
    listed = cli_json(database, "currencies", "list")
    assert listed == client.get(f"{API}/currencies").json()
    chf = next(item for item in listed if item["iso_code"] == "CHF")
    refused = leadflow(database, "currencies", "change", chf["id"], "--rate", "0")
    assert refused.exit_code == 2 and "exchange_rate" in refused.output
    assert leadflow(database, "currencies", "change", chf["id"], "--rate", "0.5").exit_code == 0
    assert cli_json(database, "currencies", "show", chf["id"])["exchange_rate"] in ("0.5", "0.5000000000")
    recalculated = leadflow(database, "currencies", "recalculate")
    assert recalculated.exit_code == 0 and "opportunities: 0 recalculated" in recalculated.stdout
    assert leadflow(database, "currencies", "delete", chf["id"]).exit_code == 0
