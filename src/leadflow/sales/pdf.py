"""A quote, order or invoice printed as a PDF (reportlab), in Spanish or English.

``render_pdf`` draws a ``PrintedDocument`` on A4 pages: the company at the top, the document's
title, number, status and date, the customer with the billing and shipping addresses, the dates and
terms that apply, the lines (a table whose header row repeats on every page), the totals and the
description, with "Página 1 de 2" in the footer. Money, numbers and dates are written by
``leadflow.core.formatting`` as everywhere else; the labels are the data in ``LABELS``.

The text is drawn in reportlab's built-in Helvetica, which has no font file to ship and covers the
Windows-1252 characters (€, ñ, á, ¿, «»); any other character of user text (emoji, CJK, Arabic…)
is printed as "?" instead of failing, and invisible format characters (direction marks, joiners)
are dropped. User text is escaped before it reaches reportlab's paragraph markup.

The same document gives the same bytes (``invariant``): no creation date, no random file id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from functools import partial
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from babel.numbers import format_percent as _babel_percent
from babel.numbers import get_currency_symbol
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, LayoutError, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from leadflow.core.formatting import format_day, format_money, format_number, locale_of
from leadflow.sales.printed import PrintedDocument, PrintedLine

# ------------------------------------------------------------------------------------------------ labels

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "quote": "Oferta",
        "order": "Pedido",
        "invoice": "Factura",
        "revision": "Revisión",
        "status": "Estado",
        "date": "Fecha",
        "customer": "Cliente",
        "billing_address": "Dirección de facturación",
        "shipping_address": "Dirección de envío",
        "effective_from": "Vigente desde",
        "effective_to": "Vigente hasta",
        "due_date": "Fecha de vencimiento",
        "payment_terms": "Condiciones de pago",
        "reference.quote": "Referencia",
        "reference.order": "Oferta de origen",
        "reference.invoice": "Pedido de origen",
        "line_number": "#",
        "product": "Producto",
        "unit": "Unidad",
        "quantity": "Cantidad",
        "price_per_unit": "Precio por unidad",
        "discounts": "Descuentos",
        "tax": "Impuesto",
        "extended_amount": "Importe extendido",
        "no_lines": "Sin líneas.",
        "detail_amount": "Importe total del detalle",
        "discount": "Descuento",
        "pre_freight_amount": "Importe previo al flete",
        "freight_amount": "Importe del flete",
        "total_tax": "Impuesto total",
        "total_amount": "Importe total",
        "description": "Descripción",
        "page": "Página {page} de {pages}",
    },
    "en": {
        "quote": "Quote",
        "order": "Order",
        "invoice": "Invoice",
        "revision": "Revision",
        "status": "Status",
        "date": "Date",
        "customer": "Customer",
        "billing_address": "Billing address",
        "shipping_address": "Shipping address",
        "effective_from": "Effective from",
        "effective_to": "Effective to",
        "due_date": "Due date",
        "payment_terms": "Payment terms",
        "reference.quote": "Reference",
        "reference.order": "From quote",
        "reference.invoice": "From order",
        "line_number": "#",
        "product": "Product",
        "unit": "Unit",
        "quantity": "Quantity",
        "price_per_unit": "Price per unit",
        "discounts": "Discounts",
        "tax": "Tax",
        "extended_amount": "Extended amount",
        "no_lines": "No lines.",
        "detail_amount": "Total detail amount",
        "discount": "Discount",
        "pre_freight_amount": "Total pre-freight amount",
        "freight_amount": "Freight amount",
        "total_tax": "Total tax",
        "total_amount": "Total amount",
        "description": "Description",
        "page": "Page {page} of {pages}",
    },
}
DEFAULT_LANGUAGE = "en"

# ------------------------------------------------------------------------------------------------ page and type

PAGE_SIZE = A4
MARGIN = 15 * mm
FOOTER_SPACE = 8 * mm  # between the last line of the frame and the footer's baseline zone
FRAME_PADDING = 6.0  # SimpleDocTemplate's frame keeps this much inside its edges
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN  # the width the content has, from margin to margin

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
HEADER_FILL = colors.HexColor("#334e68")
STRIPE = colors.HexColor("#f5f7fa")

BODY_SIZE = 8.0
HEADER_SIZE = 7.5
CELL_PADDING = 3.0
GRID_COLUMNS = 3  # of the customer, the addresses, and the dates and terms below them
COLUMN_GAP = 6.0  # room between two right-aligned amounts, beyond the cells' padding

_STYLES = {
    "company": ParagraphStyle("company", fontName=BOLD, fontSize=13, leading=16, textColor=INK),
    "small": ParagraphStyle("small", fontName=REGULAR, fontSize=8.5, leading=11, textColor=MUTED),
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=20, leading=24, textColor=HEADER_FILL, alignment=TA_RIGHT),
    "title_line": ParagraphStyle(
        "title_line", fontName=REGULAR, fontSize=9, leading=12, textColor=INK, alignment=TA_RIGHT
    ),
    "name": ParagraphStyle("name", fontName=BOLD, fontSize=11, leading=14, textColor=INK),
    "label": ParagraphStyle("label", fontName=BOLD, fontSize=7.5, leading=10, textColor=MUTED),
    "value": ParagraphStyle("value", fontName=REGULAR, fontSize=9, leading=11.5, textColor=INK),
    "cell": ParagraphStyle("cell", fontName=REGULAR, fontSize=BODY_SIZE, leading=10, textColor=INK),
    "header": ParagraphStyle("header", fontName=BOLD, fontSize=HEADER_SIZE, leading=9, textColor=colors.white),
    "header_right": ParagraphStyle(
        "header_right", fontName=BOLD, fontSize=HEADER_SIZE, leading=9, textColor=colors.white, alignment=TA_RIGHT
    ),
    "heading": ParagraphStyle(
        "heading", fontName=BOLD, fontSize=9.5, leading=12, textColor=INK, spaceAfter=2, keepWithNext=1
    ),
    "text": ParagraphStyle("text", fontName=REGULAR, fontSize=9, leading=12, textColor=INK, spaceAfter=5),
}

# ------------------------------------------------------------------------------------------------ user text


def _winansi_characters() -> frozenset[str]:
    """The characters Helvetica's encoding (WinAnsi, as reportlab encodes it) can print."""
    encoding = getFont(REGULAR).encName
    printable = set()
    for code in range(0x20, 0x2200):  # the highest WinAnsi character is ™ (U+2122)
        try:
            chr(code).encode(encoding)
        except UnicodeEncodeError:
            continue
        printable.add(chr(code))
    return frozenset(printable)


