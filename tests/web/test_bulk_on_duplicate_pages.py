"""The lead list's bulk Qualify with its choice for duplicates (§2.6, §5), through the pages, on SQLite and
PostgreSQL: skip, stop or ignore, each lead's outcome and the counts, in English and Spanish.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from leadflow.customers.models import Account
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.leads.models import LeadState
from tests.e2e.helpers import snapshot
from tests.factories import make_lead
from tests.web.test_leads_pages import bulk, form_fields, lead_row, set_settings

TWIN_COMPANY = "Muebles Repetidos S.L."


def existing_account(database, actor) -> Account:
    with database.unit_of_work() as uow:
        account = create_account(AccountCreate(name=TWIN_COMPANY, address_city="Cuenca"), uow=uow, actor=actor)
        uow.commit()
    return account


def result_row(page: str, lead_id: Any) -> str:
    """The results table's row of one lead (up to the next lead's row: a row holds a table of matches)."""
    table = page.split('id="results-table"')[1].split("<form")[0]
    [row] = [chunk for chunk in table.split('<tr id="result-')[1:] if chunk.startswith(f'{lead_id}"')]
    return row


def posted_ids(page: str, form_id: str) -> list[str]:
    form = re.search(rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>', page, re.DOTALL)
    assert form is not None, f"no form {form_id}"
    return re.findall(r'<input type="hidden" name="lead_id" value="([^"]+)">', form.group(1))


def accounts_named_twin(database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Account).where(Account.name == TWIN_COMPANY))


def test_the_list_offers_the_choice_next_to_qualify_in_the_users_language(
    database, actor, web_client, web_client_for
) -> None:
    make_lead(database, actor)
    english = form_fields(web_client.get("/leads?view=all").text, "bulk-form")
    spanish = web_client_for(accept_language="es").get("/leads?view=all").text

    assert english["on_duplicate"] == "skip"  # the first option: what bulk qualification always did
    select_html = re.search(
        r'<select id="bulk-on-duplicate" name="on_duplicate">.*?</select>', spanish, re.DOTALL
    ).group(0)
    assert re.findall(r'<option value="([^"]+)"', select_html) == ["skip", "stop", "ignore"]
    for label in (
        "Omitir ese cliente potencial",
        "Detenerse en el primer duplicado",
        "Ignorar los duplicados y calificar",
    ):
        assert label in select_html
    assert '<label for="bulk-on-duplicate">Si se encuentra un duplicado</label>' in spanish


def test_stop_shows_the_lead_it_stopped_at_the_leads_not_attempted_and_continues_with_them(
    database, actor, web_client
) -> None:
    existing = existing_account(database, actor)
    first = make_lead(database, actor)
    twin = make_lead(database, actor, company_name=TWIN_COMPANY)
    rest = [make_lead(database, actor), make_lead(database, actor)]
    page = web_client.get("/leads?view=all").text

    result = bulk(
        web_client, page, [first.id, twin.id, *(lead.id for lead in rest)], action="qualify", on_duplicate="stop"
    ).text

    assert "1 of 4 leads qualified." in result
    assert "If a duplicate is found: Stop at the first duplicate." in result
    assert "Skipped because of a duplicate: 0. Stopped at a duplicate: 1. Refused: 0. Not attempted: 2." in result
    stopped = result_row(result, twin.id)
    assert "Stopped here" in stopped and "Duplicate found" in stopped and f'href="/accounts/{existing.id}"' in stopped
    for lead in rest:
        assert "Not attempted" in result_row(result, lead.id)
    assert [lead_row(database, lead.id).state for lead in (first, twin, *rest)] == [
        LeadState.QUALIFIED,
        LeadState.OPEN,
        LeadState.OPEN,
        LeadState.OPEN,
    ]

    assert posted_ids(result, "bulk-continue-form") == [str(twin.id), *(str(lead.id) for lead in rest)]
    again = form_fields(result, "bulk-continue-form")
    assert again["on_duplicate"] == "skip"
    answer = web_client.post(
        "/leads/bulk", data={**again, "on_duplicate": "ignore", "lead_id": posted_ids(result, "bulk-continue-form")}
    ).text
    assert "3 of 3 leads qualified." in answer
    assert all(lead_row(database, lead.id).state is LeadState.QUALIFIED for lead in (twin, *rest))
    assert accounts_named_twin(database) == 2


def test_skip_reports_the_skipped_lead_in_spanish_and_qualifies_the_others(database, actor, web_client_for) -> None:
    existing_account(database, actor)
    first, twin = make_lead(database, actor), make_lead(database, actor, company_name=TWIN_COMPANY)
    client = web_client_for(accept_language="es")
    page = client.get("/leads?view=all").text

    result = bulk(client, page, [twin.id, first.id], action="qualify", on_duplicate="skip").text

    assert "1 de 2 clientes potenciales calificados." in result
    assert "Si se encuentra un duplicado: Omitir ese cliente potencial." in result
    assert "Omitidos por un duplicado: 1. Detenidos en un duplicado: 0. Rechazados: 0. Sin intentar: 0." in result
    skipped = result_row(result, twin.id)
    assert "Omitido" in skipped and "Se encontró un duplicado" in skipped
    assert 'id="bulk-continue-form"' not in result  # nothing was left unattempted
    assert [lead_row(database, lead.id).state for lead in (twin, first)] == [LeadState.OPEN, LeadState.QUALIFIED]


def test_ignore_qualifies_the_duplicates_with_new_records(database, actor, web_client) -> None:
    existing_account(database, actor)
    twins = [make_lead(database, actor, company_name=TWIN_COMPANY) for _ in range(2)]
    page = web_client.get("/leads?view=all").text

    result = bulk(web_client, page, [lead.id for lead in twins], action="qualify", on_duplicate="ignore").text

    assert "2 of 2 leads qualified." in result
    assert "If a duplicate is found: Ignore duplicates and qualify." in result
    assert all(lead_row(database, lead.id).state is LeadState.QUALIFIED for lead in twins)
    assert accounts_named_twin(database) == 3


def test_an_unknown_choice_is_refused_and_changes_nothing(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    page = web_client.get("/leads?view=all").text
    before = snapshot(database)

    response = bulk(web_client, page, [lead.id], action="qualify", on_duplicate="merge")

    assert response.status_code == 422
    assert "Choose what to do when a duplicate is found." in response.text
    assert snapshot(database) == before


def test_the_choice_survives_the_question_of_which_records_to_create(database, actor, web_client) -> None:
    set_settings(database, create_records_on_qualify=False)
    existing_account(database, actor)
    twin, after = make_lead(database, actor, company_name=TWIN_COMPANY), make_lead(database, actor)
    page = web_client.get("/leads?view=all").text

    choices = bulk(web_client, page, [twin.id, after.id], action="qualify", on_duplicate="stop").text
    answers = form_fields(choices, "bulk-qualify-form")
    assert answers["on_duplicate"] == "stop"
    result = web_client.post("/leads/bulk", data={**answers, "lead_id": [str(twin.id), str(after.id)]}).text

    assert "Stopped here" in result_row(result, twin.id) and "Not attempted" in result_row(result, after.id)
    assert [lead_row(database, lead.id).state for lead in (twin, after)] == [LeadState.OPEN, LeadState.OPEN]
