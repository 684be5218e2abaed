"""transfer: files kept for import and export, and named import mappings"""

# Alembic revision 0013 (after 0012): transfer_files (a spreadsheet an import reads or an export
# wrote, with its fingerprint and the job that reads it), transfer_chunks (its bytes, one megabyte a
# row, so that any worker on any machine streams it) and import_mappings (a named header-to-field map).
import sqlalchemy as sa

from leadflow.migrations.schema_helpers import (
    Index,
    TableIndexes,
    choice,
    create_table,
    drop_tables,
    foreign_keys,
    optional_ids,
    primary_key,
    record_columns,
    required_strings,
)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES: TableIndexes = {
    "transfer_files": [
        Index("ix_transfer_files_fingerprint", ["fingerprint", "table_name"]),
        Index("ix_transfer_files_job_id", ["job_id"]),
    ],
    "transfer_chunks": [],
    "import_mappings": [],
}
TABLE_NAMES = ("leads", "accounts", "contacts", "opportunities")


def upgrade() -> None:
    create_table(
        TABLES,
        "transfer_files",
        sa.Column("purpose", choice("filepurpose", "import", "export"), nullable=False),
        sa.Column("table_name", choice("transfertable", *TABLE_NAMES), nullable=False),
        *required_strings(filename=255, media_type=100, fingerprint=64),
        sa.Column("size", sa.BigInteger(), nullable=False),
        *optional_ids("job_id", "created_by_id"),
        *record_columns(),
        *foreign_keys("transfer_files", ("job_id", "jobs", "SET NULL"), ("created_by_id", "users", "SET NULL")),
        primary_key("transfer_files"),
    )
    create_table(
        TABLES,
        "transfer_chunks",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        *foreign_keys("transfer_chunks", ("file_id", "transfer_files", "CASCADE")),
        primary_key("transfer_chunks", "file_id", "position"),
    )
    create_table(
        TABLES,
        "import_mappings",
        sa.Column("table_name", choice("transfertable", *TABLE_NAMES), nullable=False),
        *required_strings(name=100),
        sa.Column("columns", sa.JSON(), nullable=False),
        *optional_ids("created_by_id"),
        *record_columns(),
        *foreign_keys("import_mappings", ("created_by_id", "users", "SET NULL")),
        primary_key("import_mappings"),
        sa.UniqueConstraint("table_name", "name", name="uq_import_mappings_table_name_name"),
    )


def downgrade() -> None:
    drop_tables(TABLES)