_PRINTABLE = _winansi_characters()
_NO_BREAK_SPACES = frozenset("\u2007\u202f")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


class _Printable(dict[int, str]):
    """A ``str.translate`` table that learns as it goes: each character as Helvetica can print it."""

    def __missing__(self, code: int) -> str:
        character = chr(code)
        category = unicodedata.category(character)
        if character in _PRINTABLE:
            printed = character
        elif character == "\t":
            printed = " "
        elif category == "Zs":
            printed = "\xa0" if character in _NO_BREAK_SPACES else " "
        elif category in ("Cf", "Mn", "Me"):  # direction marks, joiners, variation selectors, stray accents
            printed = ""
        else:
            printed = "?"
        self[code] = printed
        return printed


_TO_PRINTABLE = _Printable()


def printable(text: str) -> str:
    """One line of user text as Helvetica prints it: line breaks become spaces, what the font cannot
    draw becomes "?", invisible format characters go."""
    if text.isascii() and text.isprintable():
        return text
    return " ".join(unicodedata.normalize("NFC", text).splitlines()).translate(_TO_PRINTABLE)


def _markup(text: str | None, *, bold: bool = False) -> str:
    """User text as paragraph markup: escaped, unprintable characters replaced, its lines kept."""
    if not text:
        return ""
    lines = [escape(printable(line)) for line in unicodedata.normalize("NFC", text).splitlines()]
    body = "<br/>".join(lines)
    return f"<b>{body}</b>" if bold else body


# ------------------------------------------------------------------------------------------------ numbers


def _money(amount: Decimal, currency: str, language: str) -> str:
    """``format_money``, with the ISO code in place of a symbol Helvetica cannot draw (₹, ₽, ₺)."""
    written = format_money(amount, currency, language)
    if all(character in _PRINTABLE for character in written):
        return written
    symbol = get_currency_symbol(currency, locale=locale_of(language))
    code = printable(currency.upper())
    if symbol and symbol in written:
        before, _, after = written.partition(symbol)
        if before.strip("-\u2212") == "":  # the symbol leads: "₹1,234.50" → "INR 1,234.50"
            written = f"{before}{code}\xa0{after.lstrip()}"
        else:
            written = f"{before}{code}{after}"
    return printable(written)


