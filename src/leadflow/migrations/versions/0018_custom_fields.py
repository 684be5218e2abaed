"""custom fields: their definitions, the qualify mappings of their values, and a JSON column of values on
leads, accounts, contacts and opportunities"""

# Alembic revision 0018 (after 0017). Values live in one JSON column per table (JSONB on PostgreSQL),
# added in place with a constant default (no table rebuild: SQLite keeps the lead search of migration
# 0004, PostgreSQL rewrites nothing). The index of a searchable field is made when the field is
# (leadflow.fields.storage), named ix_cf_<table>_<field>, not here.
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("leads", "accounts", "contacts", "opportunities")
_KINDS = (
    "text",
    "multiline",
    "whole_number",
    "decimal",
    "money",
    "date",
    "datetime",
    "yes_no",
    "choice",
    "multi_choice",
    "lookup",
    "email",
    "phone",
    "url",
)


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("label_es", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*_KINDS, name="fieldkind", native_enum=False, length=32, create_constraint=True),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("default_value", sa.JSON(), nullable=True),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.Column("precision", sa.Integer(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("lookup_table", sa.String(length=40), nullable=True),
        sa.Column("searchable", sa.Boolean(), nullable=False),
        sa.Column("duplicate_rules", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_record_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint("table_name", "name", name="uq_custom_fields_table_name"),
    )
    op.create_index("ix_custom_fields_table_position", "custom_fields", ["table_name", "position"])
    op.create_table(
        "custom_field_mappings",
        sa.Column("target_table", sa.String(length=40), nullable=False),
        sa.Column("target_field", sa.String(length=40), nullable=False),
        sa.Column("source_field", sa.String(length=80), nullable=False),
        *_record_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_mappings")),
        sa.UniqueConstraint("target_table", "target_field", name="uq_custom_field_mappings_target"),
    )
    values_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    for table in TABLES:
        op.add_column(table, sa.Column("custom", values_type, server_default=sa.text("'{}'"), nullable=False))


def downgrade() -> None:
    for table in TABLES:
        # Every searchable field's index goes with the column (SQLite refuses to drop an indexed column).
        bind = op.get_bind()
        for index in sa.inspect(bind).get_indexes(table):
            name = index["name"] or ""
            if name.startswith(f"ix_cf_{table}_"):
                op.drop_index(name, table_name=table)
        # In place: rebuilding leads (SQLite's batch mode) would lose the lead search of migration 0004.
        op.execute(f"ALTER TABLE {table} DROP COLUMN custom")
    op.drop_table("custom_field_mappings")
    op.drop_index("ix_custom_fields_table_position", table_name="custom_fields")
    op.drop_table("custom_fields")
