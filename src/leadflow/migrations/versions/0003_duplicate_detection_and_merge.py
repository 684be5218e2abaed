"""duplicate detection rules, match codes, find-all jobs and the merge journal"""

# Alembic revision 0003 (after 0002), created 2026-11-26 23:24:40.708128.
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
    optional_timestamps,
    primary_key,
    record_columns,
    required_integers,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables this revision creates, in the order it creates them, each with its indexes.
TABLES: TableIndexes = {
    "duplicate_rules": [],
    "duplicate_match_codes": [Index("ix_duplicate_match_codes_lookup", ["rule_id", "code"])],
    "duplicate_rule_conditions": [],
    "duplicate_jobs": [],
    "merge_journal": ["master_id", "subordinate_id"],
    "duplicate_sets": [
        "job_id",
        "rule_id",
        Index("uq_duplicate_sets_job_position", ["job_id", "position"], unique=True),
    ],
    "duplicate_set_members": [Index("ix_duplicate_set_members_record", ["record_id"])],
}
RECORD_TABLES = ("leads", "accounts", "contacts", "opportunities")


def record_table(name: str) -> sa.Enum:
    """A choice of one of the record tables, as a type named ``name``."""
    return choice(name, *RECORD_TABLES)


def upgrade() -> None:
    create_table(
        TABLES,
        "duplicate_rules",
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("base_table", record_table("base_table"), nullable=False),
        sa.Column("matching_table", record_table("matching_table"), nullable=False),
        *flags("case_sensitive", "exclude_inactive"),
        sa.Column("default_region", sa.String(length=2), nullable=False),
        sa.Column("state", choice("rulestate", "unpublished", "publishing", "published"), nullable=False),
        *flags("is_builtin"),
        *optional_timestamps("published_at"),
        *required_integers("publish_done", "publish_total"),
        *record_columns(),
        primary_key("duplicate_rules"),
    )

    create_table(
        TABLES,
        "duplicate_match_codes",
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.BigInteger(), nullable=False),
        *foreign_keys("duplicate_match_codes", ("rule_id", "duplicate_rules", "CASCADE")),
        primary_key("duplicate_match_codes", "rule_id", "record_id"),
    )

    create_table(
        TABLES,
        "duplicate_rule_conditions",
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        *required_integers("position"),
        sa.Column("base_column", sa.String(length=64), nullable=False),
        sa.Column("matching_column", sa.String(length=64), nullable=False),
        sa.Column(
            "criterion",
            choice(
                "criterion",
                "exact_match",
                "same_first_characters",
                "same_last_characters",
                "same_date",
                "same_date_and_time",
                "exact_picklist",
                "normalized",
                "similar",
            ),
            nullable=False,
        ),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        *flags("ignore_blank"),
        *foreign_keys("duplicate_rule_conditions", ("rule_id", "duplicate_rules", "CASCADE")),
        primary_key("duplicate_rule_conditions", "rule_id", "position"),
    )

    create_table(
        TABLES,
        "duplicate_jobs",
        sa.Column("table_name", record_table("table_name"), nullable=False),
        sa.Column("state", choice("jobstate", "queued", "running", "completed", "failed"), nullable=False),
        *optional_ids("created_by_id"),
        *optional_timestamps("started_at", "finished_at"),
        *required_integers("progress_done", "progress_total", "set_count", "record_count"),
        sa.Column("error", sa.Text(), nullable=True),
        *record_columns(),
        *foreign_keys("duplicate_jobs", ("created_by_id", "users", "SET NULL")),
        primary_key("duplicate_jobs"),
    )

    create_table(
        TABLES,
        "merge_journal",
        sa.Column("table_name", record_table("table_name"), nullable=False),
        sa.Column("master_id", sa.Uuid(), nullable=False),
        sa.Column("subordinate_id", sa.Uuid(), nullable=False),
        sa.Column("state", choice("mergestate", "merged", "undone"), nullable=False),
        *optional_ids("merged_by_id", "undone_by_id"),
        *optional_timestamps("undone_at"),
        sa.Column("master_before", sa.JSON(), nullable=False),
        sa.Column("subordinate_before", sa.JSON(), nullable=False),
        *required_integers("master_version_after", "subordinate_version_after"),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        *record_columns(),
        *foreign_keys("merge_journal", ("merged_by_id", "users", "SET NULL"), ("undone_by_id", "users", "SET NULL")),
        primary_key("merge_journal"),
    )

    create_table(
        TABLES,
        "duplicate_sets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        *optional_ids("rule_id"),
        *required_integers("position"),
        sa.Column("score", sa.Float(), nullable=False),
        *required_integers("size"),
        *foreign_keys(
            "duplicate_sets",
            ("job_id", "duplicate_jobs", "CASCADE"),
            ("rule_id", "duplicate_rules", "SET NULL"),
        ),
        primary_key("duplicate_sets"),
    )

    create_table(
        TABLES,
        "duplicate_set_members",
        sa.Column("set_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        *foreign_keys("duplicate_set_members", ("set_id", "duplicate_sets", "CASCADE")),
        primary_key("duplicate_set_members", "set_id", "record_id"),
    )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("language", existing_type=sa.String(length=8), nullable=True)

    add_columns(
        "organisation_settings",
        *(
            sa.Column(f"detect_duplicates_{table}", sa.Boolean(), nullable=False, server_default=sa.true())
            for table in RECORD_TABLES
        ),
        sa.Column("default_phone_region", sa.String(length=2), nullable=False, server_default="ES"),
        sa.Column("builtin_duplicate_rules_created", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.execute("UPDATE users SET language = 'en' WHERE language IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("language", existing_type=sa.String(length=8), nullable=False)

    drop_columns(
        "organisation_settings",
        "builtin_duplicate_rules_created",
        "default_phone_region",
        *(f"detect_duplicates_{table}" for table in reversed(RECORD_TABLES)),
    )
    drop_tables(TABLES)