def _percent(points: Decimal, language: str) -> str:
    """A discount percentage given in points (5 = 5 %), with the decimals it has."""
    return _babel_percent(points / 100, locale=locale_of(language), decimal_quantization=False)


# ------------------------------------------------------------------------------------------------ the parts


def _header(document: PrintedDocument, labels: dict[str, str], language: str, split: int) -> Table:
    company = [Paragraph(_markup(document.company_name), _STYLES["company"])]
    if document.company_address:
        company.append(Paragraph(_markup(document.company_address), _STYLES["small"]))
    number = escape(printable(document.number))
    if document.kind == "quote" and document.revision is not None:
        number = f"{number} · {labels['revision']} {document.revision}"
    heading = [
        Paragraph(escape(labels[document.kind]), _STYLES["title"]),
        Paragraph(f"<b>{number}</b>", _STYLES["title_line"]),
    ]
    if document.status:
        heading.append(Paragraph(f"{labels['status']}: {_markup(document.status)}", _STYLES["title_line"]))
    heading.append(
        Paragraph(f"{labels['date']}: {escape(format_day(document.issued_on, language))}", _STYLES["title_line"])
    )
    table = Table([[company, heading]], colWidths=[FRAME_WIDTH * 0.58, FRAME_WIDTH * 0.42], splitInRow=split)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LINEBELOW", (0, 0), (-1, 0), 1, HEADER_FILL),
            ]
        )
    )
    return table


def _labelled(label: str, value_markup: str) -> list[Paragraph]:
    return [Paragraph(escape(label), _STYLES["label"]), Paragraph(value_markup or "—", _STYLES["value"])]


def _parties(document: PrintedDocument, labels: dict[str, str], language: str, split: int) -> Table:
    """The customer and the addresses, and under them the dates and terms that apply."""
    cells = [
        _labelled(labels["customer"], _markup(document.customer_name, bold=True)),
        _labelled(labels["billing_address"], _markup(document.billing_address)),
        _labelled(labels["shipping_address"], _markup(document.shipping_address)),
    ]
    return _grid([cells, *_terms(document, labels, language)], split)


def _grid(rows: list[list[Any]], split: int) -> Table:
    """Label-and-value cells in three columns, flush with the margins."""
    table = Table(rows, colWidths=[FRAME_WIDTH / GRID_COLUMNS] * GRID_COLUMNS, splitInRow=split)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def _terms(document: PrintedDocument, labels: dict[str, str], language: str) -> list[list[Any]]:
    """The dates and terms that apply, as rows of the grid."""
    pairs: list[tuple[str, str]] = []
    if document.effective_from is not None:
        pairs.append((labels["effective_from"], escape(format_day(document.effective_from, language))))
    if document.effective_to is not None:
        pairs.append((labels["effective_to"], escape(format_day(document.effective_to, language))))
    if document.due_date is not None:
        pairs.append((labels["due_date"], escape(format_day(document.due_date, language))))
    if document.payment_terms:
        pairs.append((labels["payment_terms"], _markup(document.payment_terms)))
    if document.reference:
        pairs.append((labels[f"reference.{document.kind}"], _markup(document.reference)))
    for key, value in document.extra.items():
        if value:
            pairs.append((printable(key), _markup(value)))
    rows = [
        [_labelled(label, value) for label, value in pairs[start : start + GRID_COLUMNS]]
        for start in range(0, len(pairs), GRID_COLUMNS)
    ]
    for row in rows:
        row.extend([[]] * (GRID_COLUMNS - len(row)))
    return rows


def _width(texts: Iterable[str], header: str) -> float:
    """A column as wide as its widest cell, or its header's longest word (the header may wrap)."""
    widest = max((stringWidth(text, REGULAR, BODY_SIZE) for text in texts), default=0.0)
    word = max((stringWidth(part, BOLD, HEADER_SIZE) for part in header.split()), default=0.0)
    return max(widest, word) + 2 * CELL_PADDING + COLUMN_GAP


