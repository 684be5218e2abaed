"""The product catalogue's administration pages: unit groups, products, price lists and discount lists
built through their forms; what a Salesperson reads and may not change; the pages in Spanish; bad
input refused next to its field with nothing written; and the settings of quotes, orders and invoices."""

from __future__ import annotations

import html as markup
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.catalog import service as catalog
from leadflow.catalog.models import DiscountList, PriceList, PriceListItem, Product, ProductFamily, ProductState, Unit
from leadflow.catalog.schemas import FamilyCreate, PriceListCreate, ProductCreate, UnitCreate, UnitGroupCreate
from leadflow.core.uow import Database
from leadflow.organisation.models import OrganisationSettings
from leadflow.sales.models import DocumentKind, DocumentNumbering
from leadflow.security.actor import Actor
from leadflow.security.models import Role
from tests.web.test_admin_pages import (
    SELLER_EMAIL,
    SELLER_PASSWORD,
    make_seller,
    post_form,
    settings_form,
    snapshot,
)

# The tables the catalogue's pages write, compared row by row to prove a refusal changed nothing.
CATALOGUE_TABLES = (
    "unit_groups",
    "units",
    "product_families",
    "products",
    "price_lists",
    "price_list_items",
    "discount_lists",
    "discount_tiers",
    "audit_entries",
)


@pytest.fixture
def spanish_client(web_client_for: Callable[..., TestClient]) -> TestClient:
    return web_client_for(accept_language="es-ES,es;q=0.9")


@pytest.fixture
def seller_client(database: Database, web_client_for: Callable[..., TestClient]) -> TestClient:
    make_seller(database)
    return web_client_for(SELLER_EMAIL, SELLER_PASSWORD)


class Catalogue:
    """Licences, sold singly or in packs of 10, and a draft product; a euro price list without items."""

    def __init__(self, database: Database, actor: Actor) -> None:
        with database.unit_of_work() as uow:
            group = catalog.create_unit_group(
                UnitGroupCreate(name="Licencias", base_unit="Licencia"), uow=uow, actor=actor
            )
            self.group = group.id
            self.licence = group.base_unit.id
            self.pack = catalog.add_unit(
                group.id, UnitCreate(name="Pack 10", quantity=Decimal(10)), uow=uow, actor=actor
            ).id
            hours = catalog.create_unit_group(UnitGroupCreate(name="Tiempo", base_unit="Hora"), uow=uow, actor=actor)
            self.hour = hours.base_unit.id
            self.product = catalog.create_product(
                ProductCreate(
                    number="LIC-STD",
                    name="Licencia estándar",
                    unit_group_id=group.id,
                    default_unit_id=self.licence,
                    list_price=Decimal("100.00"),
                    standard_cost=Decimal("40.00"),
                ),
                uow=uow,
                actor=actor,
            ).id
            self.price_list = catalog.create_price_list(
                PriceListCreate(name="Tarifa EUR", currency="EUR"), uow=uow, actor=actor
            ).id
            uow.commit()


@pytest.fixture
def catalogue(database: Database, actor: Actor) -> Catalogue:
    return Catalogue(database, actor)


def created_id(response: Any, path: str) -> uuid.UUID:
    """The id of the record a form created, from the page it sends the browser to."""
    assert response.status_code == 303, response.text
    match = re.fullmatch(rf"{path}/([0-9a-f-]{{36}})\?notice=created", response.headers["location"])
    assert match is not None, response.headers["location"]
    return uuid.UUID(match.group(1))


def row_version(html: str) -> str:
    return re.search(r'name="row_version" value="(\d+)"', html).group(1)


def one(database: Database, model: type, **where: Any) -> Any:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(model).filter_by(**where)).one()


def count(database: Database, model: type) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return len(uow.session.scalars(select(model)).all())


def product_form(catalogue: Catalogue, **overrides: Any) -> dict[str, Any]:
    return {
        "number": "LIC-PRO",
        "name": "Licencia profesional",
        "family_id": "",
        "unit_group_id": str(catalogue.group),
        "default_unit_id": str(catalogue.licence),
        "decimals_supported": "0",
        "list_price": "150.00",
        "standard_cost": "",
        "current_cost": "",
        "description": "",
        **overrides,
    }


