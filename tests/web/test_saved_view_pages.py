"""The saved view pages: a table's views in both languages, a personal view saved through the form
(CSRF) with a filter on a custom field that the lead list then applies, the view a list opens with,
and the refusals (a hidden field in a filter, a system view saved by a seller) shown in Spanish with
nothing saved; and the picker on the lead list."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.fields import service
from leadflow.fields.models import CustomField, SavedView
from leadflow.fields.schemas import FieldCreate
from leadflow.security import service as security
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.factories import make_lead
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sofia.views@example.com"
SELLER_PASSWORD = "seller horse battery staple"
REGIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
]


def add_field(database: Database, actor: Actor, **values: Any) -> CustomField:
    data = {"table": "leads", "label_en": values["name"], "label_es": values["name"], **values}
    with database.unit_of_work() as uow:
        field = service.create_field(parse(FieldCreate, data), uow=uow, actor=actor)
        uow.commit()
    return field


def add_region(database: Database, actor: Actor) -> CustomField:
    return add_field(
        database, actor, name="region", label_en="Region", label_es="Región", kind="choice", options=REGIONS
    )


def text_of(page: Any) -> str:
    return html.unescape(page.text)


def saved_views(database: Database) -> list[SavedView]:
    with database.unit_of_work(read_only=True) as uow:
        views = list(uow.session.scalars(select(SavedView).where(SavedView.owner_user_id.is_not(None))))
        uow.session.expunge_all()
        return views


def view_form(csrf: str, **values: Any) -> dict[str, Any]:
    """The view form as a browser posts it: five filter rows, the empty ones skipped."""
    rows = values.pop("filters", [])
    padded = [*rows, *([("", "eq", "")] * (5 - len(rows)))]
    return {
        "csrf_token": csrf,
        "table": "leads",
        "view_id": "",
        "row_version": "",
        "name": "North leads",
        "sort_field": "created_at",
        "sort_descending": "1",
        "team_id": "",
        "group_by": "",
        "filter_field": [row[0] for row in padded],
        "filter_op": [row[1] for row in padded],
        "filter_value": [row[2] for row in padded],
        **values,
    }


def add_seller(database: Database) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER_EMAIL,
            full_name="Sofía Views",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            ["Saved views", "My open leads", "System view", "New view", "Filters", "equals", "is not empty", "Region"],
        ),
        (
            "es",
            [
                "Vistas guardadas",
                "Mis clientes potenciales abiertos",
                "Vista del sistema",
                "Nueva vista",
                "Filtros",
                "es igual a",
                "no está vacío",
                "como mínimo",
                "Región",
            ],
        ),
    ],
)
def test_the_views_page_reads_in_both_languages(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, language: str, words: list[str]
) -> None:
    add_region(database, actor)
    client = web_client_for(accept_language=language)
    page = client.get("/views?table=leads")
    assert page.status_code == 200
    text = text_of(page)
    for word in words:
        assert word in text
    assert text.count('name="filter_field"') == 5  # rows to fill without JavaScript
    lead_list = text_of(client.get("/leads"))
    assert ("Gestionar vistas" if language == "es" else "Manage views") in lead_list
    assert ("Mis vistas" if language == "es" else "My views") in lead_list


def test_a_personal_view_filters_the_lead_list_on_a_custom_field(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    add_region(database, actor)
    make_lead(database, actor, last_name="Norteño", custom={"region": "north"})
    make_lead(database, actor, last_name="Sureño", custom={"region": "south"})
    csrf = page_csrf(web_client.get("/views?table=leads").text)
    without_token = view_form("", filters=[("custom.region", "eq", "north")])
    assert web_client.post("/views", data=without_token, follow_redirects=False).status_code == 403
    assert saved_views(database) == []

    form = view_form(csrf, filters=[("custom.region", "eq", "north")], columns=["full_name", "topic", "custom.region"])
    saved = web_client.post("/views", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    [view] = saved_views(database)
    assert view.conditions == [{"field": "custom.region", "op": "eq", "value": "north"}]
    assert view.columns == ["full_name", "topic", "custom.region"]
    assert "The view was saved." in web_client.get(saved.headers["location"]).text

    listed = text_of(web_client.get(f"/leads?view_id={view.id}"))
    assert "Norteño" in listed and "Sureño" not in listed
    assert f'<option value="{view.id}" selected>North leads' in listed
    assert 'id="sort-company_name"' not in listed  # the view's columns only
    assert 'id="sort-custom-region"' in listed


def test_the_default_view_opens_the_lead_list(web_client: TestClient, database: Database, actor: Actor) -> None:
    add_region(database, actor)
    make_lead(database, actor, last_name="Norteño", custom={"region": "north"})
    make_lead(database, actor, last_name="Sureño", custom={"region": "south"})
    csrf = page_csrf(web_client.get("/views?table=leads").text)
    web_client.post("/views", data=view_form(csrf, filters=[("custom.region", "eq", "south")], name="South"))
    [view] = saved_views(database)
    every_lead = text_of(web_client.get("/leads?view=all"))
    assert "Sureño" in every_lead and "Norteño" in every_lead

    made = web_client.post(
        f"/views/{view.id}/default", data={"csrf_token": csrf, "table": "leads"}, follow_redirects=False
    )
    assert made.status_code == 303
    assert "Your list now opens with this view." in web_client.get(made.headers["location"]).text

    opened = text_of(web_client.get("/leads"))
    assert "Sureño" in opened and "Norteño" not in opened
    assert "South (default)" in opened
    # The picker's "no saved view" and the list's own views leave the default aside.
    assert "Norteño" in text_of(web_client.get("/leads?view_id=none&view=all"))
    assert "Norteño" in text_of(web_client.get("/leads?view=all"))


def test_a_hidden_field_in_a_filter_is_refused_in_spanish_and_nothing_is_saved(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    add_field(database, actor, name="secret_code", kind="text", hidden=True)
    client = web_client_for(accept_language="es")
    page = client.get("/views?table=leads")
    assert "secret_code" not in page.text  # the builder does not offer it
    form = view_form(page_csrf(page.text), filters=[("custom.secret_code", "eq", "x")])
    refused = client.post("/views", data=form)
    assert refused.status_code == 422
    text = text_of(refused)
    assert "Este campo está oculto" in text or "oculto" in text
    assert 'value="North leads"' in refused.text  # the form as typed
    assert saved_views(database) == []


def test_a_seller_cannot_save_a_system_view(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    add_seller(database)
    client = web_client_for(SELLER_EMAIL, SELLER_PASSWORD, accept_language="es")
    page = client.get("/views?table=leads")
    assert 'name="system"' not in page.text  # administrators only
    refused = client.post("/views", data=view_form(page_csrf(page.text), system="1", name="Everyone's"))
    assert refused.status_code == 403
    assert "administrador" in text_of(refused)
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).where(SavedView.name == "Everyone's")) == 0
    # Their own view is fine, and only they may delete it.
    saved = client.post("/views", data=view_form(page_csrf(page.text), name="Mine"), follow_redirects=False)
    assert saved.status_code == 303
    [view] = saved_views(database)
    deleted = client.post(f"/views/{view.id}/delete", data={"csrf_token": page_csrf(page.text), "table": "leads"})
    assert deleted.status_code == 200 and "La vista se eliminó." in text_of(deleted)
    assert saved_views(database) == []


def test_a_view_shared_with_a_team_is_offered_to_its_members(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    add_seller(database)
    with database.unit_of_work() as uow:
        create_user(
            email="teo.team@example.com",
            full_name="Teo Team",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        team = security.create_team("Key accounts", business_unit_name=None, uow=uow, actor=actor)
        for email in (SELLER_EMAIL, "teo.team@example.com"):
            security.add_team_member("Key accounts", email, uow=uow, actor=actor)
        uow.commit()
        team_id = str(team.id)
    seller = web_client_for(SELLER_EMAIL, SELLER_PASSWORD)
    page = seller.get("/views?table=leads")
    assert f'<option value="{team_id}">Key accounts</option>' in page.text
    shared = seller.post("/views", data=view_form(page_csrf(page.text), name="Team hot", team_id=team_id))
    assert shared.status_code == 200 and "The view was saved." in shared.text
    member = web_client_for("teo.team@example.com", SELLER_PASSWORD, accept_language="es")
    views_page = text_of(member.get("/views?table=leads"))
    assert "Team hot" in views_page and "Vista del equipo" in views_page
    assert "Team hot" in text_of(member.get("/leads"))  # in the picker
    [view] = saved_views(database)
    assert f'id="delete-view-{view.id}"' not in member.get("/views?table=leads").text  # only its owner deletes it


@pytest.mark.parametrize("table", ["accounts", "contacts", "opportunities"])
def test_the_other_tables_have_their_views_page(web_client: TestClient, table: str) -> None:
    page = web_client.get(f"/views?table={table}")
    assert page.status_code == 200
    assert 'aria-current="page">' in page.text and f'href="/{table}"' in page.text


def test_a_view_is_changed_through_its_form_and_a_stale_form_is_refused(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    csrf = page_csrf(web_client.get("/views?table=leads").text)
    web_client.post("/views", data=view_form(csrf, name="Before"))
    [view] = saved_views(database)
    edit = web_client.get(f"/views?table=leads&edit={view.id}")
    assert 'value="Before"' in edit.text and f'name="view_id" value="{view.id}"' in edit.text
    changes = view_form(
        csrf, name="After", view_id=str(view.id), row_version=str(view.row_version), filters=[("rating", "eq", "hot")]
    )
    assert web_client.post("/views", data=changes, follow_redirects=False).status_code == 303
    [changed] = saved_views(database)
    assert changed.name == "After" and changed.conditions == [{"field": "rating", "op": "eq", "value": "hot"}]
    stale = web_client.post("/views", data={**changes, "name": "Lost"})
    assert stale.status_code in (409, 412)
    assert saved_views(database)[0].name == "After"
