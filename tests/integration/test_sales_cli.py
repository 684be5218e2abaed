"""Lead to order from the command line, on SQLite and PostgreSQL: the catalogue, an opportunity's
products, quote → activate → revise → activate → win → order → fulfil → invoice → paid, the PDF,
and the refusals (a privilege, bad input) that end in one line and leave nothing written."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from leadflow.catalog.models import Product
from leadflow.core.uow import Database
from leadflow.opportunities.models import OpportunityProduct
from leadflow.sales.models import DocumentKind, Quote
from leadflow.sales.schemas import QuoteOut
from leadflow.sales.service import document
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.e2e.helpers import API
from tests.integration.test_cli_json import cli_json, leadflow
from tests.integration.test_lead_to_order import Catalogue

D = Decimal
SELLER = "seller@example.com"


def ok(database: Database, *arguments: str) -> str:
    """What a command that must succeed prints."""
    result = leadflow(database, *arguments)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(database: Database, *arguments: str, exit_code: int | None = None) -> str:
    """The one line a refused command prints on stderr (nothing on stdout, no traceback)."""
    result = leadflow(database, *arguments)
    assert result.exit_code != 0, result.output
    if exit_code is not None:
        assert result.exit_code == exit_code, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error:"), result.stderr
    return result.stderr


@pytest.fixture
def catalogue(database: Database, actor: Actor) -> Catalogue:
    return Catalogue(database, actor)


def line_count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(OpportunityProduct)) or 0


def api_json(client: TestClient, path: str) -> Any:
    response = client.get(API + path)
    assert response.status_code == 200, response.text
    return response.json()


def test_from_the_catalogue_to_a_paid_invoice(database: Database, client: TestClient) -> None:
    ok(database, "units", "create-group", "Licencias", "--base-unit", "Licencia")
    assert "Added Pack 10 to Licencias" in ok(database, "units", "add", "licencias", "Pack 10", "--quantity", "10")
    groups = cli_json(database, "units", "groups")
    assert groups == api_json(client, "/unit-groups")
    [group] = groups["items"]
    assert sorted(unit["name"] for unit in group["units"]) == ["Licencia", "Pack 10"]
    created = ok(
        database,
        "products",
        "create",
        "LIC-STD",
        "Licencia estándar",
        "--unit-group",
        "Licencias",
        "--list-price",
        "100.00",
        "--standard-cost",
        "40.00",
        "--current-cost",
        "45.00",
    )
    assert "Created product LIC-STD" in created and "(draft)" in created
    assert "active" in ok(database, "products", "publish", "LIC-STD")
    shown = cli_json(database, "products", "show", "lic-std")
    assert shown == api_json(client, f"/products/{shown['id']}")
    assert cli_json(database, "products", "list") == api_json(client, "/products")
    assert (shown["state"], D(shown["list_price"])) == ("active", D(100))
    assert [item["number"] for item in cli_json(database, "products", "list", "--state", "active")["items"]] == [
        "LIC-STD"
    ]
    ok(database, "discount-lists", "create", "Volumen", "--tier", "10:99:5")
    assert "10–99: 5 %" in ok(database, "discount-lists", "list")
    assert cli_json(database, "discount-lists", "list") == api_json(client, "/discount-lists")
    ok(database, "price-lists", "create", "Tarifa EUR", "--currency", "EUR")
    # 90 % of the list price; a pack: margin 40 % over standard cost 40.00, up to a price ending in .99.
    assert "€90.00" in ok(
        database,
        "price-lists",
        "add-item",
        "Tarifa EUR",
        "LIC-STD",
        "--unit",
        "Licencia",
        "--method",
        "percent_of_list",
        "--percentage",
        "90",
        "--discount-list",
        "Volumen",
    )
    ok(
        database,
        "price-lists",
        "add-item",
        "Tarifa EUR",
        "LIC-STD",
        "--unit",
        "Pack 10",
        "--method",
        "margin_standard_cost",
        "--percentage",
        "40",
        "--rounding",
        "up",
        "--rounding-option",
        "ends_in",
        "--rounding-amount",
        "0.99",
    )
    [price_list] = cli_json(database, "price-lists", "list")["items"]
    assert price_list == api_json(client, "/price-lists")["items"][0]
    items = cli_json(database, "price-lists", "items", "Tarifa EUR")
    assert items == api_json(client, f"/price-lists/{price_list['id']}/items")
    assert sorted(D(item["price_per_unit"]) for item in items) == [D("66.99"), D("90.00")]

    ok(database, "accounts", "create", '{"name": "Muebles Ruiz", "address_city": "Sevilla"}')
    [account] = cli_json(database, "accounts", "list")["items"]
    ok(database, "opportunities", "create", f'{{"name": "Licencias 2027", "customer_id": "{account["id"]}"}}')
    [opportunity] = cli_json(database, "opportunities", "list")["items"]
    opportunity_id = opportunity["id"]
    ok(database, "opportunities", "pricing", opportunity_id, "--price-list", "Tarifa EUR")
    # 12 licences at 90.00 = 1,080.00; 5 % volume discount 54.00; manual 10; tax 21 → 1,037.00.
    added = ok(
        database,
        "opportunities",
        "add-product",
        opportunity_id,
        "--product",
        "LIC-STD",
        "--quantity",
        "12",
        "--discount",
        "10",
        "--tax",
        "21",
    )
    assert "Added line 1" in added and "€1,037.00" in added
    ok(
        database,
        "opportunities",
        "add-product",
        opportunity_id,
        "--product",
        "LIC-STD",
        "--unit",
        "Pack 10",
        "--quantity",
        "2",
    )
    ok(
        database,
        "opportunities",
        "add-product",
        opportunity_id,
        "--write-in",
        "Instalación",
        "--price",
        "250",
        "--quantity",
        "1",
    )
    ok(database, "opportunities", "pricing", opportunity_id, "--discount-percentage", "10", "--freight", "15.50")
    products = ok(database, "opportunities", "products", opportunity_id)
    assert "Instalación" in products and "€133.98" in products and "€1,296.48" in products
    lines = cli_json(database, "opportunities", "products", opportunity_id)
    assert lines == api_json(client, f"/opportunities/{opportunity_id}/products")
    assert [line["line_number"] for line in lines] == [1, 2, 3]
    totals = cli_json(database, "opportunities", "show", opportunity_id)
    assert (D(totals["detail_amount"]), D(totals["total_discount_amount"]), D(totals["total_amount"])) == (
        D("1399.98"),
        D("140.00"),
        D("1296.48"),
    )

    created = ok(database, "quotes", "from-opportunity", opportunity_id)
    assert "Created quote QUO-01000" in created and "Draft" in created and "€1,296.48" in created
    assert "Active" in ok(database, "quotes", "activate", "QUO-01000")
    assert "quote QUO-01000 (revision 1)" in ok(database, "quotes", "revise", "QUO-01000")
    assert "Active" in ok(database, "quotes", "activate", "QUO-01000")  # the latest revision
    won = ok(database, "quotes", "win", "QUO-01000", "--date", "2026-12-07")
    assert "Won quote QUO-01000 (revision 1)" in won and "Created order ORD-01000" in won
    assert "Opportunity Licencias 2027: won, actual revenue €1,296.48" in won
    quotes = cli_json(database, "quotes", "list", "--opportunity", opportunity_id)
    assert quotes == api_json(client, f"/opportunities/{opportunity_id}/quotes")
    quotes = quotes["items"]
    assert sorted((quote["revision"], quote["status_reason"]) for quote in quotes) == [(0, "revised"), (1, "won")]
    shown = cli_json(database, "quotes", "show", "QUO-01000")
    assert shown == api_json(client, f"/quotes/{shown['id']}")
    assert (shown["revision"], shown["date_won"], D(shown["total_amount"])) == (1, "2026-12-07", D("1296.48"))
    assert "Submitted" in ok(database, "orders", "submit", "ORD-01000")
    assert "Fulfilled · Complete" in ok(database, "orders", "fulfil", "ORD-01000")
    assert "Created invoice INV-01000" in ok(database, "orders", "invoice", "ORD-01000")
    assert "Paid · Complete" in ok(database, "invoices", "pay", "INV-01000", "--date", "2026-12-20")
    invoice = ok(database, "invoices", "show", "INV-01000")
    assert "Muebles Ruiz" in invoice and "Total amount" in invoice and "€1,296.48" in invoice
    invoices = cli_json(database, "invoices", "list")
    assert invoices == api_json(client, "/invoices")
    [paid] = invoices["items"]
    assert cli_json(database, "invoices", "show", "INV-01000") == api_json(client, f"/invoices/{paid['id']}")
    assert cli_json(database, "orders", "list") == api_json(client, "/orders")
    assert (paid["number"], paid["state"], paid["date_paid"], D(paid["total_amount"])) == (
        "INV-01000",
        "paid",
        "2026-12-20",
        D("1296.48"),
    )
    again = refused(database, "invoices", "pay", "INV-01000", exit_code=1)
    assert "(invoice_not_active)" in again


def test_a_quote_shows_as_the_api_writes_it_and_prints_as_a_pdf(
    database: Database, actor: Actor, catalogue: Catalogue, tmp_path: Path
) -> None:
    opportunity = str(catalogue.opportunity)
    ok(database, "opportunities", "add-product", opportunity, "--product", "LIC-STD", "--quantity", "3")
    ok(database, "quotes", "from-opportunity", opportunity)
    ok(database, "quotes", "activate", "QUO-01000")
    shown = cli_json(database, "quotes", "show", "QUO-01000")
    with database.unit_of_work(read_only=True) as uow:
        quote = document(DocumentKind.QUOTE, uow.session.scalars(select(Quote.id)).one(), uow=uow, actor=actor)
        assert shown == QuoteOut.model_validate(quote).model_dump(mode="json")
    assert cli_json(database, "quotes", "show", shown["id"]) == shown

    target = tmp_path / "oferta.pdf"
    printed = ok(database, "quotes", "print", shown["id"], "--language", "es", "-o", str(target))
    assert "Wrote the quote QUO-01000 to" in printed
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert "QUO-01000" in text and "Oferta" in text and "270,00" in text


def test_a_salesperson_may_not_create_a_product(database: Database, actor: Actor, catalogue: Catalogue) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    result = leadflow(database, "--as", SELLER, "products", "create", "NEW-1", "Nuevo", "--unit-group", "Licencias")
    assert result.exit_code == 1 and result.stdout == ""
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("Error:") and "(forbidden)" in line and "products" in line
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).where(Product.number == "NEW-1")) == 0
    # Reading the catalogue is every seller's.
    listed = cli_json(database, "--as", SELLER, "products", "list")
    assert {item["number"] for item in listed["items"]} == {"LIC-STD", "LIC-OLD"}


@pytest.mark.parametrize(
    ("arguments", "code", "exit_code"),
    [
        (("--product", "LIC-STD", "--quantity", "1.5"), "quantity_decimals", 2),
        (("--product", "LIC-RETIRED", "--quantity", "1"), "product_not_active", 1),
        (("--product", "LIC-STD", "--quantity", "1", "--unit", "Caja"), "unit_not_found", 3),
        (("--product", "NOPE", "--quantity", "1"), "product_not_found", 3),
        (("--write-in", "Instalación", "--quantity", "1"), "price_required", 2),
        (("--product", "LIC-STD", "--quantity", "-1"), "quantity", 2),
    ],
)
def test_bad_lines_are_refused_in_one_message_and_leave_nothing(
    database: Database, catalogue: Catalogue, arguments: tuple[str, ...], code: str, exit_code: int
) -> None:
    ok(database, "products", "create", "LIC-RETIRED", "Retirada", "--unit-group", "Licencias")
    ok(database, "products", "retire", "LIC-RETIRED")
    message = refused(
        database, "opportunities", "add-product", str(catalogue.opportunity), *arguments, exit_code=exit_code
    )
    assert code in message
    assert line_count(database) == 0


def test_documents_are_named_by_number_or_id_and_refusals_say_so(database: Database, catalogue: Catalogue) -> None:
    missing = refused(database, "quotes", "show", "QUO-09999", exit_code=3)
    assert "(quote_not_found)" in missing
    ok(database, "quotes", "from-opportunity", str(catalogue.opportunity))
    empty = refused(database, "quotes", "activate", "QUO-01000", exit_code=1)
    assert "(quote_has_no_lines)" in empty
    usage = leadflow(database, "quotes", "close", "QUO-01000")
    assert usage.exit_code == 2 and "--lost" in usage.output
    not_won = refused(database, "quotes", "order", "quo-01000", exit_code=1)
    assert "(quote_not_won)" in not_won


def test_catalogue_refusals_keep_to_one_message(database: Database, catalogue: Catalogue) -> None:
    taken = refused(database, "products", "create", "lic-std", "Otra", "--unit-group", "Licencias", exit_code=1)
    assert "(product_number_taken)" in taken
    assert "(unit_group_not_found)" in refused(database, "units", "add", "Cajas", "Caja", "--quantity", "6")
    tier = refused(database, "discount-lists", "create", "Mala", "--tier", "10-99-5", exit_code=2)
    assert "(tier_format)" in tier
    overlap = refused(
        database, "discount-lists", "create", "Solapada", "--tier", "1:10:5", "--tier", "5:20:7", exit_code=2
    )
    assert "(tiers_overlap)" in overlap
    names: list[Any] = [item["name"] for item in cli_json(database, "discount-lists", "list")["items"]]
    assert names == ["Volumen"]


def test_close_cancel_and_a_win_that_leaves_the_order_for_later(database: Database, catalogue: Catalogue) -> None:
    opportunity = str(catalogue.opportunity)
    ok(database, "opportunities", "add-product", opportunity, "--product", "LIC-STD", "--quantity", "1")
    ok(database, "quotes", "from-opportunity", opportunity)
    ok(database, "quotes", "activate", "QUO-01000")
    assert "Closed · Canceled" in ok(database, "quotes", "close", "QUO-01000", "--canceled")

    ok(database, "quotes", "from-opportunity", opportunity)
    ok(database, "quotes", "activate", "QUO-01001")
    won = ok(database, "quotes", "win", "QUO-01001", "--no-order", "--keep-opportunity-open")
    assert "Won quote QUO-01001" in won and "order" not in won and "Opportunity" not in won
    assert cli_json(database, "opportunities", "show", opportunity)["state"] == "open"
    assert "Created order ORD-01000" in ok(database, "quotes", "order", "QUO-01001")
    assert "(quote_has_order)" in refused(database, "quotes", "order", "QUO-01001", exit_code=1)
    assert "Created invoice INV-01000" in ok(database, "orders", "invoice", "ORD-01000")
    assert "Canceled" in ok(database, "invoices", "cancel", "INV-01000")
    assert "Canceled" in ok(database, "orders", "cancel", "ORD-01000")
    assert "(order_canceled)" in refused(database, "orders", "invoice", "ORD-01000", exit_code=1)
    states = {item["number"]: item["state"] for item in cli_json(database, "invoices", "list")["items"]}
    assert states == {"INV-01000": "canceled"}


def test_a_product_is_changed_by_its_number_and_only_a_draft_one_is_deleted(
    database: Database, client: TestClient, catalogue: Catalogue
) -> None:
    changed = ok(database, "products", "update", "lic-std", "--list-price", "110.00", "--name", "Licencia plus")
    assert "Changed product LIC-STD" in changed
    shown = cli_json(database, "products", "show", "LIC-STD")
    assert shown == api_json(client, f"/products/{shown['id']}")
    assert (shown["name"], D(shown["list_price"]), D(shown["standard_cost"])) == ("Licencia plus", D(110), D(40))
    # 90 % of the new list price; the lines already priced keep theirs.
    prices = {D(item["price_per_unit"]) for item in cli_json(database, "price-lists", "items", "Tarifa EUR")}
    assert D("99.00") in prices
    assert "Changed product LIC-PLUS" in ok(database, "products", "update", "LIC-STD", "--number", "LIC-PLUS")
    assert "(product_not_found)" in refused(database, "products", "show", "LIC-STD", exit_code=3)
    assert "(product_number_taken)" in refused(
        database, "products", "update", "LIC-PLUS", "--number", "lic-old", exit_code=1
    )
    assert leadflow(database, "products", "update", "LIC-PLUS").exit_code == 2  # nothing to change

    assert "(product_not_draft)" in refused(database, "products", "delete", "LIC-PLUS", exit_code=1)
    ok(
        database,
        "price-lists",
        "add-item",
        "Tarifa EUR",
        "LIC-OLD",
        "--unit",
        "Licencia",
        "--method",
        "currency_amount",
        "--amount",
        "5",
    )
    assert "Deleted product LIC-OLD" in ok(database, "products", "delete", "LIC-OLD")
    # Its price went with it.
    assert len(cli_json(database, "price-lists", "items", "Tarifa EUR")) == 2
    assert [item["number"] for item in cli_json(database, "products", "list")["items"]] == ["LIC-PLUS"]


def test_a_price_list_stops_pricing_a_product_in_one_unit(database: Database, catalogue: Catalogue) -> None:
    removed = ok(database, "price-lists", "remove-item", "tarifa eur", "LIC-STD", "--unit", "Pack 10")
    assert "Removed LIC-STD per Pack 10 from Tarifa EUR" in removed
    [item] = cli_json(database, "price-lists", "items", "Tarifa EUR")
    assert item["unit_id"] == str(catalogue.licence)
    again = refused(database, "price-lists", "remove-item", "Tarifa EUR", "LIC-STD", "--unit", "Pack 10", exit_code=3)
    assert "(price_list_item_not_found)" in again
    # A pack cannot be priced any more: the line is refused, and nothing is written.
    opportunity = str(catalogue.opportunity)
    no_price = refused(
        database,
        "opportunities",
        "add-product",
        opportunity,
        "--product",
        "LIC-STD",
        "--unit",
        "Pack 10",
        "--quantity",
        "1",
        exit_code=2,
    )
    assert "(product_id: product_not_in_price_list)" in no_price
    assert line_count(database) == 0


def test_opportunity_lines_are_changed_and_removed_by_their_line_number(
    database: Database, client: TestClient, catalogue: Catalogue
) -> None:
    opportunity = str(catalogue.opportunity)
    ok(database, "opportunities", "add-product", opportunity, "--product", "LIC-STD", "--quantity", "12")
    ok(
        database,
        "opportunities",
        "add-product",
        opportunity,
        "--write-in",
        "Instalación",
        "--price",
        "250",
        "--quantity",
        "1",
    )
    # 5 licences at 90.00: below the volume tiers, no discount; 450.00 - 10 + 21 = 461.00.
    changed = ok(
        database,
        "opportunities",
        "update-product",
        opportunity,
        "1",
        "--quantity",
        "5",
        "--discount",
        "10",
        "--tax",
        "21",
    )
    assert "Changed line 1: Licencia estándar (LIC-STD), 5 Licencia × €90.00 = €461.00" in changed
    assert "opportunity total €711.00" in changed
    overridden = ok(database, "opportunities", "update-product", opportunity, "1", "--price", "80")
    assert "5 Licencia × €80.00 = €411.00" in overridden
    assert "(price overridden)" in ok(database, "opportunities", "products", opportunity)

    removed = ok(database, "opportunities", "remove-product", opportunity, "1")
    assert "Removed line 1 (Licencia estándar (LIC-STD)); opportunity total €250.00" in removed
    lines = cli_json(database, "opportunities", "products", opportunity)
    assert lines == api_json(client, f"/opportunities/{opportunity}/products")
    assert [(line["line_number"], line["product_name"]) for line in lines] == [(2, "Instalación")]
    missing = refused(database, "opportunities", "update-product", opportunity, "1", "--quantity", "2", exit_code=3)
    assert "(line_not_found)" in missing and "leadflow opportunities products" in missing
    assert "(line_not_found)" in refused(database, "opportunities", "remove-product", opportunity, "9", exit_code=3)
    assert leadflow(database, "opportunities", "update-product", opportunity, "2").exit_code == 2  # nothing to change
    assert line_count(database) == 1


def test_a_quote_made_on_its_own_takes_lines_and_a_draft_one_is_deleted(
    database: Database, client: TestClient, catalogue: Catalogue
) -> None:
    account = str(catalogue.account)
    created = ok(database, "quotes", "create", "Oferta suelta", "--customer", account, "--price-list", "Tarifa EUR")
    assert "Created quote QUO-01000: Draft · In progress, total €0.00" in created
    added = ok(database, "quotes", "add-line", "QUO-01000", "--product", "LIC-STD", "--quantity", "2", "--tax", "37.80")
    assert "Added line 1 to quote QUO-01000: Licencia estándar (LIC-STD), 2 Licencia × €90.00 = €217.80" in added
    ok(database, "quotes", "add-line", "QUO-01000", "--product", "LIC-STD", "--unit", "Pack 10", "--quantity", "1")
    written = ok(
        database, "quotes", "add-line", "QUO-01000", "--write-in", "Instalación", "--price", "250", "--quantity", "1"
    )
    assert "total €534.79" in written  # 217.80 + 66.99 + 250.00
    removed = ok(database, "quotes", "remove-line", "quo-01000", "2")
    assert "Removed line 2 (Licencia estándar (LIC-STD)) from quote QUO-01000; total €467.80" in removed
    shown = cli_json(database, "quotes", "show", "QUO-01000")
    assert shown == api_json(client, f"/quotes/{shown['id']}")
    assert (shown["customer_id"], shown["price_list_id"], shown["opportunity_id"]) == (
        account,
        str(catalogue.price_list),
        None,
    )
    assert [(line["line_number"], D(line["extended_amount"])) for line in shown["lines"]] == [
        (1, D("217.80")),
        (3, D("250.00")),
    ]
    assert "(line_not_found)" in refused(database, "quotes", "remove-line", "QUO-01000", "2", exit_code=3)
    assert "(price_required)" in refused(
        database, "quotes", "add-line", "QUO-01000", "--write-in", "Gratis", "--quantity", "1", exit_code=2
    )

    ok(database, "quotes", "activate", "QUO-01000")
    assert "(document_closed)" in refused(
        database, "quotes", "add-line", "QUO-01000", "--product", "LIC-STD", "--quantity", "1", exit_code=1
    )
    assert "(document_closed)" in refused(database, "quotes", "delete", "QUO-01000", exit_code=1)
    ok(database, "quotes", "create", "Borrador", "--customer", account, "--currency", "eur")
    assert "Deleted quote QUO-01001" in ok(database, "quotes", "delete", "QUO-01001")
    assert [quote["number"] for quote in cli_json(database, "quotes", "list")["items"]] == ["QUO-01000"]
    assert "(customer_id" in refused(database, "quotes", "create", "Sin cliente", "--customer", str(uuid.uuid4()))


def test_an_order_and_its_invoice_take_current_pricing_and_lock_it_again(
    database: Database, client: TestClient, catalogue: Catalogue
) -> None:
    opportunity = str(catalogue.opportunity)
    ok(database, "opportunities", "add-product", opportunity, "--product", "LIC-STD", "--quantity", "2")
    ok(
        database,
        "opportunities",
        "add-product",
        opportunity,
        "--write-in",
        "Instalación",
        "--price",
        "250",
        "--quantity",
        "1",
    )
    ok(database, "quotes", "from-opportunity", opportunity)
    ok(database, "quotes", "activate", "QUO-01000")
    ok(database, "quotes", "win", "QUO-01000")
    assert cli_json(database, "orders", "show", "ORD-01000")["prices_locked"] is True
    # The list price goes up: 90 % of 200.00 is 180.00 a licence from today.
    ok(database, "products", "update", "LIC-STD", "--list-price", "200.00")

    current = ok(database, "orders", "use-current-pricing", "ORD-01000")
    assert "Unlocked the prices of order ORD-01000: Active · New, total €610.00" in current  # 2 × 180.00 + 250.00
    order = cli_json(database, "orders", "show", "ORD-01000")
    assert order == api_json(client, f"/orders/{order['id']}")
    assert order["prices_locked"] is False
    assert [D(line["price_per_unit"]) for line in order["lines"]] == [D("180.00"), D("250.00")]
    locked = ok(database, "orders", "lock-pricing", "ord-01000")
    assert "Locked the prices of order ORD-01000: Active · New, total €610.00" in locked
    assert "prices locked │ yes" in ok(database, "orders", "show", "ORD-01000")

    ok(database, "orders", "invoice", "ORD-01000")
    ok(database, "products", "update", "LIC-STD", "--list-price", "100.00")
    assert "total €430.00" in ok(database, "invoices", "use-current-pricing", "INV-01000")  # 2 × 90.00 + 250.00
    assert "Locked the prices of invoice INV-01000" in ok(database, "invoices", "lock-pricing", "INV-01000")
    invoice = cli_json(database, "invoices", "show", "INV-01000")
    assert (invoice["prices_locked"], D(invoice["total_amount"])) == (True, D("430.00"))

    ok(database, "invoices", "pay", "INV-01000")
    assert "(document_closed)" in refused(database, "invoices", "use-current-pricing", "INV-01000", exit_code=1)
    assert leadflow(database, "quotes", "lock-pricing", "QUO-01000").exit_code == 2  # quotes are revised instead


def test_a_product_goes_into_a_family_and_stays_when_the_family_is_deleted(database: Database) -> None:
    ok(database, "product-families", "create", "Software", "--description", "Licencias y suscripciones")
    assert "Software" in ok(database, "product-families", "list")
    ok(database, "units", "create-group", "Puestos", "--base-unit", "Puesto")
    ok(database, "products", "create", "SW-1", "Suite", "--unit-group", "Puestos", "--family", "software")
    with database.unit_of_work(read_only=True) as uow:
        product = uow.session.scalars(select(Product).where(Product.number == "SW-1")).one()
        family_id = product.family_id
    assert family_id is not None
    ok(database, "product-families", "delete", "Software")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(Product).where(Product.number == "SW-1")).one().family_id is None
    assert "(family_not_found)" in refused(database, "product-families", "delete", "Software")
