"""The lists of accounts, contacts and opportunities with saved views: a searchable custom field as a
column in both languages, the picker with the user's views (the default one opening the list), a
view's filter on a custom field, sort and columns applied, and the refusals (an unknown or unshared
view, a filter on a field hidden since) shown on the page with the plain list, never an error page."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.fields import saved_views
from leadflow.fields.saved_views import ViewCreate
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_user
from tests.integration.test_custom_fields import REGIONS, change, define

TABLES = ["accounts", "contacts", "opportunities"]
# The field a record's name is, per table (what a view sorts and shows it by).
NAME_FIELDS = {"accounts": "name", "contacts": "full_name", "opportunities": "name"}
SELLER_EMAIL = "rita.records@example.com"
SELLER_PASSWORD = "seller horse battery staple"


def make_record(database: Database, actor: Actor, table: str, name: str, **custom: Any) -> uuid.UUID:
    """An account, contact or opportunity named ``name`` with these custom values."""
    with database.unit_of_work() as uow:
        if table == "accounts":
            record: Any = customers.create_account(
                parse(AccountCreate, {"name": name, "custom": custom}), uow=uow, actor=actor
            )
        elif table == "contacts":
            record = customers.create_contact(
                parse(ContactCreate, {"last_name": name, "custom": custom}), uow=uow, actor=actor
            )
        else:
            record = opportunities.create_opportunity(
                parse(OpportunityCreate, {"name": name, "custom": custom}), uow=uow, actor=actor
            )
        uow.commit()
        return uuid.UUID(str(record.id))


def add_region(database: Database, actor: Actor, table: str, **settings: Any) -> uuid.UUID:
    values = {"searchable": True, "options": REGIONS, "label_en": "Region", "label_es": "Región", **settings}
    return define(database, actor, "region", "choice", table=table, **values)


def add_view(database: Database, actor: Actor, table: str, **values: Any) -> uuid.UUID:
    with database.unit_of_work() as uow:
        view = saved_views.create_view(parse(ViewCreate, {"table": table, **values}), uow=uow, actor=actor)
        uow.commit()
        return view.id


def make_default(database: Database, actor: Actor, view_id: uuid.UUID) -> None:
    with database.unit_of_work() as uow:
        saved_views.set_default(view_id, uow=uow, actor=actor)
        uow.commit()


def north_view(database: Database, actor: Actor, table: str, **values: Any) -> uuid.UUID:
    """A view of the records of the north region, last name first, showing the name and the region."""
    name = NAME_FIELDS[table]
    settings = {
        "name": "North",
        "conditions": [{"field": "custom.region", "op": "eq", "value": "north"}],
        "sort": f"-{name}",
        "columns": [name, "custom.region"],
        **values,
    }
    return add_view(database, actor, table, **settings)


def three_records(database: Database, actor: Actor, table: str) -> None:
    make_record(database, actor, table, "Alderaan Norte", region="north")
    make_record(database, actor, table, "Bespin Sur", region="south")
    make_record(database, actor, table, "Corellia Norte", region="north")


def text_of(page: Any) -> str:
    return html.unescape(page.text)


def table_of(page: Any, table: str) -> str:
    """The list's table, headings and rows."""
    found = re.search(rf'<table class="data-table" id="{table}-table".*?</table>', page.text, re.DOTALL)
    assert found is not None, page.text
    return html.unescape(found.group(0))


def headings(page: Any, table: str) -> list[str]:
    cells = re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table_of(page, table), re.DOTALL)
    return [re.sub(r"<[^>]+>|[▲▼]", "", cell).strip() for cell in cells]


def alerts(page: Any) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
        for text in re.findall(r'<div class="alert" role="alert"[^>]*>(.*?)</div>', page.text, re.DOTALL)
    ]


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(("language", "label", "north"), [("en", "Region", "North"), ("es", "Región", "Norte")])
def test_a_searchable_custom_field_is_a_column_in_the_readers_language(
    web_client_for: Callable[..., TestClient],
    database: Database,
    actor: Actor,
    table: str,
    language: str,
    label: str,
    north: str,
) -> None:
    add_region(database, actor, table)
    define(database, actor, "internal_code", "text", table=table, label_en="Internal code", label_es="Código interno")
    make_record(database, actor, table, "Alderaan", region="north", internal_code="X-1")
    page = web_client_for(accept_language=language).get(f"/{table}")
    assert page.status_code == 200
    assert label in headings(page, table)
    assert 'id="sort-custom-region"' in page.text  # a choice sorts
    rows = table_of(page, table)
    assert "Alderaan" in rows and f">{north}</td>" in rows
    # A field that is not searchable is no column unless a view asks for it.
    assert "Internal code" not in rows and "Código interno" not in rows and "X-1" not in rows


