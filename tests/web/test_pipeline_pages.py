"""The board and forecast pages: what they show equals the domain's figures, a card moves with its
buttons (a form post), refusals are shown on the board, the forecast's SVG chart and CSV, both languages."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest

from leadflow.opportunities import closing
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, WinOpportunity
from leadflow.opportunities.service import create_opportunity
from leadflow.reporting.board import BoardQuery, board
from leadflow.reporting.forecast import GroupBy, forecast
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_business_unit, create_user
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sol.seller@example.com"
READER_EMAIL = "rita.reader@example.com"
PASSWORD = "a password of some length"


def make_opportunity(database, actor, **values) -> Opportunity:
    with database.unit_of_work() as uow:
        opportunity = create_opportunity(OpportunityCreate(**values), uow=uow, actor=actor, suppress_duplicates=True)
        uow.commit()
    return opportunity


def some_pipeline(database, actor) -> dict[str, Opportunity]:
    made = {
        "chairs": make_opportunity(
            database,
            actor,
            name="Chairs for Bilbao",
            estimated_revenue="1200.50",
            probability=50,
            estimated_close_date=date(2026, 11, 20),
        ),
        "desks": make_opportunity(
            database,
            actor,
            name="Desks for Vigo",
            estimated_revenue="2500",
            currency="USD",
            probability=80,
            estimated_close_date=date(2026, 12, 1),
        ),
        "lamps": make_opportunity(database, actor, name="Lamps", estimated_revenue="300"),
    }
    won = make_opportunity(database, actor, name="Won already", estimated_revenue="999")
    with database.unit_of_work() as uow:
        closing.win_opportunity(won.id, WinOpportunity(close_date=date(2026, 11, 2)), uow=uow, actor=actor)
        uow.commit()
    return made


def column_of(html: str, stage: str) -> str:
    found = re.search(rf'<section class="board-column" id="column-{stage}".*?</section>', html, re.DOTALL)
    assert found is not None, stage
    return found.group(0)


def card_names(html: str, stage: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<h3 class="card-name"><a [^>]*>(.*?)</a>', column_of(html, stage))]


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.DOTALL)
    assert found is not None, element_id
    return unescape(found.group(1)).strip()


def user(database, email: str, role: str, unit: str | None = None):
    with database.unit_of_work() as uow:
        if unit:
            create_business_unit(unit, parent_name=None, uow=uow, actor=None)
        create_user(
            email=email,
            full_name=email.split(".")[0].title(),
            role_names=[role],
            business_unit_name=unit,
            password=PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


# ---------------------------------------------------------------------------------------------- the board


def test_the_board_shows_three_columns_with_the_cards_and_totals_of_the_domain(web_client, database, actor):
    some_pipeline(database, actor)
    with database.unit_of_work(read_only=True) as uow:
        expected = board(BoardQuery(), uow=uow, actor=actor)

    page = web_client.get("/board")

    assert page.status_code == 200, page.text
    html = page.text
    assert re.findall(r'<section class="board-column" id="column-(\w+)"', html) == ["develop", "propose", "close"]
    assert card_names(html, "develop") == ["Chairs for Bilbao", "Desks for Vigo", "Lamps"]
    assert "Won already" not in html
    develop = expected.columns[0]
    assert text_of(html, "count-develop") == f"Opportunities: {develop.count}"
    assert text_of(html, "total-develop") == f"€{develop.total:,.2f}" == "€4,000.50"  # 1200.50 + 2500 (USD at 1) + 300
    assert "in EUR" in column_of(html, "develop")
    assert text_of(html, "total-propose") == "€0.00"


def test_the_weighted_option_shows_totals_weighted_by_probability(web_client, database, actor):
    some_pipeline(database, actor)

    html = web_client.get("/board?weighted=on").text

    assert text_of(html, "total-develop") == "€2,600.25"  # 1200.50 × 50 % + 2500 × 80 % + 300 × 0
    assert "weighted" in column_of(html, "develop")
    assert 'id="filter-weighted" name="weighted" value="on" checked' in html


def test_a_card_moves_with_its_button_and_the_board_keeps_its_filters(web_client, database, actor):
    made = some_pipeline(database, actor)
    html = web_client.get("/board?close_date=2026-Q4&weighted=on").text
    card = re.search(rf'<li class="card movable" id="card-{made["chairs"].id}".*?</li>', html, re.DOTALL).group(0)
    assert f'name="move" value="{made["chairs"].id}:propose"' in card
    assert 'aria-label="Move Chairs for Bilbao on to Propose"' in card
    assert "move-previous" not in card  # Develop is the first stage of an opportunity
    assert '<input type="hidden" name="close_date" value="2026-Q4">' in html  # the move keeps the filters

    response = web_client.post(
        "/board/move",
        data={
            "csrf_token": page_csrf(html),
            "move": f"{made['chairs'].id}:propose",
            "close_date": "2026-Q4",
            "weighted": "on",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/board?") and location.endswith(f"#card-{made['chairs'].id}")
    assert "close_date=2026-Q4" in location and "weighted=on" in location and "focus=next" in location
    after = web_client.get(location.split("#")[0]).text
    assert card_names(after, "propose") == ["Chairs for Bilbao"]
    assert "Chairs for Bilbao" not in card_names(after, "develop")
    assert text_of(after, "notice") == "<p>Chairs for Bilbao moved to Propose."
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Opportunity, made["chairs"].id).process_stage == "propose"


def test_a_refused_move_is_shown_on_the_board_and_changes_nothing(web_client, database, actor):
    made = some_pipeline(database, actor)
    html = web_client.get("/board").text
    with database.unit_of_work() as uow:  # closed by someone else meanwhile
        closing.win_opportunity(made["lamps"].id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()

    response = web_client.post("/board/move", data={"csrf_token": page_csrf(html), "move": f"{made['lamps'].id}:close"})

    assert response.status_code == 409
    alert = re.search(r'<div class="alert" role="alert" id="board-error".*?</div>', response.text, re.DOTALL).group(0)
    assert "The opportunity is closed as won; reopen it before changing it." in alert
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Opportunity, made["lamps"].id).process_stage == "develop"


def test_a_move_without_the_forms_token_is_refused(web_client, database, actor):
    made = some_pipeline(database, actor)

    response = web_client.post("/board/move", data={"move": f"{made['lamps'].id}:propose"})

    assert response.status_code == 403
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Opportunity, made["lamps"].id).process_stage == "develop"


def test_a_reader_without_write_sees_cards_without_move_buttons_and_cannot_move_them(web_client_for, database, actor):
    made = some_pipeline(database, actor)
    user(database, READER_EMAIL, "Sales Team Member")
    reader = web_client_for(READER_EMAIL, PASSWORD)

    html = reader.get("/board").text

    assert card_names(html, "develop") == ["Chairs for Bilbao", "Desks for Vigo", "Lamps"]
    assert "move-next" not in html and 'draggable="true"' not in html
    refused = reader.post("/board/move", data={"csrf_token": page_csrf(html), "move": f"{made['lamps'].id}:propose"})
    assert refused.status_code == 403 and 'id="board-error"' in refused.text


def test_a_salesperson_of_another_unit_sees_only_their_units_cards_and_owners(web_client_for, database, actor):
    some_pipeline(database, actor)
    seller = user(database, SELLER_EMAIL, "Salesperson", unit="North")
    make_opportunity(database, seller, name="North deal", estimated_revenue="10")
    client = web_client_for(SELLER_EMAIL, PASSWORD)

    html = client.get("/board").text

    assert card_names(html, "develop") == ["North deal"]
    owners = re.search(r'<select id="filter-owner".*?</select>', html, re.DOTALL).group(0)
    assert "Sol" in owners and "Ada Admin" not in owners
    assert "My team's opportunities" not in html  # not in a team
    assert card_names(client.get("/board?scope=mine").text, "develop") == ["North deal"]


def test_a_close_date_filter_that_names_no_period_is_explained_and_ignored(web_client, database, actor):
    some_pipeline(database, actor)

    response = web_client.get("/board?close_date=2026-Q5")

    assert response.status_code == 422
    assert 'id="board-error"' in response.text
    assert len(card_names(response.text, "develop")) == 3


def test_the_board_in_spanish(web_client_for, database, actor):
    some_pipeline(database, actor)

    html = web_client_for(accept_language="es").get("/board").text

    assert '<h1 id="board-title">Tablero de canalización</h1>' in html
    assert re.search(r'<h2 id="column-develop-title">Desarrollar</h2>', html)
    assert text_of(html, "total-develop") == "4.000,50\xa0€"
    assert "en EUR" in column_of(html, "develop")
    assert 'aria-label="Pasar Chairs for Bilbao a Proponer"' in html


# ---------------------------------------------------------------------------------------------- the forecast


def forecast_rows(html: str) -> dict[str, list[str]]:
    table = re.search(r'<table class="data-table forecast-table" id="forecast-table">(.*?)</table>', html, re.DOTALL)
    assert table is not None
    rows = {}
    for heading, cells in re.findall(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', table.group(1), re.DOTALL):
        rows[unescape(heading)] = [
            re.sub(r"[ \t\n]+", " ", unescape(re.sub(r"<[^>]+>", "", cell))).strip()
            for cell in re.findall(r'<td class="number">(.*?)</td>', cells, re.DOTALL)
        ]
    return rows


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_forecast_page_draws_an_accessible_svg_chart_and_a_table_of_the_domains_figures(
    web_client_for, database, actor, language
):
    some_pipeline(database, actor)
    with database.unit_of_work(read_only=True) as uow:
        expected = forecast("2026-Q4", GroupBy.OWNER, uow=uow, actor=actor)

    page = web_client_for(accept_language=language).get("/forecast?period=2026-Q4&group_by=owner")

    assert page.status_code == 200, page.text
    html = page.text
    svg = re.search(r"<svg (.*?)</svg>", html, re.DOTALL).group(1)
    assert 'role="img"' in svg and 'aria-labelledby="chart-forecast-title chart-forecast-desc"' in svg
    assert svg.count('<rect class="bar won"') == 1 and svg.count('<rect class="bar open_pipeline"') == 1
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing is loaded from another site"
    rows = forecast_rows(html)
    row = expected.rows[0]
    assert (row.name, row.open_pipeline, row.won, row.win_rate) == (
        "Ada Admin",
        Decimal("3700.50"),
        Decimal("999.00"),
        1.0,
    )
    if language == "en":
        assert rows["Ada Admin"] == ["€3,700.50 (2)", "€2,600.25", "€2,500.00 (1)", "€999.00 (1)", "€0.00 (0)", "100%"]
        assert rows["Total"][0] == "€3,700.50 (2)"
        assert '<h1 id="forecast-title">Forecast</h1>' in html and "Q4 2026" in html
    else:
        assert rows["Ada Admin"] == [
            "3.700,50\xa0€ (2)",
            "2.600,25\xa0€",
            "2.500,00\xa0€ (1)",
            "999,00\xa0€ (1)",
            "0,00\xa0€ (0)",
            "100\xa0%",
        ]
        assert '<h1 id="forecast-title">Previsión</h1>' in html and "T4 2026" in html
        assert (
            "Mejor caso: las oportunidades abiertas con una probabilidad de al menos el 70 % o con clasificación Caliente."
            in html
        )


def test_the_forecast_csv_download_holds_the_pages_figures(web_client, database, actor):
    some_pipeline(database, actor)

    response = web_client.get("/forecast.csv?period=2026-Q4&group_by=owner")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="forecast-2026-Q4-owner.csv"' in response.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [(line["group"], line["open_pipeline"], line["won"]) for line in lines] == [
        ("Ada Admin", "3700.50", "999.00"),
        ("Total", "3700.50", "999.00"),
    ]


def test_a_period_that_names_none_is_explained(web_client, database, actor):
    response = web_client.get("/forecast?period=2026-Q5")

    assert response.status_code == 422
    assert 'id="forecast-error"' in response.text


def test_the_forecast_per_business_unit_and_its_period_links(web_client, database, actor):
    some_pipeline(database, actor)

    html = web_client.get("/forecast?period=2026-11&group_by=business_unit").text

    assert list(forecast_rows(html)) == ["Organisation", "Total"]
    assert 'href="/forecast?period=2026-10&amp;group_by=business_unit" id="previous-period"' in html
    assert 'href="/forecast?period=2026-12&amp;group_by=business_unit" id="next-period"' in html
    assert '<option value="2026-11" selected>' in html


def test_the_pages_are_in_the_site_map(web_client):
    html = web_client.get("/dashboard").text

    assert '<a href="/board">Pipeline board</a>' in html and '<a href="/forecast">Forecast</a>' in html


@pytest.mark.parametrize(("move", "status"), [("not-an-id:propose", 404), ("{lamps}:nowhere", 422), ("{lamps}", 422)])
def test_a_move_that_names_no_card_or_no_stage_is_explained_on_the_board(web_client, database, actor, move, status):
    made = some_pipeline(database, actor)
    html = web_client.get("/board").text

    response = web_client.post(
        "/board/move", data={"csrf_token": page_csrf(html), "move": move.format(lamps=made["lamps"].id)}
    )

    assert response.status_code == status
    assert 'id="board-error"' in response.text and len(card_names(response.text, "develop")) == 3
