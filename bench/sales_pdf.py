#!/usr/bin/env python
"""Time to print a quote as a PDF (``leadflow.sales.pdf.render_pdf``), beside a reportlab floor.

Run from the repository root:

    .venv/bin/python bench/sales_pdf.py                 # a 100-line quote, 20 timed runs per case
    .venv/bin/python bench/sales_pdf.py --lines 500 --runs 10

Cases, each on the same document of N lines:

- ``render_pdf es`` and ``render_pdf en``: the whole printed quote (header, customer, terms, the lines
  table with money formatted by Babel, totals, description, "page n of N" footers);
- ``floor``: reportlab alone drawing the same N rows as a bare ``Table(repeatRows=1)`` of plain strings
  (``str()`` of each value, no styles, no formatting) in a ``SimpleDocTemplate``: what any PDF of
  these lines costs at least.

"first" is one render in a fresh Python process, timed after the imports (so it holds Babel's locale
loading and reportlab's font metrics, not the imports); "median", "min" and "max" are over ``--runs``
renders in this process after one untimed warm-up render. The budget of the issue is a 100-line
quote well under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from leadflow.sales.pdf import render_pdf
from leadflow.sales.printed import PrintedDocument, PrintedLine, PrintedTotals

CASES = ("render_pdf es", "render_pdf en", "floor")
BUDGET_MS = 300.0


def quote(lines: int) -> PrintedDocument:
    """A quote of ``lines`` lines, with the texts and amounts a real one has."""
    printed = []
    for number in range(1, lines + 1):
        quantity = Decimal(number % 12 + 1)
        price = Decimal("1234.50") + number
        volume, manual = Decimal("10.00"), Decimal(number % 3)
        tax = ((price * quantity - volume - manual) * Decimal("0.21")).quantize(Decimal("0.01"))
        printed.append(
            PrintedLine(
                number=number,
                product=f"SILLA-{number:04d} Silla ergonómica modelo {number}"
                + (" con reposabrazos regulables en altura" if number % 7 == 0 else ""),
                unit="Unidad" if number % 3 else "Caja de 12 unidades",
                quantity=quantity,
                price_per_unit=price,
                volume_discount=volume,
                manual_discount=manual,
                tax=tax,
                extended_amount=price * quantity - volume - manual + tax,
                description="Entrega en dos semanas; color negro." if number % 10 == 0 else None,
            )
        )
    detail = sum((line.extended_amount - line.tax for line in printed), Decimal(0))
    discount = (detail * Decimal("0.05")).quantize(Decimal("0.01"))
    total_tax = sum((line.tax for line in printed), Decimal(0))
    return PrintedDocument(
        kind="quote",
        number="QUO-01000",
        revision=1,
        name="Sillas para la sede de Bilbao",
        status="Activo · En curso",
        issued_on=date(2025, 3, 1),
        currency="EUR",
        company_name="Muebles Ñandú S.L.",
        company_address="Calle de Alcalá 42\n28014 Madrid\nEspaña",
        customer_name="Construcciones García & Hijos",
        billing_address="Gran Vía 1\n48001 Bilbao",
        shipping_address="Polígono Industrial Sur, nave 7\n48950 Erandio\nBizkaia",
        lines=tuple(printed),
        totals=PrintedTotals(
            detail_amount=detail,
            discount_percentage=Decimal("5"),
            total_discount_amount=discount,
            pre_freight_amount=detail - discount,
            freight_amount=Decimal("250.00"),
            total_tax=total_tax,
            total_amount=detail - discount + Decimal("250.00") + total_tax,
        ),
        effective_from=date(2025, 3, 1),
        effective_to=date(2025, 3, 31),
        payment_terms="30 días netos",
        description="Precios válidos para pedidos confirmados antes del 31 de marzo.\n\n¿Dudas? Llámenos.",
    )


def floor(document: PrintedDocument) -> bytes:
    """The same rows as a bare reportlab table of strings: no styles, no formatting, no footer."""
    rows = [["#", "Product", "Unit", "Quantity", "Price per unit", "Discounts", "Tax", "Extended amount"]]
    for line in document.lines:
        rows.append(
            [
                str(line.number),
                line.product,
                line.unit or "",
                str(line.quantity),
                str(line.price_per_unit),
                str(line.volume_discount + line.manual_discount),
                str(line.tax),
                str(line.extended_amount),
            ]
        )
    output = BytesIO()
    SimpleDocTemplate(output, pagesize=A4, invariant=1).build([Table(rows, repeatRows=1)])
    return output.getvalue()


def renderer(case: str) -> Callable[[PrintedDocument], bytes]:
    if case == "floor":
        return floor
    language = case.rsplit(" ", 1)[1]
    return lambda document: render_pdf(document, language=language)


def timed(render: Callable[[PrintedDocument], bytes], document: PrintedDocument) -> tuple[float, bytes]:
    started = time.perf_counter()
    data = render(document)
    return (time.perf_counter() - started) * 1000, data


def cold(case: str, lines: int) -> float:
    """One render of ``case`` in a fresh process, after its imports: the first render a server makes."""
    answer = subprocess.run(
        [sys.executable, __file__, "--cold", case, "--lines", str(lines)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(answer.stdout.strip().splitlines()[-1])["ms"])


def pages_in(data: bytes) -> int:
    return len(PdfReader(BytesIO(data)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100, help="lines of the quote (default 100)")
    parser.add_argument("--runs", type=int, default=20, help="timed renders per case (default 20)")
    parser.add_argument("--cold", choices=CASES, help=argparse.SUPPRESS)  # the child process of `cold`
    options = parser.parse_args()
    document = quote(options.lines)

    if options.cold:
        ms, _ = timed(renderer(options.cold), document)
        print(json.dumps({"ms": ms}))
        return

    rows = []
    for case in CASES:
        first = cold(case, options.lines)
        render = renderer(case)
        _, data = timed(render, document)  # warm-up
        times = [timed(render, document)[0] for _ in range(options.runs)]
        rows.append((case, first, statistics.median(times), min(times), max(times), pages_in(data), len(data)))

    print(f"{options.lines}-line quote, {options.runs} runs per case, Python {sys.version.split()[0]}")
    print(f"{'case':15} {'first ms':>9} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'pages':>6} {'KiB':>6}")
    for case, first, median, fastest, slowest, pages, size in rows:
        print(f"{case:15} {first:9.1f} {median:10.1f} {fastest:8.1f} {slowest:8.1f} {pages:6d} {size / 1024:6.1f}")
    floor_median = rows[-1][2]
    for case, first, median, *_ in rows[:-1]:
        verdict = "within" if max(first, median) < BUDGET_MS else "OVER"
        print(f"{case}: {median / floor_median:.1f}x the floor; {verdict} the {BUDGET_MS:.0f} ms budget")


if __name__ == "__main__":
    main()
