"""The dashboard page: SVG charts with titles and data tables, figures equal to independent counts, per-locale formats."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape

import pytest
from sqlalchemy import select

from leadflow.core.schemas import parse
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_business_unit, create_user
from tests.factories import make_lead

NORTH_EMAIL = "nora.north@example.com"
NORTH_PASSWORD = "north password of some length"
CHARTS = {
    "chart-leads-by-status": ("Leads by status", "Clientes potenciales por estado"),
    "chart-leads-by-source": ("Leads by source", "Clientes potenciales por origen"),
    "chart-qualification-rate": ("Qualification rate per week", "Tasa de calificación por semana"),
    "chart-opportunities-by-stage": ("Open opportunities by stage", "Oportunidades abiertas por fase"),
    "chart-revenue-by-stage": ("Estimated revenue by stage", "Ingresos estimados por fase"),
}


def table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """A chart's data table as {row heading: [cells]}."""
    table = re.search(rf'<table class="data-table" id="{table_id}">(.*?)</table>', html, re.DOTALL)
    assert table is not None, table_id
    rows = {}
    for heading, cells in re.findall(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', table.group(1), re.DOTALL):
        rows[unescape(heading)] = [unescape(cell) for cell in re.findall(r'<td class="number">(.*?)</td>', cells)]
    return rows


def make_opportunity(database, actor, **values):
    with database.unit_of_work() as uow:
        opportunity = opportunities.create_opportunity(parse(OpportunityCreate, values), uow=uow, actor=actor)
        uow.commit()
    return opportunity


def some_sales(database, actor) -> None:
    """Leads of several sources and states, and opportunities at two stages."""
    for source in ("web", "web", "partner", "trade_show", None):
        make_lead(database, actor, lead_source=source)
    for _ in range(2):
        lead = make_lead(database, actor, lead_source="seminar")
        with database.unit_of_work() as uow:
            leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
            uow.commit()
    cancelled = make_lead(database, actor, lead_source="web")
    with database.unit_of_work() as uow:
        leads.disqualify_lead(cancelled.id, LeadStatusReason.CANCELED, uow=uow, actor=actor)
        uow.commit()
    make_opportunity(database, actor, name="Direct deal", estimated_revenue="1200.50")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_dashboard_draws_five_accessible_svg_charts_with_titles_and_tables(
    web_client_for, database, actor, language
):
    some_sales(database, actor)

    page = web_client_for(accept_language=language).get("/dashboard")

    assert page.status_code == 200, page.text
    assert page.text.count("<svg ") == len(CHARTS)
    for chart_id, titles in CHARTS.items():
        title = titles[0] if language == "en" else titles[1]
        svg = re.search(rf'<section class="chart-card" id="{chart_id}".*?<svg (.*?)</svg>', page.text, re.DOTALL)
        assert svg is not None, chart_id
        assert 'role="img"' in svg.group(1)
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg.group(1)
        assert f'<title id="{chart_id}-title">{title}</title>' in svg.group(1)
        assert f'<desc id="{chart_id}-desc">' in svg.group(1)
        assert f'id="{chart_id}-table"' in page.text
    assert ("Dashboard" if language == "en" else "Panel") in page.text


def test_the_figures_equal_counts_made_independently(web_client, database, actor):
    some_sales(database, actor)
    with database.unit_of_work(read_only=True) as uow:
        every_lead = list(uow.session.scalars(select(Lead)))
        open_opportunities = list(
            uow.session.scalars(select(Opportunity).where(Opportunity.state == OpportunityState.OPEN))
        )
    statuses = Counter(lead.status_reason.value for lead in every_lead)
    sources = Counter(lead.lead_source.value if lead.lead_source else None for lead in every_lead)
    stages = Counter(opportunity.process_stage for opportunity in open_opportunities)
    revenue = sum(opportunity.estimated_revenue or 0 for opportunity in open_opportunities)

    page = web_client.get("/dashboard").text

    by_status = table_rows(page, "chart-leads-by-status-table")
    assert by_status == {
        "New": [str(statuses["new"])],
        "Contacted": ["0"],
        "Qualified": [str(statuses["qualified"])],
        "Lost": ["0"],
        "Cannot contact": ["0"],
        "No longer interested": ["0"],
        "Canceled": [str(statuses["canceled"])],
    }
    by_source = table_rows(page, "chart-leads-by-source-table")
    assert by_source["Web"] == [str(sources["web"])] and by_source["Seminar"] == [str(sources["seminar"])]
    assert by_source["No source"] == [str(sources[None])] and by_source["Advertisement"] == ["0"]
    assert sum(int(cells[0]) for cells in by_source.values()) == len(every_lead)
    by_stage = table_rows(page, "chart-opportunities-by-stage-table")
    assert by_stage == {"Develop": [str(stages["develop"])], "Propose": ["0"], "Close": ["0"]}
    assert table_rows(page, "chart-revenue-by-stage-table")["Develop"] == [f"€{revenue:,.2f}"]
    assert f'<span class="figure-value">{len(every_lead)}</span> Leads' in page
    weeks = table_rows(page, "chart-qualification-rate-table")
    assert len(weeks) == 12
    assert sum(int(created) for created, _, _ in weeks.values()) == len(every_lead)
    assert sum(int(qualified) for _, qualified, _ in weeks.values()) == statuses["qualified"]
    for created, qualified, rate in weeks.values():
        assert rate == (f"{round(100 * int(qualified) / int(created))}%" if int(created) else "—")
    assert (statuses["new"], statuses["qualified"], statuses["canceled"], stages["develop"]) == (5, 2, 1, 3)


def test_numbers_and_money_follow_the_locale(web_client_for, database, actor):
    make_opportunity(database, actor, name="Big deal", estimated_revenue="1234567.5")
    for _ in range(3):
        make_lead(database, actor, lead_source="web")

    english = web_client_for(accept_language="en").get("/dashboard").text
    spanish = web_client_for(accept_language="es").get("/dashboard").text

    assert table_rows(english, "chart-revenue-by-stage-table")["Develop"] == ["€1,234,567.50"]
    assert table_rows(spanish, "chart-revenue-by-stage-table")["Desarrollar"] == ["1.234.567,50\xa0€"]
    assert table_rows(spanish, "chart-leads-by-source-table")["Web"] == ["3"]
    assert {
        rate for created, _, rate in table_rows(spanish, "chart-qualification-rate-table").values() if created != "0"
    } == {"0\xa0%"}
    assert {
        rate for created, _, rate in table_rows(english, "chart-qualification-rate-table").values() if created != "0"
    } == {"0%"}


def test_a_salesperson_of_another_unit_counts_only_their_units_records(web_client_for, database, actor):
    some_sales(database, actor)
    with database.unit_of_work() as uow:
        create_business_unit("North", parent_name=None, uow=uow, actor=None)
        create_user(
            email=NORTH_EMAIL,
            full_name="Nora North",
            role_names=["Salesperson"],
            business_unit_name="North",
            password=NORTH_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        north = actor_for_email(uow.session, NORTH_EMAIL)
    make_lead(database, north, lead_source="partner")
    make_opportunity(database, north, name="North deal", estimated_revenue="300")

    page = web_client_for(NORTH_EMAIL, NORTH_PASSWORD).get("/dashboard").text

    assert '<span class="figure-value">1</span> Leads' in page
    assert table_rows(page, "chart-leads-by-source-table")["Partner"] == ["1"]
    assert table_rows(page, "chart-leads-by-source-table")["Web"] == ["0"]
    assert table_rows(page, "chart-opportunities-by-stage-table")["Develop"] == ["1"]
    assert table_rows(page, "chart-revenue-by-stage-table")["Develop"] == ["€300.00"]


def test_the_dashboard_needs_a_signed_in_user(anonymous_client):
    response = anonymous_client.get("/dashboard", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/sign-in?next=/dashboard"
