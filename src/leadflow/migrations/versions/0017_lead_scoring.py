"""lead scoring: scoring models and their versions, each lead's score and grade, and how it came to them"""

# Alembic revision 0017 (after 0016). The score and grade sit on the lead, so that the lead list sorts
# by score through an index on the same expression as leadflow.leads.models.LEAD_SORTS["score"]
# (unscored leads sort as -1), carrying the id, state and owner as the other sorts' indexes do.
# Columns are added in place (no batch rebuild of leads on SQLite, which would drop the search
# triggers and expression indexes of migration 0004).
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_SCOPES = ("all", "business_unit", "lead_source")
_STATES = ("training", "trained", "published", "retired", "failed")
_SOURCES = (
    "advertisement",
    "employee_referral",
    "external_referral",
    "partner",
    "public_relations",
    "seminar",
    "trade_show",
    "web",
    "word_of_mouth",
    "other",
)


def upgrade() -> None:
    op.create_table(
        "scoring_models",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "scope_kind",
            sa.Enum(*_SCOPES, name="scopekind", native_enum=False, length=32, create_constraint=True),
            nullable=False,
        ),
        sa.Column("scope_business_unit_id", sa.Uuid(), nullable=True),
        sa.Column(
            "scope_lead_source",
            sa.Enum(*_SOURCES, name="leadsource", native_enum=False, length=32, create_constraint=True),
            nullable=True,
        ),
        sa.Column("history_months", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("retrain_days", sa.Integer(), nullable=False),
        sa.Column("auto_publish", sa.Boolean(), nullable=False),
        sa.Column("published_version_id", sa.Uuid(), nullable=True),
        sa.Column("last_trained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["scope_business_unit_id"], ["business_units.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "scoring_versions",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*_STATES, name="versionstate", native_enum=False, length=32, create_constraint=True),
            nullable=False,
        ),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["model_id"], ["scoring_models.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scoring_versions_model", "scoring_versions", ["model_id", "number"], unique=True)
    with op.batch_alter_table("scoring_models") as batch:
        batch.create_foreign_key(
            "fk_scoring_models_published_version_id_scoring_versions",
            "scoring_versions",
            ["published_version_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "lead_scores",
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=True),
        sa.Column("previous_score", sa.SmallInteger(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["model_id"], ["scoring_models.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["scoring_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id"),
    )
    op.create_index("ix_lead_scores_version", "lead_scores", ["version_id"])
    op.create_index("ix_lead_scores_model_id", "lead_scores", ["model_id"])
    op.add_column("leads", sa.Column("score", sa.SmallInteger(), nullable=True))
    op.add_column("leads", sa.Column("score_grade", sa.String(length=1), nullable=True))
    op.create_index("ix_leads_state_grade", "leads", ["state", "score_grade"])
    op.create_index("ix_leads_sort_score", "leads", [sa.text("(coalesce(score, -1))"), "id", "state", "owner_user_id"])


def downgrade() -> None:
    op.drop_index("ix_leads_sort_score", table_name="leads")
    op.drop_index("ix_leads_state_grade", table_name="leads")
    # In place: rebuilding leads (SQLite's batch mode) would lose the lead search of migration 0004.
    op.execute("ALTER TABLE leads DROP COLUMN score_grade")
    op.execute("ALTER TABLE leads DROP COLUMN score")
    op.drop_index("ix_lead_scores_model_id", table_name="lead_scores")
    op.drop_index("ix_lead_scores_version", table_name="lead_scores")
    op.drop_table("lead_scores")
    with op.batch_alter_table("scoring_models") as batch:
        batch.drop_constraint("fk_scoring_models_published_version_id_scoring_versions", type_="foreignkey")
    op.drop_index("ix_scoring_versions_model", table_name="scoring_versions")
    op.drop_table("scoring_versions")
    op.drop_table("scoring_models")
