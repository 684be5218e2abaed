"""accounts people look after themselves: two-factor sign-in, throttling, reset links"""

# Alembic revision 0005 (after 0004): users get a TOTP secret, roles can require it, recovery codes
# and recent sign-in failures get tables, tokens get two more kinds; the account lock-out columns go.
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
    foreign_keys,
    optional_timestamps,
    primary_key,
    required_strings,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES: TableIndexes = {
    "recovery_codes": [],
    "sign_in_failures": [
        Index("ix_sign_in_failures_address", ["address", "occurred_at"]),
        Index("ix_sign_in_failures_email_address", ["email_key", "address", "occurred_at"]),
    ],
}
OLD_KINDS = ("sign_in", "personal", "web_session")
NEW_KINDS = (*OLD_KINDS, "password_reset", "two_factor")


def _token_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=choice("tokenkind", *old), type_=choice("tokenkind", *new), existing_nullable=False
        )


def upgrade() -> None:
    add_columns(
        "users",
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        *optional_timestamps("totp_enabled_at"),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    )
    drop_columns("users", "failed_sign_ins", "locked_until")
    add_columns("roles", sa.Column("requires_two_factor", sa.Boolean(), server_default=sa.false(), nullable=False))
    _token_kinds(OLD_KINDS, NEW_KINDS)
    create_table(
        TABLES,
        "recovery_codes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        *required_strings(code_digest=64),
        *optional_timestamps("used_at"),
        *foreign_keys("recovery_codes", ("user_id", "users", "CASCADE")),
        primary_key("recovery_codes", "user_id", "code_digest"),
    )
    create_table(
        TABLES,
        "sign_in_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        *required_strings(email_key=320, address=64),
        primary_key("sign_in_failures"),
    )


def downgrade() -> None:
    drop_tables(TABLES)
    op.execute("DELETE FROM access_tokens WHERE kind IN ('password_reset', 'two_factor')")
    _token_kinds(NEW_KINDS, OLD_KINDS)
    drop_columns("roles", "requires_two_factor")
    add_columns(
        "users",
        sa.Column("failed_sign_ins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        *optional_timestamps("locked_until"),
    )
    drop_columns("users", "totp_last_step", "totp_enabled_at", "totp_secret")
