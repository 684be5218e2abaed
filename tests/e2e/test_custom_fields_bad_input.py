"""Custom fields refused over HTTP: each refusal names its code and field, in English and Spanish,
and leaves every definition, mapping, index and record exactly as it was."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from leadflow.core.uow import Database
from leadflow.fields.models import CustomField, FieldMapping
from leadflow.security import service as security
from leadflow.security.actor import Actor
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.service import create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, create_lead, field_errors, snapshot

SPANISH = {"Accept-Language": "es"}
REGIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
]


def field_body(**overrides: Any) -> dict[str, Any]:
    return {"table": "leads", "name": "region", "label_en": "Region", "label_es": "Región", "kind": "text", **overrides}


def add_field(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/custom-fields", json=field_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def definitions(database: Database) -> dict[str, Any]:
    """Every custom field and mapping with all their columns, and every custom field index."""
    with database.unit_of_work(read_only=True) as uow:
        fields = sorted(
            ({column.key: getattr(field, column.key) for column in CustomField.__mapper__.column_attrs}
             for field in uow.session.scalars(select(CustomField))),
            key=lambda row: (row["table_name"], row["name"]),
        )  # fmt: skip
        mappings = sorted(
            (mapping.target_table, mapping.target_field, mapping.source_field)
            for mapping in uow.session.scalars(select(FieldMapping))
        )
    return {"fields": fields, "mappings": mappings, "indexes": custom_field_indexes(database)}


def custom_field_indexes(database: Database) -> list[str]:
    """The names of the indexes searchable custom fields made (expression indexes, which SQLAlchemy's
    inspector does not reflect on SQLite)."""
    listing = (
        "SELECT indexname FROM pg_indexes WHERE left(indexname, 6) = 'ix_cf_'"
        if database.dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, 6) = 'ix_cf_'"
    )
    with database.engine.connect() as connection:
        return sorted(name for (name,) in connection.exec_driver_sql(listing))


def everything(database: Database) -> dict[str, Any]:
    return {"definitions": definitions(database), "records": snapshot(database)}


def refused_in_both_languages(
    client: TestClient,
    database: Database,
    method: str,
    url: str,
    *,
    status: int,
    code: str | None,
    fields: dict[str, str] | None,
    headers: dict[str, str] | None = None,
    **request: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request is refused alike in English and in Spanish (messages in each language, codes and
    fields the same), and nothing at all is written; returns the English and Spanish errors."""
    before = everything(database)
    answers: list[Response] = [
        client.request(method, url, headers={**(headers or {}), **language}, **request)
        for language in ({"Accept-Language": "en"}, SPANISH)
    ]
    english, spanish = (assert_error(answer, status, code or answer.json()["error"]["code"]) for answer in answers)
    if fields is not None:
        assert field_errors(english) == field_errors(spanish) == fields
    assert english["message"] != spanish["message"], "the Spanish answer is not in Spanish"
    assert everything(database) == before
    return english, spanish


# --- defining fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Region", "1region", "_region", "north__south", "deal_base", "with space", "región", "x-y", "a;drop"],
)
def test_a_name_that_is_not_a_plain_lower_case_identifier_is_refused(
    client: TestClient, database: Database, name: str
) -> None:
    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(name=name),
        status=422, code="invalid_name", fields={"name": "invalid_name"},
    )  # fmt: skip


def test_a_name_longer_than_40_characters_is_refused_as_an_invalid_name(client: TestClient, database: Database) -> None:
    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(name="a" * 41),
        status=422, code="invalid_name", fields={"name": "invalid_name"},
    )  # fmt: skip


def test_a_name_of_40_characters_is_accepted(client: TestClient) -> None:
    assert add_field(client, name="a" * 40)["name"] == "a" * 40


