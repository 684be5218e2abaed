"""The board and the forecast over HTTP: their shapes, a card moved, the CSV, and the refusals of bad input."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest

from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, field_errors


def _opportunity(client, **fields) -> dict:
    response = client.post(f"{API}/opportunities", json={"name": "Fleet renewal", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _set_rate(client, code: str, rate: str) -> None:
    currency = next(item for item in client.get(f"{API}/currencies").json() if item["iso_code"] == code)
    response = client.patch(f"{API}/currencies/{currency['id']}", json={"exchange_rate": rate})
    assert response.status_code == 200, response.text


def _pipeline(client) -> dict[str, dict]:
    _set_rate(client, "USD", "1.25")
    made = {
        "chairs": _opportunity(
            client, name="Chairs", estimated_revenue="1000", probability=40, estimated_close_date="2026-11-10"
        ),
        "desks": _opportunity(
            client,
            name="Desks",
            estimated_revenue="2500",
            currency="USD",
            probability=80,
            estimated_close_date="2026-12-10",
            rating="hot",
        ),
        "lamps": _opportunity(client, name="Lamps", estimated_revenue="300", estimated_close_date="2027-01-10"),
        "won": _opportunity(client, name="Won", estimated_revenue="700", estimated_close_date="2027-03-01"),
        "lost": _opportunity(client, name="Lost", estimated_revenue="900", estimated_close_date="2026-10-01"),
    }
    assert (
        client.post(f"{API}/opportunities/{made['won']['id']}/win", json={"close_date": "2026-10-15"}).status_code
        == 200
    )
    assert (
        client.post(f"{API}/opportunities/{made['lost']['id']}/lose", json={"close_date": "2026-11-15"}).status_code
        == 200
    )
    return made


def test_the_board_answers_three_columns_with_cards_and_totals_in_base_currency(client):
    made = _pipeline(client)

    response = client.get(f"{API}/board")

    assert response.status_code == 200, response.text
    body = response.json()
    assert [column["stage"] for column in body["columns"]] == ["develop", "propose", "close"]
    develop = body["columns"][0]
    assert [card["name"] for card in develop["cards"]] == ["Chairs", "Desks", "Lamps"]
    assert (develop["count"], develop["hidden"]) == (3, 0)
    assert Decimal(develop["total"]) == Decimal("3300.00")  # 1000 + 2500 / 1.25 + 300
    assert Decimal(develop["weighted_total"]) == Decimal("2000.00")  # 400 + 1600 + 0
    assert body["base_currency"] == "EUR" and body["scope"] == "all" and body["count"] == 3
    desks = develop["cards"][1]
    assert (desks["currency"], Decimal(desks["estimated_revenue"]), Decimal(desks["estimated_revenue_base"])) == (
        "USD",
        Decimal("2500"),
        Decimal("2000"),
    )
    assert desks["id"] == made["desks"]["id"] and desks["movable"] is True
    limited = client.get(f"{API}/board", params={"limit": 1, "close_date": "2026-Q4", "weighted": "true"}).json()
    assert [card["name"] for card in limited["columns"][0]["cards"]] == ["Chairs"]
    assert (limited["columns"][0]["count"], limited["columns"][0]["hidden"], limited["close_period"]) == (
        2,
        1,
        "2026-Q4",
    )


def test_a_card_moves_several_stages_at_once_and_back(client):
    made = _pipeline(client)

    moved = client.post(f"{API}/board/move", json={"opportunity_id": made["chairs"]["id"], "stage": "close"})

    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "opportunity_id": made["chairs"]["id"],
        "previous_stage": "develop",
        "stage": "close",
        "steps": 2,
    }
    assert client.get(f"{API}/opportunities/{made['chairs']['id']}/process").json()["active_stage"] == "close"
    back = client.post(f"{API}/board/move", json={"opportunity_id": made["chairs"]["id"], "stage": "propose"}).json()
    assert (back["previous_stage"], back["steps"]) == ("close", -1)
    columns = {
        column["stage"]: [card["name"] for card in column["cards"]]
        for column in client.get(f"{API}/board").json()["columns"]
    }
    assert columns == {"develop": ["Desks", "Lamps"], "propose": ["Chairs"], "close": []}


@pytest.mark.parametrize(
    ("stage", "status", "code"),
    [
        ("qualify", 409, "qualify_stage_is_on_the_lead"),
        ("nowhere", 422, "unknown_stage"),
    ],
)
def test_a_card_cannot_go_to_qualify_or_to_an_unknown_stage(client, stage, status, code):
    made = _pipeline(client)

    response = client.post(f"{API}/board/move", json={"opportunity_id": made["lamps"]["id"], "stage": stage})

    error = assert_error(response, status, code)
    if status == 422:
        assert field_errors(error) == {"stage": "unknown_stage"}
    assert client.get(f"{API}/opportunities/{made['lamps']['id']}").json()["process_stage"] == "develop"


def test_moving_a_closed_unknown_or_malformed_card_is_refused(client):
    made = _pipeline(client)

    assert_error(
        client.post(f"{API}/board/move", json={"opportunity_id": made["won"]["id"], "stage": "close"}),
        409,
        "opportunity_closed",
    )
    assert_error(
        client.post(f"{API}/board/move", json={"opportunity_id": str(uuid.uuid4()), "stage": "close"}),
        404,
        "opportunity_not_found",
    )
    error = assert_error(
        client.post(f"{API}/board/move", json={"opportunity_id": "x", "stage": "close", "extra": 1}),
        422,
        "validation_failed",
    )
    assert set(field_errors(error)) == {"opportunity_id", "extra"}


def test_the_forecast_per_owner_of_a_quarter(client):
    _pipeline(client)

    response = client.get(f"{API}/forecast", params={"period": "2026-Q4", "group_by": "owner"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["period"], body["period_kind"], body["start"], body["end"]) == (
        "2026-Q4",
        "quarter",
        "2026-10-01",
        "2026-12-31",
    )
    assert (body["group_by"], body["base_currency"]) == ("owner", "EUR")
    [row] = body["rows"]
    assert (row["group_kind"], row["name"]) == ("user", "Ada Admin")
    figures = {name: Decimal(row[name]) for name in ("open_pipeline", "weighted_pipeline", "best_case", "won", "lost")}
    assert figures == {
        "open_pipeline": Decimal("3000.00"),
        "weighted_pipeline": Decimal("2000.00"),
        "best_case": Decimal("2000.00"),
        "won": Decimal("700.00"),
        "lost": Decimal("900.00"),
    }
    assert (row["open_count"], row["won_count"], row["lost_count"], row["win_rate"]) == (2, 1, 1, 0.5)
    assert body["total"]["open_pipeline"] == row["open_pipeline"] and body["total"]["group_kind"] == "total"


def test_the_forecast_of_a_month_and_of_a_year_per_business_unit(client):
    _pipeline(client)

    month = client.get(f"{API}/forecast", params={"period": "2027-01"}).json()
    year = client.get(f"{API}/forecast", params={"period": "2027", "group_by": "business_unit"}).json()

    assert Decimal(month["total"]["open_pipeline"]) == Decimal("300.00") and month["group_by"] == "owner"
    assert [row["name"] for row in year["rows"]] == ["Organisation"]
    assert year["rows"][0]["group_kind"] == "business_unit"
    assert Decimal(year["total"]["open_pipeline"]) == Decimal("300.00")  # the won one counts by its close date, 2026


def test_the_forecast_as_csv(client):
    _pipeline(client)

    response = client.get(f"{API}/forecast.csv", params={"period": "2026-Q4", "group_by": "owner"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="forecast-2026-Q4-owner.csv"' in response.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [
        (line["group"], line["open_pipeline"], line["won"], line["win_rate"], line["currency"]) for line in lines
    ] == [
        ("Ada Admin", "3000.00", "700.00", "0.5000", "EUR"),
        ("Total", "3000.00", "700.00", "0.5000", "EUR"),
    ]


@pytest.mark.parametrize("path", ["forecast", "forecast.csv"])
@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"period": "2026-Q5"}, "period", "invalid_period"),
        ({"period": "2026-13"}, "period", "invalid_period"),
        ({"period": "Q4"}, "period", "invalid_period"),
        ({"group_by": "x"}, "group_by", "invalid_option"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, path, params, field, code):
    response = client.get(f"{API}/{path}", params=params)

    error = assert_error(response, 422, code)
    assert field_errors(error) == {field: code}


def test_a_bad_board_filter_is_refused_naming_the_field(client):
    def refused(**params) -> dict[str, str]:
        response = client.get(f"{API}/board", params=params)
        assert response.status_code == 422, response.text
        return field_errors(response.json()["error"])

    assert refused(close_date="2026-Q5") == {"close_date": "invalid_period"}
    assert list(refused(scope="everyone")) == ["scope"]
    assert list(refused(limit=0)) == ["limit"]


def test_a_refusal_speaks_the_requests_language(client):
    response = client.get(f"{API}/forecast", params={"period": "2026-Q5"}, headers={"Accept-Language": "es"})

    error = assert_error(response, 422, "invalid_period")
    assert error["details"]["fields"][0]["field"] == "period"
    assert "2026-Q5" not in error["details"]["fields"][0]["message"]  # the field's message in Spanish, by its code


def test_the_board_and_forecast_need_a_token(anonymous_client):
    for path in ("board", "forecast", "forecast.csv"):
        assert_error(anonymous_client.get(f"{API}/{path}"), 401, "not_authenticated")


def test_a_salesperson_reads_the_forecast_of_their_business_unit_only(client, database):
    from leadflow.security.service import create_business_unit, create_user

    _pipeline(client)
    with database.unit_of_work() as uow:
        create_business_unit("North", parent_name=None, uow=uow, actor=None)
        create_user(
            email="nora@example.com",
            full_name="Nora North",
            role_names=["Salesperson"],
            business_unit_name="North",
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    client.headers.update(bearer_headers(database, "nora@example.com"))

    body = client.get(f"{API}/forecast", params={"period": "2026-Q4"}).json()
    board = client.get(f"{API}/board").json()

    assert body["rows"] == [] and Decimal(body["total"]["open_pipeline"]) == 0 and body["total"]["win_rate"] is None
    assert board["count"] == 0 and board["scopes"] == ["mine", "all"]
