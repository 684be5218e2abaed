"""The custom field pages: the administrators' list by table with its order, a new field through the
form (CSRF), a field changed or refused when stored values do not convert, its removal after a
confirmation that says how many records hold a value, the qualify mappings; and the custom fields on
the lead form (shown, saved, refused beside the field in Spanish) and as columns of the lead list."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.fields import service
from leadflow.fields.models import CustomField, FieldMapping
from leadflow.fields.schemas import FieldCreate
from leadflow.leads.models import Lead
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sofia.seller@example.com"
SELLER_PASSWORD = "seller horse battery staple"
REGIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
]


def add_field(database: Database, actor: Actor, **values: Any) -> CustomField:
    data = {
        "table": "leads",
        "label_en": values.get("name", "Field"),
        "label_es": values.get("name", "Campo"),
        **values,
    }
    with database.unit_of_work() as uow:
        field = service.create_field(parse(FieldCreate, data), uow=uow, actor=actor)
        uow.commit()
    return field


def field_named(database: Database, name: str, table: str = "leads") -> CustomField | None:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(
            select(CustomField).where(CustomField.table_name == table, CustomField.name == name)
        ).first()


def lead_named(database: Database, last_name: str) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.scalars(select(Lead).where(Lead.last_name == last_name)).one()
        uow.session.expunge(lead)
        return lead


def text_of(page: Any) -> str:
    return html.unescape(page.text)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Custom fields", "Add a field", "Leads", "Accounts", "Region", "Choice", "Qualify mappings"]),
        ("es", ["Campos personalizados", "Añadir un campo", "Clientes potenciales", "Cuentas", "Región", "Opción"]),
    ],
)
def test_the_list_reads_in_both_languages_and_is_in_the_admin_navigation(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, language: str, words: list[str]
) -> None:
    add_field(database, actor, name="region", label_en="Region", label_es="Región", kind="choice", options=REGIONS)
    client = web_client_for(accept_language=language)
    page = client.get("/admin/custom-fields?table=leads")
    assert page.status_code == 200
    text = text_of(page)
    for word in words:
        assert word in text
    assert 'href="/admin/custom-fields"' in page.text
    for path in ("/admin/custom-fields/new?table=accounts", "/admin/custom-field-mappings"):
        assert client.get(path).status_code == 200


def test_a_salesperson_is_refused_the_admin_pages(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    field = add_field(database, actor, name="region", kind="text")
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER_EMAIL,
            full_name="Sofía Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    client = web_client_for(SELLER_EMAIL, SELLER_PASSWORD)
    for path in ("/admin/custom-fields", f"/admin/custom-fields/{field.id}", "/admin/custom-field-mappings"):
        assert client.get(path).status_code == 403
    assert 'href="/admin/custom-fields"' not in client.get("/leads").text


def test_a_field_is_added_through_the_form_with_its_options(web_client: TestClient, database: Database) -> None:
    csrf = page_csrf(web_client.get("/admin/custom-fields/new?table=leads").text)
    form = {
        "table": "leads",
        "name": "region",
        "label_en": "Region",
        "label_es": "Región",
        "kind": "choice",
        "options": "north | North | Norte\nsouth | South | Sur\n",
        "searchable": "1",
    }
    refused = web_client.post("/admin/custom-fields/new", data=form, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token: nothing saved
    assert field_named(database, "region") is None
    saved = web_client.post("/admin/custom-fields/new", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    field = field_named(database, "region")
    assert field is not None and field.searchable and field.options == REGIONS
    assert "Region" in web_client.get(saved.headers["location"]).text


def test_a_bad_name_is_refused_beside_the_name_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    client = web_client_for(accept_language="es")
    csrf = page_csrf(client.get("/admin/custom-fields/new").text)
    form = {"csrf_token": csrf, "table": "leads", "name": "Bad Name", "label_en": "X", "label_es": "X", "kind": "text"}
    page = client.post("/admin/custom-fields/new", data=form)
    assert page.status_code == 422
    text = text_of(page)
    assert 'id="field-name-error">Use de 1 a 40 letras' in text, text[text.find("field-name-error") :][:500]
    assert 'value="Bad Name"' in page.text


def test_fields_move_up_and_down(web_client: TestClient, database: Database, actor: Actor) -> None:
    for name in ("first", "second"):
        add_field(database, actor, name=name, kind="text")
    page = web_client.get("/admin/custom-fields?table=leads")
    csrf = page_csrf(page.text)
    assert page.text.index("custom-field-first") < page.text.index("custom-field-second")
    moved = web_client.post(
        "/admin/custom-fields/order",
        data={"csrf_token": csrf, "table": "leads", "names": ["second", "first"]},
    )
    assert moved.status_code == 200
    assert moved.text.index("custom-field-second") < moved.text.index("custom-field-first")


def test_a_change_the_stored_values_do_not_fit_is_shown_on_the_edit_form(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    field = add_field(database, actor, name="size", label_en="Size", label_es="Tamaño", kind="text")
    client = web_client_for(accept_language="es")
    page = client.get("/leads/new")
    csrf = page_csrf(page.text)
    created = client.post(
        "/leads/new",
        data={"csrf_token": csrf, "topic": "Big", "last_name": "Grande", "custom.size": "enorme"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    form = client.get(f"/admin/custom-fields/{field.id}")
    version = re.search(r'name="row_version" value="(\d+)"', form.text)
    assert version is not None
    refused = client.post(
        f"/admin/custom-fields/{field.id}",
        data={"csrf_token": csrf, "row_version": version.group(1), "label_en": "Size", "label_es": "Tamaño",
              "kind": "whole_number"},
    )  # fmt: skip
    assert refused.status_code == 409
    assert "Registros con un valor de size que no cabe en la nueva configuración: 1" in text_of(refused)
    assert 'id="values-do-not-convert-hint"' in refused.text
    still = field_named(database, "size")
    assert still is not None and still.kind.value == "text"


def test_delete_asks_for_confirmation_saying_how_many_records_hold_values(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    field = add_field(database, actor, name="size", kind="text")
    client = web_client_for(accept_language="es")
    csrf = page_csrf(client.get("/leads/new").text)
    for last_name in ("Uno", "Dos"):
        client.post(
            "/leads/new",
            data={"csrf_token": csrf, "topic": "T", "last_name": last_name, "custom.size": "L"},
            follow_redirects=False,
        )
    confirm = client.get(f"/admin/custom-fields/{field.id}/delete")
    assert confirm.status_code == 200
    assert "2 registros tienen un valor en este campo" in text_of(confirm)
    version = re.search(r'name="row_version" value="(\d+)"', confirm.text)
    assert version is not None
    unconfirmed = client.post(
        f"/admin/custom-fields/{field.id}/delete", data={"csrf_token": csrf, "row_version": version.group(1)}
    )
    assert unconfirmed.status_code == 409
    assert field_named(database, "size") is not None
    removed = client.post(
        f"/admin/custom-fields/{field.id}/delete",
        data={"csrf_token": csrf, "row_version": version.group(1), "confirm": "1"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert field_named(database, "size") is None
    assert lead_named(database, "Uno").custom == {}


def test_a_mapping_is_added_and_removed(web_client: TestClient, database: Database, actor: Actor) -> None:
    add_field(database, actor, name="region", kind="choice", options=REGIONS)
    add_field(database, actor, table="opportunities", name="region", kind="choice", options=REGIONS)
    page = web_client.get("/admin/custom-field-mappings")
    csrf = page_csrf(page.text)
    saved = web_client.post(
        "/admin/custom-field-mappings",
        data={"csrf_token": csrf, "target": "opportunities:region", "source_field": "custom.region"},
    )
    assert saved.status_code == 200 and 'id="mapping-region"' in saved.text
    with database.unit_of_work(read_only=True) as uow:
        mapping = uow.session.scalars(select(FieldMapping)).one()
    refused = web_client.post(
        "/admin/custom-field-mappings",
        data={"csrf_token": csrf, "target": "opportunities:region", "source_field": "topic"},
    )
    assert refused.status_code == 422 and 'id="mapping-source-error"' in refused.text
    web_client.post(f"/admin/custom-field-mappings/{mapping.id}/delete", data={"csrf_token": csrf})
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(FieldMapping)).first() is None


# ---------------------------------------------------------------------------------------------- record forms


def test_the_lead_form_shows_and_saves_custom_values(web_client: TestClient, database: Database, actor: Actor) -> None:
    add_field(database, actor, name="region", label_en="Region", label_es="Región", kind="choice", options=REGIONS)
    add_field(database, actor, name="budget", label_en="Budget", label_es="Presupuesto", kind="money")
    add_field(database, actor, name="tags", label_en="Tags", label_es="Etiquetas", kind="multi_choice",
              options=REGIONS)  # fmt: skip
    add_field(database, actor, name="secret", kind="text", hidden=True)
    page = web_client.get("/leads/new")
    assert 'id="section-custom"' in page.text
    assert 'name="custom.region"' in page.text and 'name="custom.secret"' not in page.text
    csrf = page_csrf(page.text)
    created = web_client.post(
        "/leads/new",
        data={"csrf_token": csrf, "topic": "T", "last_name": "Custom", "custom.region": "north",
              "custom.budget": "1500.50", "custom.tags": ["", "south"]},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    lead = lead_named(database, "Custom")
    assert lead.custom["region"] == "north" and lead.custom["tags"] == ["south"]
    shown = web_client.get(f"/leads/{lead.id}")
    assert re.search(r'<option value="north" selected>North</option>', shown.text)
    assert 'value="1,500.50"' in shown.text or 'value="1500.50"' in shown.text
    version = re.search(r'name="row_version" value="(\d+)"', shown.text)
    assert version is not None
    saved = web_client.post(
        f"/leads/{lead.id}",
        data={"csrf_token": csrf, "row_version": version.group(1), "custom.region": "south", "custom.tags": [""]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    after = lead_named(database, "Custom")
    assert after.custom["region"] == "south" and "tags" not in after.custom


def test_a_bad_custom_value_is_refused_beside_its_field_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    add_field(database, actor, name="seats", label_en="Seats", label_es="Plazas", kind="whole_number")
    client = web_client_for(accept_language="es")
    csrf = page_csrf(client.get("/leads/new").text)
    page = client.post("/leads/new", data={"csrf_token": csrf, "topic": "T", "last_name": "Mal", "custom.seats": "1,5"})
    assert page.status_code == 422
    assert 'id="custom-seats-error">Escriba un importe, por ejemplo 25000,50.' in text_of(page)
    assert 'value="1,5"' in page.text


def test_an_account_form_saves_a_custom_value(web_client: TestClient, database: Database, actor: Actor) -> None:
    add_field(database, actor, table="accounts", name="tier", label_en="Tier", label_es="Nivel", kind="yes_no")
    page = web_client.get("/accounts/new")
    assert 'name="custom.tier"' in page.text
    created = web_client.post(
        "/accounts/new", data={"csrf_token": page_csrf(page.text), "name": "Acme", "custom.tier": "true"}
    )
    assert created.status_code == 200
    assert re.search(r'<option value="true" selected>', created.text)


def test_the_lead_list_shows_searchable_fields_as_sortable_columns(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    add_field(database, actor, name="region", label_en="Region", label_es="Región", kind="choice",
              options=REGIONS, searchable=True)  # fmt: skip
    client = web_client_for(accept_language="es")
    csrf = page_csrf(client.get("/leads/new").text)
    for last_name, region in (("Alfa", "south"), ("Beta", "north")):
        client.post(
            "/leads/new",
            data={"csrf_token": csrf, "topic": "T", "last_name": last_name, "custom.region": region},
            follow_redirects=False,
        )
    listed = client.get("/leads?sort=custom.region")
    assert listed.status_code == 200
    text = text_of(listed)
    assert 'id="sort-custom-region"' in listed.text and "Región" in text
    assert text.index(">Norte<") < text.index(">Sur<")
    assert text.index("Beta") < text.index("Alfa")


def test_amounts_and_local_times_are_read_as_the_user_types_them(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    add_field(database, actor, name="budget", kind="money")
    add_field(database, actor, name="meeting", kind="datetime")
    client = web_client_for(accept_language="es")
    csrf = page_csrf(client.get("/leads/new").text)
    created = client.post(
        "/leads/new",
        data={"csrf_token": csrf, "topic": "T", "last_name": "Hora", "custom.budget": "1.500,50",
              "custom.meeting": "2026-12-31T09:30"},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    lead = lead_named(database, "Hora")
    assert lead.custom_values["budget"] == Decimal("1500.50")
    assert lead.custom["meeting"].startswith("2026-12-31T")
    shown = client.get(f"/leads/{lead.id}")
    assert 'value="1500,50"' in shown.text
    assert re.search(r'name="custom.meeting" value="2026-12-31T\d\d:30"', shown.text)