@pytest.mark.parametrize("name", ["select", "custom", "sort", "filter", "order", "cursor", "where"])
def test_a_reserved_word_is_refused_as_a_name(client: TestClient, database: Database, name: str) -> None:
    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(name=name),
        status=422, code="reserved_name", fields={"name": "reserved_name"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "name"),
    [("leads", "email"), ("leads", "topic"), ("accounts", "name"), ("contacts", "full_name"),
     ("opportunities", "estimated_revenue"), ("leads", "owner_user_id")],
)  # fmt: skip
def test_a_built_in_column_name_is_refused(client: TestClient, database: Database, table: str, name: str) -> None:
    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(table=table, name=name),
        status=422, code="builtin_name", fields={"name": "builtin_name"},
    )  # fmt: skip


def test_a_name_the_table_already_has_is_409_and_the_first_field_stays(client: TestClient, database: Database) -> None:
    first = add_field(client, kind="whole_number")

    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(kind="text"),
        status=409, code="field_exists", fields={"name": "field_exists"},
    )  # fmt: skip

    assert client.get(f"{API}/custom-fields/{first['id']}").json() == first


def test_the_same_name_on_another_table_is_a_field_of_its_own(client: TestClient) -> None:
    on_leads = add_field(client)
    on_accounts = add_field(client, table="accounts")
    assert on_leads["id"] != on_accounts["id"]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"kind": "text", "options": REGIONS}, "options", "not_applicable"),
        ({"kind": "text", "precision": 2}, "precision", "not_applicable"),
        ({"kind": "whole_number", "max_length": 10}, "max_length", "not_applicable"),
        ({"kind": "text", "lookup_table": "accounts"}, "lookup_table", "not_applicable"),
        ({"kind": "choice"}, "options", "required"),
        ({"kind": "multi_choice", "options": []}, "options", "required"),
        ({"kind": "choice", "options": [*REGIONS, REGIONS[0]]}, "options", "duplicate_option"),
        ({"kind": "choice", "options": [{"value": "a b", "label_en": "A", "label_es": "A"}]}, "options",
         "invalid_option"),
        ({"kind": "multi_choice", "options": REGIONS, "searchable": True}, "searchable", "not_applicable"),
        ({"kind": "lookup"}, "lookup_table", "required"),
        ({"kind": "lookup", "lookup_table": "quotes"}, "lookup_table", "invalid_option"),
        ({"kind": "lookup", "lookup_table": "accounts", "default": str(uuid.uuid4())}, "default", "not_applicable"),
        ({"kind": "whole_number", "default": "many"}, "default", "invalid_amount"),
        ({"kind": "choice", "options": REGIONS, "default": "west"}, "default", "invalid_option"),
        ({"kind": "text", "max_length": 5, "default": "too long"}, "default", "too_long"),
        ({"table": "quotes"}, "table", "invalid_option"),
    ],
)  # fmt: skip
def test_a_definition_whose_settings_do_not_fit_its_kind_is_refused(
    client: TestClient, database: Database, overrides: dict[str, Any], field: str, code: str
) -> None:
    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(**overrides),
        status=422, code=code, fields={field: code},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"kind": "colour"}, "kind", "invalid_option"),
        ({"label_en": ""}, "label_en", "required"),
        ({"name": ""}, "name", "required"),
        ({"kind": "decimal", "precision": 5}, "precision", "out_of_range"),
        ({"max_length": 0}, "max_length", "out_of_range"),
    ],
)
def test_a_definition_the_schema_refuses_writes_nothing(
    client: TestClient, database: Database, overrides: dict[str, Any], field: str, code: str
) -> None:
    refused_in_both_languages(
        client, database, "POST", f"{API}/custom-fields", json=field_body(**overrides),
        status=422, code=code, fields={field: code},
    )  # fmt: skip


