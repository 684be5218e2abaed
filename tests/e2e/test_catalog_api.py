"""The product catalogue over HTTP: the contract of unit groups, units and products, the pricing
methods of price list items, who may change the catalogue, unique names and stale ETags."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest

from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.conftest import bearer_headers
from tests.e2e.catalogue import build_catalogue, created, ok, opportunity_with_price_list
from tests.e2e.helpers import API, assert_error, field_errors

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def _record(**fields: Any) -> dict[str, Any]:
    """What every record answers besides its own fields."""
    return {"id": ANY, "row_version": 1, "created_at": ANY, "modified_at": ANY, **fields}


@pytest.fixture
def salesperson_headers(database: Database, actor: Actor) -> dict[str, str]:
    with database.unit_of_work() as uow:
        create_user(
            email="seller@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return bearer_headers(database, "seller@example.com")


def test_a_unit_group_is_created_with_its_base_unit_and_takes_a_pack(client):
    response = client.post(f"{API}/unit-groups", json={"name": "Licencias", "base_unit": "Licencia"})

    assert response.status_code == 201, response.text
    group = response.json()
    assert group == _record(
        name="Licencias",
        description=None,
        units=[
            _record(group_id=group["id"], name="Licencia", quantity="1.00000", base_unit_id=None),
        ],
    )
    assert response.headers["Location"] == f"/api/v1/unit-groups/{group['id']}"
    assert response.headers["ETag"] == '"1"'
    base = group["units"][0]["id"]

    pack = client.post(f"{API}/unit-groups/{group['id']}/units", json={"name": "Pack 10", "quantity": "10"})

    assert pack.status_code == 201, pack.text
    assert pack.json() == _record(group_id=group["id"], name="Pack 10", quantity="10.00000", base_unit_id=base)
    assert pack.headers["Location"] == f"/api/v1/units/{pack.json()['id']}"
    again = ok(client.get(f"{API}/unit-groups/{group['id']}"))
    assert [(unit["name"], unit["quantity"], unit["base_unit_id"]) for unit in again["units"]] == [
        ("Licencia", "1.00000", None),
        ("Pack 10", "10.00000", base),
    ]
    # A write answers what a read answers next.
    assert ok(client.get(f"{API}/units/{pack.json()['id']}")) == pack.json()
    listed = ok(client.get(f"{API}/units", params={"group_id": group["id"]}))
    assert [unit["name"] for unit in listed["items"]] == ["Licencia", "Pack 10"]


def test_a_product_is_a_draft_until_published_and_can_be_retired(client):
    group = created(client.post(f"{API}/unit-groups", json={"name": "Licencias", "base_unit": "Licencia"}))
    licence = group["units"][0]["id"]
    family = created(client.post(f"{API}/product-families", json={"name": "Software"}))
    body = {
        "number": "LIC-STD",
        "name": "Licencia estándar",
        "unit_group_id": group["id"],
        "default_unit_id": licence,
        "family_id": family["id"],
        "list_price": "100",
        "standard_cost": "40.00",
        "current_cost": "45.5",
    }

    response = client.post(f"{API}/products", json=body)

    assert response.status_code == 201, response.text
    product = response.json()
    assert product == _record(
        number="LIC-STD",
        name="Licencia estándar",
        description=None,
        family_id=family["id"],
        unit_group_id=group["id"],
        default_unit_id=licence,
        decimals_supported=0,
        list_price="100.0000",
        standard_cost="40.0000",
        current_cost="45.5000",
        state="draft",
    )
    published = client.post(f"{API}/products/{product['id']}/publish", headers={"If-Match": '"1"'})
    assert published.status_code == 200, published.text
    assert (published.json()["state"], published.json()["row_version"]) == ("active", 2)
    assert published.headers["ETag"] == '"2"'
    assert_error(client.post(f"{API}/products/{product['id']}/publish"), 409, "product_active")
    assert_error(client.delete(f"{API}/products/{product['id']}"), 409, "product_not_draft")

    retired = ok(client.post(f"{API}/products/{product['id']}/retire"))

    assert retired["state"] == "retired"
    assert_error(client.post(f"{API}/products/{product['id']}/retire"), 409, "product_retired")
    by_state = {
        state: [item["number"] for item in ok(client.get(f"{API}/products", params={"state": state}))["items"]]
        for state in ("draft", "active", "retired")
    }
    assert by_state == {"draft": [], "active": [], "retired": ["LIC-STD"]}
    in_family = ok(client.get(f"{API}/products", params={"family_id": family["id"], "search": "std"}))
    assert [item["id"] for item in in_family["items"]] == [product["id"]]


def test_a_draft_product_is_deleted_with_its_prices(client):
    catalogue = build_catalogue(client)

    assert client.delete(f"{API}/products/{catalogue.draft_product}").status_code == 204

    assert_error(client.get(f"{API}/products/{catalogue.draft_product}"), 404, "product_not_found")
    items = ok_list(client.get(f"{API}/price-lists/{catalogue.price_list}/items"))
    assert catalogue.draft_product not in {item["product_id"] for item in items}


def ok_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("item", "price"),
    [
        ({"pricing_method": "currency_amount", "amount": "12.3456"}, "12.3500"),
        # A percent of the list price (100.00): 90 % → 90.00.
        ({"pricing_method": "percent_of_list", "percentage": "90"}, "90.0000"),
        ({"pricing_method": "percent_of_list", "percentage": "33.3333"}, "33.3300"),
        # Markup over a cost: cost × (100 + %) ÷ 100; current cost 45.00 + 20 % → 54.00.
        ({"pricing_method": "markup_current_cost", "percentage": "20"}, "54.0000"),
        ({"pricing_method": "markup_standard_cost", "percentage": "12.5"}, "45.0000"),
        # Margin over a cost: cost + cost × % ÷ (100 − %); 40.00 at 40 % → 66.666… → 66.67.
        ({"pricing_method": "margin_standard_cost", "percentage": "40"}, "66.6700"),
        ({"pricing_method": "margin_current_cost", "percentage": "10"}, "50.0000"),
        # Rounded up so that the price ends in .99: 66.67 → 66.99; down → 65.99; to the nearest → 66.99.
        (
            {
                "pricing_method": "margin_standard_cost",
                "percentage": "40",
                "rounding_policy": "up",
                "rounding_option": "ends_in",
                "rounding_amount": "0.99",
            },
            "66.9900",
        ),
        (
            {
                "pricing_method": "margin_standard_cost",
                "percentage": "40",
                "rounding_policy": "down",
                "rounding_option": "ends_in",
                "rounding_amount": "0.99",
            },
            "65.9900",
        ),
        (
            {
                "pricing_method": "percent_of_list",
                "percentage": "90.4",
                "rounding_policy": "up",
                "rounding_option": "ends_in",
                "rounding_amount": "0.99",
            },
            "90.9900",
        ),
        # To a multiple of 5: 66.67 → up 70, down 65, nearest 65.
        (
            {
                "pricing_method": "margin_standard_cost",
                "percentage": "40",
                "rounding_policy": "nearest",
                "rounding_option": "multiple_of",
                "rounding_amount": "5",
            },
            "65.0000",
        ),
        ({"pricing_method": "percent_of_list", "percentage": "90.4", "rounding_policy": "up"}, "91.0000"),
    ],
)
def test_a_price_list_item_prices_by_its_method_and_a_line_takes_that_price(client, item, price):
    catalogue = build_catalogue(client)
    price_list = created(client.post(f"{API}/price-lists", json={"name": "Pruebas", "currency": "EUR"}))

    response = client.post(
        f"{API}/price-lists/{price_list['id']}/items",
        json={"product_id": catalogue.product, "unit_id": catalogue.licence, **item},
    )

    assert response.status_code == 201, response.text
    assert response.json()["price_per_unit"] == price
    listed = ok_list(client.get(f"{API}/price-lists/{price_list['id']}/items"))
    assert [row["price_per_unit"] for row in listed] == [price]
    opportunity = opportunity_with_price_list(client, catalogue, price_list_id=price_list["id"])
    line = created(
        client.post(
            f"{API}/opportunities/{opportunity['id']}/products",
            json={"product_id": catalogue.product, "quantity": "2"},
        )
    )
    assert line["price_per_unit"] == price
    assert line["is_price_overridden"] is False


def test_an_item_that_cannot_price_answers_no_price_and_a_line_is_refused(client):
    catalogue = build_catalogue(client)
    group = ok(client.get(f"{API}/units/{catalogue.licence}"))["group_id"]
    no_cost = created(
        client.post(
            f"{API}/products",
            json={
                "number": "SIN-COSTE",
                "name": "Sin coste",
                "unit_group_id": group,
                "default_unit_id": catalogue.licence,
            },
        )
    )
    ok(client.post(f"{API}/products/{no_cost['id']}/publish"))
    item = created(
        client.post(
            f"{API}/price-lists/{catalogue.price_list}/items",
            json={
                "product_id": no_cost["id"],
                "unit_id": catalogue.licence,
                "pricing_method": "markup_current_cost",
                "percentage": "10",
            },
        )
    )
    assert item["price_per_unit"] is None
    opportunity = opportunity_with_price_list(client, catalogue)

    refused = client.post(
        f"{API}/opportunities/{opportunity['id']}/products",
        json={"product_id": no_cost["id"], "quantity": "1"},
        headers=SPANISH,
    )

    error = assert_error(refused, 422, "product_current_cost_missing")
    assert field_errors(error) == {"product_id": "product_current_cost_missing"}
    assert error["message"] == (
        "El elemento de la lista de precios calcula el precio a partir del costo actual del producto, que el "
        "producto no tiene; indíquelo."
    )


def test_an_item_is_changed_and_removed(client):
    catalogue = build_catalogue(client)
    items = ok_list(client.get(f"{API}/price-lists/{catalogue.price_list}/items"))
    item = next(row for row in items if (row["product_id"], row["unit_id"]) == (catalogue.product, catalogue.licence))
    path = f"{API}/price-lists/{catalogue.price_list}/items/{item['id']}"

    changed = client.patch(path, json={"percentage": "80"}, headers={"If-Match": f'"{item["row_version"]}"'})

    assert changed.status_code == 200, changed.text
    assert (changed.json()["percentage"], changed.json()["price_per_unit"]) == ("80.0000", "80.0000")
    assert_error(client.patch(path, json={"percentage": "70"}, headers={"If-Match": '"1"'}), 412, "stale_etag")
    assert_error(client.delete(path, headers={"If-Match": '"1"'}), 412, "stale_etag")
    assert client.delete(path, headers={"If-Match": changed.headers["ETag"]}).status_code == 204
    assert_error(client.delete(path), 404, "price_list_item_not_found")


def test_a_discount_list_keeps_its_tiers_in_order_and_refuses_overlaps(client):
    body = {
        "name": "Volumen",
        "tiers": [
            {"begin_quantity": "100", "end_quantity": "1000", "value": "10"},
            {"begin_quantity": "10", "end_quantity": "99.99999", "value": "5"},
        ],
    }

    discount = created(client.post(f"{API}/discount-lists", json=body))

    assert discount == _record(
        name="Volumen",
        description=None,
        kind="percentage",
        currency_id=None,
        tiers=[
            {"begin_quantity": "10.00000", "end_quantity": "99.99999", "value": "5.0000"},
            {"begin_quantity": "100.00000", "end_quantity": "1000.00000", "value": "10.0000"},
        ],
    )
    overlapping = [
        {"begin_quantity": "1", "end_quantity": "10", "value": "5"},
        {"begin_quantity": "10", "end_quantity": "20", "value": "6"},
    ]
    error = assert_error(
        client.patch(f"{API}/discount-lists/{discount['id']}", json={"tiers": overlapping}), 422, "tiers_overlap"
    )
    assert field_errors(error) == {"tiers.1.begin_quantity": "tiers_overlap"}
    assert_error(
        client.post(f"{API}/discount-lists", json={"name": "Importe", "kind": "amount"}), 422, "currency_required"
    )
    assert ok(client.get(f"{API}/discount-lists/{discount['id']}"))["tiers"] == discount["tiers"]


def test_a_salesperson_reads_the_catalogue_but_may_not_change_it(client, anonymous_client, salesperson_headers):
    catalogue = build_catalogue(client)

    listed = anonymous_client.get(f"{API}/products", headers=salesperson_headers)
    refused = anonymous_client.post(
        f"{API}/products",
        json={"number": "NEW", "name": "New", "unit_group_id": catalogue.hour, "default_unit_id": catalogue.hour},
        headers={**salesperson_headers, **SPANISH},
    )

    assert listed.status_code == 200, listed.text
    assert [item["number"] for item in listed.json()["items"]] == ["LIC-DRAFT", "LIC-OLD", "LIC-STD"]
    error = assert_error(refused, 403, "forbidden")
    assert (error["details"]["privilege"], error["details"]["table"]) == ("create", "products")
    assert error["message"] == (
        "Le falta el privilegio Crear en Catálogo de productos (sus roles lo conceden en el nivel Ninguno); "
        "pida a un administrador un rol que lo conceda."
    )
    for path in ("unit-groups", "units", "product-families", "price-lists", "discount-lists"):
        assert anonymous_client.get(f"{API}/{path}", headers=salesperson_headers).status_code == 200, path
    items = anonymous_client.get(f"{API}/price-lists/{catalogue.price_list}/items", headers=salesperson_headers)
    assert items.status_code == 200 and len(items.json()) == 4
    publish = anonymous_client.post(f"{API}/products/{catalogue.draft_product}/publish", headers=salesperson_headers)
    assert_error(publish, 403, "forbidden")
    assert ok(client.get(f"{API}/products/{catalogue.draft_product}"))["state"] == "draft"


@pytest.mark.parametrize(
    ("path", "body", "code", "spanish"),
    [
        (
            "unit-groups",
            {"name": "LICENCIAS", "base_unit": "x"},
            "unit_group_name_taken",
            "Ya hay otro grupo de unidades con este nombre; elija otro.",
        ),
        (
            "products",
            {"number": "lic-std", "name": "Otra", "unit_group_id": "{group}", "default_unit_id": "{licence}"},
            "product_number_taken",
            "Ya hay otro producto con este número; elija otro.",
        ),
        (
            "price-lists",
            {"name": "tarifa eur", "currency": "EUR"},
            "price_list_name_taken",
            "Ya hay otra lista de precios con este nombre; elija otro.",
        ),
        (
            "discount-lists",
            {"name": "Volumen"},
            "discount_list_name_taken",
            "Ya hay otra lista de descuentos con este nombre; elija otro.",
        ),
        (
            "unit-groups/{group}/units",
            {"name": "pack 10", "quantity": "5"},
            "unit_name_taken",
            "El grupo de unidades ya tiene una unidad con este nombre; elija otro.",
        ),
    ],
)
def test_names_and_numbers_are_unique_whatever_their_case(client, path, body, code, spanish):
    catalogue = build_catalogue(client)
    group = ok(client.get(f"{API}/units/{catalogue.licence}"))["group_id"]
    fill = {"{group}": group, "{licence}": catalogue.licence}
    path = path.replace("{group}", group)
    body = {key: fill.get(value, value) for key, value in body.items()}

    error = assert_error(client.post(f"{API}/{path}", json=body, headers=SPANISH), 409, code)

    assert error["message"] == spanish
    assert next(iter(field_errors(error).values())) == code


def test_a_family_name_is_unique_and_a_family_is_renamed(client):
    family = created(client.post(f"{API}/product-families", json={"name": "Software"}))
    other = created(client.post(f"{API}/product-families", json={"name": "Hardware"}))

    assert_error(
        client.patch(f"{API}/product-families/{other['id']}", json={"name": "software"}), 409, "family_name_taken"
    )
    renamed = ok(client.patch(f"{API}/product-families/{family['id']}", json={"name": "Programas"}))

    assert renamed["name"] == "Programas" and renamed["row_version"] == 2
    assert [item["name"] for item in ok(client.get(f"{API}/product-families"))["items"]] == ["Hardware", "Programas"]
    assert client.delete(f"{API}/product-families/{other['id']}").status_code == 204
    assert_error(client.get(f"{API}/product-families/{other['id']}"), 404, "family_not_found")


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("products/{product}", {"name": "Renombrado"}),
        ("unit-groups/{group}", {"description": "Licencias de uso"}),
        ("units/{pack}", {"name": "Pack de 10"}),
        ("price-lists/{price_list}", {"description": "2027"}),
        ("discount-lists/{volume}", {"description": "Por volumen"}),
    ],
)
def test_a_change_with_a_stale_etag_is_refused_with_412_and_changes_nothing(client, path, change):
    catalogue = build_catalogue(client)
    group = ok(client.get(f"{API}/units/{catalogue.licence}"))["group_id"]
    ids = {
        "{product}": catalogue.product,
        "{group}": group,
        "{pack}": catalogue.pack,
        "{price_list}": catalogue.price_list,
        "{volume}": catalogue.volume,
    }
    for placeholder, value in ids.items():
        path = path.replace(placeholder, value)
    current = client.get(f"{API}/{path}")
    etag = current.headers["ETag"]
    fresh = client.patch(f"{API}/{path}", json=change, headers={"If-Match": etag})
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["ETag"] != etag

    stale = client.patch(f"{API}/{path}", json=change, headers={"If-Match": etag})
    weak = client.patch(f"{API}/{path}", json=change, headers={"If-Match": f"W/{etag}"})
    deleting = client.delete(f"{API}/{path}", headers={"If-Match": etag})

    assert_error(stale, 412, "stale_etag")
    assert_error(weak, 412, "stale_etag")
    assert_error(deleting, 412, "stale_etag")
    assert client.get(f"{API}/{path}").json() == fresh.json()


def test_a_unit_in_use_and_a_group_in_use_are_not_deleted(client):
    catalogue = build_catalogue(client)
    group = ok(client.get(f"{API}/units/{catalogue.licence}"))["group_id"]

    assert_error(client.delete(f"{API}/unit-groups/{group}"), 409, "unit_group_in_use")
    assert_error(client.delete(f"{API}/units/{catalogue.licence}"), 409, "base_unit")
    assert_error(client.delete(f"{API}/units/{catalogue.pack}"), 409, "unit_in_use")
    hours = ok(client.get(f"{API}/units/{catalogue.hour}"))["group_id"]
    day = created(client.post(f"{API}/unit-groups/{hours}/units", json={"name": "Jornada", "quantity": "8"}))
    assert client.delete(f"{API}/units/{day['id']}").status_code == 204
    assert client.delete(f"{API}/unit-groups/{hours}").status_code == 204
    assert_error(client.get(f"{API}/units/{catalogue.hour}"), 404, "unit_not_found")


def test_lists_page_search_and_filter(client):
    build_catalogue(client)

    first = ok(client.get(f"{API}/unit-groups", params={"limit": 1}))
    second = ok(client.get(f"{API}/unit-groups", params={"limit": 1, "cursor": first["next_cursor"]}))
    searched = ok(client.get(f"{API}/unit-groups", params={"search": "hor"}))
    in_usd = ok(client.get(f"{API}/price-lists", params={"currency": "usd"}))
    products = ok(client.get(f"{API}/products", params={"search": "lic-o"}))

    assert [group["name"] for group in first["items"] + second["items"]] == ["Horas", "Licencias"]
    assert second["next_cursor"] is None
    assert [group["name"] for group in searched["items"]] == ["Horas"]
    assert [(item["name"], item["currency"]) for item in in_usd["items"]] == [("Tarifa USD", "USD")]
    assert [item["number"] for item in products["items"]] == ["LIC-OLD"]


def test_a_group_whose_units_build_on_each_other_is_deleted_whole(client):
    group = created(client.post(f"{API}/unit-groups", json={"name": "Cajas", "base_unit": "Caja"}))
    pallet = created(client.post(f"{API}/unit-groups/{group['id']}/units", json={"name": "Palé", "quantity": "40"}))
    for name in ("Camión", "Barco"):
        body = {"name": name, "quantity": "20", "base_unit_id": pallet["id"]}
        created(client.post(f"{API}/unit-groups/{group['id']}/units", json=body))

    assert client.delete(f"{API}/unit-groups/{group['id']}").status_code == 204

    assert_error(client.get(f"{API}/unit-groups/{group['id']}"), 404, "unit_group_not_found")
    assert ok(client.get(f"{API}/units", params={"group_id": group["id"]}))["items"] == []


@pytest.mark.parametrize(
    ("path", "parameter", "value", "names"),
    [
        ("unit-groups", "search", "Lic\x00", ["Licencias"]),
        ("products", "search", "LIC-\x00OLD", ["Licencia LIC-OLD"]),
        ("price-lists", "currency", "\x00", ["Tarifa EUR", "Tarifa USD"]),
    ],
)
def test_a_search_drops_the_characters_no_database_compares(client, path, parameter, value, names):
    build_catalogue(client)

    response = client.get(f"{API}/{path}", params={parameter: value})

    assert response.status_code == 200, response.text
    assert [item["name"] for item in response.json()["items"]] == names
