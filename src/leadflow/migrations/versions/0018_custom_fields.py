"""custom fields and saved views: field definitions, the qualify mappings of their values, a JSON column of
values on leads, accounts, contacts and opportunities; saved views (the §10 lead views among them) and each
user's default view"""

# Alembic revision 0018 (after 0017). Values live in one JSON column per table (JSONB on PostgreSQL),
# added in place with a constant default (no table rebuild: SQLite keeps the lead search of migration
# 0004, PostgreSQL rewrites nothing). The index of a searchable field is made when the field is
# (leadflow.fields.storage), named ix_cf_<table>_<field>, not here.
import uuid
from datetime import UTC, datetime

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


# The system views: the lead views of §10 (their condition depends on who asks and when, so the key names
# it), every table's "all" view, and the open opportunities grouped by stage (the board as a view).
SYSTEM_VIEWS: tuple[tuple[str, str | None, str, list[dict[str, str]], str | None], ...] = (
    ("leads", "my-open", "My open leads", [], None),
    ("leads", "open", "Open leads", [], None),
    ("leads", "closed", "Closed leads", [], None),
    ("leads", "all", "All leads", [], None),
    ("leads", "opened-this-week", "Leads opened this week", [], None),
    ("leads", "opened-last-week", "Leads opened last week", [], None),
    ("accounts", None, "All accounts", [], None),
    ("contacts", None, "All contacts", [], None),
    ("opportunities", None, "All opportunities", [], None),
    (
        "opportunities",
        None,
        "Open opportunities by stage",
        [{"field": "state", "op": "eq", "value": "open"}],
        "process_stage",
    ),
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
    views = op.create_table(
        "saved_views",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("system_key", sa.String(length=40), nullable=True),
        sa.Column("owner_user_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("sort", sa.String(length=80), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("group_by", sa.String(length=80), nullable=True),
        *_record_columns(),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_saved_views_owner_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_saved_views_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    op.create_index("ix_saved_views_table_owner", "saved_views", ["table_name", "owner_user_id"])
    op.create_index(op.f("ix_saved_views_owner_user_id"), "saved_views", ["owner_user_id"])
    op.create_index(op.f("ix_saved_views_team_id"), "saved_views", ["team_id"])
    op.create_table(
        "saved_view_defaults",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("view_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_view_defaults_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["view_id"], ["saved_views.id"], name=op.f("fk_saved_view_defaults_view_id_saved_views"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "table_name", name=op.f("pk_saved_view_defaults")),
    )
    op.create_index(op.f("ix_saved_view_defaults_view_id"), "saved_view_defaults", ["view_id"])
    now = datetime.now(UTC)
    op.bulk_insert(
        views,
        [
            {
                "id": uuid.uuid4(),
                "row_version": 1,
                "created_at": now,
                "modified_at": now,
                "table_name": table,
                "name": name,
                "system_key": key,
                "owner_user_id": None,
                "team_id": None,
                "conditions": conditions,
                "sort": "-created_at",
                "columns": [],
                "group_by": group_by,
            }
            for table, key, name, conditions, group_by in SYSTEM_VIEWS
        ],
    )
    values_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    for table in TABLES:
        op.add_column(table, sa.Column("custom", values_type, server_default=sa.text("'{}'"), nullable=False))


def downgrade() -> None:
    for table in TABLES:
        # Every searchable field's index goes with the column (SQLite refuses to drop an indexed column).
        bind = op.get_bind()
        listing = (
            "SELECT indexname FROM pg_indexes WHERE tablename = :table AND left(indexname, 6) = 'ix_cf_'"
            if bind.dialect.name == "postgresql"
            else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table AND substr(name, 1, 6) = 'ix_cf_'"
        )
        for (name,) in bind.execute(sa.text(listing), {"table": table}).all():
            op.drop_index(name, table_name=table)
        # In place: rebuilding leads (SQLite's batch mode) would lose the lead search of migration 0004.
        op.execute(f"ALTER TABLE {table} DROP COLUMN custom")
    op.drop_table("saved_view_defaults")
    op.drop_table("saved_views")
    op.drop_table("custom_field_mappings")
    op.drop_index("ix_custom_fields_table_position", table_name="custom_fields")
    op.drop_table("custom_fields")