def test_a_lookup_to_a_table_the_administrator_cannot_read_is_refused(
    anonymous_client: TestClient, database: Database, actor: Actor
) -> None:
    with database.unit_of_work() as uow:
        security.create_role(
            "Field designer",
            {"settings": {Privilege.READ: Depth.ORGANIZATION, Privilege.WRITE: Depth.ORGANIZATION},
             "leads": {Privilege.READ: Depth.ORGANIZATION}},
            uow=uow, actor=actor,
        )  # fmt: skip
        create_user(
            email="designer@example.com", full_name="Dana Designer", role_names=["Field designer"],
            business_unit_name=None, password=None, uow=uow, actor=actor,
        )  # fmt: skip
        uow.commit()
    headers = bearer_headers(database, "designer@example.com")
    allowed = anonymous_client.post(
        f"{API}/custom-fields", json=field_body(name="next_lead", kind="lookup", lookup_table="leads"), headers=headers
    )
    assert allowed.status_code == 201, allowed.text

    refused_in_both_languages(
        anonymous_client, database, "POST", f"{API}/custom-fields", headers=headers,
        json=field_body(name="deal", kind="lookup", lookup_table="opportunities"),
        status=422, code="unreadable_table", fields={"lookup_table": "unreadable_table"},
    )  # fmt: skip


# --- salespeople -----------------------------------------------------------------------------------


@pytest.fixture
def salesperson_headers(database: Database, actor: Actor) -> dict[str, str]:
    with database.unit_of_work() as uow:
        create_user(
            email="seller@example.com", full_name="Sam Seller", role_names=["Salesperson"],
            business_unit_name=None, password=None, uow=uow, actor=actor,
        )  # fmt: skip
        uow.commit()
    return bearer_headers(database, "seller@example.com")


def test_a_salesperson_reads_fields_but_may_not_add_change_reorder_or_remove_them(
    client: TestClient, anonymous_client: TestClient, database: Database, salesperson_headers: dict[str, str]
) -> None:
    field = add_field(client, name="seats", kind="whole_number")
    create_lead(client, custom={"seats": 4})
    url = f"{API}/custom-fields"
    listed = anonymous_client.get(url, params={"table": "leads"}, headers=salesperson_headers)
    assert listed.status_code == 200 and [item["name"] for item in listed.json()] == ["seats"]

    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", url, {"json": field_body(name="region")}),
        ("PATCH", f"{url}/{field['id']}", {"json": {"kind": "decimal", "label_en": "Places"}}),
        ("DELETE", f"{url}/{field['id']}", {"params": {"confirm": "true"}}),
        ("PUT", f"{url}/order", {"params": {"table": "leads"}, "json": {"names": ["seats"]}}),
        ("PUT", f"{API}/custom-field-mappings",
         {"json": {"target_table": "accounts", "target_field": "seats", "source_field": "custom.seats"}}),
    ]  # fmt: skip
    for method, address, request in attempts:
        refused_in_both_languages(
            anonymous_client, database, method, address, headers=salesperson_headers,
            status=403, code="forbidden", fields=None, **request,
        )  # fmt: skip


# --- changing and removing fields ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "value", "change"),
    [
        ({"kind": "text"}, "about twelve", {"kind": "whole_number"}),
        ({"kind": "text", "max_length": 20}, "Castilla y León", {"max_length": 5}),
        ({"kind": "decimal", "precision": 2}, "1.25", {"precision": 1}),
        ({"kind": "whole_number"}, 12, {"kind": "date"}),
        ({"kind": "choice", "options": REGIONS}, "south", {"options": REGIONS[:1]}),
        ({"kind": "multi_choice", "options": REGIONS}, ["north", "south"], {"kind": "choice"}),
        ({"kind": "text"}, "Castilla", {"kind": "choice", "options": REGIONS}),
        ({"kind": "text"}, "maybe", {"kind": "yes_no"}),
    ],
)  # fmt: skip
def test_a_change_that_a_stored_value_does_not_fit_is_409_and_changes_nothing(
    client: TestClient, database: Database, definition: dict[str, Any], value: Any, change: dict[str, Any]
) -> None:
    field = add_field(client, **definition)
    lead = create_lead(client, custom={"region": value})
    create_lead(client)

    english, _ = refused_in_both_languages(
        client, database, "PATCH", f"{API}/custom-fields/{field['id']}", json=change,
        status=409, code="values_do_not_convert", fields=None,
    )  # fmt: skip

    assert english["details"]["count"] == 1 and english["details"]["record_id"] == lead["id"]
    assert client.get(f"{API}/custom-fields/{field['id']}").json() == field
    assert client.get(f"{API}/leads/{lead['id']}").json()["custom"] == lead["custom"]


