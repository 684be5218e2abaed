"""The Leads area's list, bulk actions and lead form, through the pages, on SQLite and PostgreSQL.

The list shows the views of §10 with sort links, search and keyset paging, and qualifies or
disqualifies a selection lead by lead (§2.6); the lead form saves changed fields with the
version it was loaded at, shows refusals next to the fields with the input kept, and warns about
duplicates with "Save anyway".
"""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from leadflow.customers.models import Account
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.leads import service
from leadflow.leads.models import Lead, LeadState, LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import OrganisationSettings
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_business_unit, create_user
from leadflow.web.areas import leads as leads_area
from tests.e2e.helpers import snapshot
from tests.factories import make_lead
from tests.web.conftest import page_csrf

SELLER_PASSWORD = "a long enough seller password"


def lead_row(database, lead_id) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Lead, lead_id)


def count(database, model) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def listed_ids(page_html: str) -> list[str]:
    """The lead ids of a list page's rows, in order."""
    return re.findall(r'<tr id="lead-row-([0-9a-f-]+)"', page_html)


def set_settings(database, **values: Any) -> None:
    with database.unit_of_work() as uow:
        uow.session.execute(update(OrganisationSettings).values(**values))
        uow.commit()


def make_seller(database, actor, email: str, *, unit: str | None = None) -> None:
    with database.unit_of_work() as uow:
        if unit is not None:
            create_business_unit(unit, parent_name=None, uow=uow, actor=actor)
        create_user(
            email=email,
            full_name=email.split("@")[0].title(),
            role_names=["Salesperson"],
            business_unit_name=unit,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=actor,
        )
        uow.commit()