def item_form(catalogue: Catalogue, **overrides: Any) -> dict[str, Any]:
    return {
        "product_id": str(catalogue.product),
        "unit_id": str(catalogue.licence),
        "pricing_method": "currency_amount",
        "amount": "95.00",
        "percentage": "",
        "rounding_policy": "none",
        "rounding_option": "",
        "rounding_amount": "",
        "discount_list_id": "",
        **overrides,
    }


# ---------------------------------------------------------------------------------------------- built through the forms


def test_an_administrator_builds_the_catalogue_through_the_forms(web_client: TestClient, database: Database) -> None:
    # A unit group with its base unit, and a pack of ten.
    response = post_form(
        web_client, "/admin/unit-groups", "/admin/unit-groups", {"name": "Licencias", "base_unit": "Licencia"}
    )
    group_id = created_id(response, "/admin/unit-groups")
    page = web_client.get(response.headers["location"])
    assert page.status_code == 200 and "Licencia" in page.text and "The unit group was created" in page.text
    licence = one(database, Unit, group_id=group_id, name="Licencia")
    response = post_form(
        web_client,
        f"/admin/unit-groups/{group_id}",
        f"/admin/unit-groups/{group_id}/units",
        {"name": "Pack 10", "quantity": "10", "base_unit_id": str(licence.id)},
    )
    assert response.status_code == 303, response.text
    assert one(database, Unit, group_id=group_id, name="Pack 10").quantity == 10

    # A product, created as a draft, then published.
    response = post_form(
        web_client,
        "/admin/products/new",
        "/admin/products/new",
        {
            "number": "LIC-STD",
            "name": "Licencia estándar",
            "family_id": "",
            "unit_group_id": str(group_id),
            "default_unit_id": str(licence.id),
            "decimals_supported": "0",
            "list_price": "100.00",
            "standard_cost": "40",
            "current_cost": "",
            "description": "Una licencia de un año.",
        },
    )
    product_id = created_id(response, "/admin/products")
    product = one(database, Product, id=product_id)
    assert product.state is ProductState.DRAFT and product.list_price == Decimal("100.00")
    page = web_client.get(f"/admin/products/{product_id}").text
    assert 'id="publish-button"' in page and "Draft" in page
    response = web_client.post(
        f"/admin/products/{product_id}/publish",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "row_version": row_version(page),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert one(database, Product, id=product_id).state is ProductState.ACTIVE
    page = web_client.get(response.headers["location"]).text
    assert "The product was published" in page and 'id="publish-button"' not in page and 'id="retire-button"' in page

    # A discount list: 10 to 99 licences, 5 % off (two rows typed, the empty ones left out).
    response = post_form(
        web_client,
        "/admin/discount-lists/new",
        "/admin/discount-lists/new",
        {
            "name": "Volumen",
            "kind": "percentage",
            "currency": "",
            "description": "",
            "tier_count": "4",
            "tiers-0-begin_quantity": "100",
            "tiers-0-end_quantity": "1000",
            "tiers-0-value": "7.5",
            "tiers-2-begin_quantity": "10",
            "tiers-2-end_quantity": "99",
            "tiers-2-value": "5",
        },
    )
    discount_id = created_id(response, "/admin/discount-lists")
    discount = one(database, DiscountList, id=discount_id)
    with database.unit_of_work(read_only=True) as uow:
        tiers = [(t.begin_quantity, t.end_quantity, t.value) for t in uow.session.get(DiscountList, discount_id).tiers]
    assert tiers == [(10, 99, 5), (100, 1000, Decimal("7.5"))] and discount.name == "Volumen"

    # A price list in euros, with an item: 90 % of the list price, with the volume discount.
    response = post_form(
        web_client,
        "/admin/price-lists",
        "/admin/price-lists",
        {"name": "Tarifa EUR", "currency": "EUR", "valid_from": "2026-01-01", "valid_to": "", "description": ""},
    )
    price_list_id = created_id(response, "/admin/price-lists")
    response = post_form(
        web_client,
        f"/admin/price-lists/{price_list_id}",
        f"/admin/price-lists/{price_list_id}/items",
        {
            "product_id": str(product_id),
            "unit_id": str(licence.id),
            "pricing_method": "percent_of_list",
            "amount": "",
            "percentage": "90",
            "rounding_policy": "none",
            "rounding_option": "",
            "rounding_amount": "",
            "discount_list_id": str(discount_id),
        },
    )
    assert response.status_code == 303, response.text
    item = one(database, PriceListItem, price_list_id=price_list_id)
    assert item.percentage == 90 and item.discount_list_id == discount_id
    page = markup.unescape(web_client.get(f"/admin/price-lists/{price_list_id}").text)
    items = page[page.index('id="items-table"') : page.index("</table>", page.index('id="items-table"'))]
    assert "Licencia estándar" in items and "Percent of list" in items and "Volumen" in items
    assert "€90.00" in items  # the price per unit it gives today
    # The product's page lists its price on the price list.
    product_page = markup.unescape(web_client.get(f"/admin/products/{product_id}").text)
    prices = product_page[product_page.index('id="prices-table"') :]
    assert "Tarifa EUR" in prices and "€90.00" in prices


def test_an_item_is_changed_then_removed_from_its_page(
    web_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    response = post_form(
        web_client,
        f"/admin/price-lists/{catalogue.price_list}",
        f"/admin/price-lists/{catalogue.price_list}/items",
        item_form(catalogue),
    )
    assert response.status_code == 303, response.text
    item = one(database, PriceListItem, price_list_id=catalogue.price_list)
    path = f"/admin/price-lists/{catalogue.price_list}/items/{item.id}"
    response = post_form(
        web_client,
        path,
        path,
        {
            "row_version": str(item.row_version),
            **{k: v for k, v in item_form(catalogue).items() if k not in ("product_id", "unit_id")},
            "pricing_method": "margin_standard_cost",
            "percentage": "37.5",
            "rounding_policy": "up",
            "rounding_option": "ends_in",
            "rounding_amount": "0.99",
        },
    )
    assert response.status_code == 303, response.text
    changed = one(database, PriceListItem, id=item.id)
    assert changed.percentage == Decimal("37.5") and changed.rounding_amount == Decimal("0.99")
    # 40 / (1 - 0.375) = 64, rounded up to end in .99
    assert "€64.99" in web_client.get(f"/admin/price-lists/{catalogue.price_list}").text

    response = post_form(web_client, path, path + "/delete", {"row_version": str(changed.row_version)})
    assert response.status_code == 303, response.text
    assert count(database, PriceListItem) == 0


def test_a_unit_is_renamed_and_deleted_and_a_used_one_is_refused(
    web_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    path = f"/admin/unit-groups/{catalogue.group}/units/{catalogue.pack}"
    page = web_client.get(path).text
    response = post_form(
        web_client, path, path, {"row_version": row_version(page), "name": "Pack de 10", "quantity": "10"}
    )
    assert response.status_code == 303, response.text
    assert one(database, Unit, id=catalogue.pack).name == "Pack de 10"

    # The base unit is the product's default unit: it cannot go.
    base = f"/admin/unit-groups/{catalogue.group}/units/{catalogue.licence}"
    assert 'id="delete-button"' not in web_client.get(base).text
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(web_client, base, base + "/delete", {})
    assert response.status_code == 409
    assert "base unit" in response.text
    assert snapshot(database, CATALOGUE_TABLES) == before

    response = post_form(web_client, path, path + "/delete", {"row_version": row_version(web_client.get(path).text)})
    assert response.status_code == 303, response.text
    assert count(database, Unit) == 2  # Licencia and Hora


# ---------------------------------------------------------------------------------------------- product families


def test_a_product_family_is_created_renamed_and_deleted_and_its_products_stay(
    web_client: TestClient, database: Database, actor: Actor, catalogue: Catalogue
) -> None:
    families = "/admin/product-families"
    assert 'id="tab-product-families"' in web_client.get("/admin/products").text
    response = post_form(web_client, families, families, {"name": "Licencias", "description": "Software"})
    family_id = created_id(response, families)
    page = web_client.get(response.headers["location"]).text
    assert page.count('id="tab-product-families" aria-current="page"') == 1
    assert "The product family was created." in page and 'id="delete-button"' in page

    # The product joins the family: the list counts it and the products list filters by it.
    product_path = f"/admin/products/{catalogue.product}"
    product_page = web_client.get(product_path).text
    fields = {**product_form(catalogue, number="LIC-STD", name="Licencia estándar"), "family_id": str(family_id)}
    response = post_form(web_client, product_path, product_path, {**fields, "row_version": row_version(product_page)})
    assert response.status_code == 303, response.text
    listed = web_client.get(families).text
    row = listed[listed.index(f'id="family-{family_id}"') :]
    assert f'href="/admin/products?family={family_id}">1</a>' in row[: row.index("</tr>")]
    assert "Licencia estándar" in web_client.get(f"/admin/products?family={family_id}").text
    assert 'id="family-filter"' in web_client.get("/admin/products").text

    # Renamed; a taken name is refused next to it.
    path = f"{families}/{family_id}"
    response = post_form(
        web_client, path, path, {"row_version": row_version(web_client.get(path).text), "name": "Software"}
    )
    assert response.status_code == 303, response.text
    assert one(database, ProductFamily, id=family_id).name == "Software"
    with database.unit_of_work() as uow:
        taken = catalog.create_family(FamilyCreate(name="Servicios"), uow=uow, actor=actor).id
        uow.commit()
    response = post_form(web_client, path, path, {"name": "Servicios"})
    assert response.status_code == 409 and 'id="family-name-error"' in response.text, response.text
    assert one(database, ProductFamily, id=family_id).name == "Software"

    # Deleted after its confirmation: its product stays, in no family.
    confirmation = web_client.get(f"{path}/delete")
    assert confirmation.status_code == 200 and "Its products stay, in no family." in confirmation.text
    response = post_form(web_client, path, path + "/delete", {"row_version": row_version(web_client.get(path).text)})
    assert response.status_code == 303 and response.headers["location"] == f"{families}?notice=deleted"
    assert "The product family was deleted" in web_client.get(response.headers["location"]).text
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(ProductFamily, family_id) is None and uow.session.get(ProductFamily, taken)
        assert uow.session.get(Product, catalogue.product).family_id is None
    assert web_client.get(path).status_code == 404


def test_a_salesperson_reads_the_families_without_their_forms(
    seller_client: TestClient, database: Database, actor: Actor
) -> None:
    with database.unit_of_work() as uow:
        family_id = catalog.create_family(FamilyCreate(name="Licencias"), uow=uow, actor=actor).id
        uow.commit()
    families = "/admin/product-families"
    path = f"{families}/{family_id}"
    for shown, form in ((families, "new-family-form"), (path, "family-form")):
        page = seller_client.get(shown)
        assert page.status_code == 200 and "Licencias" in page.text, shown
        assert f'id="{form}"' not in page.text and 'id="delete-button"' not in page.text, shown
    before = snapshot(database, CATALOGUE_TABLES)
    for action, data in (
        (families, {"name": "Servicios"}),
        (path, {"name": "Renamed"}),
        (path + "/delete", {}),
    ):
        response = post_form(seller_client, families, action, data)
        assert response.status_code == 403, action
        assert "You can't open this page" in response.text, action
    assert seller_client.get(path + "/delete").status_code == 403
    assert snapshot(database, CATALOGUE_TABLES) == before


def test_the_family_pages_show_spanish_labels(spanish_client: TestClient, database: Database, actor: Actor) -> None:
    with database.unit_of_work() as uow:
        family_id = catalog.create_family(FamilyCreate(name="Licencias"), uow=uow, actor=actor).id
        uow.commit()
    pages = {
        "/admin/products": ("Familias de productos", "Familia de productos"),
        "/admin/product-families": (
            "Familias de productos",
            "Nueva familia de productos",
            "Crear familia de productos",
        ),
        f"/admin/product-families/{family_id}": ("Familia de productos", "Sus productos se conservan, sin familia."),
    }
    for path, labels in pages.items():
        response = spanish_client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="es">' in response.text
        page = markup.unescape(response.text)
        for label in labels:
            assert label in page, (path, label)


# ---------------------------------------------------------------------------------------------- a Salesperson reads


def test_a_salesperson_reads_the_catalogue_without_its_forms(seller_client: TestClient, catalogue: Catalogue) -> None:
    home = seller_client.get("/").text
    assert 'href="/admin/products"' in home
    pages = {
        "/admin/products": ("Licencia estándar", "new-product-button"),
        f"/admin/products/{catalogue.product}": ("LIC-STD", "product-form"),
        "/admin/unit-groups": ("Licencias", "new-unit-group-form"),
        f"/admin/unit-groups/{catalogue.group}": ("Pack 10", "new-unit-form"),
        "/admin/price-lists": ("Tarifa EUR", "new-price-list-form"),
        f"/admin/price-lists/{catalogue.price_list}": ("Tarifa EUR", "new-item-form"),
        "/admin/discount-lists": ("Discount lists", "new-discount-list-button"),
    }
    for path, (shown, form) in pages.items():
        page = seller_client.get(path)
        assert page.status_code == 200, path
        assert shown in markup.unescape(page.text), path
        assert f'id="{form}"' not in page.text, path
        assert 'id="delete-button"' not in page.text and 'id="publish-button"' not in page.text, path
    assert seller_client.get("/admin/products/new").status_code == 403


def test_every_change_a_salesperson_posts_is_refused_and_changes_nothing(
    seller_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    product = f"/admin/products/{catalogue.product}"
    posts = {
        "/admin/products/new": product_form(catalogue),
        product: product_form(catalogue, number="LIC-STD", name="Renamed"),
        product + "/publish": {},
        product + "/delete": {},
        "/admin/unit-groups": {"name": "Horas", "base_unit": "Hora"},
        f"/admin/unit-groups/{catalogue.group}/units": {"name": "Pack 5", "quantity": "5"},
        "/admin/price-lists": {"name": "Tarifa USD", "currency": "EUR"},
        f"/admin/price-lists/{catalogue.price_list}/items": item_form(catalogue),
        "/admin/discount-lists/new": {"name": "Volumen", "kind": "percentage", "tier_count": "0"},
    }
    for action, data in posts.items():
        response = post_form(seller_client, "/admin/products", action, data)
        assert response.status_code == 403, action
        assert "You can't open this page" in response.text, action
    assert snapshot(database, CATALOGUE_TABLES) == before


# ---------------------------------------------------------------------------------------------- Spanish


def test_the_catalogue_pages_show_spanish_labels(spanish_client: TestClient, catalogue: Catalogue) -> None:
    pages = {
        "/admin/products": ("Catálogo de productos", "Productos", "Precio de venta", "Borrador", "Nuevo producto"),
        f"/admin/products/{catalogue.product}": (
            "Id. de producto",
            "Grupo de unidades",
            "Unidad predeterminada",
            "Decimales admitidos",
            "Costo estándar",
            "Costo actual",
            "Publicar",
            "Retirar",
            "Precios en las listas de precios",
        ),
        f"/admin/unit-groups/{catalogue.group}": ("Unidad base", "Agregar una unidad", "De la unidad"),
        f"/admin/price-lists/{catalogue.price_list}": (
            "Elementos de lista de precios",
            "Método de precios",
            "Importe de moneda",
            "Porcentaje de lista",
            "Porcentaje de margen de beneficio - Costo actual",
            "Directiva de redondeo",
            "Opción de redondeo",
            "Importe de redondeo",
            "Lista de descuentos",
        ),
        "/admin/discount-lists/new": ("Nueva lista de descuentos", "Cantidad inicial", "Tramos de cantidad"),
    }
    for path, labels in pages.items():
        response = spanish_client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="es">' in response.text
        page = markup.unescape(response.text)
        for label in labels:
            assert label in page, (path, label)


def test_a_refusal_is_shown_next_to_its_field_in_spanish(
    spanish_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        spanish_client,
        f"/admin/price-lists/{catalogue.price_list}",
        f"/admin/price-lists/{catalogue.price_list}/items",
        item_form(catalogue, pricing_method="margin_standard_cost", amount="", percentage="100"),
    )
    assert response.status_code == 422
    page = markup.unescape(response.text)
    assert 'id="item-percentage-error"' in page
    assert re.search(r'id="item-percentage-error">Un margen debe ser inferior al 100 %', page)
    assert '<h2 class="alert-title">Hay un problema</h2>' in page
    assert snapshot(database, CATALOGUE_TABLES) == before


# ---------------------------------------------------------------------------------------------- bad input


def test_a_taken_product_number_is_refused_next_to_it_and_nothing_is_written(
    web_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        web_client, "/admin/products/new", "/admin/products/new", product_form(catalogue, number="lic-std")
    )
    assert response.status_code == 409
    assert 'id="product-number-error"' in response.text
    assert 'aria-invalid="true"' in response.text[response.text.index('id="product-number"') - 200 :]
    assert 'value="Licencia profesional"' in response.text  # the input is kept
    assert snapshot(database, CATALOGUE_TABLES) == before


def test_a_margin_of_100_or_more_is_refused_next_to_the_percentage(
    web_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        web_client,
        f"/admin/price-lists/{catalogue.price_list}",
        f"/admin/price-lists/{catalogue.price_list}/items",
        item_form(catalogue, pricing_method="margin_current_cost", amount="", percentage="100"),
    )
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="item-percentage-error">[^<]*100 %', response.text)
    assert '<option value="margin_current_cost" selected>' in response.text
    assert snapshot(database, CATALOGUE_TABLES) == before


def test_a_unit_of_another_group_is_refused_next_to_the_unit(
    web_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        web_client,
        "/admin/products/new",
        "/admin/products/new",
        product_form(catalogue, default_unit_id=str(catalogue.hour)),
    )
    assert response.status_code == 422
    assert 'id="product-default-unit-id-error"' in response.text
    assert "Choose a unit of the product's unit group." in markup.unescape(response.text)

    response = post_form(
        web_client,
        f"/admin/price-lists/{catalogue.price_list}",
        f"/admin/price-lists/{catalogue.price_list}/items",
        item_form(catalogue, unit_id=str(catalogue.hour)),
    )
    assert response.status_code == 422
    assert 'id="item-unit-id-error"' in response.text
    assert snapshot(database, CATALOGUE_TABLES) == before


def test_overlapping_tiers_are_refused_next_to_the_row(web_client: TestClient, database: Database) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        web_client,
        "/admin/discount-lists/new",
        "/admin/discount-lists/new",
        {
            "name": "Volumen",
            "kind": "percentage",
            "tier_count": "3",
            "tiers-0-begin_quantity": "50",
            "tiers-0-end_quantity": "200",
            "tiers-0-value": "10",
            "tiers-1-begin_quantity": "10",
            "tiers-1-end_quantity": "99",
            "tiers-1-value": "5",
        },
    )
    assert response.status_code == 422
    # The rows come back by begin quantity, the second one marked.
    assert 'id="tier-0-begin-quantity" name="tiers-0-begin_quantity" value="10"' in response.text
    assert 'id="tier-1-begin-quantity-error"' in response.text
    assert snapshot(database, CATALOGUE_TABLES) == before


def test_a_product_form_older_than_the_product_is_refused_and_offers_a_reload(
    web_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    path = f"/admin/products/{catalogue.product}"
    page = web_client.get(path).text
    assert (
        post_form(
            web_client, path, path, {**product_form(catalogue, number="LIC-STD"), "row_version": row_version(page)}
        ).status_code
        == 303
    )
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        web_client,
        path,
        path,
        {**product_form(catalogue, number="LIC-STD", name="Otra"), "row_version": row_version(page)},
    )
    assert response.status_code == 412
    assert 'id="reload-record"' in response.text and 'value="Otra"' in response.text
    assert snapshot(database, CATALOGUE_TABLES) == before


def test_a_price_list_in_a_currency_not_enabled_is_refused_next_to_the_currency(
    web_client: TestClient, database: Database
) -> None:
    before = snapshot(database, CATALOGUE_TABLES)
    response = post_form(
        web_client, "/admin/price-lists", "/admin/price-lists", {"name": "Tarifa JPY", "currency": "JPY"}
    )
    assert response.status_code == 422
    assert 'id="price-list-currency-error"' in response.text
    assert snapshot(database, CATALOGUE_TABLES) == before
    assert count(database, PriceList) == 0


def test_a_missing_product_is_a_404_page(web_client: TestClient) -> None:
    response = web_client.get(f"/admin/products/{uuid.uuid4()}")
    assert response.status_code == 404 and "No product has the id" in response.text
    assert web_client.get("/admin/unit-groups/not-an-id").status_code == 404


# ---------------------------------------------------------------------------------------------- settings and roles


def test_the_settings_save_the_company_and_the_numbering(web_client: TestClient, database: Database) -> None:
    page = web_client.get("/admin/settings").text
    assert 'id="numbering_quote_prefix" name="numbering_quote_prefix" value="QUO"' in page
    version = row_version(page)
    response = post_form(
        web_client,
        "/admin/settings",
        "/admin/settings",
        settings_form(
            row_version=version,
            company_name="Muebles Ibéricos S.L.",
            company_address="Calle Mayor 1\n28013 Madrid",
            numbering_quote_prefix="OF",
            numbering_quote_next_number="2000",
            numbering_order_prefix="ORD",
            numbering_order_next_number="1000",
            numbering_invoice_prefix="FAC",
            numbering_invoice_next_number="1000",
        ),
    )
    assert response.status_code == 303, response.text
    with database.unit_of_work(read_only=True) as uow:
        settings = uow.session.scalars(select(OrganisationSettings)).one()
        numbering = {row.kind: (row.prefix, row.next_number) for row in uow.session.scalars(select(DocumentNumbering))}
    assert (
        settings.company_name == "Muebles Ibéricos S.L." and settings.company_address == "Calle Mayor 1\n28013 Madrid"
    )
    assert numbering[DocumentKind.QUOTE] == ("OF", 2000) and numbering[DocumentKind.INVOICE] == ("FAC", 1000)
    assert "OF-02000" in web_client.get("/admin/settings").text


def test_a_bad_prefix_is_refused_next_to_it_and_nothing_changes(spanish_client: TestClient, database: Database) -> None:
    before = snapshot(database, ("organisation_settings", "document_numbering", "audit_entries"))
    response = post_form(
        spanish_client,
        "/admin/settings",
        "/admin/settings",
        settings_form(company_name="Otra", numbering_quote_prefix="OF 1", numbering_quote_next_number="5"),
    )
    assert response.status_code == 422
    assert 'id="numbering_quote_prefix-error"' in response.text
    assert "Ofertas, pedidos y facturas" in response.text and 'value="OF 1"' in response.text
    assert snapshot(database, ("organisation_settings", "document_numbering", "audit_entries")) == before


def test_the_roles_page_names_the_catalogue_and_the_sales_records(
    web_client: TestClient, spanish_client: TestClient, database: Database
) -> None:
    with database.unit_of_work(read_only=True) as uow:
        role_id = uow.session.scalars(select(Role.id).where(Role.name == "Salesperson")).one()
    english = markup.unescape(web_client.get(f"/admin/roles/{role_id}").text)
    for label in ("Product catalogue", "Override prices", "Quotes", "Orders", "Invoices"):
        assert f">{label}<" in english, label
    spanish = markup.unescape(spanish_client.get(f"/admin/roles/{role_id}").text)
    for label in ("Catálogo de productos", "Invalidar precios", "Ofertas", "Pedidos", "Facturas"):
        assert f">{label}<" in spanish, label


def test_the_catalogue_pages_use_no_inline_script_or_style(web_client: TestClient, catalogue: Catalogue) -> None:
    for path in (
        "/admin/products",
        "/admin/products/new",
        f"/admin/products/{catalogue.product}",
        "/admin/product-families",
        f"/admin/unit-groups/{catalogue.group}",
        f"/admin/price-lists/{catalogue.price_list}",
        "/admin/discount-lists/new",
    ):
        html = web_client.get(path).text
        assert "<script>" not in html and " onclick=" not in html and " style=" not in html, path
        ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html)
        for field_id in ids:
            assert f'for="{field_id}"' in html, (path, field_id)


def test_amounts_are_typed_and_shown_in_the_users_language(
    spanish_client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    response = post_form(
        spanish_client,
        "/admin/products/new",
        "/admin/products/new",
        product_form(catalogue, list_price="1.250,50", standard_cost="900"),
    )
    product_id = created_id(response, "/admin/products")
    assert one(database, Product, id=product_id).list_price == Decimal("1250.50")
    page = markup.unescape(spanish_client.get(f"/admin/products/{product_id}").text)
    assert 'value="1250,50"' in page  # as a person types it again
    assert "1.250,50\xa0€" in markup.unescape(spanish_client.get("/admin/products").text)


@pytest.mark.parametrize(
    "path",
    ["/admin/products", "/admin/product-families", "/admin/unit-groups", "/admin/price-lists", "/admin/discount-lists"],
)
def test_a_broken_page_link_shows_the_first_page_with_the_reason(
    web_client: TestClient, catalogue: Catalogue, path: str
) -> None:
    response = web_client.get(f"{path}?cursor=not-a-cursor")
    assert response.status_code == 422
    assert 'id="list-error"' in response.text and "<tbody>" in response.text