@pytest.mark.parametrize("table", TABLES)
def test_a_saved_view_filters_sorts_and_chooses_the_columns(
    web_client: TestClient, database: Database, actor: Actor, table: str
) -> None:
    add_region(database, actor, table)
    three_records(database, actor, table)
    view_id = north_view(database, actor, table)

    plain = text_of(web_client.get(f"/{table}"))
    assert "Bespin Sur" in plain and "Alderaan Norte" in plain

    page = web_client.get(f"/{table}?view_id={view_id}")
    assert page.status_code == 200
    rows = table_of(page, table)
    assert "Bespin Sur" not in rows
    assert rows.index("Corellia Norte") < rows.index("Alderaan Norte")  # the view's sort: by name, descending
    shown = headings(page, table)
    assert shown[1:] == ["Region"] and len(shown) == 2  # the view's columns: the name and the region
    assert "Owner" not in shown
    assert f'<option value="{view_id}" selected>North</option>' in page.text
    assert 'id="view-title">North<' in page.text
    assert alerts(page) == []
    # The sort links, the search and the pager keep the view.
    assert f'name="view_id" value="{view_id}"' in page.text
    sort_link = re.search(r'href="([^"]*)" id="sort-custom-region"', page.text)
    assert sort_link is not None and f"view_id={view_id}" in sort_link.group(1)


@pytest.mark.parametrize("table", TABLES)
def test_the_picker_offers_the_views_and_the_default_opens_the_list(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, table: str
) -> None:
    add_region(database, actor, table)
    three_records(database, actor, table)
    view_id = north_view(database, actor, table)
    client = web_client_for(accept_language="es")

    before = client.get(f"/{table}")
    assert '<option value="none" selected>(sin vista guardada)</option>' in before.text
    assert f'<option value="{view_id}">North</option>' in before.text
    assert f'href="/views?table={table}" id="manage-views">Gestionar vistas</a>' in before.text
    assert "Mis vistas" in before.text
    system = "Todas las cuentas" if table == "accounts" else ("Todos los contactos" if table == "contacts" else None)
    if system:
        assert system in text_of(before)  # the table's system view, named in Spanish

    make_default(database, actor, view_id)
    opened = client.get(f"/{table}")
    assert opened.status_code == 200
    assert f'<option value="{view_id}" selected>North (predeterminada)</option>' in opened.text
    assert "Bespin Sur" not in table_of(opened, table) and "Corellia Norte" in table_of(opened, table)
    # The picker's "no saved view" leaves the default aside, and the list's links keep it so.
    without = client.get(f"/{table}?view_id=none")
    assert "Bespin Sur" in table_of(without, table)
    assert '<option value="none" selected>' in without.text
    assert 'name="view_id" value="none"' in without.text
    assert "view_id=none" in without.text  # the sort links


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("asked", ["unknown", "malformed", "unshared", "other_table"])
def test_a_view_the_user_may_not_open_shows_a_message_and_the_plain_list(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, table: str, asked: str
) -> None:
    add_region(database, actor, table)
    three_records(database, actor, table)
    if asked == "unknown":
        view_id = str(uuid.uuid4())
    elif asked == "malformed":
        view_id = "not-a-view"
    elif asked == "other_table":
        other = "contacts" if table == "accounts" else "accounts"
        view_id = str(add_view(database, actor, other, name="Elsewhere"))
    else:
        with database.unit_of_work() as uow:
            create_user(
                email=SELLER_EMAIL,
                full_name="Rita Records",
                role_names=["Salesperson"],
                business_unit_name=None,
                password=SELLER_PASSWORD,
                uow=uow,
                actor=None,
            )
            uow.commit()
        with database.unit_of_work(read_only=True) as uow:
            seller = actor_for_email(uow.session, SELLER_EMAIL)
        view_id = str(north_view(database, seller, table, name="Rita's own"))
    for language, message in (
        ("en", "There is no such saved view; showing the list without it."),
        ("es", "Esa vista guardada no existe; se muestra la lista sin ella."),
    ):
        page = web_client_for(accept_language=language).get(f"/{table}?view_id={view_id}")
        assert page.status_code == 200
        assert alerts(page) == [message]
        rows = table_of(page, table)
        assert "Bespin Sur" in rows and "Alderaan Norte" in rows
        assert "Rita's own" not in text_of(page)


