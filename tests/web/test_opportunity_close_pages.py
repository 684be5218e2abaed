"""An opportunity's life in the web app: closing it as won or lost (in a dialog, or on the form's own page
without JavaScript), the refusals that keep the user's input, the closed page read-only with Reopen, the
close records in its timeline, the competitors (their pages and those named in a deal) and the currencies
administrators keep. In English and Spanish, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from leadflow.core.formatting import amount_input
from leadflow.core.schemas import parse
from leadflow.opportunities import closing
from leadflow.opportunities import competitors as competitor_service
from leadflow.opportunities import service as opportunity_service
from leadflow.opportunities.models import CloseState, Competitor, Opportunity, OpportunityClose, OpportunityCompetitor
from leadflow.opportunities.schemas import (
    CompetitorCreate,
    LoseOpportunity,
    OpportunityCreate,
    OpportunityUpdate,
    WinOpportunity,
)
from leadflow.organisation import currencies as currency_service
from leadflow.organisation.currencies import CurrencyCreate
from leadflow.organisation.models import Currency
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_user, set_time_zone
from tests.conftest import ADMIN_EMAIL
from tests.e2e.helpers import snapshot
from tests.web.test_records_pages import form_fields

SELLER_EMAIL = "sam.seller@example.com"
MEMBER_EMAIL = "tina.member@example.com"
PASSWORD = "a password long enough to pass"


# ---------------------------------------------------------------------------------------------- helpers


def make_opportunity(database, actor, **values):
    data = {"name": "Fleet renewal", "estimated_revenue": "25000.5", **values}
    with database.unit_of_work() as uow:
        opportunity = opportunity_service.create_opportunity(parse(OpportunityCreate, data), uow=uow, actor=actor)
        uow.commit()
    return opportunity


def make_competitor(database, actor, name="Dormobel", **values):
    with database.unit_of_work() as uow:
        competitor = competitor_service.create_competitor(CompetitorCreate(name=name, **values), uow=uow, actor=actor)
        uow.commit()
    return competitor


def loaded(database, opportunity_id) -> Opportunity:
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, opportunity_id)
        uow.session.expunge(opportunity)
        return opportunity


def closes_of(database, opportunity_id) -> list[OpportunityClose]:
    with database.unit_of_work(read_only=True) as uow:
        found = list(
            uow.session.scalars(
                select(OpportunityClose)
                .where(OpportunityClose.opportunity_id == opportunity_id)
                .order_by(OpportunityClose.created_at)
            )
        )
        for close in found:
            uow.session.expunge(close)
        return found


def user(database, email, role):
    with database.unit_of_work() as uow:
        create_user(
            email=email,
            full_name=email.split("@")[0].replace(".", " ").title(),
            role_names=[role],
            business_unit_name=None,
            password=PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def close_form(html: str, kind: str) -> dict[str, str]:
    """What the record page's dialog (or the form's own page) would post."""
    form_id = f"{kind}-dialog-form" if f'id="{kind}-dialog-form"' in html else f"{kind}-form"
    return form_fields(html, form_id)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', html)
    assert match is not None, f"no error next to {field_id}"
    return unescape(match.group(1))


def counted(database, model) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return len(list(uow.session.scalars(select(model))))


# ---------------------------------------------------------------------------------------------- the open page


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "en",
            [
                "Close as won",
                "Close as lost",
                "Probability",
                "Rating",
                "Status reason",
                "In progress",
                "Actual revenue",
                "Exchange rate",
                "Competitors",
                "No competitors named in this deal.",
            ],
        ),
        (
            "es",
            [
                "Cerrar como ganada",
                "Cerrar como perdida",
                "Probabilidad",
                "Clasificación",
                "Motivo para el estado",
                "En curso",
                "Ingresos reales",
                "Tipo de cambio",
                "Competidores",
                "Ningún competidor en esta venta.",
            ],
        ),
    ],
    ids=["en", "es"],
)
def test_an_open_opportunity_offers_both_closes_with_their_forms_prefilled(
    web_client_for, database, actor, language, labels
):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:  # the administrator works from Madrid: "today" is Madrid's
        set_time_zone(actor.user_id, "Europe/Madrid", uow=uow, actor=actor)
        uow.commit()
    client = web_client_for(accept_language=language)

    page = client.get(f"/opportunities/{opportunity.id}").text

    for label in labels:
        assert label in page, label
    won, lost = close_form(page, "won"), close_form(page, "lost")
    today = datetime.now(ZoneInfo("Europe/Madrid")).date().isoformat()
    version = loaded(database, opportunity.id).row_version
    assert won == {
        "csrf_token": won["csrf_token"],
        "row_version": str(version),
        "status_reason": "won",
        "actual_revenue": amount_input(Decimal("25000.5"), language),
        "close_date": today,
        "description": "",
    }
    assert lost["status_reason"] == "canceled" and lost["close_date"] == today and lost["actual_revenue"] == ""
    assert re.findall(r'<option value="(\w+)"', page.split('id="lost-status-reason"')[1].split("</select>")[0]) == [
        "canceled",
        "out_sold",
    ]
    # Without JavaScript the buttons lead to the same forms on pages of their own.
    for path in ("close-as-won", "close-as-lost"):
        assert f'href="/opportunities/{opportunity.id}/{path}?row_version={version}"' in page
        fallback = client.get(f"/opportunities/{opportunity.id}/{path}?row_version={version}")
        assert fallback.status_code == 200 and 'id="cancel-' in fallback.text


def test_the_form_saves_probability_rating_and_an_open_status_reason(web_client, database, actor):
    opportunity = make_opportunity(database, actor)
    page = web_client.get(f"/opportunities/{opportunity.id}").text
    fields = form_fields(page)
    assert re.findall(r'<option value="(\w+)"', page.split('id="field-status_reason"')[1].split("</select>")[0]) == [
        "in_progress",
        "on_hold",
    ]
    fields.update(probability="70", rating="hot", status_reason="on_hold")

    saved = web_client.post(f"/opportunities/{opportunity.id}", data=fields, follow_redirects=False)

    assert saved.status_code == 303, saved.text
    stored = loaded(database, opportunity.id)
    assert (stored.probability, stored.rating.value, stored.status_reason.value) == (70, "hot", "on_hold")


def test_a_probability_out_of_range_is_refused_next_to_the_field(web_client_for, database, actor):
    opportunity = make_opportunity(database, actor)
    client = web_client_for(accept_language="es")
    fields = form_fields(client.get(f"/opportunities/{opportunity.id}").text)
    fields.update(probability="150")
    before = snapshot(database)

    refused = client.post(f"/opportunities/{opportunity.id}", data=fields)

    assert refused.status_code == 422
    assert field_error(refused.text, "field-probability") == "Este valor está fuera del intervalo permitido."
    assert 'name="probability" value="150"' in refused.text
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- closing as won


@pytest.mark.parametrize(
    ("language", "typed", "notice"),
    [
        ("en", "30000.50", "The opportunity was closed as won."),
        ("es", "30.000,50", "La oportunidad se cerró como ganada."),
    ],
    ids=["en", "es"],
)
def test_closing_as_won_records_the_revenue_and_date_and_leaves_the_page_read_only(
    web_client_for, database, actor, language, typed, notice
):
    opportunity = make_opportunity(database, actor)
    client = web_client_for(accept_language=language)
    fields = close_form(client.get(f"/opportunities/{opportunity.id}").text, "won")
    fields.update(actual_revenue=typed, close_date="2026-11-27", description="Signed after the demo")

    closed = client.post(f"/opportunities/{opportunity.id}/win", data=fields, follow_redirects=False)

    assert closed.status_code == 303, closed.text
    stored = loaded(database, opportunity.id)
    assert (stored.state.value, stored.status_reason.value) == ("won", "won")
    assert stored.actual_revenue == Decimal("30000.50") and stored.actual_close_date.isoformat() == "2026-11-27"
    [record] = closes_of(database, opportunity.id)
    assert (record.state, record.description, record.closed_by_id) == (
        CloseState.COMPLETED,
        "Signed after the demo",
        actor.user_id,
    )
    page = client.get(closed.headers["location"]).text
    assert notice in page
    # Read-only: no Save, no close commands, no note form, every field disabled; Reopen instead.
    for absent in (
        'id="save-button"',
        'id="close-as-won-button"',
        'id="close-as-lost-button"',
        'id="note-form"',
        'id="won-dialog-form"',
        'id="add-competitor-form"',
        'id="next-stage-button"',
    ):
        assert absent not in page, absent
    assert 'id="reopen-button"' in page and 'id="closed-banner"' in page
    assert form_fields(page) == {"csrf_token": form_fields(page)["csrf_token"], "row_version": str(stored.row_version)}
    # The close figures and the close record in the timeline.
    assert "Signed after the demo" in page
    shown = {
        "en": ["€30,000.50", "27 Nov 2026", "Closed by Ada Admin"],
        "es": ["30.000,50\xa0€", "27 nov 2026", "Cerrado por Ada Admin"],
    }[language]
    for text in shown:
        assert text in unescape(page), text


def test_an_empty_actual_revenue_closes_with_the_estimated_revenue(web_client, database, actor):
    opportunity = make_opportunity(database, actor)
    fields = close_form(web_client.get(f"/opportunities/{opportunity.id}").text, "won")
    fields.update(actual_revenue="", close_date="")

    web_client.post(f"/opportunities/{opportunity.id}/win", data=fields)

    stored = loaded(database, opportunity.id)
    assert stored.actual_revenue == Decimal("25000.5") and stored.actual_close_date is not None


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The opportunity is closed as won; reopen it before changing it."),
        ("es", "La oportunidad está cerrada como ganada; vuelva a abrirla antes de cambiarla."),
    ],
    ids=["en", "es"],
)
def test_a_closed_opportunity_refuses_its_old_form_in_the_users_language(
    web_client_for, database, actor, language, message
):
    opportunity = make_opportunity(database, actor)
    client = web_client_for(accept_language=language)
    stale_form = form_fields(client.get(f"/opportunities/{opportunity.id}").text)
    with database.unit_of_work() as uow:
        closing.win_opportunity(opportunity.id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()
    before = snapshot(database)
    stale_form.update(name="Renamed after the close", row_version=str(loaded(database, opportunity.id).row_version))

    refused = client.post(f"/opportunities/{opportunity.id}", data=stale_form)

    assert refused.status_code == 409
    assert message in refused.text
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- closing as lost


@pytest.mark.parametrize(
    ("language", "message", "field_message"),
    [
        (
            "en",
            "Name the competitor who won the deal: an out-sold opportunity needs one.",
            "Choose the competitor who won the deal.",
        ),
        (
            "es",
            "Indique el competidor que ganó la venta: una oportunidad superada por la competencia lo necesita.",
            "Elija el competidor que ganó la venta.",
        ),
    ],
    ids=["en", "es"],
)
def test_out_sold_without_a_competitor_is_refused_next_to_the_field_and_changes_nothing(
    web_client_for, database, actor, language, message, field_message
):
    opportunity = make_opportunity(database, actor)
    make_competitor(database, actor)
    client = web_client_for(accept_language=language)
    fields = close_form(client.get(f"/opportunities/{opportunity.id}").text, "lost")
    fields.update(status_reason="out_sold", competitor_id="", actual_revenue="1200", description="They were cheaper")
    before = snapshot(database)

    refused = client.post(f"/opportunities/{opportunity.id}/lose", data=fields)

    assert refused.status_code == 422
    assert message in unescape(refused.text)
    assert field_error(refused.text, "lost-competitor-id") == field_message
    assert 'aria-invalid="true" aria-describedby="lost-competitor-id-hint lost-competitor-id-error"' in refused.text
    kept = close_form(refused.text, "lost")
    assert (kept["status_reason"], kept["actual_revenue"], kept["description"]) == (
        "out_sold",
        "1200",
        "They were cheaper",
    )
    assert snapshot(database) == before and closes_of(database, opportunity.id) == []
    assert loaded(database, opportunity.id).state.value == "open"


def test_lost_to_a_competitor_names_it_in_the_deal_and_in_the_timeline(web_client_for, database, actor):
    opportunity = make_opportunity(database, actor)
    competitor = make_competitor(database, actor, name="Dormobel")
    client = web_client_for(accept_language="es")
    fields = close_form(client.get(f"/opportunities/{opportunity.id}").text, "lost")
    assert f'<option value="{competitor.id}">Dormobel</option>' in client.get(f"/opportunities/{opportunity.id}").text
    fields.update(status_reason="out_sold", competitor_id=str(competitor.id), description="Precio")

    closed = client.post(f"/opportunities/{opportunity.id}/lose", data=fields, follow_redirects=False)

    assert closed.status_code == 303, closed.text
    stored = loaded(database, opportunity.id)
    assert (stored.state.value, stored.status_reason.value, stored.actual_revenue) == ("lost", "out_sold", None)
    page = client.get(closed.headers["location"]).text
    assert "La oportunidad se cerró como perdida." in page
    assert "Superado por la competencia" in page and "Perdido" in page
    timeline = page.split('id="timeline"')[1]
    assert f'<a href="/competitors/{competitor.id}">Dormobel</a>' in timeline
    assert f'<a href="/competitors/{competitor.id}">Dormobel</a>' in page.split('id="competitors"')[1]
    assert 'id="remove-competitor-1"' not in page  # closed: the deal's competitors stay as they were


def test_canceled_needs_no_competitor(web_client, database, actor):
    opportunity = make_opportunity(database, actor)
    fields = close_form(web_client.get(f"/opportunities/{opportunity.id}").text, "lost")

    web_client.post(f"/opportunities/{opportunity.id}/lose", data=fields)

    stored = loaded(database, opportunity.id)
    assert (stored.state.value, stored.status_reason.value) == ("lost", "canceled")


def test_a_refused_close_on_the_forms_own_page_keeps_the_input_there(web_client, database, actor):
    opportunity = make_opportunity(database, actor)
    page = web_client.get(f"/opportunities/{opportunity.id}/close-as-won").text
    fields = close_form(page, "won")
    assert 'id="won-form"' in page
    fields.update(actual_revenue="twelve", description="Typed text")

    refused = web_client.post(f"/opportunities/{opportunity.id}/win", data=fields)

    assert refused.status_code == 422
    assert field_error(refused.text, "won-actual-revenue")
    kept = close_form(refused.text, "won")
    assert (kept["actual_revenue"], kept["description"]) == ("twelve", "Typed text")
    assert loaded(database, opportunity.id).state.value == "open"


# ---------------------------------------------------------------------------------------------- stale and reopen


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This record was changed by someone else since you loaded it"),
        ("es", "Otra persona modificó este registro después de que usted lo abriera"),
    ],
    ids=["en", "es"],
)
def test_closing_from_a_stale_page_is_refused_and_keeps_the_input(web_client_for, database, actor, language, message):
    opportunity = make_opportunity(database, actor)
    client = web_client_for(accept_language=language)
    fields = close_form(client.get(f"/opportunities/{opportunity.id}").text, "won")
    with database.unit_of_work() as uow:  # someone else saves first
        opportunity_service.update_opportunity(
            opportunity.id, OpportunityUpdate(name="Their topic"), uow=uow, actor=actor
        )
        uow.commit()
    before = snapshot(database)
    fields.update(description="My reasons")

    refused = client.post(f"/opportunities/{opportunity.id}/win", data=fields)

    assert refused.status_code == 412
    assert message in refused.text and 'id="reload-record"' in refused.text
    assert close_form(refused.text, "won")["description"] == "My reasons"
    assert snapshot(database) == before and loaded(database, opportunity.id).state.value == "open"
    again = client.post(f"/opportunities/{opportunity.id}/win", data=close_form(refused.text, "won"))
    assert again.status_code == 412 and snapshot(database) == before  # the kept form stays stale


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["The opportunity was reopened", "Canceled", "Close as won"]),
        ("es", ["La oportunidad se volvió a abrir", "Cancelado", "Cerrar como ganada"]),
    ],
    ids=["en", "es"],
)
def test_reopening_makes_it_open_again_and_marks_the_close_record_canceled(
    web_client_for, database, actor, language, texts
):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        closing.lose_opportunity(opportunity.id, LoseOpportunity(description="Budget cut"), uow=uow, actor=actor)
        uow.commit()
    client = web_client_for(accept_language=language)
    page = client.get(f"/opportunities/{opportunity.id}").text
    assert {"en": "Reopen opportunity", "es": "Volver a abrir oportunidad"}[language] in page

    reopened = client.post(
        f"/opportunities/{opportunity.id}/reopen", data=form_fields(page, "reopen-form"), follow_redirects=False
    )

    assert reopened.status_code == 303, reopened.text
    stored = loaded(database, opportunity.id)
    assert (stored.state.value, stored.status_reason.value, stored.actual_close_date) == ("open", "in_progress", None)
    [record] = closes_of(database, opportunity.id)
    assert record.state is CloseState.CANCELED
    page = client.get(reopened.headers["location"]).text
    for text in texts:
        assert text in page, text
    entry = page.split(f'id="close-{record.id}"')[1].split("</li>")[0]
    assert "Budget cut" in entry and 'class="badge bad"' in entry
    assert 'class="timeline-entry close-entry canceled"' in page
    assert 'id="save-button"' in page and 'id="note-form"' in page


def test_reopening_from_a_stale_page_is_refused(web_client, database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        closing.win_opportunity(opportunity.id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()
    fields = form_fields(web_client.get(f"/opportunities/{opportunity.id}").text, "reopen-form")
    with database.unit_of_work() as uow:  # reopened and closed again elsewhere
        closing.reopen_opportunity(opportunity.id, uow=uow, actor=actor)
        closing.win_opportunity(opportunity.id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()

    refused = web_client.post(f"/opportunities/{opportunity.id}/reopen", data=fields)

    assert refused.status_code == 412 and 'id="reload-record"' in refused.text
    assert loaded(database, opportunity.id).state.value == "won"


# ---------------------------------------------------------------------------------------------- who is offered what


def test_a_team_member_who_may_only_read_is_offered_no_close_reopen_or_competitor_change(
    web_client_for, database, actor
):
    open_one = make_opportunity(database, actor)
    closed_one = make_opportunity(database, actor, name="Closed deal")
    competitor = make_competitor(database, actor)
    with database.unit_of_work() as uow:
        closing.win_opportunity(closed_one.id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()
    user(database, MEMBER_EMAIL, "Sales Team Member")
    client = web_client_for(MEMBER_EMAIL, PASSWORD)

    opened, closed = (
        client.get(f"/opportunities/{open_one.id}").text,
        client.get(f"/opportunities/{closed_one.id}").text,
    )
    listed, competitor_page = client.get("/competitors").text, client.get(f"/competitors/{competitor.id}").text

    for command in (
        'id="close-as-won-button"',
        'id="close-as-lost-button"',
        'id="add-competitor-form"',
        'id="close-won-dialog"',
    ):
        assert command not in opened, command
    assert 'id="reopen-button"' not in closed and 'id="closed-banner"' in closed
    assert 'id="new-competitor-button"' not in listed and f'href="/competitors/{competitor.id}"' in listed
    assert 'id="save-button"' not in competitor_page and 'id="delete-button"' not in competitor_page
    assert 'id="read-only-banner"' in competitor_page
    # Posting the form anyway is refused by the service, and changes nothing.
    before = snapshot(database)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', opened).group(1)
    refused = client.post(f"/opportunities/{open_one.id}/win", data={"csrf_token": csrf})
    assert refused.status_code == 403 and loaded(database, open_one.id).state.value == "open"
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- competitors in a deal


def test_competitors_are_named_in_an_open_deal_and_removed_again(web_client, database, actor):
    opportunity = make_opportunity(database, actor)
    first, second = make_competitor(database, actor, "Dormobel"), make_competitor(database, actor, "Ofisillas")
    page = web_client.get(f"/opportunities/{opportunity.id}").text
    fields = form_fields(page, "add-competitor-form")
    fields.update(competitor_id=str(second.id))

    added = web_client.post(f"/opportunities/{opportunity.id}/competitors", data=fields, follow_redirects=False)

    assert added.status_code == 303
    page = web_client.get(added.headers["location"]).text
    pane = page.split('id="competitors"')[1].split("</section>")[0]
    assert f'<a href="/competitors/{second.id}">Ofisillas</a>' in pane
    assert f'<option value="{first.id}">Dormobel</option>' in pane and f'<option value="{second.id}">' not in pane
    removed = web_client.post(
        f"/opportunities/{opportunity.id}/competitors/{second.id}/remove",
        data=form_fields(page, "remove-competitor-1"),
        follow_redirects=False,
    )
    assert removed.status_code == 303 and counted(database, OpportunityCompetitor) == 0


def test_naming_an_unknown_competitor_is_refused_on_the_page(web_client_for, database, actor):
    opportunity = make_opportunity(database, actor)
    make_competitor(database, actor)
    client = web_client_for(accept_language="es")
    fields = form_fields(client.get(f"/opportunities/{opportunity.id}").text, "add-competitor-form")
    fields.update(competitor_id=str(uuid.uuid4()))

    refused = client.post(f"/opportunities/{opportunity.id}/competitors", data=fields)

    assert refused.status_code == 404
    assert "Este competidor no existe o se eliminó." in refused.text
    assert counted(database, OpportunityCompetitor) == 0


# ---------------------------------------------------------------------------------------------- the competitors' pages


def test_competitors_are_created_listed_searched_and_changed(web_client_for, database):
    client = web_client_for(accept_language="es")
    listed = client.get("/competitors").text
    assert '<h1 id="list-title">Competidores</h1>' in listed and 'href="/competitors"' in listed
    fields = form_fields(client.get("/competitors/new").text, "competitor-form")
    fields.update(
        name="Dormobel",
        website="https://dormobel.example",
        reported_revenue="1.250.000,50",
        strengths="Precio",
        weaknesses="Plazos",
    )

    created = client.post("/competitors/new", data=fields, follow_redirects=False)

    assert created.status_code == 303, created.text
    with database.unit_of_work(read_only=True) as uow:
        competitor = uow.session.scalars(select(Competitor)).one()
    assert competitor.reported_revenue == Decimal("1250000.50") and competitor.strengths == "Precio"
    page = client.get(created.headers["location"]).text
    assert "Se creó el competidor." in page
    assert 'name="reported_revenue" value="1250000,50"' in page
    make_competitor(database, actor_of(database), "Ofisillas")
    searched = client.get("/competitors?q=dorm").text
    assert "Dormobel" in searched and "Ofisillas" not in searched
    fields = form_fields(page, "competitor-form")
    fields.update(name="Dormobel Ibérica", website="")
    saved = client.post(f"/competitors/{competitor.id}", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    with database.unit_of_work(read_only=True) as uow:
        changed = uow.session.get(Competitor, competitor.id)
        assert (changed.name, changed.website) == ("Dormobel Ibérica", None)


def actor_of(database, email=ADMIN_EMAIL):
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def test_a_competitor_without_a_name_or_from_a_stale_page_is_refused(web_client, database, actor):
    competitor = make_competitor(database, actor)
    fields = form_fields(web_client.get(f"/competitors/{competitor.id}").text, "competitor-form")
    before = snapshot(database)

    nameless = web_client.post(f"/competitors/{competitor.id}", data={**fields, "name": "  "})
    assert nameless.status_code == 422 and field_error(nameless.text, "competitor-name")
    with database.unit_of_work() as uow:
        competitor_service.update_competitor(
            competitor.id, parse(competitor_service.CompetitorUpdate, {"strengths": "x"}), uow=uow, actor=actor
        )
        uow.commit()
    stale = web_client.post(f"/competitors/{competitor.id}", data={**fields, "name": "Mine"})

    assert stale.status_code == 412 and 'id="reload-record"' in stale.text and 'value="Mine"' in stale.text
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Competitor, competitor.id).name == "Dormobel"
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The competitor Dormobel is named by opportunities; it cannot be deleted while they name it."),
        ("es", "Hay oportunidades que nombran a este competidor; no se puede eliminar mientras lo hagan."),
    ],
    ids=["en", "es"],
)
def test_a_competitor_named_by_an_opportunity_cannot_be_deleted(web_client_for, database, actor, language, message):
    opportunity = make_opportunity(database, actor)
    competitor = make_competitor(database, actor)
    with database.unit_of_work() as uow:
        competitor_service.link_competitor(opportunity.id, competitor.id, uow=uow, actor=actor)
        uow.commit()
    client = web_client_for(accept_language=language)
    confirmation = client.get(f"/competitors/{competitor.id}/delete?row_version=1")
    assert confirmation.status_code == 200 and 'id="delete-form"' in confirmation.text

    refused = client.post(f"/competitors/{competitor.id}/delete", data=form_fields(confirmation.text, "delete-form"))

    assert refused.status_code == 409 and message in refused.text
    assert counted(database, Competitor) == 1
    with database.unit_of_work() as uow:
        competitor_service.link_competitor(opportunity.id, competitor.id, uow=uow, actor=actor, linked=False)
        uow.commit()
    deleted = client.post(
        f"/competitors/{competitor.id}/delete",
        data=form_fields(confirmation.text, "delete-form"),
        follow_redirects=False,
    )
    assert deleted.status_code == 303 and counted(database, Competitor) == 0


# ---------------------------------------------------------------------------------------------- currencies


def test_an_administrator_enables_a_currency_with_a_rate_typed_the_spanish_way(web_client_for, database):
    client = web_client_for(accept_language="es")
    page = client.get("/admin/currencies").text
    assert 'href="/admin/currencies"' in page and "Divisas" in page and "EUR" in page
    fields = form_fields(page, "new-currency-form")
    fields.update(iso_code="CHF", exchange_rate="1,0825", precision="2")

    enabled = client.post("/admin/currencies", data=fields, follow_redirects=False)

    assert enabled.status_code == 303, enabled.text
    with database.unit_of_work(read_only=True) as uow:
        chf = uow.session.scalars(select(Currency).where(Currency.iso_code == "CHF")).one()
    assert chf.exchange_rate == Decimal("1.0825") and chf.name == "Swiss Franc"
    listed = client.get(enabled.headers["location"]).text
    assert "Se habilitó la divisa." in listed and "1,0825" in listed
    again = client.post("/admin/currencies", data=fields)
    assert (
        again.status_code == 409 and field_error(again.text, "currency-iso-code") == "Esta divisa ya está habilitada."
    )


def test_an_administrator_changes_a_currency_and_a_stale_form_is_refused(web_client, database, actor):
    with database.unit_of_work() as uow:
        chf = currency_service.create_currency(
            CurrencyCreate(iso_code="CHF", exchange_rate=Decimal("1.08")), uow=uow, actor=actor
        )
        uow.commit()
    page = web_client.get(f"/admin/currencies/{chf.id}").text
    fields = form_fields(page, "currency-form")
    fields.update(exchange_rate="1.1234567", symbol="Fr.", precision="3", name="Dollar")

    saved = web_client.post(f"/admin/currencies/{chf.id}", data=fields, follow_redirects=False)

    assert saved.status_code == 303, saved.text
    with database.unit_of_work(read_only=True) as uow:
        changed = uow.session.get(Currency, chf.id)
        assert (changed.exchange_rate, changed.symbol, changed.precision, changed.name) == (
            Decimal("1.1234567"),
            "Fr.",
            3,
            "Dollar",
        )
    stale = web_client.post(f"/admin/currencies/{chf.id}", data={**fields, "name": "Greenback"})
    assert stale.status_code == 412 and 'id="reload-record"' in stale.text
    base = web_client.get("/admin/currencies").text
    base_id = re.search(r'<tr id="currency-EUR">\s*<td><a href="/admin/currencies/([0-9a-f-]+)"', base).group(1)
    base_page = web_client.get(f"/admin/currencies/{base_id}").text
    assert 'name="exchange_rate" value="1" inputmode="decimal" autocomplete="off" disabled' in base_page
    assert 'id="remove-currency-button"' not in base_page


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Records in CHF exist (opportunities); the currency cannot be removed while they do."),
        ("es", "Hay registros en esta divisa; no se puede quitar mientras existan."),
    ],
    ids=["en", "es"],
)
def test_a_currency_in_use_cannot_be_removed_and_an_unused_one_can(web_client_for, database, actor, language, message):
    with database.unit_of_work() as uow:
        chf = currency_service.create_currency(
            CurrencyCreate(iso_code="CHF", exchange_rate=Decimal("1.08")), uow=uow, actor=actor
        )
        sek = currency_service.create_currency(
            CurrencyCreate(iso_code="SEK", exchange_rate=Decimal("0.85")), uow=uow, actor=actor
        )
        uow.commit()
    make_opportunity(database, actor, currency="CHF")
    client = web_client_for(accept_language=language)
    confirmation = client.get(f"/admin/currencies/{chf.id}/remove?row_version=1")
    assert 'id="remove-form"' in confirmation.text

    refused = client.post(f"/admin/currencies/{chf.id}/remove", data=form_fields(confirmation.text, "remove-form"))

    assert refused.status_code == 409 and message in refused.text
    removed = client.post(
        f"/admin/currencies/{sek.id}/remove",
        data=form_fields(client.get(f"/admin/currencies/{sek.id}/remove").text, "remove-form"),
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with database.unit_of_work(read_only=True) as uow:
        assert sorted(uow.session.scalars(select(Currency.iso_code))) == ["CHF", "EUR", "GBP", "MXN", "USD"]


def test_recalculating_applies_the_current_rates_to_the_open_records(web_client, database, actor):
    with database.unit_of_work() as uow:
        chf = currency_service.create_currency(
            CurrencyCreate(iso_code="CHF", exchange_rate=Decimal("2")), uow=uow, actor=actor
        )
        uow.commit()
    opportunity = make_opportunity(database, actor, currency="CHF", estimated_revenue="1000")
    with database.unit_of_work() as uow:
        currency_service.update_currency(
            chf.id, currency_service.CurrencyUpdate(exchange_rate=Decimal("4")), uow=uow, actor=actor
        )
        uow.commit()
    assert loaded(database, opportunity.id).estimated_revenue_base == Decimal("500")
    page = web_client.get("/admin/currencies").text

    done = web_client.post(
        "/admin/currencies/recalculate", data=form_fields(page, "recalculate-form"), follow_redirects=False
    )

    # A job does it (at once with the tests' queue); its page says how many records changed.
    assert done.status_code == 303 and re.fullmatch(r"/jobs/[0-9a-f-]{36}", done.headers["location"])
    assert loaded(database, opportunity.id).estimated_revenue_base == Decimal("250")
    job_page = web_client.get(done.headers["location"]).text
    assert "0 leads and 1 opportunities changed" in job_page and "data-job-badge>Succeeded<" in job_page
    shown = web_client.get(f"/opportunities/{opportunity.id}").text
    assert "4 CHF = 1 EUR" in shown and "€250.00" in shown


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_salesperson_is_not_offered_the_currencies_administration(web_client_for, database, language):
    user(database, SELLER_EMAIL, "Salesperson")
    client = web_client_for(SELLER_EMAIL, PASSWORD, accept_language=language)

    home = client.get("/").text

    assert 'href="/admin/currencies"' not in home and 'href="/competitors"' in home
    refused = client.get("/admin/currencies")
    assert refused.status_code == 403
    assert {"en": "You can't open this page", "es": "No puede abrir esta página"}[language] in refused.text
    with database.unit_of_work(read_only=True) as uow:
        base = uow.session.scalars(select(Currency.id)).first()
    assert client.get(f"/admin/currencies/{base}").status_code == 403
    assert (
        client.post(
            "/admin/currencies/recalculate",
            data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)},
        ).status_code
        == 403
    )
    # Competitors are theirs to keep, though.
    assert 'id="new-competitor-button"' in client.get("/competitors").text