def test_a_field_with_values_is_not_removed_without_confirmation(client: TestClient, database: Database) -> None:
    field = add_field(client, searchable=True)
    create_lead(client, custom={"region": "Castilla"})

    english, _ = refused_in_both_languages(
        client, database, "DELETE", f"{API}/custom-fields/{field['id']}",
        status=409, code="field_has_values", fields=None,
    )  # fmt: skip

    assert english["details"] == {"count": 1, "field": "region"}


def test_a_change_or_removal_with_a_stale_etag_is_412_and_changes_nothing(
    client: TestClient, database: Database
) -> None:
    field = add_field(client)
    changed = client.patch(f"{API}/custom-fields/{field['id']}", json={"label_en": "Area"})
    assert changed.status_code == 200, changed.text
    stale = {"If-Match": f'"{field["row_version"]}"'}

    for method in ("PATCH", "DELETE"):
        refused_in_both_languages(
            client, database, method, f"{API}/custom-fields/{field['id']}", headers=stale,
            json={"label_en": "Zone"} if method == "PATCH" else None,
            status=412, code="stale_etag", fields=None,
        )  # fmt: skip


@pytest.mark.parametrize("change", [{"name": "territory"}, {"table": "accounts"}, {"kind": "colour"}])
def test_a_change_of_what_a_field_cannot_change_is_refused(
    client: TestClient, database: Database, change: dict[str, Any]
) -> None:
    field = add_field(client)
    create_lead(client, custom={"region": "Castilla"})

    english, _ = refused_in_both_languages(
        client, database, "PATCH", f"{API}/custom-fields/{field['id']}", json=change,
        status=422, code=None, fields=None,
    )  # fmt: skip

    assert set(field_errors(english)) == set(change)


def test_an_unknown_field_id_is_404(client: TestClient, database: Database) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        refused_in_both_languages(
            client, database, method, f"{API}/custom-fields/{uuid.uuid4()}",
            json={"label_en": "Zone"} if method == "PATCH" else None,
            status=404, code="custom_field_not_found", fields=None,
        )  # fmt: skip


# --- values on records -----------------------------------------------------------------------------


def add_one_field_of_each_kind(client: TestClient) -> None:
    for name, settings in {
        "title_text": {"kind": "text", "max_length": 5},
        "headcount": {"kind": "whole_number"},
        "ratio": {"kind": "decimal", "precision": 2},
        "deal_size": {"kind": "money"},
        "renewal": {"kind": "date"},
        "meeting": {"kind": "datetime"},
        "vip": {"kind": "yes_no"},
        "region": {"kind": "choice", "options": REGIONS},
        "account": {"kind": "lookup", "lookup_table": "accounts"},
        "buyer_email": {"kind": "email"},
        "buyer_phone": {"kind": "phone"},
        "homepage": {"kind": "url"},
        "notes": {"kind": "multiline"},
        "sponsor": {"kind": "text", "required": True},
    }.items():
        add_field(client, name=name, label_en=name, label_es=name, **settings)


BAD_VALUES = {
    "title_text": ("too long", "too_long"),
    "headcount": ("1.5", "invalid_value"),
    "ratio": ("0.125", "too_precise"),
    "deal_size": ("2000000000000", "out_of_range"),
    "renewal": ("2026-02-30", "invalid_date"),
    "meeting": ("2026-12-31T09:30:00", "invalid_date"),
    "vip": ("maybe", "invalid_option"),
    "region": ("West", "invalid_option"),
    "account": ("account 7", "invalid_id"),
    "buyer_email": ("nobody", "invalid_email"),
    "buyer_phone": ("12", "invalid_phone"),
    "homepage": ("example.com", "invalid_url"),
    "notes": ("nul \x00 inside", "invalid_character"),
}


