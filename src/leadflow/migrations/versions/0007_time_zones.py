"""time zones: the organisation's default and each user's own"""

# Alembic revision 0007 (after 0006): the organisation settings get the IANA time zone times are shown
# in, and users a time zone of their own (empty: the organisation's). Stored times stay UTC.
import sqlalchemy as sa
from alembic import op

from leadflow.migrations.schema_helpers import add_columns, drop_columns

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns(
        "organisation_settings",
        sa.Column("default_time_zone", sa.String(length=64), server_default="UTC", nullable=False),
    )
    # Until this revision every page showed Madrid time: an organisation set up before it goes on
    # seeing the times it saw. A new organisation starts on UTC.
    op.execute("UPDATE organisation_settings SET default_time_zone = 'Europe/Madrid'")
    add_columns("users", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    drop_columns("users", "time_zone")
    drop_columns("organisation_settings", "default_time_zone")
