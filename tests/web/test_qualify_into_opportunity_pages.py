"""Qualifying a lead into an existing open opportunity from the web app, on SQLite and PostgreSQL.

The lead page offers "Qualify into an opportunity..." beside Qualify: it opens the qualify page,
whose "Existing opportunity" select lists the open opportunities the seller may read (with their
customer); qualifying there lands on that opportunity, whose timeline shows the lead's notes. A
refusal comes back to the same page in the user's language, with the choice kept.
"""

from __future__ import annotations

import re
import uuid

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note
from leadflow.core.uow import Database
from leadflow.leads import service
from leadflow.leads.models import LeadState
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import closing
from leadflow.opportunities.schemas import WinOpportunity
from leadflow.security.actor import Actor
from tests.factories import make_lead
from tests.web.conftest import page_csrf
from tests.web.test_leads_pages import lead_row


def qualified_deal(database: Database, actor: Actor, company: str) -> tuple[uuid.UUID, uuid.UUID]:
    """An account with an open opportunity, from a first lead: (account, opportunity)."""
    lead = make_lead(database, actor, company_name=company)
    with database.unit_of_work() as uow:
        result = service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    return result.account_id, result.opportunity_ids[0]


def second_lead(database: Database, actor: Actor, account_id: uuid.UUID, company: str) -> uuid.UUID:
    """A second lead of the same customer, linked to its account, with a note and an attachment."""
    lead = make_lead(database, actor, company_name=company, first_name="Marta", parent_account_id=str(account_id))
    with database.unit_of_work() as uow:
        add_note(
            RegardingTable.LEADS,
            lead.id,
            title="Signed offer",
            body=None,
            attachment=AttachmentUpload("offer.pdf", "application/pdf", b"%PDF-1.7"),
            max_attachment_bytes=1 << 20,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return lead.id


def test_the_lead_page_leads_to_the_choice_and_the_lead_lands_in_the_opportunity(
    database: Database, actor: Actor, web_client
) -> None:
    account_id, opportunity_id = qualified_deal(database, actor, "Turia Distribuciones S.L.")
    _, other_opportunity = qualified_deal(database, actor, "Hermanos Sala S.A.")
    lead_id = second_lead(database, actor, account_id, "Turia Distribuciones S.L.")

    record = web_client.get(f"/leads/{lead_id}").text
    assert re.search(rf'<a class="button secondary" href="/leads/{lead_id}/qualify" id="qualify-into-button">', record)
    page = web_client.get(f"/leads/{lead_id}/qualify").text
    select = re.search(r'<select id="qualify-existing_opportunity_id".*?</select>', page, re.S).group(0)
    assert f'value="{opportunity_id}"' in select and "(Turia Distribuciones S.L.)" in select
    assert f'value="{other_opportunity}"' in select  # every open one the seller reads; the service checks the customer

    response = web_client.post(
        f"/leads/{lead_id}/qualify",
        data={"csrf_token": page_csrf(page), "existing_opportunity_id": str(opportunity_id)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/opportunities/{opportunity_id}?qualified=1"
    lead = lead_row(database, lead_id)
    assert lead.state is LeadState.QUALIFIED and lead.qualifying_opportunity_id == opportunity_id
    opportunity_page = web_client.get(f"/opportunities/{opportunity_id}").text
    assert "Signed offer" in opportunity_page and "offer.pdf" in opportunity_page


def test_a_refusal_comes_back_to_the_choice_in_spanish_and_changes_nothing(
    database: Database, actor: Actor, web_client_for
) -> None:
    account_id, opportunity_id = qualified_deal(database, actor, "Turia Distribuciones S.L.")
    with database.unit_of_work() as uow:
        closing.win_opportunity(opportunity_id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()
    lead_id = second_lead(database, actor, account_id, "Turia Distribuciones S.L.")
    client = web_client_for(accept_language="es")
    page = client.get(f"/leads/{lead_id}/qualify").text
    assert f'value="{opportunity_id}"' not in page  # a won opportunity is not offered

    response = client.post(
        f"/leads/{lead_id}/qualify",
        data={"csrf_token": page_csrf(page), "existing_opportunity_id": str(opportunity_id)},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "La oportunidad elegida está cerrada" in response.text
    assert 'id="qualify-existing_opportunity_id-error">Esta oportunidad está cerrada.</p>' in response.text
    assert f'<option value="{opportunity_id}" selected>' in response.text  # the choice is kept
    assert lead_row(database, lead_id).state is LeadState.OPEN
