"""opportunities that close: status reasons, close records, competitors; amounts in base currency"""

# Alembic revision 0009 (after 0008): an opportunity is won, lost and reopened (status reason, actual
# revenue and close date, probability, rating, the process flow finished), each close is recorded,
# and competitors are a table of their own linked to the opportunities they compete in. Money fields
# keep the exchange rate captured when saved and their amount in base currency; currencies have a
# precision.
import sqlalchemy as sa
from alembic import op

from leadflow.migrations.schema_helpers import (
    TableIndexes,
    add_columns,
    choice,
    create_table,
    drop_columns,
    drop_tables,
    foreign_keys,
    optional_ids,
    optional_timestamps,
    primary_key,
    record_columns,
)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES: TableIndexes = {
    "competitors": ["name"],
    "opportunity_closes": ["competitor_id", "opportunity_id"],
    "opportunity_competitors": ["competitor_id"],
}
STATUS_REASONS = ("in_progress", "on_hold", "won", "canceled", "out_sold")


def upgrade() -> None:
    create_table(
        TABLES,
        "competitors",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("strengths", sa.Text(), nullable=True),
        sa.Column("weaknesses", sa.Text(), nullable=True),
        sa.Column("reported_revenue", sa.BigInteger(), nullable=True),
        *optional_ids("created_by_id", "modified_by_id"),
        *record_columns(),
        *foreign_keys("competitors", ("created_by_id", "users", "SET NULL"), ("modified_by_id", "users", "SET NULL")),
        primary_key("competitors"),
    )
    create_table(
        TABLES,
        "opportunity_closes",
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("state", choice("closestate", "completed", "canceled"), nullable=False),
        sa.Column("opportunity_state", choice("opportunitystate", "open", "won", "lost"), nullable=False),
        sa.Column("status_reason", choice("opportunitystatusreason", *STATUS_REASONS), nullable=False),
        sa.Column("actual_revenue", sa.BigInteger(), nullable=True),
        sa.Column("currency_id", sa.Uuid(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=False),
        sa.Column("competitor_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("closed_by_id", sa.Uuid(), nullable=True),
        *optional_timestamps("canceled_at"),
        *record_columns(),
        *foreign_keys(
            "opportunity_closes",
            ("closed_by_id", "users", "SET NULL"),
            ("competitor_id", "competitors", "SET NULL"),
            ("currency_id", "currencies"),
            ("opportunity_id", "opportunities", "CASCADE"),
        ),
        primary_key("opportunity_closes"),
    )
    create_table(
        TABLES,
        "opportunity_competitors",
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("competitor_id", sa.Uuid(), nullable=False),
        *foreign_keys(
            "opportunity_competitors",
            ("competitor_id", "competitors", "CASCADE"),
            ("opportunity_id", "opportunities", "CASCADE"),
        ),
        primary_key("opportunity_competitors", "opportunity_id", "competitor_id"),
    )
    add_columns(
        "opportunities",
        sa.Column(
            "status_reason",
            choice("opportunitystatusreason", *STATUS_REASONS),
            server_default="in_progress",
            nullable=False,
        ),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("rating", choice("rating", "hot", "warm", "cold"), nullable=True),
        sa.Column("actual_revenue", sa.BigInteger(), nullable=True),
        sa.Column("actual_close_date", sa.Date(), nullable=True),
        sa.Column(
            "process_status", choice("processstatus", "active", "finished"), server_default="active", nullable=False
        ),
        sa.Column("exchange_rate", sa.BigInteger(), nullable=True),
        sa.Column("estimated_revenue_base", sa.BigInteger(), nullable=True),
        sa.Column("actual_revenue_base", sa.BigInteger(), nullable=True),
    )
    add_columns(
        "leads",
        sa.Column("exchange_rate", sa.BigInteger(), nullable=True),
        sa.Column("budget_amount_base", sa.BigInteger(), nullable=True),
    )
    add_columns("currencies", sa.Column("precision", sa.Integer(), server_default=sa.text("2"), nullable=False))
    # Opportunities closed before status reasons existed take their state's default reason.
    op.execute("UPDATE opportunities SET status_reason = 'won', process_status = 'finished' WHERE state = 'won'")
    op.execute("UPDATE opportunities SET status_reason = 'canceled', process_status = 'finished' WHERE state = 'lost'")


def downgrade() -> None:
    drop_columns("currencies", "precision")
    # Dropped in place: rebuilding the leads table (SQLite's batch mode) would lose the lead search's
    # triggers of 0004. Both databases drop a plain column with ALTER TABLE.
    op.execute("ALTER TABLE leads DROP COLUMN budget_amount_base")
    op.execute("ALTER TABLE leads DROP COLUMN exchange_rate")
    drop_columns(
        "opportunities",
        "actual_revenue_base",
        "estimated_revenue_base",
        "exchange_rate",
        "process_status",
        "actual_close_date",
        "actual_revenue",
        "rating",
        "probability",
        "status_reason",
        checks=("processstatus", "rating", "opportunitystatusreason"),
    )
    drop_tables(TABLES)
