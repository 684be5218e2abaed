"""security and audit"""

# Alembic revision 0002 (after 0001), created 2026-11-26 21:19:11.804471.
import sqlalchemy as sa
from alembic import op

from leadflow.migrations.schema_helpers import (
    Index,
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
    primary_key,
    record_columns,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The tables this revision creates, in the order it creates them, each with its indexes.
TABLES: TableIndexes = {
    "roles": [],
    "role_privileges": [],
    "access_tokens": ["user_id"],
    "audit_entries": [
        "action",
        Index("ix_audit_entries_occurred", ["occurred_at", "id"]),
        Index("ix_audit_entries_record", ["table_name", "record_id"]),
        "user_id",
    ],
    "record_shares": [Index("ix_record_shares_record", ["table_name", "record_id"]), "team_id", "user_id"],
    "team_members": [],
    "user_roles": [],
}


def create_link_table(name: str, *references: tuple[str, str]) -> None:
    """A many-to-many table: a required column per ``(column, target table)``, deleted with its
    target, the columns together the primary key."""
    columns = [column for column, _ in references]
    create_table(
        TABLES,
        name,
        *(sa.Column(column, sa.Uuid(), nullable=False) for column in columns),
        *foreign_keys(name, *sorted((column, target, "CASCADE") for column, target in references)),
        primary_key(name, *columns),
    )


def upgrade() -> None:
    create_table(
        TABLES,
        "roles",
        sa.Column("name", sa.String(length=100), nullable=False),
        *flags("is_builtin"),
        *record_columns(),
        primary_key("roles"),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )

    create_table(
        TABLES,
        "role_privileges",
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column(
            "privilege",
            choice("privilege", "create", "read", "write", "delete", "append", "append_to", "assign", "share"),
            nullable=False,
        ),
        sa.Column("depth", sa.Integer(), nullable=False),
        *foreign_keys("role_privileges", ("role_id", "roles", "CASCADE")),
        primary_key("role_privileges", "role_id", "table_name", "privilege"),
    )

    create_table(
        TABLES,
        "access_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", choice("tokenkind", "sign_in", "personal", "web_session"), nullable=False),
        *optional_strings(name=100),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        *optional_strings(csrf_secret=64),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        *optional_timestamps("revoked_at", "last_used_at"),
        *record_columns(),
        *foreign_keys("access_tokens", ("user_id", "users", "CASCADE")),
        primary_key("access_tokens"),
        sa.UniqueConstraint("token_digest", name=op.f("uq_access_tokens_token_digest")),
    )

    create_table(
        TABLES,
        "audit_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        *optional_ids("user_id", "business_unit_id"),
        sa.Column("action", sa.String(length=40), nullable=False),
        *optional_strings(table_name=40),
        *optional_ids("record_id"),
        sa.Column("changes", sa.JSON(), nullable=True),
        *optional_strings(summary=500),
        *foreign_keys("audit_entries", ("user_id", "users", "SET NULL")),
        primary_key("audit_entries"),
    )

    create_table(
        TABLES,
        "record_shares",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        *optional_ids("user_id", "team_id"),
        *flags("can_read", "can_write", "can_delete", "can_append", "can_assign", "can_share"),
        *record_columns(),
        *foreign_keys("record_shares", ("team_id", "teams", "CASCADE"), ("user_id", "users", "CASCADE")),
        primary_key("record_shares"),
        sa.UniqueConstraint("table_name", "record_id", "user_id", "team_id", name="uq_record_shares_grantee"),
    )

    create_link_table("team_members", ("team_id", "teams"), ("user_id", "users"))
    create_link_table("user_roles", ("user_id", "users"), ("role_id", "roles"))
    add_columns(
        "users",
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default=sa.text("0")),
        *optional_timestamps("locked_until", "last_sign_in_at"),
    )


def downgrade() -> None:
    drop_columns("users", "last_sign_in_at", "locked_until", "failed_sign_ins", "password_hash")
    drop_tables(TABLES)
