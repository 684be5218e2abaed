"""Accounts, contacts and opportunities in the web app: lists, forms, refusals, the process, the timeline, access."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from leadflow.activities.models import Note, RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note
from leadflow.core.schemas import parse
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate
from leadflow.leads import service as leads
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_business_unit, create_user
from tests.e2e.helpers import snapshot
from tests.factories import make_lead
from tests.web.conftest import page_csrf

NORTH_EMAIL = "nora.north@example.com"
NORTH_PASSWORD = "north password of some length"


# ---------------------------------------------------------------------------------------------- helpers


class _FormReader(HTMLParser):
    """What a browser would send for one form: its inputs, plus those outside it that name it (form=...)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def _owned(self, attrs: dict[str, str | None]) -> bool:
        return attrs.get("form") == self.form_id or (self.inside and not attrs.get("form"))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.inside = True
        elif tag == "input" and self._owned(attributes) and attributes.get("name") and "disabled" not in attributes:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.values[attributes["name"]] = attributes.get("value") or "on"
            elif kind not in ("submit", "button", "file"):
                self.values[attributes["name"]] = attributes.get("value") or ""
        elif tag == "select" and self._owned(attributes) and "disabled" not in attributes:
            self._select = attributes["name"]
            self.values[self._select] = ""
        elif tag == "option" and self._select and "selected" in attributes:
            self.values[self._select] = attributes.get("value") or ""
        elif tag == "textarea" and self._owned(attributes) and "disabled" not in attributes:
            self._textarea, self._text = attributes["name"], []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values[self._textarea] = "".join(self._text)
            self._textarea = None


