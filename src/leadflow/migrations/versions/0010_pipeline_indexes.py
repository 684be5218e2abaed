"""indexes that serve the pipeline board and the forecast"""

# Alembic revision 0010 (after 0009): three indexes on opportunities, each holding every column its
# queries read, so that the database answers them from the index alone (bench/README.md, "The
# pipeline board and the forecast"):
#
# * the board: open opportunities per stage, ordered by estimated close date (the cards) and summed
#   (the column totals), with the owner columns the access and scope filters test;
# * the forecast's open part: open opportunities by estimated close date, per owner or unit;
# * the forecast's closed part: won and lost opportunities by actual close date, per owner or unit.
from leadflow.migrations.schema_helpers import Index, create_indexes, drop_indexes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OWNERS = ["owner_user_id", "owner_team_id", "owning_business_unit_id"]
INDEXES = [
    Index(
        "ix_opportunities_pipeline",
        [
            "state",
            "process_stage",
            "estimated_close_date",
            "estimated_revenue_base",
            "probability",
            *OWNERS,
            "id",
        ],
    ),
    Index(
        "ix_opportunities_forecast_open",
        [
            "state",
            "estimated_close_date",
            *OWNERS,
            "estimated_revenue_base",
            "probability",
            "rating",
            "id",
        ],
    ),
    Index(
        "ix_opportunities_forecast_closed",
        [
            "state",
            "actual_close_date",
            *OWNERS,
            "actual_revenue_base",
            "estimated_revenue_base",
            "id",
        ],
    ),
]


def upgrade() -> None:
    create_indexes("opportunities", INDEXES)


def downgrade() -> None:
    drop_indexes("opportunities", INDEXES)
