"""activities: tasks, phone calls, appointments and e-mails, their parties, and calendar feeds"""

# Alembic revision 0015 (after 0014): one table of activities (each type's own columns left empty by
# the others, as Dynamics' activitypointer), the people an activity involves (an e-mail's sender and
# recipients, an appointment's attendees) and each user's private calendar feed.
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column(
            "type",
            sa.Enum(
                "task",
                "phone_call",
                "appointment",
                "email",
                name="activitytype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "regarding_table",
            sa.Enum(
                "leads",
                "accounts",
                "contacts",
                "opportunities",
                name="regardingtable",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("regarding_id", sa.Uuid(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "completed",
                "canceled",
                name="activitystate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status_reason",
            sa.Enum(
                "not_started",
                "in_progress",
                "waiting",
                "deferred",
                "open",
                "made",
                "received",
                "free",
                "tentative",
                "busy",
                "out_of_office",
                "draft",
                "failed",
                "sent",
                "pending_send",
                "sending",
                "completed",
                "canceled",
                name="activitystatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum("low", "normal", "high", name="priority", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_order", sa.DateTime(timezone=True), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("location", sa.String(length=400), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("percent_complete", sa.Integer(), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("incoming", "outgoing", name="direction", native_enum=False, create_constraint=True, length=32),
            nullable=True,
        ),
        sa.Column("phone_number", sa.String(length=64), nullable=True),
        sa.Column("left_voicemail", sa.Boolean(), nullable=False),
        sa.Column("actual_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("send_attempts", sa.Integer(), nullable=False),
        sa.Column("send_error", sa.String(length=1000), nullable=True),
        sa.Column("next_send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=True),
        sa.Column("owner_team_id", sa.Uuid(), nullable=True),
        sa.Column("owning_business_unit_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("modified_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_activities_created_by_id_users")),
        sa.ForeignKeyConstraint(["modified_by_id"], ["users.id"], name=op.f("fk_activities_modified_by_id_users")),
        sa.ForeignKeyConstraint(["owner_team_id"], ["teams.id"], name=op.f("fk_activities_owner_team_id_teams")),
        sa.ForeignKeyConstraint(["owner_user_id"], ["users.id"], name=op.f("fk_activities_owner_user_id_users")),
        sa.ForeignKeyConstraint(
            ["owning_business_unit_id"],
            ["business_units.id"],
            name=op.f("fk_activities_owning_business_unit_id_business_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_owner_state_due", ["owner_user_id", "state", "due_order"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_owner_user_id"), ["owner_user_id"], unique=False)
        batch_op.create_index(
            "ix_activities_regarding", ["regarding_table", "regarding_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_activities_sending", ["status_reason", "next_send_at"], unique=False)
        batch_op.create_index("ix_activities_state_due", ["state", "due_order"], unique=False)

    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_table(
        "activity_parties",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "sender",
                "to",
                "cc",
                "required",
                "optional",
                name="partyrole",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("party_table", sa.String(length=32), nullable=True),
        sa.Column("party_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=320), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_parties_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_parties")),
    )
    with op.batch_alter_table("activity_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_parties_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index("ix_activity_parties_party", ["party_table", "party_id"], unique=False)

    # A timeline reads each record's notes in the order of (created_at, id): the index holds both.
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_regarding")
        batch_op.create_index(
            "ix_notes_regarding", ["regarding_table", "regarding_id", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_regarding")
        batch_op.create_index("ix_notes_regarding", ["regarding_table", "regarding_id", "created_at"], unique=False)
    # Dropping a table drops its indexes on both databases.
    for table in ("activity_parties", "calendar_feeds", "activities"):
        op.drop_table(table)