def form_fields(html: str, form_id: str = "record-form") -> dict[str, str]:
    """The fields a browser would post from the page's form, as the page filled them."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.values


def input_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, f"no input {name}"
    return unescape(match.group(1))


def make_account(database, actor, **values):
    with database.unit_of_work() as uow:
        account = customers.create_account(parse(AccountCreate, values), uow=uow, actor=actor)
        uow.commit()
    return account


def make_contact(database, actor, **values):
    with database.unit_of_work() as uow:
        contact = customers.create_contact(parse(ContactCreate, values), uow=uow, actor=actor)
        uow.commit()
    return contact


def make_opportunity(database, actor, **values):
    with database.unit_of_work() as uow:
        opportunity = opportunities.create_opportunity(parse(OpportunityCreate, values), uow=uow, actor=actor)
        uow.commit()
    return opportunity


def lead_note(database, actor, lead_id, *, title, content: bytes | None = None, file_name="minutes.txt"):
    with database.unit_of_work() as uow:
        note = add_note(
            RegardingTable.LEADS,
            lead_id,
            title=title,
            body="Spoke with the buyer.",
            attachment=AttachmentUpload(file_name, "text/plain", content) if content is not None else None,
            max_attachment_bytes=1024 * 1024,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return note


def qualified_lead(database, actor, **lead_values):
    """A lead qualified into an account, a contact and an opportunity."""
    lead = make_lead(database, actor, **lead_values)
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    return lead, result


def north_salesperson(database):
    """A Salesperson of another business unit (reads at Business Unit level), with a password."""
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
        return actor_for_email(uow.session, NORTH_EMAIL)


def count(database, model) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------------------------- pages and labels


@pytest.mark.parametrize(
    ("path", "language", "labels"),
    [
        ("/accounts", "en", ['<h1 id="list-title">Accounts</h1>', "Account name", "Main phone", "New account"]),
        (
            "/accounts",
            "es",
            ['<h1 id="list-title">Cuentas</h1>', "Nombre de cuenta", "Teléfono principal", "Nueva cuenta"],
        ),
        ("/contacts", "en", ['<h1 id="list-title">Contacts</h1>', "Full name", "Business phone", "New contact"]),
        (
            "/contacts",
            "es",
            ['<h1 id="list-title">Contactos</h1>', "Nombre completo", "Teléfono del trabajo", "Nuevo contacto"],
        ),
        ("/opportunities", "en", ['<h1 id="list-title">Opportunities</h1>', "Topic", "Est. revenue", "Stage"]),
        ("/opportunities", "es", ['<h1 id="list-title">Oportunidades</h1>', "Tema", "Ingresos estimados", "Fase"]),
    ],
    ids=lambda value: value.strip("/") if isinstance(value, str) else "labels",
)
def test_each_list_shows_the_records_with_labels_in_the_users_language(
    web_client_for, database, actor, path, language, labels
):
    lead, result = qualified_lead(
        database, actor, company_name="Muebles Norte S.L.", first_name="Lucía", last_name="Pérez"
    )
    client = web_client_for(accept_language=language)

    page = client.get(path)

    assert page.status_code == 200, page.text
    for label in labels:
        assert label in page.text
    shown = {"/accounts": "Muebles Norte S.L.", "/contacts": "Lucía Pérez", "/opportunities": lead.topic}[path]
    record_id = {
        "/accounts": result.account_id,
        "/contacts": result.contact_id,
        "/opportunities": result.opportunity_ids[0],
    }[path]
    assert f'<a href="{path}/{record_id}">{shown}</a>' in page.text


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "en",
            [
                "Lead to Opportunity Sales Process",
                "Qualify",
                "Develop",
                "Propose",
                "Close",
                "Existing contact",
                "Existing account",
                "Purchase timeframe",
                "Estimated budget",
                "Purchase process",
                "Identify decision maker",
                "Capture summary",
                "Customer need",
                "Proposed solution",
                "Identify stakeholders",
                "Next stage",
                "Timeline",
                "Originating lead",
                "Save",
                "Delete",
            ],
        ),
        (
            "es",
            [
                "Proceso de venta de cliente potencial a oportunidad",
                "Calificar",
                "Desarrollar",
                "Proponer",
                "Cerrar",
                "Contacto existente",
                "Cuenta existente",
                "Período de tiempo de compra",
                "Presupuesto estimado",
                "Proceso de compra",
                "Identificar a la persona que toma las decisiones",
                "Capturar resumen",
                "Necesidad del cliente",
                "Solución propuesta",
                "Siguiente fase",
                "Escala de tiempo",
                "Cliente potencial de origen",
                "Guardar",
                "Eliminar",
            ],
        ),
    ],
    ids=["en", "es"],
)
def test_the_opportunity_page_shows_the_process_at_develop_in_the_users_language(
    web_client_for, database, actor, language, labels
):
    lead, result = qualified_lead(database, actor)
    client = web_client_for(accept_language=language)

    page = client.get(f"/opportunities/{result.opportunity_ids[0]}")

    assert page.status_code == 200, page.text
    for label in labels:
        assert label in page.text, label
    assert f'<h1 id="record-title">{lead.topic}</h1>' in page.text
    assert re.search(r'<li id="stage-qualify" class="done">', page.text)
    assert re.search(r'<li id="stage-develop" class="active" aria-current="step">', page.text)
    assert re.search(r'<li id="stage-propose">', page.text) and re.search(r'<li id="stage-close">', page.text)
    assert f'href="/leads/{lead.id}" id="originating-lead-link"' in page.text


@pytest.mark.parametrize(
    ("language", "notice"),
    [
        ("en", "The lead was qualified and this opportunity was created from it."),
        ("es", "El cliente potencial se calificó y se creó esta oportunidad a partir de él."),
    ],
    ids=["en", "es"],
)
def test_landing_on_the_opportunity_after_qualifying_shows_a_success_notice(
    web_client_for, database, actor, language, notice
):
    _, result = qualified_lead(database, actor)
    client = web_client_for(accept_language=language)

    landed = client.get(f"/opportunities/{result.opportunity_ids[0]}?qualified=1")
    later = client.get(f"/opportunities/{result.opportunity_ids[0]}")

    assert notice in landed.text and 'class="notice success"' in landed.text
    assert notice not in later.text
    on_account = client.get(f"/accounts/{result.account_id}?qualified=1").text
    assert (
        "this account was created from it" if language == "en" else "se creó esta cuenta a partir de él"
    ) in on_account


@pytest.mark.parametrize(
    ("path", "language", "labels"),
    [
        ("/accounts/new", "en", ["New account", "Account name", "Street 1", "ZIP/Postal code", "Owner"]),
        ("/accounts/new", "es", ["Nueva cuenta", "Nombre de cuenta", "Calle 1", "Código postal", "Propietario"]),
        ("/contacts/new", "en", ["New contact", "First name", "Last name", "Job title", "Mobile phone"]),
        ("/contacts/new", "es", ["Nuevo contacto", "Nombre", "Apellidos", "Puesto", "Teléfono móvil"]),
        ("/opportunities/new", "en", ["New opportunity", "Potential customer", "Est. close date", "Currency", "Need"]),
        (
            "/opportunities/new",
            "es",
            ["Nueva oportunidad", "Cliente", "Fecha de cierre estimada", "Divisa", "Necesidad"],
        ),
    ],
    ids=lambda value: value.strip("/").replace("/", "-") if isinstance(value, str) else "labels",
)
def test_the_new_record_forms_label_every_field(web_client_for, path, language, labels):
    page = web_client_for(accept_language=language).get(path)

    assert page.status_code == 200, page.text
    for label in labels:
        assert label in page.text, label
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]* id="(field-[^"]+)"', page.text):
        assert f'<label for="{field_id}"' in page.text or f'<label class="checkbox" for="{field_id}"' in page.text


def test_pages_carry_no_inline_script_style_or_event_handler(web_client, database, actor):
    _, result = qualified_lead(database, actor)
    for path in (
        "/accounts",
        f"/accounts/{result.account_id}",
        f"/contacts/{result.contact_id}",
        f"/opportunities/{result.opportunity_ids[0]}",
        "/opportunities/new",
        "/dashboard",
    ):
        html = web_client.get(path).text
        assert " style=" not in html and "onclick" not in html.lower(), path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path


def test_the_account_and_contact_pages_show_their_related_records(web_client, database, actor):
    lead, result = qualified_lead(database, actor, first_name="Lucía", last_name="Pérez")

    account_page = web_client.get(f"/accounts/{result.account_id}").text
    contact_page = web_client.get(f"/contacts/{result.contact_id}").text

    opportunity_link = f'<a href="/opportunities/{result.opportunity_ids[0]}">{lead.topic}</a>'
    assert f'<a href="/contacts/{result.contact_id}">Lucía Pérez</a>' in account_page
    assert opportunity_link in account_page and opportunity_link in contact_page
    assert f'href="/accounts/{result.account_id}"' in contact_page.split('id="related-account"')[1].split("</dd>")[0]
    assert f'href="/leads/{lead.id}"' in account_page and f'href="/leads/{lead.id}"' in contact_page


def test_an_unknown_or_malformed_id_shows_a_not_found_page(web_client):
    missing = web_client.get(f"/accounts/{uuid.uuid4()}")
    malformed = web_client.get("/contacts/not-an-id")

    assert missing.status_code == 404 and "Record not found" in missing.text
    assert malformed.status_code == 404 and "Record not found" in malformed.text


# ---------------------------------------------------------------------------------------------- create, save, delete


def test_creating_an_account_saves_it_and_opens_its_page(web_client, database):
    form = web_client.get("/accounts/new")
    fields = form_fields(form.text)
    fields.update(name="Sillas del Sur S.A.", telephone="+34 954 000 111", address_city="Sevilla")

    created = web_client.post("/accounts/new", data=fields, follow_redirects=False)

    assert created.status_code == 303, created.text
    with database.unit_of_work(read_only=True) as uow:
        account = uow.session.scalars(select(Account)).one()
    assert (account.name, account.telephone, account.address_city) == (
        "Sillas del Sur S.A.",
        "+34 954 000 111",
        "Sevilla",
    )
    assert created.headers["location"] == f"/accounts/{account.id}?notice=created"
    page = web_client.get(created.headers["location"])
    assert "The record was created." in page.text and "Sillas del Sur S.A." in page.text


def test_a_form_without_its_required_field_is_refused_next_to_the_field_and_saves_nothing(web_client_for, database):
    client = web_client_for(accept_language="es")
    fields = form_fields(client.get("/contacts/new").text)
    fields.update(first_name="Lucía", email="not an email")
    before = snapshot(database)

    refused = client.post("/contacts/new", data=fields)

    assert refused.status_code == 422
    assert 'id="field-last_name-error">Este campo es obligatorio.' in refused.text
    assert input_value(refused.text, "first_name") == "Lucía"
    assert snapshot(database) == before


def test_saving_changes_goes_through_the_service_and_only_sends_changed_fields(web_client, database, actor):
    _, result = qualified_lead(database, actor)
    page = web_client.get(f"/opportunities/{result.opportunity_ids[0]}")
    fields = form_fields(page.text)
    fields.update(customer_need="Chairs for 100 people", stakeholders_identified="on", estimated_revenue="30000.5")

    saved = web_client.post(f"/opportunities/{result.opportunity_ids[0]}", data=fields, follow_redirects=False)

    assert saved.status_code == 303, saved.text
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, result.opportunity_ids[0])
    assert opportunity.customer_need == "Chairs for 100 people" and opportunity.stakeholders_identified is True
    assert opportunity.estimated_revenue == Decimal("30000.5") and opportunity.row_version == 2
    assert opportunity.customer_id == result.account_id  # unchanged links stay as they were


def test_amounts_are_typed_and_shown_the_spanish_way_in_spanish(web_client_for, database, actor):
    opportunity = make_opportunity(database, actor, name="Mesas", estimated_revenue="1234.5")
    client = web_client_for(accept_language="es")
    page = client.get(f"/opportunities/{opportunity.id}")
    assert input_value(page.text, "estimated_revenue") == "1234,50"
    fields = form_fields(page.text)
    fields["estimated_revenue"] = "25.000,75"

    client.post(f"/opportunities/{opportunity.id}", data=fields, follow_redirects=False)

    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Opportunity, opportunity.id).estimated_revenue == Decimal("25000.75")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This record was changed by someone else since you loaded it"),
        ("es", "Otra persona modificó este registro después de que usted lo abriera"),
    ],
    ids=["en", "es"],
)
def test_saving_a_stale_form_shows_the_concurrency_refusal_and_keeps_the_input(
    web_client_for, database, actor, language, message
):
    account = make_account(database, actor, name="Original name")
    client = web_client_for(accept_language=language)
    fields = form_fields(client.get(f"/accounts/{account.id}").text)
    with database.unit_of_work() as uow:  # someone else saves first
        customers.update_account(account.id, AccountUpdate(name="Their name"), uow=uow, actor=actor)
        uow.commit()
    before = snapshot(database)
    fields.update(name="My typed name", website="https://typed.example.com")

    refused = client.post(f"/accounts/{account.id}", data=fields)

    assert refused.status_code == 412
    assert message in refused.text
    assert input_value(refused.text, "name") == "My typed name"
    assert input_value(refused.text, "website") == "https://typed.example.com"
    assert snapshot(database) == before
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Account, account.id).name == "Their name"
    assert 'id="reload-record"' in refused.text
    again = client.post(f"/accounts/{account.id}", data=form_fields(refused.text))  # the kept form stays stale
    assert again.status_code == 412 and snapshot(database) == before


def test_a_duplicate_on_save_shows_the_matches_and_save_anyway_saves(web_client, database, actor):
    existing = make_account(database, actor, name="Muebles Ibéricos", email="compras@muebles.example.com")
    fields = form_fields(web_client.get("/accounts/new").text)
    fields.update(name="Muebles Ibéricos", address_city="Madrid")
    before = snapshot(database)

    warned = web_client.post("/accounts/new", data=fields)

    assert warned.status_code == 409
    assert (
        "No account record was created or updated because a duplicate of the current record already exists."
        in warned.text
    )
    assert f'<a href="/accounts/{existing.id}">Muebles Ibéricos</a>' in warned.text
    assert 'id="save-anyway-button"' in warned.text and 'name="suppress_duplicates" value="1"' in warned.text
    assert input_value(warned.text, "address_city") == "Madrid"
    assert snapshot(database) == before

    resent = form_fields(warned.text)
    saved = web_client.post("/accounts/new", data={**resent, "suppress_duplicates": "1"}, follow_redirects=False)

    assert saved.status_code == 303, saved.text
    assert count(database, Account) == 2


def test_delete_asks_for_confirmation_then_deletes_the_record_and_its_notes(web_client, database, actor):
    contact = make_contact(database, actor, last_name="Borrable")
    with database.unit_of_work() as uow:
        add_note(
            RegardingTable.CONTACTS,
            contact.id,
            title="Call",
            body=None,
            attachment=None,
            max_attachment_bytes=1024,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    page = web_client.get(f"/contacts/{contact.id}")
    assert 'id="delete-dialog"' in page.text and 'data-open-dialog="delete-dialog"' in page.text

    confirmation = web_client.get(f"/contacts/{contact.id}/delete?row_version=1")
    assert confirmation.status_code == 200
    assert (
        "Its notes and attachments are deleted too" in confirmation.text
        and 'id="confirm-delete-button"' in confirmation.text
    )
    deleted = web_client.post(
        f"/contacts/{contact.id}/delete", data=form_fields(confirmation.text, "delete-form"), follow_redirects=False
    )

    assert deleted.status_code == 303 and deleted.headers["location"] == "/contacts?notice=deleted"
    assert count(database, Contact) == 0 and count(database, Note) == 0
    assert "The record was deleted." in web_client.get(deleted.headers["location"]).text


def test_deleting_a_record_changed_since_it_was_shown_is_refused_and_deletes_nothing(web_client, database, actor):
    account = make_account(database, actor, name="Changing")
    dialog_form = form_fields(web_client.get(f"/accounts/{account.id}").text, "delete-dialog-form")
    with database.unit_of_work() as uow:
        customers.update_account(account.id, AccountUpdate(website="https://changed.example.com"), uow=uow, actor=actor)
        uow.commit()

    refused = web_client.post(f"/accounts/{account.id}/delete", data=dialog_form)

    assert refused.status_code == 412 and "changed by someone else" in refused.text
    assert count(database, Account) == 1


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(web_client, database, actor):
    account = make_account(database, actor, name="Guarded")
    fields = form_fields(web_client.get(f"/accounts/{account.id}").text)
    fields.pop("csrf_token")
    before = snapshot(database)

    for path in (
        f"/accounts/{account.id}",
        f"/accounts/{account.id}/delete",
        "/accounts/new",
        f"/accounts/{account.id}/notes",
    ):
        refused = web_client.post(path, data={**fields, "name": "Hijacked"})
        assert refused.status_code == 403, path

    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- the process (§7)


def test_the_process_moves_between_develop_propose_and_close_but_never_back_to_qualify(web_client, database, actor):
    _, result = qualified_lead(database, actor)
    opportunity_id = result.opportunity_ids[0]
    page = web_client.get(f"/opportunities/{opportunity_id}")
    assert re.search(r'id="previous-stage-button"\s+disabled', page.text)
    csrf = page_csrf(page.text)

    moved = web_client.post(f"/opportunities/{opportunity_id}/process/next-stage", data={"csrf_token": csrf})
    assert moved.status_code == 200 and '<li id="stage-propose" class="active"' in moved.text
    web_client.post(f"/opportunities/{opportunity_id}/process/next-stage", data={"csrf_token": csrf})
    at_close = web_client.get(f"/opportunities/{opportunity_id}")
    assert '<li id="stage-close" class="active"' in at_close.text
    assert re.search(r'id="next-stage-button"\s+disabled', at_close.text)

    refused = web_client.post(f"/opportunities/{opportunity_id}/process/next-stage", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "already at the last stage" in refused.text
    for _ in range(2):
        web_client.post(f"/opportunities/{opportunity_id}/process/previous-stage", data={"csrf_token": csrf})
    back_to_qualify = web_client.post(
        f"/opportunities/{opportunity_id}/process/previous-stage", data={"csrf_token": csrf}
    )
    assert back_to_qualify.status_code == 409 and "cannot go back to Qualify" in back_to_qualify.text
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Opportunity, opportunity_id).process_stage == "develop"


def test_ticking_a_step_marks_it_complete_in_the_process(web_client, database, actor):
    opportunity = make_opportunity(database, actor, name="Steps")
    fields = form_fields(web_client.get(f"/opportunities/{opportunity.id}").text)
    fields.update(sales_team_identified="on", decision_date="2026-12-15")

    web_client.post(f"/opportunities/{opportunity.id}", data=fields)
    page = web_client.get(f"/opportunities/{opportunity.id}")

    assert re.search(r'name="sales_team_identified" value="on" form="record-form" checked', page.text)
    assert input_value(page.text, "decision_date") == "2026-12-15"
    fields = form_fields(page.text)
    fields.pop("sales_team_identified")  # untick it again
    web_client.post(f"/opportunities/{opportunity.id}", data=fields)
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Opportunity, opportunity.id).sales_team_identified is False


# ---------------------------------------------------------------------------------------------- timeline


def test_the_opportunity_timeline_shows_the_leads_note_and_downloads_its_attachment_as_a_file(
    web_client, database, actor
):
    lead = make_lead(database, actor)
    note = lead_note(
        database, actor, lead.id, title="Visit report", content=b"<html>not rendered</html>", file_name="visit.html"
    )
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()

    page = web_client.get(f"/opportunities/{result.opportunity_ids[0]}")

    entry = page.text.split(f'id="note-{note.id}"')[1].split("</li>")[0]
    assert "Visit report" in entry and "From the lead" in entry and "Spoke with the buyer." in entry
    link = re.search(r'<a href="([^"]+/attachment)" download', entry).group(1)
    download = web_client.get(link)
    assert download.status_code == 200
    assert download.content == b"<html>not rendered</html>"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert 'filename="visit.html"' in download.headers["content-disposition"]
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-content-type-options"] == "nosniff"
    for path in (f"/accounts/{result.account_id}", f"/contacts/{result.contact_id}"):
        assert "Visit report" in web_client.get(path).text


def test_a_note_with_a_file_is_added_to_an_account_and_downloads_as_an_attachment(web_client, database, actor):
    account = make_account(database, actor, name="Con notas")
    page = web_client.get(f"/accounts/{account.id}")

    added = web_client.post(
        f"/accounts/{account.id}/notes",
        data={"csrf_token": page_csrf(page.text), "title": "Price list", "body": "Sent the 2027 prices."},
        files={"file": ("precios 2027.pdf", b"%PDF-1.4 prices", "application/pdf")},
        follow_redirects=False,
    )

    assert added.status_code == 303 and added.headers["location"].startswith(f"/accounts/{account.id}")
    page = web_client.get(f"/accounts/{account.id}")
    assert "Price list" in page.text and "Sent the 2027 prices." in page.text
    link = re.search(r'<a href="([^"]+/attachment)" download[^>]*>precios 2027.pdf</a>', page.text).group(1)
    download = web_client.get(link)
    assert download.content == b"%PDF-1.4 prices"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''precios%202027.pdf" in download.headers["content-disposition"]


def test_an_empty_note_or_a_file_over_the_limit_is_refused_and_saves_nothing(web_client, database, actor, settings):
    contact = make_contact(database, actor, last_name="Sin notas")
    csrf = page_csrf(web_client.get(f"/contacts/{contact.id}").text)
    before = snapshot(database)

    empty = web_client.post(f"/contacts/{contact.id}/notes", data={"csrf_token": csrf, "title": "", "body": "  "})
    too_big = web_client.post(
        f"/contacts/{contact.id}/notes",
        data={"csrf_token": csrf, "title": "Big one", "body": "kept"},
        files={"file": ("big.bin", b"x" * (settings.max_attachment_bytes + 1), "application/octet-stream")},
    )

    assert empty.status_code == 422 and "A note needs a title, a text or an attachment." in empty.text
    assert (
        too_big.status_code == 413
        and "The file is larger than the limit of 64 kB; attach a smaller file." in too_big.text
    )
    assert 'id="note-title" name="title" maxlength="500" value="Big one"' in too_big.text
    assert snapshot(database) == before


def test_a_note_of_another_record_cannot_be_downloaded_through_this_one(web_client, database, actor):
    _, first = qualified_lead(database, actor)
    other_lead = make_lead(database, actor)
    other_note = lead_note(database, actor, other_lead.id, title="Elsewhere", content=b"secret")

    response = web_client.get(f"/opportunities/{first.opportunity_ids[0]}/notes/{other_note.id}/attachment")

    assert response.status_code == 404 and b"secret" not in response.content


# ---------------------------------------------------------------------------------------------- lists


def test_lists_search_by_name_sort_and_page_by_keyset(web_client, database, actor):
    names = [f"Cuenta {index:02d}" for index in range(30)]
    for name in reversed(names):
        make_account(database, actor, name=name)
    make_account(database, actor, name="Zeta Muebles")

    def shown(html: str) -> list[str]:
        return re.findall(r'<a href="/accounts/[0-9a-f-]+">([^<]+)</a>', html)

    first = web_client.get("/accounts")
    assert shown(first.text) == names[:25]
    next_link = unescape(re.search(r'<a id="next-page" href="([^"]+)"', first.text).group(1))
    second = web_client.get(next_link)
    assert shown(second.text) == [*names[25:], "Zeta Muebles"]
    assert 'id="next-page"' not in second.text
    previous_link = unescape(re.search(r'<a id="previous-page" href="([^"]+)"', second.text).group(1))
    assert shown(web_client.get(previous_link).text) == names[:25]

    descending = web_client.get("/accounts?sort=-name")
    assert shown(descending.text)[:2] == ["Zeta Muebles", "Cuenta 29"]
    assert 'aria-sort="descending"' in descending.text

    searched = web_client.get("/accounts?q=zeta")
    assert shown(searched.text) == ["Zeta Muebles"]
    assert shown(web_client.get("/accounts?q=100%25").text) == []


def test_a_tampered_page_link_shows_a_message_and_the_first_page(web_client, database, actor):
    make_account(database, actor, name="Única")

    response = web_client.get("/accounts?after=not-a-cursor")

    assert response.status_code == 422
    assert "The page link is not valid for this list" in response.text and ">Única</a>" in response.text


# ---------------------------------------------------------------------------------------------- access


def test_a_salesperson_of_another_unit_sees_only_their_units_records(web_client_for, database, actor):
    lead, head_office = qualified_lead(database, actor)
    lead_note(database, actor, make_lead(database, actor).id, title="Private")
    north = north_salesperson(database)
    north_account = make_account(database, north, name="Cuenta del Norte")
    north_contact = make_contact(database, north, last_name="Norteño")
    north_opportunity = make_opportunity(database, north, name="Venta del Norte")
    client = web_client_for(NORTH_EMAIL, NORTH_PASSWORD)

    accounts = client.get("/accounts").text
    contacts = client.get("/contacts").text
    opportunities_list = client.get("/opportunities").text

    assert f"/accounts/{north_account.id}" in accounts and f"/accounts/{head_office.account_id}" not in accounts
    assert f"/contacts/{north_contact.id}" in contacts and f"/contacts/{head_office.contact_id}" not in contacts
    assert f"/opportunities/{north_opportunity.id}" in opportunities_list
    assert f"/opportunities/{head_office.opportunity_ids[0]}" not in opportunities_list
    for path in (
        f"/accounts/{head_office.account_id}",
        f"/contacts/{head_office.contact_id}",
        f"/opportunities/{head_office.opportunity_ids[0]}",
        f"/opportunities/{head_office.opportunity_ids[0]}/delete",
    ):
        refused = client.get(path)
        # A record one may not read looks exactly like one that does not exist.
        record_id = path.split("/")[2]
        nobody = str(uuid.uuid4())
        unknown = client.get(path.replace(record_id, nobody))
        assert refused.status_code == unknown.status_code == 404, path
        assert lead.topic not in refused.text
        assert refused.text.replace(record_id, "ID") == unknown.text.replace(nobody, "ID"), path
    assert client.get(f"/accounts/{north_account.id}").status_code == 200


def test_a_salesperson_cannot_change_or_delete_another_units_record_by_posting(web_client_for, database, actor):
    account = make_account(database, actor, name="Head office")
    north_salesperson(database)
    client = web_client_for(NORTH_EMAIL, NORTH_PASSWORD)
    csrf = page_csrf(client.get("/accounts").text)
    before = snapshot(database)

    changed = client.post(f"/accounts/{account.id}", data={"csrf_token": csrf, "name": "Taken", "row_version": "1"})
    deleted = client.post(f"/accounts/{account.id}/delete", data={"csrf_token": csrf, "row_version": "1"})
    noted = client.post(f"/accounts/{account.id}/notes", data={"csrf_token": csrf, "title": "Mine now"})

    assert (changed.status_code, deleted.status_code, noted.status_code) == (404, 404, 404)
    assert snapshot(database) == before


def test_the_timeline_hides_the_notes_of_a_lead_the_user_may_not_read(web_client_for, database, actor):
    north = north_salesperson(database)
    lead = make_lead(database, actor)
    lead_note(database, actor, lead.id, title="Head office only")
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:  # the opportunity goes to the North salesperson; the lead stays
        opportunities.update_opportunity(
            result.opportunity_ids[0],
            parse(OpportunityUpdate, {"owner_user_id": str(north.user_id)}),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    client = web_client_for(NORTH_EMAIL, NORTH_PASSWORD)

    page = client.get(f"/opportunities/{result.opportunity_ids[0]}")

    assert page.status_code == 200
    assert "Head office only" not in page.text
    assert "A lead you cannot open" in page.text and f'href="/leads/{lead.id}"' not in page.text


def test_saving_keeps_a_link_to_a_record_the_user_may_not_read(web_client_for, database, actor):
    head_office_account = make_account(database, actor, name="Head office account")
    north = north_salesperson(database)
    contact = make_contact(
        database, actor, last_name="Shared", account_id=str(head_office_account.id), owner_user_id=str(north.user_id)
    )
    client = web_client_for(NORTH_EMAIL, NORTH_PASSWORD)
    page = client.get(f"/contacts/{contact.id}")
    assert f'<option value="{head_office_account.id}" selected>A record you cannot open</option>' in page.text
    assert "Head office account" not in page.text
    fields = form_fields(page.text)
    fields["job_title"] = "Buyer"

    saved = client.post(f"/contacts/{contact.id}", data=fields, follow_redirects=False)

    assert saved.status_code == 303, saved.text
    with database.unit_of_work(read_only=True) as uow:
        stored = uow.session.get(Contact, contact.id)
    assert (stored.job_title, stored.account_id, stored.owner_user_id) == (
        "Buyer",
        head_office_account.id,
        north.user_id,
    )


def test_a_record_the_user_may_read_but_not_write_is_shown_read_only(web_client_for, database, actor):
    account = make_account(database, actor, name="Colleague's account")
    with database.unit_of_work() as uow:  # same business unit: reads it, writes only their own records
        create_user(
            email="colleague@example.com",
            full_name="Colleague",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=NORTH_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    client = web_client_for("colleague@example.com", NORTH_PASSWORD)

    page = client.get(f"/accounts/{account.id}")

    assert page.status_code == 200
    assert 'id="read-only-banner"' in page.text
    assert 'id="save-button"' not in page.text and 'id="delete-button"' not in page.text
    assert re.search(
        r'id="field-name" name="name" value="Colleague&#39;s account" form="record-form" maxlength="160" disabled',
        page.text,
    )