def _product_cell(line: PrintedLine, width: float) -> Paragraph | str:
    name = printable(line.product)
    if not line.description and stringWidth(name, REGULAR, BODY_SIZE) <= width - 2 * CELL_PADDING:
        return name  # a name that fits needs no paragraph: the table draws it as it is
    text = escape(name)
    if line.description:
        text += f'<br/><font size="7" color="#616e7c">{_markup(line.description)}</font>'
    return Paragraph(text, _STYLES["cell"])


def _lines(document: PrintedDocument, labels: dict[str, str], language: str, split: int) -> Table:
    currency = document.currency
    headers = [
        labels[key]
        for key in (
            "line_number",
            "product",
            "unit",
            "quantity",
            "price_per_unit",
            "discounts",
            "tax",
            "extended_amount",
        )
    ]
    numbers = [str(line.number) for line in document.lines]
    units = [printable(line.unit or "") for line in document.lines]
    quantities = [format_number(line.quantity, language) for line in document.lines]
    prices = [_money(line.price_per_unit, currency, language) for line in document.lines]
    discounts = [_money(line.volume_discount + line.manual_discount, currency, language) for line in document.lines]
    taxes = [_money(line.tax, currency, language) for line in document.lines]
    extended = [_money(line.extended_amount, currency, language) for line in document.lines]

    unit_limit = 22 * mm  # a longer unit name wraps
    widths = [
        _width(numbers, headers[0]) - COLUMN_GAP,
        0.0,
        min(_width(units, headers[2]), unit_limit),
        _width(quantities, headers[3]),
        _width(prices, headers[4]),
        _width(discounts, headers[5]),
        _width(taxes, headers[6]),
        _width(extended, headers[7]),
    ]
    widths[1] = max(FRAME_WIDTH - sum(widths), 30 * mm)

    header_row: list[Any] = [
        Paragraph(escape(text), _STYLES["header_right" if column >= 3 else "header"])
        for column, text in enumerate(headers)
    ]
    rows: list[list[Any]] = [header_row]
    for index, line in enumerate(document.lines):
        unit: Paragraph | str = units[index]
        if stringWidth(unit, REGULAR, BODY_SIZE) > unit_limit - 2 * CELL_PADDING:
            unit = Paragraph(escape(unit), _STYLES["cell"])
        rows.append(
            [
                numbers[index],
                _product_cell(line, widths[1]),
                unit,
                quantities[index],
                prices[index],
                discounts[index],
                taxes[index],
                extended[index],
            ]
        )
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, BODY_SIZE, 10),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.75, HEADER_FILL),
    ]
    if document.lines:
        style.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]))
    else:
        rows.append([Paragraph(escape(labels["no_lines"]), _STYLES["cell"])] + [""] * (len(headers) - 1))
        style.append(("SPAN", (0, 1), (-1, 1)))
    table = Table(rows, colWidths=widths, repeatRows=1, splitInRow=split, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _totals(document: PrintedDocument, labels: dict[str, str], language: str) -> Table:
    totals, currency = document.totals, document.currency
    discount = labels["discount"]
    if totals.discount_percentage:
        discount = f"{discount} ({_percent(totals.discount_percentage, language)})"
    rows = [
        (labels["detail_amount"], _money(totals.detail_amount, currency, language)),
        (discount, _money(totals.total_discount_amount, currency, language)),
        (labels["pre_freight_amount"], _money(totals.pre_freight_amount, currency, language)),
        (labels["freight_amount"], _money(totals.freight_amount, currency, language)),
        (labels["total_tax"], _money(totals.total_tax, currency, language)),
        (labels["total_amount"], _money(totals.total_amount, currency, language)),
    ]
    label_width = max(stringWidth(label, BOLD, 9) for label, _ in rows) + 2 * CELL_PADDING + 12
    value_width = max(stringWidth(value, BOLD, 9.5) for _, value in rows) + 2 * CELL_PADDING + 2
    table = Table([list(row) for row in rows], colWidths=[label_width, value_width], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 9, 11),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                ("TEXTCOLOR", (1, 0), (1, -1), INK),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("FONT", (0, -1), (-1, -1), BOLD, 9.5, 12),
                ("TEXTCOLOR", (0, -1), (-1, -1), INK),
                ("LINEABOVE", (0, -1), (-1, -1), 0.75, HEADER_FILL),
                ("TOPPADDING", (0, -1), (-1, -1), 4),
            ]
        )
    )
    return table


