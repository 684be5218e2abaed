"""A quote, order or invoice printed as a PDF, in Spanish and English (leadflow.sales.pdf).

The documents are built here, without a database; the PDF is read back with pypdf. Helvetica's
encoding draws Babel's no-break space as a space, so the text read back has a plain space where
``format_money`` writes U+00A0.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from leadflow.core.formatting import format_day, format_money
from leadflow.sales.pdf import LABELS, printable, render_pdf
from leadflow.sales.printed import DocumentKind, PrintedDocument, PrintedLine, PrintedTotals

NUMBERS = {"quote": "QUO-01000", "order": "ORD-01000", "invoice": "INV-01000"}
TITLES = {
    "es": {"quote": "Oferta", "order": "Pedido", "invoice": "Factura"},
    "en": {"quote": "Quote", "order": "Order", "invoice": "Invoice"},
}
HOSTILE = "Sillas 👍🏽 <b>negrita</b> &amp; <script>alert(1)</script> 漢字 שלום مرحبا\u200f tab\there \x07\x1b fin"


def a_line(number: int, **changes: object) -> PrintedLine:
    line = PrintedLine(
        number=number,
        product=f"SILLA-{number:04d} Silla ergonómica",
        unit="Unidad",
        quantity=Decimal(number % 9 + 1),
        price_per_unit=Decimal("1234.50"),
        volume_discount=Decimal("10.00"),
        manual_discount=Decimal("5.25"),
        tax=Decimal("259.25"),
        extended_amount=Decimal("1478.50"),
        description="Color negro" if number % 5 == 0 else None,
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def a_document(kind: DocumentKind = "quote", *, line_count: int = 3, **changes: object) -> PrintedDocument:
    document = PrintedDocument(
        kind=kind,
        number=NUMBERS[kind],
        revision=1 if kind == "quote" else None,
        name="Sillas para la sede de Bilbao",
        status="Activo · En curso",
        issued_on=date(2025, 3, 1),
        currency="EUR",
        company_name="Muebles Ñandú S.L.",
        company_address="Calle de Alcalá 42\n28014 Madrid",
        customer_name="Construcciones García & Hijos",
        billing_address="Gran Vía 1\n48001 Bilbao",
        shipping_address="Polígono Sur, nave 7\n48950 Erandio",
        lines=tuple(a_line(number) for number in range(1, line_count + 1)),
        totals=PrintedTotals(
            detail_amount=Decimal("147850.00"),
            discount_percentage=Decimal("5"),
            total_discount_amount=Decimal("7392.50"),
            pre_freight_amount=Decimal("140457.50"),
            freight_amount=Decimal("250.00"),
            total_tax=Decimal("29548.08"),
            total_amount=Decimal("170255.58"),
        ),
        effective_from=date(2025, 3, 1) if kind == "quote" else None,
        effective_to=date(2025, 3, 31) if kind == "quote" else None,
        due_date=date(2025, 4, 30) if kind == "invoice" else None,
        payment_terms="30 días netos" if kind != "quote" else None,
        description="Precios válidos hasta fin de mes.\n\n¿Dudas? Llámenos.",
        reference="QUO-00999" if kind != "quote" else None,
    )
    return replace(document, **changes)  # type: ignore[arg-type]


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return "\n".join(pages_of(data))


def money(amount: str, language: str, currency: str = "EUR") -> str:
    """An amount as the PDF reads back: format_money's text, its no-break space a space."""
    return format_money(Decimal(amount), currency, language).replace("\xa0", " ")


@pytest.mark.parametrize("kind", ["quote", "order", "invoice"])
@pytest.mark.parametrize("language", ["es", "en"])
def test_each_kind_prints_its_title_number_customer_and_every_total_in_the_readers_language(
    kind: DocumentKind, language: str
) -> None:
    document = a_document(kind)
    text = text_of(render_pdf(document, language=language))

    assert TITLES[language][kind] in text
    assert document.number in text
    assert "Construcciones García & Hijos" in text
    for amount in ("147850.00", "7392.50", "140457.50", "250.00", "29548.08", "170255.58"):
        assert money(amount, language) in text
    assert money("1234.50", language) in text  # a line's price per unit
    assert money("15.25", language) in text  # its volume and manual discounts together
    assert format_day(date(2025, 3, 1), language) in text


def test_a_spanish_quote_reads_in_spanish() -> None:
    text = text_of(render_pdf(a_document("quote"), language="es"))

    for label in ("Oferta", "QUO-01000 · Revisión 1", "Importe total", "Importe total del detalle", "Impuesto total"):
        assert label in text
    for label in ("Cliente", "Dirección de facturación", "Dirección de envío", "Vigente desde", "Vigente hasta"):
        assert label in text
    assert "Descuento (5 %)" in text
    assert "170.255,58 €" in text
    assert "Total amount" not in text


def test_an_english_quote_reads_in_english() -> None:
    text = text_of(render_pdf(a_document("quote"), language="en"))

    for label in (
        "Quote",
        "QUO-01000 · Revision 1",
        "Total amount",
        "Total detail amount",
        "Total tax",
        "Effective to",
    ):
        assert label in text
    assert "Discount (5%)" in text
    assert "€170,255.58" in text
    assert "Importe total" not in text


