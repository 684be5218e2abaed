"""accounts: their usual payment terms, which their quotes take"""

# Alembic revision 0020 (after 0019). The column is added in place on both databases (rebuilding accounts
# in SQLite's batch mode is not needed for one nullable column); its CHECK constraint is the one the
# model's enum column declares.
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_TERMS = ("net_30", "two_percent_10_net_30", "net_45", "net_60")


def upgrade() -> None:
    allowed = ", ".join(f"'{value}'" for value in _TERMS)
    op.execute(
        f"ALTER TABLE accounts ADD COLUMN payment_terms VARCHAR(32) "
        f"CONSTRAINT paymentterms CHECK (payment_terms IN ({allowed}))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE accounts DROP COLUMN payment_terms")
