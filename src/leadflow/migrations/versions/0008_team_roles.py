"""security roles held by teams"""

# Alembic revision 0008 (after 0007): a team holds roles, and its members hold them through it.
import sqlalchemy as sa

from leadflow.migrations.schema_helpers import TableIndexes, create_table, drop_tables, foreign_keys, primary_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES: TableIndexes = {"team_roles": []}


def upgrade() -> None:
    create_table(
        TABLES,
        "team_roles",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        *foreign_keys("team_roles", ("role_id", "roles", "CASCADE"), ("team_id", "teams", "CASCADE")),
        primary_key("team_roles", "team_id", "role_id"),
    )


def downgrade() -> None:
    drop_tables(TABLES)
