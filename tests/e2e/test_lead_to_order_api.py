"""Lead to order over HTTP, on SQLite and PostgreSQL: a lead is qualified into an opportunity whose
products are priced from a price list; its quote is activated, revised, changed and won, which wins
the opportunity and makes the order; the order is fulfilled and invoiced, the invoice paid. Every
total is checked to the cent at every step, and the three documents are read back as PDFs in Spanish
and in English."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from leadflow.core.formatting import format_money
from tests.e2e.catalogue import build_catalogue, created, ok
from tests.e2e.helpers import API, create_lead, get_record, qualify

TOTALS = (
    "detail_amount",
    "total_line_discount",
    "total_discount_amount",
    "pre_freight_amount",
    "freight_amount",
    "total_tax",
    "total_amount",
)
LINE_FIGURES = ("quantity", "price_per_unit", "amount", "volume_discount", "manual_discount", "tax", "extended_amount")


def totals(record: dict[str, Any]) -> dict[str, str]:
    return {name: record[name] for name in TOTALS}


def figures(line: dict[str, Any]) -> dict[str, str]:
    return {name: line[name] for name in LINE_FIGURES}


def pdf_text(client: Any, path: str, language: str) -> tuple[str, str]:
    """The text of a document's PDF in ``language`` (Babel's no-break spaces read back as spaces), and its file name."""
    response = client.get(f"{API}/{path}/pdf", params={"language": language})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return text, disposition.split("filename=", 1)[1].strip('"')


def money_text(amount: str, language: str) -> str:
    return format_money(Decimal(amount), "EUR", language).replace("\xa0", " ")


# The pack line: 3 packs at 850 % of the list price (850.00); 3.5 % volume discount from 3 packs
# (89.25); a manual discount of 60.75; tax typed as 21 % of the rest (504.00).
PACK_LINE = {
    "quantity": "3.00000",
    "price_per_unit": "850.0000",
    "amount": "2550.0000",
    "volume_discount": "89.2500",
    "manual_discount": "60.7500",
    "tax": "504.0000",
    "extended_amount": "2904.0000",
}
# A write-in: 1234.56 with 21 % tax (259.2576 → 259.26).
WRITE_IN_LINE = {
    "quantity": "1.00000",
    "price_per_unit": "1234.5600",
    "amount": "1234.5600",
    "volume_discount": "0.0000",
    "manual_discount": "0.0000",
    "tax": "259.2600",
    "extended_amount": "1493.8200",
}
# Lines before tax 2400.00 + 1234.56 = 3634.56; 5 % off = 181.728 → 181.73; 3452.83 before freight;
# freight 49.90; tax 504.00 + 259.26 = 763.26; total 3452.83 + 49.90 + 763.26 = 4265.99.
OPPORTUNITY_TOTALS = {
    "detail_amount": "3634.5600",
    "total_line_discount": "150.0000",
    "total_discount_amount": "181.7300",
    "pre_freight_amount": "3452.8300",
    "freight_amount": "49.9000",
    "total_tax": "763.2600",
    "total_amount": "4265.9900",
}
# Revision 1: the pack line becomes 5 packs (4250.00; 3.5 % = 148.75; manual 60.75; tax 848.51):
# before tax 4040.50 + 1234.56 = 5275.06; 5 % = 263.753 → 263.75; 5011.31 before freight;
# tax 848.51 + 259.26 = 1107.77; total 5011.31 + 49.90 + 1107.77 = 6168.98.
REVISED_PACK_LINE = {
    "quantity": "5.00000",
    "price_per_unit": "850.0000",
    "amount": "4250.0000",
    "volume_discount": "148.7500",
    "manual_discount": "60.7500",
    "tax": "848.5100",
    "extended_amount": "4889.0100",
}
REVISED_TOTALS = {
    "detail_amount": "5275.0600",
    "total_line_discount": "209.5000",
    "total_discount_amount": "263.7500",
    "pre_freight_amount": "5011.3100",
    "freight_amount": "49.9000",
    "total_tax": "1107.7700",
    "total_amount": "6168.9800",
}


def test_a_lead_becomes_a_paid_invoice_with_every_total_to_the_cent(client):
    catalogue = build_catalogue(client)
    lead = create_lead(client, topic="Licencias para 2027", company_name="Muebles Ruiz S.L.", address_city="Sevilla")
    created_records = qualify(client, lead["id"])["created"]
    opportunity_id = created_records["opportunity_ids"][0]
    path = f"{API}/opportunities/{opportunity_id}"

    # The opportunity is priced from the euro price list, its revenue computed from its products.
    opportunity = get_record(client, "opportunities", opportunity_id)
    priced = client.patch(
        path,
        json={
            "price_list_id": catalogue.price_list,
            "revenue_calculation": "system",
            "discount_percentage": "5",
            "freight_amount": "49.90",
        },
        headers={"If-Match": f'"{opportunity["row_version"]}"'},
    )
    assert priced.status_code == 200, priced.text
    opportunity = get_record(client, "opportunities", opportunity_id)
    assert (opportunity["price_list_id"], opportunity["revenue_calculation"]) == (catalogue.price_list, "system")
    assert totals(opportunity) == {
        **{name: "0.0000" for name in TOTALS},
        "freight_amount": "49.9000",
        "total_amount": "49.9000",
    }

    pack = client.post(
        f"{path}/products",
        json={
            "product_id": catalogue.product,
            "unit_id": catalogue.pack,
            "quantity": "3",
            "manual_discount": "60.75",
            "tax": "504",
        },
        headers={"If-Match": f'"{opportunity["row_version"]}"'},
    )
    assert pack.status_code == 201, pack.text
    pack_line = pack.json()
    assert pack.headers["ETag"] == f'"{pack_line["row_version"]}"'
    assert figures(pack_line) == PACK_LINE
    assert (pack_line["line_number"], pack_line["product_name"], pack_line["unit_name"]) == (
        1,
        "Licencia estándar (LIC-STD)",
        "Pack 10",
    )
    assert (pack_line["is_write_in"], pack_line["is_price_overridden"]) == (False, False)
    write_in = created(
        client.post(
            f"{path}/products",
            json={
                "write_in_name": "Instalación y formación",
                "price_per_unit": "1234.56",
                "quantity": "1",
                "tax": "259.26",
            },
        )
    )
    assert figures(write_in) == WRITE_IN_LINE
    assert (write_in["line_number"], write_in["is_write_in"], write_in["unit_name"]) == (2, True, None)

    opportunity = get_record(client, "opportunities", opportunity_id)
    assert totals(opportunity) == OPPORTUNITY_TOTALS
    assert opportunity["discount_percentage"] == "5.0000"
    assert opportunity["estimated_revenue"] == "4265.9900"
    lines = ok_list(client.get(f"{path}/products"))
    assert [figures(line) for line in lines] == [PACK_LINE, WRITE_IN_LINE]

    # The quote takes the opportunity's products, price list, discount, freight and customer.
    response = client.post(f"{path}/quotes")
    assert response.status_code == 201, response.text
    quote = response.json()
    assert response.headers["Location"] == f"/api/v1/quotes/{quote['id']}"
    assert (quote["number"], quote["revision"], quote["state"], quote["status_reason"]) == (
        "QUO-01000",
        0,
        "draft",
        "in_progress",
    )
    assert (quote["opportunity_id"], quote["customer_id"], quote["customer_kind"]) == (
        opportunity_id,
        created_records["account_id"],
        "account",
    )
    assert (quote["currency"], quote["price_list_id"], quote["billing_address"]) == (
        "EUR",
        catalogue.price_list,
        "Sevilla\nSpain",
    )
    assert [figures(line) for line in quote["lines"]] == [PACK_LINE, WRITE_IN_LINE]
    assert totals(quote) == OPPORTUNITY_TOTALS
    assert ok(client.get(f"{API}/quotes/{quote['id']}")) == quote
    assert [item["id"] for item in ok(client.get(f"{path}/quotes"))["items"]] == [quote["id"]]

    active = ok(client.post(f"{API}/quotes/{quote['id']}/activate", headers={"If-Match": f'"{quote["row_version"]}"'}))
    assert (active["state"], active["status_reason"]) == ("active", "in_progress")
    assert totals(active) == OPPORTUNITY_TOTALS

    # Revising closes the active quote as revised and opens revision 1, a draft with the same number.
    response = client.post(f"{API}/quotes/{quote['id']}/revise")
    assert response.status_code == 201, response.text
    revision = response.json()
    assert (revision["number"], revision["revision"], revision["state"]) == ("QUO-01000", 1, "draft")
    assert totals(revision) == OPPORTUNITY_TOTALS
    old = ok(client.get(f"{API}/quotes/{quote['id']}"))
    assert (old["state"], old["status_reason"]) == ("closed", "revised")

    pack_copy = revision["lines"][0]
    changed = client.patch(
        f"{API}/quotes/{revision['id']}/lines/{pack_copy['id']}",
        json={"quantity": "5", "tax": "848.51"},
        headers={"If-Match": f'"{pack_copy["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert figures(changed.json()) == REVISED_PACK_LINE
    revision = ok(client.get(f"{API}/quotes/{revision['id']}"))
    assert totals(revision) == REVISED_TOTALS
    assert [figures(line) for line in revision["lines"]] == [REVISED_PACK_LINE, WRITE_IN_LINE]
    # The opportunity keeps its own products and totals.
    assert totals(get_record(client, "opportunities", opportunity_id)) == OPPORTUNITY_TOTALS

    ok(client.post(f"{API}/quotes/{revision['id']}/activate"))
    won = client.post(
        f"{API}/quotes/{revision['id']}/win",
        json={"date_won": "2026-12-07", "create_order": True, "close_opportunity": True},
    )

    assert won.status_code == 200, won.text
    body = won.json()
    assert set(body) == {"quote", "order", "opportunity"}
    assert (body["quote"]["state"], body["quote"]["status_reason"], body["quote"]["date_won"]) == (
        "won",
        "won",
        "2026-12-07",
    )
    assert (body["opportunity"]["state"], body["opportunity"]["actual_revenue"]) == ("won", "6168.9800")
    assert body["opportunity"]["actual_close_date"] == "2026-12-07"
    order = body["order"]
    assert (order["number"], order["state"], order["status_reason"], order["prices_locked"]) == (
        "ORD-01000",
        "active",
        "new",
        True,
    )
    assert order["quote_id"] == revision["id"]
    assert totals(order) == REVISED_TOTALS
    assert [figures(line) for line in order["lines"]] == [REVISED_PACK_LINE, WRITE_IN_LINE]
    assert get_record(client, "opportunities", opportunity_id)["actual_revenue"] == "6168.9800"

    submitted = ok(client.post(f"{API}/orders/{order['id']}/submit"))
    assert (submitted["state"], submitted["status_reason"]) == ("submitted", "in_progress")
    fulfilled = ok(client.post(f"{API}/orders/{order['id']}/fulfil", json={"status_reason": "complete"}))
    assert (fulfilled["state"], fulfilled["status_reason"]) == ("fulfilled", "complete")
    assert totals(fulfilled) == REVISED_TOTALS

    response = client.post(f"{API}/orders/{order['id']}/invoice")
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert (invoice["number"], invoice["state"], invoice["order_id"]) == ("INV-01000", "active", order["id"])
    assert totals(invoice) == REVISED_TOTALS
    assert [figures(line) for line in invoice["lines"]] == [REVISED_PACK_LINE, WRITE_IN_LINE]
    paid = ok(client.post(f"{API}/invoices/{invoice['id']}/pay", json={"status_reason": "complete"}))
    assert (paid["state"], paid["status_reason"]) == ("paid", "complete")
    assert totals(paid) == REVISED_TOTALS
    assert paid["total_amount_base"] == "6168.9800"

    # Each document printed, in Spanish and in English, with its totals formatted for the language.
    documents = {
        "quote": (f"quotes/{revision['id']}", "QUO-01000-1.pdf", {"es": "Oferta", "en": "Quote"}),
        "order": (f"orders/{order['id']}", "ORD-01000.pdf", {"es": "Pedido", "en": "Order"}),
        "invoice": (f"invoices/{invoice['id']}", "INV-01000.pdf", {"es": "Factura", "en": "Invoice"}),
    }
    total_labels = {"es": "Importe total", "en": "Total amount"}
    for document_path, filename, titles in documents.values():
        for language in ("es", "en"):
            text, name = pdf_text(client, document_path, language)
            assert name == filename
            assert titles[language] in text, (document_path, language)
            assert total_labels[language] in text, (document_path, language)
            for amount in ("6168.98", "5275.06", "263.75", "49.90", "1107.77", "850.00", "1234.56", "4889.01"):
                assert money_text(amount, language) in text, (document_path, language, amount)
            assert "Instalación y formación" in text and "Pack 10" in text
    assert money_text("6168.98", "es") == "6.168,98 €" and money_text("6168.98", "en") == "€6,168.98"


def test_the_pdf_is_in_the_readers_language_unless_one_is_asked_for(client):
    catalogue = build_catalogue(client)
    account = created(client.post(f"{API}/accounts", json={"name": "Muebles Ruiz"}))
    quote = created(
        client.post(
            f"{API}/quotes",
            json={"name": "Licencias", "customer_id": account["id"], "price_list_id": catalogue.price_list},
        )
    )
    created(client.post(f"{API}/quotes/{quote['id']}/lines", json={"product_id": catalogue.product, "quantity": "12"}))

    spanish = client.get(f"{API}/quotes/{quote['id']}/pdf", headers={"Accept-Language": "es-ES"})
    english = client.get(f"{API}/quotes/{quote['id']}/pdf", headers={"Accept-Language": "en-GB"})
    asked = client.get(f"{API}/quotes/{quote['id']}/pdf", params={"language": "en"}, headers={"Accept-Language": "es"})

    def text(response: Any) -> str:
        assert response.status_code == 200, response.text
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)

    # 12 licences at 90.00 = 1080.00, 5 % volume discount = 54.00: 1026.00.
    assert "Oferta" in text(spanish) and money_text("1026.00", "es") in text(spanish)
    assert "Quote" in text(english) and money_text("1026.00", "en") in text(english)
    assert "Quote" in text(asked)
    assert spanish.headers["Content-Disposition"] == 'attachment; filename="QUO-01000.pdf"'


def ok_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_quote_changed_meanwhile_refuses_a_stale_etag_and_keeps_the_other_change(client) -> None:
    from tests.e2e.catalogue import opportunity_with_price_list
    from tests.e2e.helpers import assert_error

    catalogue = build_catalogue(client)
    opportunity = opportunity_with_price_list(client, catalogue)
    created(
        client.post(
            f"{API}/opportunities/{opportunity['id']}/products", json={"product_id": catalogue.product, "quantity": "2"}
        )
    )
    quote = created(client.post(f"{API}/opportunities/{opportunity['id']}/quotes"))
    etag = f'"{quote["row_version"]}"'
    first = ok(client.patch(f"{API}/quotes/{quote['id']}", json={"name": "Primera"}, headers={"If-Match": etag}))
    assert first["name"] == "Primera"
    assert_error(
        client.patch(f"{API}/quotes/{quote['id']}", json={"name": "Segunda"}, headers={"If-Match": etag}),
        412,
        "stale_etag",
    )
    assert_error(client.post(f"{API}/quotes/{quote['id']}/activate", headers={"If-Match": etag}), 412, "stale_etag")
    after = ok(client.get(f"{API}/quotes/{quote['id']}"))
    assert (after["name"], after["state"], after["row_version"]) == ("Primera", "draft", first["row_version"])
