"""lead to order: the product catalogue, opportunity products, quotes, orders and invoices"""

# Alembic revision 0014 (after 0013): unit groups and units, product families, products, discount
# lists and their tiers, price lists and their items; opportunity products and the lines of quotes,
# orders and invoices; the documents themselves and their numbering. Opportunities gain a price list,
# how their estimated revenue is found (typed or from the products) and the totals of their products.
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

from leadflow.migrations.schema_helpers import (
    TableIndexes,
    add_columns,
    choice,
    create_table,
    drop_columns,
    drop_tables,
    flags,
    foreign_keys,
    optional_ids,
    optional_strings,
    optional_timestamps,
    owned_foreign_keys,
    ownership_columns,
    primary_key,
    record_columns,
    required_integers,
    required_strings,
)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


# The line tables and the documents, created alike; each with its indexes.
TABLES: TableIndexes = {
    "opportunity_products": ["opportunity_id", "product_id"],
    "quotes": ["customer_id", "opportunity_id", "owner_user_id"],
    "orders": ["customer_id", "opportunity_id", "owner_user_id", "quote_id"],
    "quote_lines": ["document_id", "product_id"],
    "invoices": ["customer_id", "opportunity_id", "order_id", "owner_user_id"],
    "order_lines": ["document_id", "product_id"],
    "invoice_lines": ["document_id", "product_id"],
}
QUOTE_STATES = ("draft", "active", "won", "closed")
QUOTE_REASONS = ("in_progress", "open", "won", "lost", "canceled", "revised")
ORDER_STATES = ("active", "submitted", "canceled", "fulfilled")
ORDER_REASONS = ("new", "pending", "in_progress", "no_money", "complete", "partial")
INVOICE_STATES = ("active", "paid", "canceled")
INVOICE_REASONS = ("new", "complete", "partial", "canceled")
# Totals of a record with product lines (leadflow.catalog.models.PricedMixin), in ten-thousandths.
TOTALS = (
    "discount_percentage",
    "discount_amount",
    "freight_amount",
    "detail_amount",
    "total_line_discount",
    "total_discount_amount",
    "pre_freight_amount",
    "total_tax",
    "total_amount",
)


def _amounts(*names: str) -> list[sa.Column]:
    """Required amounts (whole numbers of ten-thousandths, or of hundred-thousandths for quantities)."""
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def _optional_dates(*names: str) -> list[sa.Column]:
    """Optional calendar days, in the order given."""
    return [sa.Column(name, sa.Date(), nullable=True) for name in names]


def _create_lines(table: str, parent_column: str, parent_table: str) -> None:
    """A table of product lines (leadflow.catalog.models.LineMixin) belonging to ``parent_table``."""
    create_table(
        TABLES,
        table,
        sa.Column(parent_column, sa.Uuid(), nullable=False),
        *record_columns(),
        *required_integers("line_number"),
        *optional_ids("product_id", "unit_id"),
        *required_strings(product_name=500),
        *optional_strings(unit_name=100),
        *flags("is_write_in", "is_price_overridden"),
        sa.Column("description", sa.Text(), nullable=True),
        *_amounts("quantity", "price_per_unit", "amount", "volume_discount", "manual_discount", "tax"),
        *_amounts("extended_amount"),
        *foreign_keys(
            table, (parent_column, parent_table, "CASCADE"), ("product_id", "products"), ("unit_id", "units")
        ),
        primary_key(table),
    )


def _create_document(
    table: str,
    *own: sa.Column,
    references: tuple[tuple[str, str, str], ...] = (),
    unique: tuple[str, ...] = ("number",),
) -> None:
    """A quote, order or invoice table (leadflow.sales.models.SalesDocument) with its own columns."""
    create_table(
        TABLES,
        table,
        *own,
        *required_strings(number=100, name=300),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("customer_kind", choice("customerkind", "account", "contact"), nullable=True),
        *optional_ids("customer_id"),
        sa.Column("currency_id", sa.Uuid(), nullable=False),
        *_amounts("exchange_rate", "total_amount_base"),
        sa.Column(
            "payment_terms",
            choice("paymentterms", "net_30", "two_percent_10_net_30", "net_45", "net_60"),
            nullable=True,
        ),
        sa.Column("billing_address", sa.Text(), nullable=True),
        sa.Column("shipping_address", sa.Text(), nullable=True),
        *flags("prices_locked"),
        *optional_timestamps("closed_at"),
        *optional_ids("opportunity_id"),
        *record_columns(),
        *ownership_columns(),
        *optional_ids("price_list_id"),
        *_amounts(*TOTALS),
        *owned_foreign_keys(
            table,
            ("currency_id", "currencies"),
            ("opportunity_id", "opportunities", "SET NULL"),
            ("price_list_id", "price_lists", "SET NULL"),
            *references,
        ),
        primary_key(table),
        sa.UniqueConstraint(*unique, name=op.f(f"uq_{table}_number")),
    )


