"""jobs: long work as durable records, with a result line per item"""

# Alembic revision 0012 (after 0011): the jobs table (kind, state, parameters, progress, who started
# it, timestamps, heartbeat and worker) and job_items (one line per item a job worked on, written in
# the same transaction as the item's work). The job queue itself (Huey) keeps its own storage: a
# SQLite file beside the database, Redis, or its own job_queue_* tables in PostgreSQL.
import sqlalchemy as sa

from leadflow.migrations.schema_helpers import (
    Index,
    TableIndexes,
    choice,
    create_table,
    drop_tables,
    foreign_keys,
    optional_ids,
    optional_strings,
    optional_timestamps,
    primary_key,
    record_columns,
    required_integers,
)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES: TableIndexes = {
    "jobs": [
        Index("ix_jobs_state", ["state"]),
        Index("ix_jobs_created_by_id_created_at", ["created_by_id", "created_at"]),
        Index("ix_jobs_created_at", ["created_at"]),
    ],
    "job_items": [],
}


def upgrade() -> None:
    create_table(
        TABLES,
        "jobs",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", choice("jobstate", "queued", "running", "succeeded", "failed", "canceled"), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        *required_integers("progress_done", "progress_total", "attempts"),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        *optional_ids("created_by_id"),
        *optional_timestamps("started_at", "finished_at", "enqueued_at", "heartbeat_at"),
        *optional_strings(worker=200),
        *record_columns(),
        *foreign_keys("jobs", ("created_by_id", "users", "SET NULL")),
        primary_key("jobs"),
    )
    create_table(
        TABLES,
        "job_items",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        *optional_strings(code=80),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        *foreign_keys("job_items", ("job_id", "jobs", "CASCADE")),
        primary_key("job_items", "job_id", "position"),
    )


def downgrade() -> None:
    drop_tables(TABLES)
