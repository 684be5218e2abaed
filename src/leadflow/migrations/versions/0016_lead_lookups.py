"""lead lookups: an index on the lead's e-mail, and the parent account index over linked leads only"""

# Alembic revision 0016 (after 0015): integrations look leads up by e-mail address (the Dataverse
# Web API's `emailaddress1 eq '...'`), which no index served (the list's sort index is on an
# expression). The parent-account index covers only the leads that name an account: most leads name
# none, and SQLite's statistics, which count those as one value, then judged the index useless
# (half the table per account) and read the whole table in key order instead.
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_LINKED = sa.text("parent_account_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_leads_email", "leads", ["email"], unique=False)
    op.drop_index("ix_leads_parent_account_id", table_name="leads")
    op.create_index(
        "ix_leads_parent_account_id",
        "leads",
        ["parent_account_id"],
        unique=False,
        sqlite_where=_LINKED,
        postgresql_where=_LINKED,
    )


def downgrade() -> None:
    op.drop_index("ix_leads_parent_account_id", table_name="leads")
    op.create_index("ix_leads_parent_account_id", "leads", ["parent_account_id"], unique=False)
    op.drop_index("ix_leads_email", table_name="leads")