def test_every_bad_custom_value_of_a_new_lead_is_reported_at_once_and_no_lead_is_written(
    client: TestClient, database: Database
) -> None:
    add_one_field_of_each_kind(client)
    custom = {name: value for name, (value, _) in BAD_VALUES.items()} | {"nope": 1}
    expected = {f"custom.{name}": code for name, (_, code) in BAD_VALUES.items()} | {
        "custom.nope": "unknown_field",
        "custom.sponsor": "required",
    }

    refused_in_both_languages(
        client, database, "POST", f"{API}/leads", json={"topic": "T", "last_name": "L", "custom": custom},
        status=422, code="validation_failed", fields=expected,
    )  # fmt: skip


def test_a_lookup_to_a_record_that_does_not_exist_is_not_found(client: TestClient, database: Database) -> None:
    add_field(client, name="account", kind="lookup", lookup_table="accounts")

    refused_in_both_languages(
        client, database, "POST", f"{API}/leads",
        json={"topic": "T", "last_name": "L", "custom": {"account": str(uuid.uuid4())}},
        status=422, code="validation_failed", fields={"custom.account": "not_found"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "body"),
    [("accounts", {"name": "Acme"}), ("contacts", {"last_name": "Ruiz"}), ("opportunities", {"name": "Deal"})],
)
def test_a_required_field_without_a_default_refuses_a_new_record_of_any_table(
    client: TestClient, database: Database, table: str, body: dict[str, Any]
) -> None:
    add_field(client, table=table, name="sponsor", required=True)

    refused_in_both_languages(
        client, database, "POST", f"{API}/{table}", json=body,
        status=422, code="validation_failed", fields={"custom.sponsor": "required"},
    )  # fmt: skip


def test_a_change_may_not_clear_a_required_field_and_the_record_keeps_its_value(
    client: TestClient, database: Database
) -> None:
    add_field(client, name="sponsor", required=True)
    add_field(client, name="seats", kind="whole_number")
    lead = create_lead(client, custom={"sponsor": "Ana", "seats": 3})

    for cleared in (None, "", "   "):
        refused_in_both_languages(
            client, database, "PATCH", f"{API}/leads/{lead['id']}",
            json={"custom": {"sponsor": cleared, "seats": 4}},
            status=422, code="validation_failed", fields={"custom.sponsor": "required"},
        )  # fmt: skip

    assert client.get(f"{API}/leads/{lead['id']}").json()["custom"] == {"sponsor": "Ana", "seats": 3}


def test_a_change_with_a_bad_value_keeps_every_value_of_the_record(client: TestClient, database: Database) -> None:
    add_field(client, name="seats", kind="whole_number")
    add_field(client, name="region", kind="choice", options=REGIONS)
    lead = create_lead(client, custom={"seats": 3, "region": "north"})

    refused_in_both_languages(
        client, database, "PATCH", f"{API}/leads/{lead['id']}",
        json={"topic": "Changed", "custom": {"seats": 4, "region": "West"}},
        status=422, code="validation_failed", fields={"custom.region": "invalid_option"},
    )  # fmt: skip


@pytest.mark.parametrize("custom", [["seats"], "seats=3", 3])
def test_custom_values_that_are_not_an_object_are_refused(client: TestClient, database: Database, custom: Any) -> None:
    add_field(client, name="seats", kind="whole_number")

    refused_in_both_languages(
        client, database, "POST", f"{API}/leads", json={"topic": "T", "last_name": "L", "custom": custom},
        status=422, code="invalid_value", fields={"custom": "invalid_value"},
    )  # fmt: skip