@contextmanager
def _opportunities_batch() -> Iterator[Any]:
    """A batch on opportunities; SQLite rebuilds the table, reflecting leads, whose expression indexes
    (0004) cannot be reflected and are not needed for it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", sa.exc.SAWarning)
        with op.batch_alter_table("opportunities", schema=None) as batch_op:
            yield batch_op


def upgrade() -> None:
    op.create_table(
        "document_numbering",
        sa.Column(
            "kind",
            sa.Enum(
                "quote", "order", "invoice", name="documentkind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_document_numbering")),
    )
    op.create_table(
        "product_families",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_families")),
        sa.UniqueConstraint("name", name=op.f("uq_product_families_name")),
    )
    op.create_table(
        "unit_groups",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_unit_groups_name")),
    )
    op.create_table(
        "discount_lists",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("percentage", "amount", name="discountkind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("currency_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency_id"], ["currencies.id"], name=op.f("fk_discount_lists_currency_id_currencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_discount_lists_name")),
    )
    op.create_table(
        "price_lists",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("currency_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["currency_id"], ["currencies.id"], name=op.f("fk_price_lists_currency_id_currencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_price_lists_name")),
    )
    op.create_table(
        "units",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("base_unit_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_unit_id"], ["units.id"], name=op.f("fk_units_base_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["unit_groups.id"], name=op.f("fk_units_group_id_unit_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("group_id", "name", name=op.f("uq_units_group_id")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_base_unit_id"), ["base_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_group_id"), ["group_id"], unique=False)

    op.create_table(
        "discount_tiers",
        sa.Column("discount_list_id", sa.Uuid(), nullable=False),
        sa.Column("begin_quantity", sa.BigInteger(), nullable=False),
        sa.Column("end_quantity", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["discount_list_id"],
            ["discount_lists.id"],
            name=op.f("fk_discount_tiers_discount_list_id_discount_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_tiers")),
    )
    with op.batch_alter_table("discount_tiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discount_tiers_discount_list_id"), ["discount_list_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("family_id", sa.Uuid(), nullable=True),
        sa.Column("unit_group_id", sa.Uuid(), nullable=False),
        sa.Column("default_unit_id", sa.Uuid(), nullable=False),
        sa.Column("decimals_supported", sa.Integer(), nullable=False),
        sa.Column("list_price", sa.BigInteger(), nullable=True),
        sa.Column("standard_cost", sa.BigInteger(), nullable=True),
        sa.Column("current_cost", sa.BigInteger(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft", "active", "retired", name="productstate", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["default_unit_id"], ["units.id"], name=op.f("fk_products_default_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["product_families.id"],
            name=op.f("fk_products_family_id_product_families"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_group_id"], ["unit_groups.id"], name=op.f("fk_products_unit_group_id_unit_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("number", name=op.f("uq_products_number")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_unit_group_id"), ["unit_group_id"], unique=False)

    op.create_table(
        "price_list_items",
        sa.Column("price_list_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column(
            "pricing_method",
            sa.Enum(
                "currency_amount",
                "percent_of_list",
                "markup_current_cost",
                "markup_standard_cost",
                "margin_current_cost",
                "margin_standard_cost",
                name="pricingmethod",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("percentage", sa.BigInteger(), nullable=True),
        sa.Column(
            "rounding_policy",
            sa.Enum(
                "none",
                "up",
                "down",
                "nearest",
                name="roundingpolicy",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "rounding_option",
            sa.Enum(
                "ends_in", "multiple_of", name="roundingoption", native_enum=False, create_constraint=True, length=32
            ),
            nullable=True,
        ),
        sa.Column("rounding_amount", sa.BigInteger(), nullable=True),
        sa.Column("discount_list_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["discount_list_id"],
            ["discount_lists.id"],
            name=op.f("fk_price_list_items_discount_list_id_discount_lists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["price_list_id"],
            ["price_lists.id"],
            name=op.f("fk_price_list_items_price_list_id_price_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_price_list_items_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_price_list_items_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_list_items")),
        sa.UniqueConstraint("price_list_id", "product_id", "unit_id", name=op.f("uq_price_list_items_price_list_id")),
    )
    with op.batch_alter_table("price_list_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_list_items_discount_list_id"), ["discount_list_id"], unique=False)
        batch_op.create_index("ix_price_list_items_product_id", ["product_id"], unique=False)

    _create_lines("opportunity_products", "opportunity_id", "opportunities")

    _create_document(
        "quotes",
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", choice("quotestate", *QUOTE_STATES), nullable=False),
        sa.Column("status_reason", choice("quotestatusreason", *QUOTE_REASONS), nullable=False),
        *_optional_dates("effective_from", "effective_to", "due_date", "date_won", "closed_on"),
        unique=("number", "revision"),
    )

    _create_document(
        "orders",
        sa.Column("quote_id", sa.Uuid(), nullable=True),
        sa.Column("state", choice("orderstate", *ORDER_STATES), nullable=False),
        sa.Column("status_reason", choice("orderstatusreason", *ORDER_REASONS), nullable=False),
        *_optional_dates("date_fulfilled", "requested_delivery"),
        references=(("quote_id", "quotes", "SET NULL"),),
    )

    _create_lines("quote_lines", "document_id", "quotes")

    _create_document(
        "invoices",
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("state", choice("invoicestate", *INVOICE_STATES), nullable=False),
        sa.Column("status_reason", choice("invoicestatusreason", *INVOICE_REASONS), nullable=False),
        *_optional_dates("due_date", "date_paid"),
        references=(("order_id", "orders", "SET NULL"),),
    )

    _create_lines("order_lines", "document_id", "orders")

    _create_lines("invoice_lines", "document_id", "invoices")

    with _opportunities_batch() as batch_op:
        batch_op.add_column(
            sa.Column(
                "revenue_calculation",
                sa.Enum(
                    "user", "system", name="revenuecalculation", native_enum=False, create_constraint=True, length=32
                ),
                server_default="user",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("price_list_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("discount_percentage", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("discount_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("freight_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("detail_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("total_line_discount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("total_discount_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("pre_freight_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("total_tax", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("total_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_opportunities_price_list_id_price_lists"),
            "price_lists",
            ["price_list_id"],
            ["id"],
            ondelete="SET NULL",
        )
    add_columns(
        "organisation_settings",
        sa.Column("company_name", sa.String(length=160), nullable=True),
        sa.Column("company_address", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    drop_columns("organisation_settings", "company_name", "company_address")
    with _opportunities_batch() as batch_op:
        batch_op.drop_constraint("revenuecalculation", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_opportunities_price_list_id_price_lists"), type_="foreignkey")
        batch_op.drop_column("total_amount")
        batch_op.drop_column("total_tax")
        batch_op.drop_column("pre_freight_amount")
        batch_op.drop_column("total_discount_amount")
        batch_op.drop_column("total_line_discount")
        batch_op.drop_column("detail_amount")
        batch_op.drop_column("freight_amount")
        batch_op.drop_column("discount_amount")
        batch_op.drop_column("discount_percentage")
        batch_op.drop_column("price_list_id")
        batch_op.drop_column("revenue_calculation")

    drop_tables(TABLES)
    with op.batch_alter_table("price_list_items", schema=None) as batch_op:
        batch_op.drop_index("ix_price_list_items_product_id")
        batch_op.drop_index(batch_op.f("ix_price_list_items_discount_list_id"))

    op.drop_table("price_list_items")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_unit_group_id"))
        batch_op.drop_index(batch_op.f("ix_products_name"))
        batch_op.drop_index(batch_op.f("ix_products_family_id"))

    op.drop_table("products")
    with op.batch_alter_table("discount_tiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discount_tiers_discount_list_id"))

    op.drop_table("discount_tiers")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_group_id"))
        batch_op.drop_index(batch_op.f("ix_units_base_unit_id"))

    op.drop_table("units")
    op.drop_table("price_lists")
    op.drop_table("discount_lists")
    op.drop_table("unit_groups")
    op.drop_table("product_families")
    op.drop_table("document_numbering")