@pytest.mark.parametrize("table", TABLES)
def test_a_view_whose_filter_names_a_field_hidden_since_shows_the_plain_list(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, table: str
) -> None:
    field_id = add_region(database, actor, table)
    three_records(database, actor, table)
    view_id = north_view(database, actor, table, columns=[])
    make_default(database, actor, view_id)
    change(database, actor, field_id, hidden=True)
    for language, word in (("en", "hidden"), ("es", "oculto")):
        client = web_client_for(accept_language=language)
        for url in (f"/{table}?view_id={view_id}", f"/{table}"):  # picked, and as the default
            page = client.get(url)
            assert page.status_code == 200
            [message] = alerts(page)
            assert word in message
            rows = table_of(page, table)
            assert "Bespin Sur" in rows and "Alderaan Norte" in rows and "Corellia Norte" in rows
            assert "Region" not in headings(page, table) and "Región" not in headings(page, table)
            assert f'<option value="{view_id}" selected>' in page.text  # the view is still the one picked


def test_a_view_sorted_on_a_field_hidden_since_keeps_its_filter(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    add_region(database, actor, "accounts")
    field_id = define(database, actor, "tier", "whole_number", table="accounts", searchable=True)
    make_record(database, actor, "accounts", "Alderaan Norte", region="north", tier=2)
    make_record(database, actor, "accounts", "Bespin Sur", region="south", tier=1)
    make_record(database, actor, "accounts", "Corellia Norte", region="north", tier=1)
    view_id = north_view(database, actor, "accounts", sort="custom.tier")
    rows = table_of(web_client.get(f"/accounts?view_id={view_id}"), "accounts")
    assert rows.index("Corellia Norte") < rows.index("Alderaan Norte") and "Bespin Sur" not in rows
    change(database, actor, field_id, hidden=True)
    page = web_client.get(f"/accounts?view_id={view_id}")
    assert page.status_code == 200
    assert len(alerts(page)) == 1 and "hidden" in alerts(page)[0]
    rows = table_of(page, "accounts")
    assert "Bespin Sur" not in rows and "Alderaan Norte" in rows and "Corellia Norte" in rows


def test_a_view_pages_forward_and_back_and_searches_within_it(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    add_region(database, actor, "accounts")
    for number in range(30):
        make_record(database, actor, "accounts", f"North {number:02d}", region="north")
        make_record(database, actor, "accounts", f"South {number:02d}", region="south")
    view_id = north_view(database, actor, "accounts", sort="name")
    first = web_client.get(f"/accounts?view_id={view_id}")
    names = re.findall(r">(North \d\d|South \d\d)</a>", first.text)
    assert names == [f"North {number:02d}" for number in range(25)]
    assert 'id="previous-page"' not in first.text
    next_link = html.unescape(re.search(r'id="next-page" href="([^"]+)"', first.text).group(1))  # type: ignore[union-attr]
    assert f"view_id={view_id}" in next_link
    second = web_client.get(next_link)
    assert re.findall(r">(North \d\d|South \d\d)</a>", second.text) == [f"North {n:02d}" for n in range(25, 30)]
    assert 'id="next-page"' not in second.text
    back_link = html.unescape(re.search(r'id="previous-page" href="([^"]+)"', second.text).group(1))  # type: ignore[union-attr]
    back = web_client.get(back_link)
    assert re.findall(r">(North \d\d|South \d\d)</a>", back.text) == names

    searched = web_client.get(f"/accounts?view_id={view_id}&q=north+1")
    assert re.findall(r">(North \d\d|South \d\d)</a>", searched.text) == [f"North {n}" for n in range(10, 20)]
    # A sort on a custom column of the plain list goes through the same paging.
    by_region = web_client.get("/accounts?view_id=none&sort=-custom.region")
    assert by_region.status_code == 200 and alerts(by_region) == []
    assert re.findall(r">(North \d\d|South \d\d)</a>", by_region.text)[0].startswith("South")


def test_a_view_sorted_on_a_blank_amount_pages_on(web_client: TestClient, database: Database, actor: Actor) -> None:
    for number in range(30):
        make_record(database, actor, "opportunities", f"Deal {number:02d}")
    view_id = add_view(database, actor, "opportunities", name="By revenue", sort="estimated_revenue")
    first = web_client.get(f"/opportunities?view_id={view_id}")
    assert len(re.findall(r">Deal \d\d</a>", first.text)) == 25
    next_link = re.search(r'id="next-page" href="([^"]+)"', first.text)
    assert next_link is not None
    second = web_client.get(html.unescape(next_link.group(1)))
    assert alerts(second) == []
    assert len(re.findall(r">Deal \d\d</a>", second.text)) == 5
