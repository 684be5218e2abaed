"""`leadflow units|products|price-lists|discount-lists ...`: the product catalogue.

Records are named the way people name them: a unit group, a price list or a discount list by its
name, a product by its number (an id works everywhere too). Each command runs one catalogue use case;
the privileges ("products" for the catalogue) are checked there. Each group of commands has its
module (``catalog_units``, ``catalog_products``, ``catalog_prices``, ``catalog_discounts``), sharing
``catalog_common``; this one adds them to the root command.
"""

from __future__ import annotations

import typer

from leadflow.cli.catalog_discounts import discount_list_commands
from leadflow.cli.catalog_prices import price_list_commands
from leadflow.cli.catalog_products import family_commands, product_commands
from leadflow.cli.catalog_units import unit_commands


def register(app: typer.Typer) -> None:
    """Add the catalogue's command groups to the root command."""
    app.add_typer(unit_commands(), name="units")
    app.add_typer(product_commands(), name="products")
    app.add_typer(price_list_commands(), name="price-lists")
    app.add_typer(discount_list_commands(), name="discount-lists")
    app.add_typer(family_commands(), name="product-families")
