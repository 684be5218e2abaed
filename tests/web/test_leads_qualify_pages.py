"""Qualify, disqualify, reactivate, delete and notes from the lead page, on SQLite and PostgreSQL.

Qualify follows the organisation's settings (§6): automatic records land on the new opportunity,
the legacy prompt and the per-record Seller choices ask first. Duplicate warnings (§5) come in the
classic and the enhanced presentation; lead and opportunity duplicates block with the documented
message and ways out. Every refusal leaves the database as it was and keeps what the seller typed.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from leadflow.activities.models import Attachment, Note
from leadflow.core.schemas import parse
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.customers.service import create_account, create_contact
from leadflow.duplicates.detection import LEAD_DUPLICATE
from leadflow.duplicates.models import DuplicateRule
from leadflow.leads import service
from leadflow.leads.models import LEAD_HAS_OPPORTUNITY, LEAD_IS_CLOSED, LeadState, LeadStatusReason
from leadflow.leads.schemas import LeadCreate, LeadUpdate, QualifyOptions
from leadflow.opportunities.models import Opportunity
from tests.e2e.helpers import snapshot
from tests.factories import lead_data, make_lead
from tests.web.test_leads_pages import count, form_fields, lead_row, set_settings


def lead_form(client, lead_id) -> dict[str, str]:
    return form_fields(client.get(f"/leads/{lead_id}").text, "lead-form")


def qualify(client, lead_id, data):
    return client.post(f"/leads/{lead_id}/qualify", data=data, follow_redirects=False)


def existing_account(database, actor, name: str, **values) -> Account:
    with database.unit_of_work() as uow:
        account = create_account(AccountCreate(name=name, **values), uow=uow, actor=actor)
        uow.commit()
    return account


# ---------------------------------------------------------------------------------------------- automatic


def test_qualify_with_automatic_settings_shows_processing_and_lands_on_the_new_opportunity(
    database, actor, web_client_for
) -> None:
    lead = make_lead(database, actor)
    client = web_client_for(accept_language="es")
    page = client.get(f"/leads/{lead.id}").text
    button = re.search(r'<button[^>]*id="qualify-button"[^>]*>[^<]*</button>', page).group(0)
    assert 'data-processing-text="Procesando..."' in button and ">Calificar</button>" in button
    assert "data-dialog" not in button  # nothing to ask: the button posts
    response = qualify(client, lead.id, form_fields(page, "lead-form"))
    assert response.status_code == 303
    qualified = lead_row(database, lead.id)
    assert qualified.state is LeadState.QUALIFIED
    assert response.headers["location"] == f"/opportunities/{qualified.qualifying_opportunity_id}?qualified=1"
    assert qualified.parent_account_id is not None and qualified.parent_contact_id is not None

    after = client.get(f"/leads/{lead.id}").text
    assert 'id="stage-qualify" class="done"' in after
    assert f'<a href="/opportunities/{qualified.qualifying_opportunity_id}">Desarrollar</a>' in after
    assert 'id="qualifying-opportunity-link"' in after


def test_qualify_saves_the_qualify_stage_typed_in_the_form_and_links_the_existing_account(
    database, actor, web_client
) -> None:
    lead = make_lead(database, actor)
    account = existing_account(database, actor, "Grupo Existente S.A.")
    fields = lead_form(web_client, lead.id)
    assert f'<option value="{account.id}">' in web_client.get(f"/leads/{lead.id}").text
    fields.update(
        parent_account_id=str(account.id),
        purchase_timeframe="immediate",
        decision_maker="yes",
        qualification_comments="Signed the NDA; budget approved.",
    )
    response = qualify(web_client, lead.id, fields)
    assert response.status_code == 303
    qualified = lead_row(database, lead.id)
    assert qualified.purchase_timeframe.value == "immediate"
    assert qualified.qualification_comments == "Signed the NDA; budget approved."
    assert qualified.parent_account_id == account.id
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, qualified.qualifying_opportunity_id)
        assert opportunity.parent_account_id == account.id
        assert opportunity.purchase_timeframe.value == "immediate"
    assert count(database, Account) == 1  # linked, not created


def test_a_stale_or_closed_lead_is_not_qualified_and_nothing_is_saved(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    fields = lead_form(web_client, lead.id)
    with database.unit_of_work() as uow:
        service.update_lead(lead.id, LeadUpdate(job_title="Changed meanwhile"), uow=uow, actor=actor)
        uow.commit()
    before = snapshot(database)
    fields["job_title"] = "My own change"
    stale = qualify(web_client, lead.id, fields)
    assert stale.status_code == 412
    assert "changed by someone else" in stale.text and 'value="My own change"' in stale.text
    assert snapshot(database) == before

    with database.unit_of_work() as uow:
        service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    before = snapshot(database)
    closed = qualify(web_client, lead.id, {"csrf_token": fields["csrf_token"]})
    assert closed.status_code == 409
    assert LEAD_IS_CLOSED.replace("'", "&#39;") in closed.text
    assert snapshot(database) == before


def test_unsaved_edits_that_are_not_valid_stop_the_qualification(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    fields = lead_form(web_client, lead.id)
    fields.update(topic="", email="nope")
    before = snapshot(database)
    response = qualify(web_client, lead.id, fields)
    assert response.status_code == 422
    assert 'id="lead-topic-error">This field is required.</p>' in response.text
    assert 'id="lead-email-error">Enter a valid email address, like name@example.com.</p>' in response.text
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- the seller chooses (§6)


def test_the_legacy_prompt_asks_which_records_to_create_and_keeps_the_unsaved_edits(
    database, actor, web_client_for
) -> None:
    set_settings(database, create_records_on_qualify=False)
    lead = make_lead(database, actor)
    client = web_client_for(accept_language="es")
    page = client.get(f"/leads/{lead.id}").text
    assert re.search(r'id="qualify-button"[^>]*data-dialog="qualify-dialog"', page)
    dialog = re.search(r'<dialog id="qualify-dialog".*?</dialog>', page, re.DOTALL).group(0)
    assert ">Calificar cliente potencial</h2>" in dialog
    assert re.search(
        r'id="qualify-dialog-create-account" name="account_choice" value="new" checked form="lead-form" disabled',
        dialog,
    )

    fields = form_fields(page, "lead-form")
    assert "account_choice" not in fields  # the dialog's answers are disabled until it opens
    fields["job_title"] = "Directora de compras"
    before = snapshot(database)
    asked = qualify(client, lead.id, fields)
    assert asked.status_code == 200
    assert ">Calificar cliente potencial</h1>" in asked.text
    assert snapshot(database) == before
    answers = form_fields(asked.text, "qualify-form")
    assert answers["job_title"] == "Directora de compras"  # carried to the next step
    answers["account_choice"] = "none"
    response = qualify(client, lead.id, answers)
    assert response.status_code == 303
    qualified = lead_row(database, lead.id)
    assert qualified.state is LeadState.QUALIFIED and qualified.job_title == "Directora de compras"
    assert qualified.parent_account_id is None and qualified.parent_contact_id is not None
    assert response.headers["location"] == f"/opportunities/{qualified.qualifying_opportunity_id}?qualified=1"
    assert count(database, Account) == 0


def test_qualifying_without_an_opportunity_lands_on_the_account_and_the_flow_stays_at_qualify(
    database, actor, web_client
) -> None:
    set_settings(database, create_records_on_qualify=False)
    lead = make_lead(database, actor)
    answers = form_fields(web_client.get(f"/leads/{lead.id}/qualify").text, "qualify-form")
    answers["opportunity_choice"] = "none"
    response = qualify(web_client, lead.id, answers)
    qualified = lead_row(database, lead.id)
    assert response.headers["location"] == f"/accounts/{qualified.parent_account_id}?qualified=1"
    assert qualified.state is LeadState.QUALIFIED and qualified.qualifying_opportunity_id is None
    assert 'id="stage-qualify" class="active"' in web_client.get(f"/leads/{lead.id}").text


def per_record_seller(database) -> None:
    set_settings(
        database,
        qualification_experience="per_record",
        account_creation="seller",
        contact_creation="seller",
        opportunity_creation="seller",
    )


def test_per_record_choices_pick_an_existing_account_skip_the_contact_and_create_two_opportunities(
    database, actor, web_client
) -> None:
    per_record_seller(database)
    lead = make_lead(database, actor)
    account = existing_account(database, actor, "Cadena Hotelera Sol")
    page = web_client.get(f"/leads/{lead.id}").text
    dialog = re.search(r'<dialog id="qualify-dialog".*?</dialog>', page, re.DOTALL).group(0)
    for record in ("account", "contact"):
        for choice in ("new", "existing", "none"):
            assert f'id="qualify-dialog-{record}-{choice}"' in dialog
    assert 'id="qualify-dialog-opportunity-existing"' not in dialog
    assert 'id="qualify-dialog-opportunity_5_name"' in dialog and 'id="qualify-dialog-opportunity_6_name"' not in dialog

    answers = form_fields(web_client.get(f"/leads/{lead.id}/qualify").text, "qualify-form")
    answers.update(
        account_choice="existing",
        existing_account_id=str(account.id),
        contact_choice="none",
        opportunity_choice="new",
        opportunity_1_name="Lobby chairs",
        opportunity_1_revenue="10000",
        opportunity_1_close_date="2026-12-31",
        opportunity_2_name="Desks",
        opportunity_2_revenue="5000.5",
    )
    response = qualify(web_client, lead.id, answers)
    assert response.status_code == 303
    with database.unit_of_work(read_only=True) as uow:
        opportunities = {o.name: o for o in uow.session.scalars(select(Opportunity))}
    assert set(opportunities) == {"Lobby chairs", "Desks"}
    assert opportunities["Lobby chairs"].estimated_revenue == Decimal(10000)
    assert opportunities["Lobby chairs"].estimated_close_date == date(2026, 12, 31)
    assert opportunities["Desks"].estimated_revenue == Decimal("5000.5")
    assert all(o.parent_account_id == account.id and o.parent_contact_id is None for o in opportunities.values())
    assert response.headers["location"] == f"/opportunities/{opportunities['Lobby chairs'].id}?qualified=1"
    assert count(database, Contact) == 0 and count(database, Account) == 1


def test_a_choice_left_half_made_is_refused_on_the_choices_page(database, actor, web_client) -> None:
    per_record_seller(database)
    lead = make_lead(database, actor)
    answers = form_fields(web_client.get(f"/leads/{lead.id}/qualify").text, "qualify-form")
    answers.update(account_choice="existing", existing_account_id="", opportunity_1_revenue="lots")
    before = snapshot(database)
    response = qualify(web_client, lead.id, answers)
    assert response.status_code == 422
    assert 'id="qualify-existing_account_id-error">This field is required.</p>' in response.text
    assert "Enter an amount, for example 25000.50." in response.text
    assert 'value="lots"' in response.text
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- duplicates (§5)


def test_the_enhanced_warning_lists_the_matching_account_and_continue_links_it(database, actor, web_client_for) -> None:
    lead = make_lead(database, actor, company_name="Hoteles Mar Azul")
    account = existing_account(database, actor, "Hoteles Mar Azul", address_city="Cádiz", email="info@marazul.example")
    client = web_client_for(accept_language="es")
    fields = lead_form(client, lead.id)
    fields["job_title"] = "Gerente"
    before = snapshot(database)
    warned = qualify(client, lead.id, fields)
    assert warned.status_code == 409
    page = warned.text
    assert snapshot(database) == before
    assert ">Es posible que la cuenta o el contacto ya existan</h1>" in page
    section = re.search(r'<section aria-labelledby="matching-accounts-title".*?</section>', page, re.DOTALL).group(0)
    assert ">Cuentas coincidentes</h2>" in section
    assert f'value="{account.id}"' in section
    # The out-of-box rule that matched, by its Spanish name.
    for shown in (
        "Hoteles Mar Azul",
        "Cádiz",
        "info@marazul.example",
        "Ada Admin",
        "Cuentas con el mismo nombre de cuenta",
    ):
        assert shown in section
    assert ">Ignorar y guardar</button>" in page and ">Continuar</button>" in page
    assert 'id="matching-contacts"' not in page

    answers = form_fields(page, "duplicate-form")
    assert answers["job_title"] == "Gerente"
    response = qualify(
        client, lead.id, {**answers, "duplicate_account_id": str(account.id), "duplicate_resolution": "link"}
    )
    assert response.status_code == 303
    qualified = lead_row(database, lead.id)
    assert qualified.state is LeadState.QUALIFIED and qualified.parent_account_id == account.id
    assert qualified.job_title == "Gerente"
    assert count(database, Account) == 1


def test_ignore_and_save_creates_new_records_despite_the_matches(database, actor, web_client) -> None:
    lead = make_lead(database, actor, company_name="Talleres Unidos")
    existing_account(database, actor, "Talleres Unidos")
    warned = qualify(web_client, lead.id, lead_form(web_client, lead.id))
    assert warned.status_code == 409 and ">The account or contact might already exist</h1>" in warned.text
    answers = form_fields(warned.text, "duplicate-form")
    response = qualify(web_client, lead.id, {**answers, "duplicate_resolution": "ignore"})
    assert response.status_code == 303
    assert count(database, Account) == 2
    assert lead_row(database, lead.id).state is LeadState.QUALIFIED


def test_the_classic_warning_offers_only_the_matches_and_blank_creates_new_ones(
    database, actor, web_client_for
) -> None:
    set_settings(database, duplicate_experience="classic")
    lead = make_lead(database, actor, company_name="Clínica Dental Norte", email="carmen@clinica.example")
    account = existing_account(database, actor, "Clínica Dental Norte")
    existing_account(database, actor, "Unrelated company")
    with database.unit_of_work() as uow:
        contact = create_contact(
            ContactCreate(last_name="Vidal", first_name="Carmen", email="carmen@clinica.example"), uow=uow, actor=actor
        )
        uow.commit()
    client = web_client_for(accept_language="es")
    warned = qualify(client, lead.id, lead_form(client, lead.id))
    assert warned.status_code == 409
    page = warned.text
    assert ">Advertencia de duplicado</h1>" in page
    account_select = re.search(r'<select id="duplicate-account".*?</select>', page, re.DOTALL).group(0)
    assert re.findall(r'<option value="([^"]*)"', account_select) == ["", str(account.id)]
    contact_select = re.search(r'<select id="duplicate-contact".*?</select>', page, re.DOTALL).group(0)
    assert re.findall(r'<option value="([^"]*)"', contact_select) == ["", str(contact.id)]
    assert "carmen@clinica.example" in contact_select
    assert ">Continuar</button>" in page and "Ignorar y guardar" not in page

    answers = form_fields(page, "duplicate-form")
    assert answers["duplicate_account_id"] == "" and answers["duplicate_contact_id"] == ""
    response = qualify(client, lead.id, {**answers, "duplicate_resolution": "link"})
    assert response.status_code == 303
    assert count(database, Account) == 3 and count(database, Contact) == 2  # blank: new ones created


def test_a_duplicate_lead_blocks_qualification_with_the_documented_message_and_ways_out(
    database, actor, web_client_for
) -> None:
    lead = make_lead(database, actor, email="twice@example.com")
    with database.unit_of_work() as uow:
        twin = service.create_lead(
            parse(LeadCreate, lead_data(email="twice@example.com")), uow=uow, actor=actor, suppress_duplicates=True
        )
        uow.commit()
        rule_id = uow.session.scalar(
            select(DuplicateRule.id).where(DuplicateRule.name == "Leads with the same email address")
        )
    english = web_client_for()
    fields = lead_form(english, lead.id)
    fields["job_title"] = "Typed before qualifying"
    before = snapshot(database)
    blocked = qualify(english, lead.id, fields)
    assert blocked.status_code == 409
    assert snapshot(database) == before
    section = re.search(r'<section class="alert duplicate-blocked".*?</section>', blocked.text, re.DOTALL).group(0)
    assert LEAD_DUPLICATE in section
    assert f'href="/leads/{twin.id}"' in section
    assert 'href="/admin/duplicates"' in section and f'href="/admin/duplicate-rules/{rule_id}"' in section
    assert f"/admin/merge?table=leads&amp;master={twin.id}&amp;subordinate={lead.id}" in section
    assert "Merge the duplicates and try again." in section and "Unpublish the duplicate detection rule." in section
    assert 'value="Typed before qualifying"' in blocked.text  # the seller's input is kept

    spanish = web_client_for(accept_language="es")
    blocked = qualify(spanish, lead.id, lead_form(spanish, lead.id))
    assert (
        "No se creó ni actualizó ningún registro de clientes potenciales porque ya existe un duplicado del registro actual."
        in blocked.text
    )
    assert "Combinar filas duplicadas" in blocked.text


# ---------------------------------------------------------------------------------------------- disqualify, reactivate, delete


def test_disqualify_from_the_dialog_with_the_status_reasons_of_the_document(database, actor, web_client_for) -> None:
    lead = make_lead(database, actor)
    client = web_client_for(accept_language="es")
    page = client.get(f"/leads/{lead.id}").text
    dialog = re.search(r'<dialog id="disqualify-dialog".*?</dialog>', page, re.DOTALL).group(0)
    assert '<label for="disqualify-dialog-status-reason">Motivo para el estado</label>' in dialog
    assert re.findall(r'<option value="[a-z_]+">([^<]+)</option>', dialog) == [
        "Perdido",
        "No se puede contactar",
        "Ya no está interesado",
        "Cancelado",
    ]
    assert f'href="/leads/{lead.id}/disqualify" id="disqualify-button"' in page  # the page without JavaScript
    fallback = client.get(f"/leads/{lead.id}/disqualify").text
    assert 'id="disqualify-form"' in fallback

    data = {**form_fields(page, "disqualify-dialog-form"), "status_reason": "canceled"}
    response = client.post(f"/leads/{lead.id}/disqualify", data=data, follow_redirects=False)
    assert response.headers["location"] == f"/leads/{lead.id}?done=disqualified"
    closed = lead_row(database, lead.id)
    assert (closed.state, closed.status_reason) == (LeadState.DISQUALIFIED, LeadStatusReason.CANCELED)
    assert "El cliente potencial está descalificado." in client.get(response.headers["location"]).text


def test_disqualify_is_refused_while_an_opportunity_exists_and_a_bad_reason_is_refused(
    database, actor, web_client
) -> None:
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        service.reactivate_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    page = web_client.get(f"/leads/{lead.id}").text
    before = snapshot(database)
    data = form_fields(page, "disqualify-dialog-form")
    refused = web_client.post(f"/leads/{lead.id}/disqualify", data={**data, "status_reason": "lost"})
    assert refused.status_code == 409
    assert LEAD_HAS_OPPORTUNITY.replace("'", "&#39;") in refused.text
    bad = web_client.post(f"/leads/{lead.id}/disqualify", data={**data, "status_reason": "qualified"})
    assert bad.status_code == 422 and 'id="disqualify-form"' in bad.text
    assert snapshot(database) == before


def add_note(client, lead_id, *, title="Call", body="Spoke with the buyer.", file=None):
    page = client.get(f"/leads/{lead_id}").text
    files = {"file": file} if file else None
    return client.post(
        f"/leads/{lead_id}/notes",
        data={"csrf_token": form_fields(page, "note-form")["csrf_token"], "title": title, "body": body},
        files=files,
        follow_redirects=False,
    )


def test_a_note_with_an_attachment_shows_on_the_timeline_and_downloads_as_an_attachment(
    database, actor, web_client
) -> None:
    lead = make_lead(database, actor)
    content = b"<html><script>alert(1)</script></html>"
    response = add_note(
        web_client,
        lead.id,
        title="Price list",
        body="Sent the prices.\nCall back Monday.",
        file=("prices.html", content, "text/html"),
    )
    assert response.status_code == 303 and response.headers["location"] == f"/leads/{lead.id}?done=note#timeline"
    page = web_client.get(f"/leads/{lead.id}").text
    note_id = re.search(r'<li id="note-([0-9a-f-]+)"', page).group(1)
    item = re.search(rf'<li id="note-{note_id}".*?</li>', page, re.DOTALL).group(0)
    assert "Price list" in item and "Sent the prices.\nCall back Monday." in item and "Ada Admin" in item
    assert f'href="/leads/{lead.id}/notes/{note_id}/attachment" download' in item and "(38 byte)" in item
    download = web_client.get(f"/leads/{lead.id}/notes/{note_id}/attachment")
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-disposition"].startswith('attachment; filename="prices.html"')
    assert download.headers["content-type"] == "application/octet-stream"
    assert web_client.get(f"/leads/{lead.id}/notes/{uuid.uuid4()}/attachment").status_code == 404


def test_an_attachment_over_the_limit_or_an_empty_note_is_refused_and_nothing_is_stored(
    database, actor, web_client, settings
) -> None:
    lead = make_lead(database, actor)
    too_big = b"x" * (settings.max_attachment_bytes + 1)
    response = add_note(
        web_client, lead.id, title="Brochure", body="", file=("brochure.pdf", too_big, "application/pdf")
    )
    assert response.status_code == 413
    assert "The file is larger than the limit of 64 kB; attach a smaller file." in response.text
    assert 'id="note-title" name="title" maxlength="500" value="Brochure"' in response.text
    empty = add_note(web_client, lead.id, title="", body="")
    assert empty.status_code == 422 and "A note needs a title, a text or an attachment." in empty.text
    assert count(database, Note) == 0 and count(database, Attachment) == 0


def test_delete_asks_first_and_takes_the_notes_and_attachments_with_the_lead(database, actor, web_client_for) -> None:
    lead = make_lead(database, actor)
    keep = make_lead(database, actor)
    client = web_client_for(accept_language="es")
    add_note(client, lead.id, file=("a.txt", b"hello", "text/plain"))
    add_note(client, keep.id)
    page = client.get(f"/leads/{lead.id}").text
    dialog = re.search(r'<dialog id="delete-dialog".*?</dialog>', page, re.DOTALL).group(0)
    assert "también se eliminan todas sus notas y datos adjuntos" in dialog
    confirm = client.get(f"/leads/{lead.id}/delete").text
    assert "también se eliminan todas sus notas y datos adjuntos" in confirm
    data = form_fields(confirm, "delete-form")

    with database.unit_of_work() as uow:  # someone else saves the lead meanwhile
        service.update_lead(lead.id, LeadUpdate(job_title="Buyer"), uow=uow, actor=actor)
        uow.commit()
    before = snapshot(database)
    stale = client.post(f"/leads/{lead.id}/delete", data=data)
    assert stale.status_code == 412
    assert snapshot(database) == before

    data = form_fields(client.get(f"/leads/{lead.id}/delete").text, "delete-form")
    response = client.post(f"/leads/{lead.id}/delete", data=data, follow_redirects=False)
    assert response.headers["location"] == "/leads?done=deleted"
    assert lead_row(database, lead.id) is None
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Note).where(Note.regarding_id == lead.id)) == 0
        assert uow.session.scalar(select(func.count()).select_from(Note).where(Note.regarding_id == keep.id)) == 1
    assert count(database, Attachment) == 0
    assert "Se eliminó el cliente potencial con sus notas y datos adjuntos." in client.get("/leads?done=deleted").text


def test_the_choices_start_from_the_existing_account_the_lead_names(database, actor, web_client) -> None:
    per_record_seller(database)
    account = existing_account(database, actor, "Distribuciones Previas")
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.update_lead(lead.id, LeadUpdate(parent_account_id=account.id), uow=uow, actor=actor)
        uow.commit()
    page = web_client.get(f"/leads/{lead.id}/qualify").text
    assert re.search(r'id="qualify-account-existing" name="account_choice" value="existing" checked', page)
    assert re.search(r'id="qualify-contact-new" name="contact_choice" value="new" checked', page)
    assert f'<option value="{account.id}" selected>' in page


def test_a_note_on_a_closed_lead_is_refused_with_the_reason(database, actor, web_client) -> None:
    lead = make_lead(database, actor)
    page = web_client.get(f"/leads/{lead.id}").text  # loaded while the lead was open
    with database.unit_of_work() as uow:
        service.disqualify_lead(lead.id, LeadStatusReason.LOST, uow=uow, actor=actor)
        uow.commit()
    response = web_client.post(
        f"/leads/{lead.id}/notes",
        data={"csrf_token": form_fields(page, "note-form")["csrf_token"], "title": "Too late"},
    )
    assert response.status_code == 409
    assert "This lead is closed and read-only; reactivate it to edit it." in response.text
    assert count(database, Note) == 0
