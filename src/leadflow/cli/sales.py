"""`leadflow opportunities products|add-product|update-product|remove-product|pricing`,
`leadflow quotes|orders|invoices ...`: lead to order.

A document is named by its number (QUO-01000; for a quote with several revisions, the latest) or
its id; a line by its line number, as `products` and `show` print it. Each command runs one sales
use case, where the privileges and the state rules are checked; amounts are written in the acting
user's language, ``--json`` prints the REST API's models.

The commands live in ``sales_opportunity``, ``sales_quotes``, ``sales_orders`` (orders and invoices)
and ``sales_edits`` (editing any document), sharing ``sales_common``; this one adds them to the app.
"""

from __future__ import annotations

import typer

from leadflow.cli.sales_opportunity import add_opportunity_product_commands
from leadflow.cli.sales_orders import invoice_commands, order_commands
from leadflow.cli.sales_quotes import quote_commands


def register(app: typer.Typer) -> None:
    """Add the product commands to the opportunities' group, and the documents' groups to the root command."""
    opportunities = next((info.typer_instance for info in app.registered_groups if info.name == "opportunities"), None)
    if opportunities is None:
        raise RuntimeError("Register the opportunities' commands (cli.records) before the sales commands.")
    add_opportunity_product_commands(opportunities)
    app.add_typer(quote_commands(), name="quotes")
    app.add_typer(order_commands(), name="orders")
    app.add_typer(invoice_commands(), name="invoices")