def test_an_invoice_shows_its_due_date_payment_terms_and_the_order_it_came_from() -> None:
    text = text_of(render_pdf(a_document("invoice"), language="es"))

    assert "Fecha de vencimiento" in text and format_day(date(2025, 4, 30), "es") in text
    assert "Condiciones de pago" in text and "30 días netos" in text
    assert "Pedido de origen" in text and "QUO-00999" in text
    assert "Revisión" not in text  # only quotes have revisions
    assert "Vigente desde" not in text


def test_a_language_leadflow_does_not_speak_falls_back_to_english() -> None:
    assert render_pdf(a_document(), language="fr") == render_pdf(a_document(), language="en")


def test_the_labels_of_both_languages_name_the_same_things() -> None:
    assert LABELS["es"].keys() == LABELS["en"].keys()


def test_the_pdf_title_is_the_document_title_and_number() -> None:
    metadata = PdfReader(io.BytesIO(render_pdf(a_document("order"), language="es"))).metadata
    assert metadata is not None
    assert metadata.title == "Pedido ORD-01000"


def test_a_long_document_runs_over_pages_each_with_the_header_row_and_its_page_number() -> None:
    document = a_document(line_count=120)
    pages = pages_of(render_pdf(document, language="es"))

    assert len(pages) > 1
    for page in pages:
        for header in ("Producto", "Unidad", "Cantidad", "Descuentos", "Impuesto"):
            assert header in page
    assert "Página 1 de" in pages[0]
    assert f"Página {len(pages)} de {len(pages)}" in pages[-1]
    assert "SILLA-0120" in pages[-1] and "Importe total" in pages[-1]

    english = pages_of(render_pdf(document, language="en"))
    assert f"Page 1 of {len(english)}" in english[0]
    assert all("Product" in page and "Quantity" in page for page in english)


def test_hostile_text_prints_as_typed_and_what_helvetica_cannot_draw_as_a_question_mark() -> None:
    document = a_document(
        name=HOSTILE,
        customer_name=HOSTILE,
        company_name=HOSTILE,
        company_address=HOSTILE,
        billing_address=f"{HOSTILE}\n{HOSTILE}",
        status=HOSTILE,
        number="QUO-<1>&",
        payment_terms=HOSTILE,
        description=HOSTILE,
        extra={"<i>": HOSTILE},
        lines=(a_line(1, product=HOSTILE, unit=HOSTILE, description=HOSTILE),),
    )
    for language in ("es", "en"):
        text = text_of(render_pdf(document, language=language))

        assert "<b>negrita</b> &amp; <script>alert(1)</script>" in text
        assert "QUO-<1>&" in text
        assert "Sillas ??" in text  # the emoji and its skin tone
        assert "?? ????" in text  # the CJK and the Hebrew
        assert "\u200f" not in text  # a direction mark is not printed at all


def test_printable_keeps_what_helvetica_draws_and_replaces_the_rest() -> None:
    assert printable("¿Año? 1.234,50\xa0€ — «ñ» “ok” ™") == "¿Año? 1.234,50\xa0€ — «ñ» “ok” ™"
    assert printable("a😀b") == "a?b"
    assert printable("línea 1\nlínea 2\tfin") == "línea 1 línea 2 fin"
    assert printable("\x07\x1b") == "??"
    assert printable("e\u0301") == "é"  # a decomposed accent is composed first
    assert printable("a\u200db\ufe0f\u202ec") == "abc"


def test_a_currency_symbol_helvetica_cannot_draw_is_written_as_its_code() -> None:
    text = text_of(render_pdf(a_document(currency="INR"), language="en"))
    assert "INR 170,255.58" in text
    assert "₹" not in text and "?170" not in text


def test_a_document_with_no_lines_and_no_addresses_still_prints() -> None:
    document = a_document(
        line_count=0, company_address=None, billing_address=None, shipping_address=None, description=None, status=""
    )
    text = text_of(render_pdf(document, language="es"))
    assert "Sin líneas." in text
    assert money("170255.58", "es") in text


def test_no_discount_percentage_is_printed_when_there_is_none() -> None:
    totals = replace(a_document().totals, discount_percentage=Decimal("0"))
    text = text_of(render_pdf(a_document(totals=totals), language="es"))
    assert "Descuento\n" in text
    assert "Descuento (" not in text


def test_a_very_long_address_and_line_description_run_over_pages_instead_of_failing() -> None:
    document = a_document(
        billing_address="Calle larga\n" * 120, lines=(a_line(1, description="una palabra más " * 400),)
    )
    assert len(pages_of(render_pdf(document, language="es"))) > 1


def test_the_footer_names_the_document_and_cuts_a_company_name_too_long_to_fit() -> None:
    document = a_document(company_name="Muebles y Sillas de Oficina del Norte " * 8)
    lines = pages_of(render_pdf(document, language="es"))[0].rstrip().splitlines()

    assert lines[-1] == "Página 1 de 1"
    assert lines[-2].startswith("Oferta QUO-01000 · Muebles y Sillas")
    assert lines[-2].endswith("…")


def test_the_same_document_gives_the_same_bytes() -> None:
    document = a_document(line_count=40)
    assert render_pdf(document, language="es") == render_pdf(document, language="es")
    assert render_pdf(document, language="es") != render_pdf(document, language="en")