# --- lists -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"filter": "custom.secret:eq:x"}, "hidden_field"),
        ({"sort": "custom.secret"}, "hidden_field"),
        ({"filter": "custom.nope:eq:x"}, "unknown_field"),
        ({"sort": "custom.nope"}, "unknown_field"),
        ({"filter": "nope:eq:x"}, "unknown_field"),
        ({"filter": "custom_values:eq:x"}, "unknown_field"),
        ({"filter": "custom.seats:like:3"}, "invalid_filter"),
        ({"filter": "custom.seats:gt:many"}, "invalid_value"),
        ({"filter": "custom.region:lt:north"}, "invalid_filter"),
        ({"filter": "custom.region:eq:West"}, "invalid_value"),
        ({"filter": "custom.areas:gt:north"}, "invalid_filter"),
        ({"filter": "rating:eq:lukewarm"}, "invalid_value"),
        ({"filter": "custom.vip:contains:t"}, "invalid_filter"),
        ({"filter": "custom.seats:contains:1"}, "invalid_filter"),
    ],
)  # fmt: skip
def test_a_list_refuses_a_filter_or_sort_it_cannot_apply(
    client: TestClient, database: Database, params: dict[str, str], code: str
) -> None:
    add_field(client, name="secret", hidden=True)
    add_field(client, name="seats", kind="whole_number")
    add_field(client, name="region", kind="choice", options=REGIONS)
    add_field(client, name="areas", kind="multi_choice", options=REGIONS)
    add_field(client, name="vip", kind="yes_no")
    create_lead(client, custom={"seats": 12, "vip": True})

    refused_in_both_languages(
        client, database, "GET", f"{API}/leads", params=params, status=422, code=code, fields=None
    )


def test_a_multi_choice_field_cannot_sort_a_list(client: TestClient, database: Database) -> None:
    add_field(client, name="areas", kind="multi_choice", options=REGIONS)

    refused_in_both_languages(
        client, database, "GET", f"{API}/leads", params={"sort": "-custom.areas"},
        status=422, code="invalid_sort", fields=None,
    )  # fmt: skip


# --- qualify mappings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "field", "code"),
    [
        ({"target_table": "accounts", "target_field": "renewal", "source_field": "custom.seats"},
         "source_field", "incompatible_mapping"),
        ({"target_table": "accounts", "target_field": "tier", "source_field": "custom.region"},
         "source_field", "incompatible_mapping"),
        ({"target_table": "accounts", "target_field": "renewal", "source_field": "topic"},
         "source_field", "incompatible_mapping"),
        ({"target_table": "leads", "target_field": "seats", "source_field": "custom.seats"},
         "target_table", "invalid_option"),
        ({"target_table": "accounts", "target_field": "nope", "source_field": "custom.seats"},
         "target_field", "not_found"),
        ({"target_table": "accounts", "target_field": "note", "source_field": "custom.nope"},
         "source_field", "not_found"),
        ({"target_table": "accounts", "target_field": "note", "source_field": "nope"}, "source_field", "not_found"),
        ({"target_table": "accounts", "target_field": "note", "source_field": "custom"}, "source_field", "not_found"),
    ],
)  # fmt: skip
def test_a_mapping_whose_lead_values_cannot_fill_the_target_is_refused(
    client: TestClient, database: Database, mapping: dict[str, str], field: str, code: str
) -> None:
    add_field(client, name="seats", kind="whole_number")
    add_field(client, name="region", kind="choice", options=REGIONS)
    add_field(client, table="accounts", name="renewal", kind="date")
    add_field(client, table="accounts", name="note")
    add_field(
        client, table="accounts", name="tier", kind="choice",
        options=[{"value": "north", "label_en": "North", "label_es": "Norte"}],
    )  # fmt: skip

    refused_in_both_languages(
        client, database, "PUT", f"{API}/custom-field-mappings", json=mapping,
        status=422, code=code, fields={field: code},
    )  # fmt: skip


def test_an_unknown_mapping_cannot_be_removed(client: TestClient, database: Database) -> None:
    refused_in_both_languages(
        client, database, "DELETE", f"{API}/custom-field-mappings/{uuid.uuid4()}",
        status=404, code="custom_field_mapping_not_found", fields=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("GET", {"params": {"table": "quotes"}}),
        ("PUT", {"params": {"table": "quotes"}, "json": {"names": ["region"]}}),
    ],
)
def test_a_table_without_custom_fields_is_refused_when_listing_or_reordering(
    client: TestClient, database: Database, method: str, options: dict[str, Any]
) -> None:
    add_field(client)
    url = f"{API}/custom-fields" + ("/order" if method == "PUT" else "")

    refused_in_both_languages(
        client, database, method, url, status=422, code="invalid_option", fields={"table": "invalid_option"}, **options
    )