def _description(document: PrintedDocument, labels: dict[str, str]) -> list[Any]:
    """The description under a heading, a paragraph for each block between blank lines."""
    if not document.description or not document.description.strip():
        return []
    flowables: list[Any] = [Spacer(1, 5 * mm), Paragraph(escape(labels["description"]), _STYLES["heading"])]
    text = "\n".join(document.description.splitlines())
    for block in _BLANK_LINE.split(text):
        if block.strip():
            flowables.append(Paragraph(_markup(block), _STYLES["text"]))
    return flowables


# ------------------------------------------------------------------------------------------------ the footer


FOOTER_SIZE = 7.5


def _shortened(text: str, room: float, size: float) -> str:
    """``text`` cut with "…" to fit in ``room`` points."""
    if stringWidth(text, REGULAR, size) <= room:
        return text
    text = text[: int(room / (size * 0.19))]  # no Helvetica character is narrower than 0.19 em
    while text and stringWidth(text + "…", REGULAR, size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


class _FooterCanvas(Canvas):
    """A canvas that holds its pages until the end, to write "page n of N" in every footer."""

    def __init__(self, *args: Any, footer: str, page_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._page_label = page_label
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:  # the recipe of reportlab's users: keep the page's state, start another
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        pages = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._draw_footer(pages)
            super().showPage()
        super().save()

    def _draw_footer(self, pages: int) -> None:
        width = self._pagesize[0]
        baseline = MARGIN - FOOTER_SPACE / 2
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN, baseline + 9, width - MARGIN, baseline + 9)
        self.setFont(REGULAR, FOOTER_SIZE)
        self.setFillColor(MUTED)
        page = self._page_label.format(page=self._pageNumber, pages=pages)
        room = width - 2 * MARGIN - stringWidth(page, REGULAR, FOOTER_SIZE) - 6 * mm
        self.drawString(MARGIN, baseline, _shortened(self._footer, room, FOOTER_SIZE))
        self.drawRightString(width - MARGIN, baseline, page)
        self.restoreState()


# ------------------------------------------------------------------------------------------------ the document


def render_pdf(document: PrintedDocument, *, language: str) -> bytes:
    """The document as a PDF, with its labels in ``language`` ("es" or "en"; anything else: English)."""
    language = language if language in LABELS else DEFAULT_LANGUAGE
    try:
        return _build(document, LABELS[language], language, split=0)
    except LayoutError:
        # A cell taller than a page (a very long address or line description): drawn again, with
        # rows allowed to run over to the next page. Ordinary rows are kept whole.
        return _build(document, LABELS[language], language, split=1)


def _build(document: PrintedDocument, labels: dict[str, str], language: str, *, split: int) -> bytes:
    """The PDF; ``split`` is the tables' ``splitInRow`` (0: a row never breaks across pages)."""
    title = f"{labels[document.kind]} {printable(document.number)}"
    story: list[Any] = [_header(document, labels, language, split), Spacer(1, 5 * mm)]
    if document.name:
        story += [Paragraph(_markup(document.name), _STYLES["name"]), Spacer(1, 3 * mm)]
    story += [_parties(document, labels, language, split), Spacer(1, 4 * mm)]
    story += [_lines(document, labels, language, split), Spacer(1, 4 * mm)]
    story.append(KeepTogether([_totals(document, labels, language)]))
    story += _description(document, labels)

    output = BytesIO()
    template = SimpleDocTemplate(
        output,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN - FRAME_PADDING,
        rightMargin=MARGIN - FRAME_PADDING,
        topMargin=MARGIN - FRAME_PADDING,
        bottomMargin=MARGIN + FOOTER_SPACE - FRAME_PADDING,
        title=title,
        author=printable(document.company_name),
        subject=printable(document.name),
        creator="leadflow",
        lang=locale_of(language).replace("_", "-"),
        invariant=1,
    )
    footer = " · ".join(part for part in (title, printable(document.company_name)) if part)
    template.build(story, canvasmaker=partial(_FooterCanvas, footer=footer, page_label=labels["page"]))
    return output.getvalue()