def form_fields(page_html: str, form_id: str) -> dict[str, str]:
    """The named, enabled inputs of one form with their current values, as a browser would post them."""
    form = re.search(rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>', page_html, re.DOTALL)
    assert form is not None, f"no form {form_id}"
    body = form.group(1)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", body):
        if " disabled" in tag or 'type="submit"' in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag:
            continue
        if kind and kind.group(1) == "file":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, content in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.DOTALL):
        fields[name] = html.unescape(content)
    for tag, options in re.findall(r"(<select[^>]*>)(.*?)</select>", body, re.DOTALL):
        if " disabled" in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag).group(1)
        chosen = re.search(r'<option value="([^"]*)" selected>', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    return fields


# ---------------------------------------------------------------------------------------------- the list


def test_the_list_opens_on_my_open_leads_with_the_columns_and_the_views_of_the_source_document(
    database, actor, web_client_for
) -> None:
    mine = make_lead(database, actor, company_name="Mesas Norte S.L.", rating="warm", lead_source="web")
    make_seller(database, actor, "vera@example.com")
    with database.unit_of_work(read_only=True) as uow:
        vera = actor_for_email(uow.session, "vera@example.com")
    theirs = make_lead(database, vera)

    english = web_client_for().get("/leads")
    assert english.status_code == 200
    page = english.text
    assert listed_ids(page) == [str(mine.id)]  # My Open Leads: open and owned by me
    assert '<option value="my-open" selected>My Open Leads</option>' in page
    for label in ("Open Leads", "Closed Leads", "All Leads", "Leads opened this week", "Leads opened last week"):
        assert f">{label}</option>" in page
    for heading in (
        "Name",
        "Topic",
        "Company",
        "Email",
        "Status reason",
        "Rating",
        "Lead source",
        "Owner",
        "Created on",
    ):
        assert re.search(rf">\s*{heading}\s*<", page), heading
    assert (
        "Mesas Norte S.L." in page and ">Warm<" in page and ">Web<" in page and ">New<" in page and "Ada Admin" in page
    )
    assert 'id="bulk-qualify-button"' in page and 'id="bulk-disqualify-button"' in page and 'id="select-all"' in page

    spanish = web_client_for(accept_language="es").get("/leads?view=open").text
    assert set(listed_ids(spanish)) == {str(mine.id), str(theirs.id)}
    assert '<html lang="es">' in spanish
    assert ">Mis clientes potenciales abiertos</option>" in spanish
    assert ">Clientes potenciales cerrados</option>" in spanish
    assert ">Calificar</button>" in spanish and ">Descalificar</button>" in spanish
    assert ">Motivo para el estado<" in spanish and ">Templado<" in spanish and ">Nuevo<" in spanish


def test_a_qualified_lead_leaves_my_open_leads_and_appears_in_closed_leads(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    other = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    assert listed_ids(web_client.get("/leads").text) == [str(other.id)]
    closed = web_client.get("/leads?view=closed").text
    assert listed_ids(closed) == [str(lead.id)]
    assert ">Qualified<" in closed
    assert set(listed_ids(web_client.get("/leads?view=all").text)) == {str(lead.id), str(other.id)}
    assert set(listed_ids(web_client.get("/leads?view=opened-this-week").text)) == {str(lead.id), str(other.id)}
    assert listed_ids(web_client.get("/leads?view=opened-last-week").text) == []


def test_search_and_sort_links_order_the_view(database, actor, web_client) -> None:
    beta = make_lead(database, actor, topic="Beta chairs", company_name="Sillas Beta")
    alpha = make_lead(database, actor, topic="alpha desks", company_name="Mesas Alfa")
    gamma = make_lead(database, actor, topic="Gamma lamps", company_name="Lámparas Gamma")

    page = web_client.get("/leads?view=all").text
    assert listed_ids(page) == [str(gamma.id), str(alpha.id), str(beta.id)]  # newest first
    assert 'aria-sort="descending"' in page
    link = re.search(r'<a href="([^"]+)" id="sort-topic">', page).group(1)
    ascending = web_client.get(html.unescape(link)).text
    assert listed_ids(ascending) == [str(alpha.id), str(beta.id), str(gamma.id)]  # letter case ignored
    link = re.search(r'<a href="([^"]+)" id="sort-topic">', ascending).group(1)
    assert "sort=-topic" in html.unescape(link)
    assert listed_ids(web_client.get(html.unescape(link)).text) == [str(gamma.id), str(beta.id), str(alpha.id)]

    found = web_client.get("/leads", params={"view": "all", "q": "mesas"}).text
    assert listed_ids(found) == [str(alpha.id)]
    assert 'value="mesas"' in found


def test_unknown_view_and_sort_fall_back_with_a_message(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    page = web_client.get("/leads?view=nonsense&sort=password").text
    assert listed_ids(page) == [str(lead.id)]
    assert "There is no such view; showing My Open Leads." in page
    assert "Cannot sort by &#39;password&#39;" in page


@pytest.mark.parametrize("sort", ["-created_at", "topic", "-rating"])
def test_next_and_previous_pages_walk_the_whole_view_without_gaps(
    database, actor, web_client, monkeypatch, sort
) -> None:
    monkeypatch.setattr(leads_area, "PAGE_SIZE", 2)
    for index, rating in enumerate(["hot", "warm", "cold", "hot", "warm"]):
        make_lead(database, actor, topic=f"Topic {index % 3} {index}", rating=rating)
    with database.unit_of_work(read_only=True) as uow:
        from leadflow.leads.views import LeadQuery, LeadView, list_leads

        expected = [
            str(lead.id)
            for lead in list_leads(LeadQuery(view=LeadView.ALL, sort=sort, limit=50), uow=uow, actor=actor).items
        ]

    pages = []
    page = web_client.get("/leads", params={"view": "all", "sort": sort}).text
    assert 'id="previous-page"' not in page
    while True:
        pages.append(listed_ids(page))
        following = re.search(r'<a href="([^"]+)" id="next-page"', page)
        if not following:
            break
        page = web_client.get(html.unescape(following.group(1))).text
    assert [i for chunk in pages for i in chunk] == expected
    assert [len(chunk) for chunk in pages] == [2, 2, 1]

    backwards = []
    while True:
        backwards.append(listed_ids(page))
        previous = re.search(r'<a href="([^"]+)" id="previous-page"', page)
        if not previous:
            break
        page = web_client.get(html.unescape(previous.group(1))).text
    assert backwards == list(reversed(pages))


def test_a_broken_cursor_starts_again_from_the_first_page(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    page = web_client.get("/leads", params={"view": "all", "cursor": "not-a-cursor"})
    assert page.status_code == 200
    assert listed_ids(page.text) == [str(lead.id)]
    assert "start again from the first page" in page.text


def test_a_seller_lists_and_opens_only_the_leads_they_may_read(database, actor, web_client_for) -> None:
    admins = make_lead(database, actor)
    make_seller(database, actor, "sam@example.com", unit="Valencia")
    with database.unit_of_work(read_only=True) as uow:
        sam = actor_for_email(uow.session, "sam@example.com")
    own = make_lead(database, sam)
    seller = web_client_for("sam@example.com", SELLER_PASSWORD)
    assert listed_ids(seller.get("/leads?view=all").text) == [str(own.id)]
    refused = seller.get(f"/leads/{admins.id}")
    nobody = uuid.uuid4()
    unknown = seller.get(f"/leads/{nobody}")
    # A lead one may not read looks exactly like one that does not exist.
    assert refused.status_code == unknown.status_code == 404
    assert admins.topic not in refused.text
    assert refused.text.replace(str(admins.id), "ID") == unknown.text.replace(str(nobody), "ID")
    assert seller.get("/leads/not-an-id").status_code == 404


# ---------------------------------------------------------------------------------------------- bulk actions


def bulk(client, page_html: str, lead_ids: list[Any], **data: Any):
    return client.post(
        "/leads/bulk",
        data={
            "csrf_token": page_csrf(page_html),
            "return_to": "/leads?view=all",
            "lead_id": [str(i) for i in lead_ids],
            **data,
        },
    )


def test_bulk_qualify_qualifies_each_selected_lead_and_links_the_records_created(database, actor, web_client) -> None:
    first, second = make_lead(database, actor), make_lead(database, actor)
    page = web_client.get("/leads?view=all").text
    response = bulk(web_client, page, [first.id, second.id], action="qualify")
    assert response.status_code == 200
    result = response.text
    assert "2 of 2 leads qualified." in result
    with database.unit_of_work(read_only=True) as uow:
        for lead_id in (first.id, second.id):
            lead = uow.session.get(Lead, lead_id)
            assert lead.state is LeadState.QUALIFIED
            opportunity = uow.session.get(Opportunity, lead.qualifying_opportunity_id)
            assert f'href="/opportunities/{opportunity.id}"' in result
            assert f'href="/accounts/{lead.parent_account_id}"' in result
            assert f'href="/contacts/{lead.parent_contact_id}"' in result
            assert html.escape(opportunity.name, quote=False) in result
    assert 'href="/leads?view=all"' in result


def test_bulk_qualify_reports_a_duplicate_per_lead_and_ignore_and_save_qualifies_it(
    database, actor, web_client
) -> None:
    plain = make_lead(database, actor)
    twin = make_lead(database, actor, company_name="Muebles Duplicados S.A.")
    with database.unit_of_work() as uow:
        existing = create_account(
            AccountCreate(name="Muebles Duplicados S.A.", address_city="Bilbao"), uow=uow, actor=actor
        )
        uow.commit()
    page = web_client.get("/leads?view=all").text
    result = bulk(web_client, page, [plain.id, twin.id], action="qualify").text
    assert "1 of 2 leads qualified." in result
    row = re.search(rf'<tr id="result-{twin.id}".*?</tr>\s*(?=<tr id="result-|</tbody>)', result, re.DOTALL).group(0)
    assert "Duplicate found" in row
    assert f'href="/accounts/{existing.id}"' in row and "Bilbao" in row
    assert "Accounts with the same account name" in row
    assert f'href="/leads/{twin.id}"' in row
    assert lead_row(database, twin.id).state is LeadState.OPEN
    assert lead_row(database, plain.id).state is LeadState.QUALIFIED

    retry = form_fields(result, "bulk-ignore-form")
    assert retry["duplicate_resolution"] == "ignore"
    again = web_client.post("/leads/bulk", data={**retry, "lead_id": [str(twin.id)]})
    assert "1 of 1 leads qualified." in again.text
    assert lead_row(database, twin.id).state is LeadState.QUALIFIED
    assert count(database, Account) == 3  # the existing one and one new per lead


def test_bulk_disqualify_uses_the_reason_and_reports_each_refusal(database, actor, web_client_for) -> None:
    open_lead = make_lead(database, actor)
    closed = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.qualify_lead(closed.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    client = web_client_for(accept_language="es")
    page = client.get("/leads?view=all").text
    result = bulk(
        client, page, [open_lead.id, closed.id], action="disqualify", status_reason="no_longer_interested"
    ).text
    assert "1 de 2 clientes potenciales descalificados (Ya no está interesado)." in result
    assert (
        "El cliente potencial está cerrado y no se puede convertir ni calificar un cliente potencial que ya está cerrado."
        in result
    )
    disqualified = lead_row(database, open_lead.id)
    assert disqualified.state is LeadState.DISQUALIFIED
    assert disqualified.status_reason is LeadStatusReason.NO_LONGER_INTERESTED
    assert lead_row(database, closed.id).state is LeadState.QUALIFIED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "qualify"}, "Select at least one lead first."),
        ({"action": "disqualify", "status_reason": "qualified", "lead_id": "LEAD"}, "Choose a status reason"),
        ({"action": "delete", "lead_id": "LEAD"}, "Choose Qualify or Disqualify."),
    ],
)
def test_a_bulk_request_without_a_selection_or_with_a_bad_reason_changes_nothing(
    database, actor, web_client, data, message
) -> None:
    lead = make_lead(database, actor)
    page = web_client.get("/leads?view=all").text
    before = snapshot(database)
    posted = {key: str(lead.id) if value == "LEAD" else value for key, value in data.items()}
    response = web_client.post("/leads/bulk", data={"csrf_token": page_csrf(page), **posted})
    assert response.status_code == 422
    assert message in response.text
    assert snapshot(database) == before


def test_bulk_qualify_asks_which_records_to_create_when_the_seller_chooses(database, actor, web_client) -> None:
    set_settings(database, create_records_on_qualify=False)
    lead = make_lead(database, actor)
    page = web_client.get("/leads?view=all").text
    before = snapshot(database)
    choices = bulk(web_client, page, [lead.id], action="qualify")
    assert choices.status_code == 200
    assert 'id="bulk-qualify-form"' in choices.text
    assert snapshot(database) == before
    answers = form_fields(choices.text, "bulk-qualify-form")
    answers["account_choice"] = "none"  # untick Account: its hidden "none" is what the browser sends
    result = web_client.post("/leads/bulk", data={**answers, "lead_id": [str(lead.id)]})
    assert "1 of 1 leads qualified." in result.text
    qualified = lead_row(database, lead.id)
    assert qualified.state is LeadState.QUALIFIED and qualified.parent_account_id is None
    assert qualified.parent_contact_id is not None and qualified.qualifying_opportunity_id is not None
    assert count(database, Account) == 0


# ---------------------------------------------------------------------------------------------- the lead form


def new_lead_form(client) -> dict[str, str]:
    return form_fields(client.get("/leads/new").text, "lead-form")


def test_the_new_lead_form_creates_the_lead_and_opens_it(database, actor, web_client) -> None:
    fields = new_lead_form(web_client)
    assert fields["owner_user_id"] == str(actor.user_id)
    fields.update(
        topic="Standing desks",
        first_name="Lucía",
        last_name="Ortega",
        company_name="Oficinas Sur",
        email="lucia@oficinas-sur.example",
        lead_source="seminar",
        rating="hot",
        budget_amount="12000.5",
        purchase_timeframe="next_quarter",
        decision_maker="no",
        currency="USD",
    )
    response = web_client.post("/leads/new", data=fields, follow_redirects=False)
    assert response.status_code == 303
    lead_id = re.fullmatch(r"/leads/([0-9a-f-]+)\?done=saved", response.headers["location"]).group(1)
    lead = lead_row(database, uuid.UUID(lead_id))
    assert (lead.topic, lead.full_name, lead.company_name, lead.email) == (
        "Standing desks",
        "Lucía Ortega",
        "Oficinas Sur",
        "lucia@oficinas-sur.example",
    )
    assert lead.budget_amount == Decimal("12000.5") and lead.decision_maker is False
    assert lead.purchase_timeframe.value == "next_quarter" and lead.lead_source.value == "seminar"
    page = web_client.get(response.headers["location"]).text
    assert "The lead was saved." in page and "Lucía Ortega" in page
    assert '<option value="USD" selected>' in page


def test_the_lead_form_groups_its_fields_and_shows_the_qualify_stage_in_spanish(
    database, actor, web_client_for
) -> None:
    lead = make_lead(database, actor)
    page = web_client_for(accept_language="es").get(f"/leads/{lead.id}").text
    for legend in ("Calificar", "Contacto", "Empresa", "Detalles"):
        assert f"<legend>{legend}</legend>" in page
    stage = re.search(r'<fieldset id="qualify-stage".*?</fieldset>', page, re.DOTALL).group(0)
    labels = re.findall(r'<label for="lead-[a-z-]+">([^<\n]+)', stage)
    assert [label.strip() for label in labels] == [
        "Contacto existente",
        "Cuenta existente",
        "Período de tiempo de compra",
        "Presupuesto estimado",
        "Proceso de compra",
        "Identificar a la persona que toma las decisiones",
        "Capturar resumen",
    ]
    assert 'value="25000,00"' in page  # the budget as a Spanish user types it
    assert '<option value="this_quarter" selected>Este trimestre</option>' in page
    assert ">Calificar</button>" in page and ">Descalificar</a>" in page and ">Eliminar</a>" in page
    assert 'id="stage-qualify" class="active" aria-current="step"' in page
    for stage_name in ("develop", "propose", "close"):
        assert f'id="stage-{stage_name}" class="pending" aria-disabled="true"' in page


def test_a_lead_with_missing_or_malformed_fields_is_refused_next_to_the_fields_and_keeps_the_input(
    database, actor, web_client
) -> None:
    fields = new_lead_form(web_client)
    fields.update(topic="Chairs for the lobby", last_name="", email="not an email", budget_amount="twelve")
    before = count(database, Lead)
    response = web_client.post("/leads/new", data=fields)
    assert response.status_code == 422
    page = response.text
    assert count(database, Lead) == before
    assert re.search(r'id="lead-last-name"[^>]*aria-invalid="true"', page)
    assert 'id="lead-last-name-error">This field is required.</p>' in page
    assert 'id="lead-email-error">Enter a valid email address, like name@example.com.</p>' in page
    assert 'id="lead-budget-amount-error">Enter an amount, for example 25000.50.</p>' in page
    assert 'value="Chairs for the lobby"' in page and 'value="not an email"' in page and 'value="twelve"' in page


def test_save_sends_the_changed_fields_and_a_stale_form_is_refused_with_the_input_kept(
    database, actor, web_client
) -> None:
    lead = make_lead(database, actor)
    first = form_fields(web_client.get(f"/leads/{lead.id}").text, "lead-form")
    stale = dict(first)

    first.update(job_title="Head of purchasing", rating="cold", budget_amount="30000")
    response = web_client.post(f"/leads/{lead.id}", data=first, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/leads/{lead.id}?done=saved"
    saved = lead_row(database, lead.id)
    assert (saved.job_title, saved.rating.value, saved.budget_amount) == ("Head of purchasing", "cold", Decimal(30000))
    assert saved.row_version == 2

    before = snapshot(database)
    stale.update(job_title="Someone else's idea")
    refused = web_client.post(f"/leads/{lead.id}", data=stale)
    assert refused.status_code == 412
    assert "changed by someone else" in refused.text
    assert 'value="Someone else&#39;s idea"' in refused.text
    assert snapshot(database) == before


def test_amounts_are_read_in_the_users_language(database, actor, web_client_for) -> None:
    lead = make_lead(database, actor)
    client = web_client_for(accept_language="es")
    fields = form_fields(client.get(f"/leads/{lead.id}").text, "lead-form")
    fields["budget_amount"] = "25.000,75"
    assert client.post(f"/leads/{lead.id}", data=fields, follow_redirects=False).status_code == 303
    assert lead_row(database, lead.id).budget_amount == Decimal("25000.75")
    assert 'value="25000,75"' in client.get(f"/leads/{lead.id}").text


def test_saving_a_duplicate_lists_the_matches_and_save_anyway_saves_it(database, actor, web_client) -> None:
    existing = make_lead(database, actor, email="same@example.com")
    fields = new_lead_form(web_client)
    fields.update(topic="Second enquiry", last_name="Ruiz", email="same@example.com")
    before = count(database, Lead)
    warned = web_client.post("/leads/new", data=fields)
    assert warned.status_code == 409
    assert count(database, Lead) == before
    section = re.search(
        r'<section class="alert" role="alert" id="save-duplicates".*?</section>', warned.text, re.DOTALL
    ).group(0)
    assert f'href="/leads/{existing.id}"' in section and "Leads with the same email address" in section
    assert 'id="save-anyway-button"' in section and 'name="suppress_duplicates"' in section
    again = form_fields(warned.text, "lead-form")
    assert again["email"] == "same@example.com" and again["topic"] == "Second enquiry"
    saved = web_client.post("/leads/new", data={**again, "suppress_duplicates": "1"}, follow_redirects=False)
    assert saved.status_code == 303
    assert count(database, Lead) == before + 1


def test_a_closed_lead_is_read_only_and_offers_reactivate(database, actor, web_client_for) -> None:
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.disqualify_lead(lead.id, LeadStatusReason.CANNOT_CONTACT, uow=uow, actor=actor)
        uow.commit()
    client = web_client_for(accept_language="es")
    page = client.get(f"/leads/{lead.id}").text
    assert 'id="read-only-banner"' in page and "No se puede contactar" in page
    assert re.search(r'id="lead-topic" name="topic" disabled', page)
    assert 'id="qualify-button"' not in page and 'id="save-button"' not in page and 'id="note-form"' not in page
    assert ">Reactivar cliente potencial</button>" in page
    form = form_fields(page, "reactivate-form")
    response = client.post(f"/leads/{lead.id}/reactivate", data=form, follow_redirects=False)
    assert response.status_code == 303
    reopened = lead_row(database, lead.id)
    assert (reopened.state, reopened.status_reason) == (LeadState.OPEN, LeadStatusReason.NEW)
    assert reopened.topic == lead.topic
    assert "El cliente potencial vuelve a estar abierto." in client.get(response.headers["location"]).text


def test_a_sales_team_member_reads_the_lead_without_commands_that_change_it(database, actor, web_client_for) -> None:
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        create_user(
            email="reader@example.com",
            full_name="Reader",
            role_names=["Sales Team Member"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    client = web_client_for("reader@example.com", SELLER_PASSWORD)
    page = client.get(f"/leads/{lead.id}").text
    assert "You can read this lead but not change it." in page
    assert 'id="save-button"' not in page and 'id="delete-button"' not in page
    before = snapshot(database)
    fields = form_fields(page, "reactivate-form") if 'id="reactivate-form"' in page else {"csrf_token": page_csrf(page)}
    refused = client.post(f"/leads/{lead.id}/qualify", data=fields)
    assert refused.status_code == 403
    assert snapshot(database) == before


def test_every_form_post_needs_the_sessions_csrf_token(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    before = snapshot(database)
    for path, data in (
        ("/leads/new", {"topic": "x", "last_name": "y"}),
        (f"/leads/{lead.id}", {"topic": "Changed"}),
        (f"/leads/{lead.id}/qualify", {}),
        (f"/leads/{lead.id}/disqualify", {"status_reason": "lost"}),
        (f"/leads/{lead.id}/delete", {}),
        (f"/leads/{lead.id}/notes", {"title": "x"}),
        ("/leads/bulk", {"action": "qualify", "lead_id": str(lead.id)}),
    ):
        for token in (None, "forged"):
            posted = data if token is None else {**data, "csrf_token": token}
            assert web_client.post(path, data=posted).status_code == 403, path
    assert snapshot(database) == before


def test_pages_escape_what_users_typed_and_carry_no_inline_script_or_style(database, actor, web_client) -> None:
    lead = make_lead(database, actor, topic='<script>alert("x")</script>', company_name="<b>Bold</b>")
    for path in (
        "/leads?view=all",
        f"/leads/{lead.id}",
        f"/leads/{lead.id}/qualify",
        f"/leads/{lead.id}/disqualify",
        f"/leads/{lead.id}/delete",
        "/leads/new",
    ):
        page = web_client.get(path).text
        assert '<script>alert("x")</script>' not in page and "<b>Bold</b>" not in page, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert " style=" not in page and " onclick=" not in page, path


def test_anonymous_visitors_are_sent_to_sign_in(anonymous_client) -> None:
    response = anonymous_client.get("/leads", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


def test_the_lookups_search_the_users_readable_active_accounts(database, actor, web_client) -> None:
    with database.unit_of_work() as uow:
        for name in ("Hierros Alfa", "Hierros Beta", "Maderas Gamma"):
            create_account(AccountCreate(name=name), uow=uow, actor=actor)
        uow.commit()
    found = web_client.get("/leads/lookup/accounts", params={"q": "hierros"}).json()
    assert [item["label"] for item in found] == ["Hierros Alfa", "Hierros Beta"]
    assert web_client.get("/leads/lookup/contacts", params={"q": "x"}).json() == []
    assert web_client.get("/leads/lookup/users").status_code == 404


def test_the_lookups_never_offer_accounts_the_seller_may_not_read(database, actor, web_client_for) -> None:
    with database.unit_of_work() as uow:
        hidden = create_account(AccountCreate(name="Hierros Centrales"), uow=uow, actor=actor)
        uow.commit()
    make_seller(database, actor, "rosa@example.com", unit="Sevilla")
    with database.unit_of_work(read_only=True) as uow:
        rosa = actor_for_email(uow.session, "rosa@example.com")
    with database.unit_of_work() as uow:
        visible = create_account(AccountCreate(name="Hierros Sevillanos"), uow=uow, actor=rosa)
        uow.commit()
    lead = make_lead(database, rosa)
    seller = web_client_for("rosa@example.com", SELLER_PASSWORD)
    assert [item["value"] for item in seller.get("/leads/lookup/accounts", params={"q": "hierros"}).json()] == [
        str(visible.id)
    ]
    page = seller.get(f"/leads/{lead.id}").text
    assert str(visible.id) in page and str(hidden.id) not in page


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This value contains a character that cannot be saved (such as a NUL); remove it."),
        ("es", "Este valor contiene un carácter que no se puede guardar (como un NUL); quítelo."),
    ],
)
def test_a_nul_typed_in_the_lead_form_is_refused_next_to_the_field_in_the_users_language(
    database, actor, web_client_for, language, message
) -> None:
    client = web_client_for(accept_language=language)
    fields = new_lead_form(client)
    fields.update(topic="Mesas\x00 de roble", last_name="Ortega")
    before = snapshot(database)
    response = client.post("/leads/new", data=fields)
    assert response.status_code == 422
    assert f'id="lead-topic-error">{message}</p>' in response.text
    assert snapshot(database) == before


def test_a_nul_in_the_lead_search_is_dropped_not_a_server_error(database, actor, web_client) -> None:
    make_lead(database, actor, company_name="Mesas de roble")
    response = web_client.get("/leads", params={"q": "Mesas\x00"})
    assert response.status_code == 200
    assert "Mesas de roble" in response.text
