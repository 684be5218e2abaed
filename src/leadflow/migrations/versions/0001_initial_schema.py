"""initial schema"""

# Alembic revision 0001 (the first), created 2026-11-26 20:38:08.072614.
import sqlalchemy as sa
from alembic import op

from leadflow.migrations.schema_helpers import (
    Index,
    TableIndexes,
    address_columns,
    choice,
    create_table,
    drop_tables,
    flags,
    foreign_keys,
    optional_ids,
    optional_strings,
    owned_foreign_keys,
    ownership_columns,
    primary_key,
    record_columns,
    required_strings,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The tables this revision creates, in the order it creates them, each with its indexes.
TABLES: TableIndexes = {
    "business_units": ["parent_id"],
    "campaigns": [],
    "currencies": [],
    "organisation_settings": [],
    "teams": ["business_unit_id"],
    "users": ["business_unit_id"],
    "leads": [
        Index("ix_leads_created", ["created_at", "id"]),
        Index("ix_leads_owner_state_created", ["owner_user_id", "state", "created_at", "id"]),
        "owner_user_id",
        "parent_account_id",
        "parent_contact_id",
        Index("ix_leads_state_created", ["state", "created_at", "id"]),
    ],
    "notes": [Index("ix_notes_regarding", ["regarding_table", "regarding_id", "created_at"])],
    "accounts": ["name", "originating_lead_id", "owner_user_id"],
    "attachments": [],
    "contacts": ["account_id", "full_name", "originating_lead_id", "owner_user_id"],
    "opportunities": ["customer_id", "originating_lead_id", "owner_user_id", "parent_account_id", "parent_contact_id"],
}
FOREIGN_KEY_INDEXES = (
    ("accounts", "master_id"),
    ("accounts", "primary_contact_id"),
    ("contacts", "master_id"),
    ("leads", "master_lead_id"),
    ("leads", "qualifying_opportunity_id"),
)
CROSS_REFERENCES = (
    ("accounts", "primary_contact_id", "contacts"),
    ("leads", "parent_account_id", "accounts"),
    ("leads", "parent_contact_id", "contacts"),
    ("leads", "qualifying_opportunity_id", "opportunities"),
)


def person_columns() -> list[sa.Column]:
    """The name and job title of a lead or a contact."""
    return [
        *optional_strings(first_name=50),
        *required_strings(last_name=50, full_name=160),
        *optional_strings(job_title=100),
    ]


# The choices that more than one table stores (a new type object for each column).
def customer_state() -> sa.Enum:
    return choice("customerstate", "active", "inactive")


def purchase_timeframe() -> sa.Enum:
    return choice("purchasetimeframe", "immediate", "this_quarter", "next_quarter", "this_year", "unknown")


def purchase_process() -> sa.Enum:
    return choice("purchaseprocess", "individual", "committee", "unknown")


def need() -> sa.Enum:
    return choice("need", "must_have", "should_have", "good_to_have", "no_need")


def upgrade() -> None:
    create_table(
        TABLES,
        "business_units",
        sa.Column("name", sa.String(length=160), nullable=False),
        *optional_ids("parent_id"),
        *record_columns(),
        *foreign_keys("business_units", ("parent_id", "business_units")),
        primary_key("business_units"),
    )

    create_table(
        TABLES,
        "campaigns",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("state", choice("campaignstate", "active", "inactive"), nullable=False),
        *record_columns(),
        primary_key("campaigns"),
        sa.UniqueConstraint("code", name=op.f("uq_campaigns_code")),
    )

    create_table(
        TABLES,
        "currencies",
        *required_strings(iso_code=3, name=80, symbol=8),
        sa.Column("exchange_rate", sa.BigInteger(), nullable=False),
        *flags("is_base"),
        *record_columns(),
        primary_key("currencies"),
        sa.UniqueConstraint("iso_code", name=op.f("uq_currencies_iso_code")),
    )

    create_table(
        TABLES,
        "organisation_settings",
        sa.Column(
            "qualification_experience", choice("qualificationexperience", "legacy", "per_record"), nullable=False
        ),
        *flags("create_records_on_qualify"),
        *(
            sa.Column(f"{record}_creation", choice(f"{record}_creation", "automatic", "seller"), nullable=False)
            for record in ("account", "contact", "opportunity")
        ),
        sa.Column("duplicate_experience", choice("duplicateexperience", "classic", "enhanced"), nullable=False),
        *flags("duplicate_detection_enabled"),
        *optional_ids("base_currency_id"),
        *record_columns(),
        *foreign_keys("organisation_settings", ("base_currency_id", "currencies")),
        primary_key("organisation_settings"),
    )

    create_table(
        TABLES,
        "teams",
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("business_unit_id", sa.Uuid(), nullable=False),
        *record_columns(),
        *foreign_keys("teams", ("business_unit_id", "business_units")),
        primary_key("teams"),
    )

    create_table(
        TABLES,
        "users",
        *required_strings(email=320, full_name=160, language=8),
        sa.Column("business_unit_id", sa.Uuid(), nullable=False),
        *flags("is_active"),
        *record_columns(),
        *foreign_keys("users", ("business_unit_id", "business_units")),
        primary_key("users"),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )

    create_table(
        TABLES,
        "leads",
        sa.Column("topic", sa.String(length=300), nullable=False),
        *person_columns(),
        *optional_strings(company_name=100, business_phone=50, mobile_phone=50, email=320, website=200),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "lead_source",
            choice(
                "leadsource",
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
            ),
            nullable=True,
        ),
        sa.Column("rating", choice("rating", "hot", "warm", "cold"), nullable=True),
        *optional_ids("currency_id", "campaign_id"),
        sa.Column("purchase_timeframe", purchase_timeframe(), nullable=True),
        sa.Column("budget_amount", sa.BigInteger(), nullable=True),
        sa.Column(
            "budget_status",
            choice("budgetstatus", "no_committed_budget", "may_buy", "can_buy", "will_buy"),
            nullable=True,
        ),
        sa.Column("purchase_process", purchase_process(), nullable=True),
        sa.Column("decision_maker", sa.Boolean(), nullable=True),
        sa.Column("need", need(), nullable=True),
        sa.Column("qualification_comments", sa.String(length=2000), nullable=True),
        *optional_ids("parent_account_id", "parent_contact_id", "qualifying_opportunity_id", "master_lead_id"),
        *flags("merged"),
        sa.Column("state", choice("leadstate", "open", "qualified", "disqualified"), nullable=False),
        sa.Column(
            "status_reason",
            choice(
                "leadstatusreason",
                "new",
                "contacted",
                "qualified",
                "lost",
                "cannot_contact",
                "no_longer_interested",
                "canceled",
            ),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        *record_columns(),
        *address_columns(),
        *ownership_columns(),
        *owned_foreign_keys(
            "leads",
            ("campaign_id", "campaigns"),
            ("currency_id", "currencies"),
            ("master_lead_id", "leads", "SET NULL"),
        ),
        primary_key("leads"),
    )

    create_table(
        TABLES,
        "notes",
        sa.Column(
            "regarding_table",
            choice("regardingtable", "leads", "accounts", "contacts", "opportunities"),
            nullable=False,
        ),
        sa.Column("regarding_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        *optional_ids("created_by_id"),
        *optional_strings(file_name=255, mime_type=255),
        sa.Column("file_size", sa.Integer(), nullable=True),
        *record_columns(),
        *foreign_keys("notes", ("created_by_id", "users")),
        primary_key("notes"),
    )

    create_table(
        TABLES,
        "accounts",
        sa.Column("name", sa.String(length=160), nullable=False),
        *optional_strings(website=200, telephone=50, email=320),
        sa.Column("description", sa.Text(), nullable=True),
        *optional_ids("currency_id", "primary_contact_id", "originating_lead_id", "master_id"),
        sa.Column("state", customer_state(), nullable=False),
        *record_columns(),
        *address_columns(),
        *ownership_columns(),
        *owned_foreign_keys(
            "accounts",
            ("currency_id", "currencies"),
            ("master_id", "accounts"),
            ("originating_lead_id", "leads", "SET NULL"),
        ),
        primary_key("accounts"),
    )

    create_table(
        TABLES,
        "attachments",
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        *foreign_keys("attachments", ("note_id", "notes", "CASCADE")),
        primary_key("attachments", "note_id"),
    )

    create_table(
        TABLES,
        "contacts",
        *person_columns(),
        *optional_strings(email=320, business_phone=50, mobile_phone=50, website=200),
        sa.Column("description", sa.Text(), nullable=True),
        *optional_ids("currency_id", "account_id", "originating_lead_id", "master_id"),
        sa.Column("state", customer_state(), nullable=False),
        *record_columns(),
        *address_columns(),
        *ownership_columns(),
        *owned_foreign_keys(
            "contacts",
            ("account_id", "accounts", "SET NULL"),
            ("currency_id", "currencies"),
            ("master_id", "contacts"),
            ("originating_lead_id", "leads", "SET NULL"),
        ),
        primary_key("contacts"),
    )

    create_table(
        TABLES,
        "opportunities",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("customer_kind", choice("customerkind", "account", "contact"), nullable=True),
        *optional_ids("customer_id", "parent_account_id", "parent_contact_id"),
        sa.Column("estimated_revenue", sa.BigInteger(), nullable=True),
        sa.Column("estimated_close_date", sa.Date(), nullable=True),
        *optional_ids("currency_id", "campaign_id", "originating_lead_id"),
        sa.Column("purchase_timeframe", purchase_timeframe(), nullable=True),
        sa.Column("purchase_process", purchase_process(), nullable=True),
        sa.Column("decision_maker", sa.Boolean(), nullable=True),
        sa.Column("need", need(), nullable=True),
        sa.Column("qualification_comments", sa.String(length=2000), nullable=True),
        sa.Column("state", choice("opportunitystate", "open", "won", "lost"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("process_stage", sa.String(length=16), nullable=False),
        sa.Column("customer_need", sa.Text(), nullable=True),
        sa.Column("proposed_solution", sa.Text(), nullable=True),
        *flags(
            "stakeholders_identified",
            "competitors_identified",
            "sales_team_identified",
            "proposal_developed",
            "internal_review_completed",
            "proposal_presented",
            "final_proposal_completed",
            "final_proposal_presented",
        ),
        sa.Column("decision_date", sa.Date(), nullable=True),
        *flags("thank_you_note_sent", "debrief_filed"),
        *record_columns(),
        *ownership_columns(),
        *owned_foreign_keys(
            "opportunities",
            ("campaign_id", "campaigns"),
            ("currency_id", "currencies"),
            ("originating_lead_id", "leads", "SET NULL"),
            ("parent_account_id", "accounts", "SET NULL"),
            ("parent_contact_id", "contacts", "SET NULL"),
        ),
        primary_key("opportunities"),
    )

    # Foreign-key columns pointing at busy tables are indexed, or every insert or delete of a
    # referenced row scans the referencing table (a deferred check on SQLite, any delete on both).
    for table, column in FOREIGN_KEY_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)

    # Foreign keys between tables that reference each other, added once both sides exist and
    # checked at commit, so that qualify can insert an account and its primary contact together.
    for table, column, target in CROSS_REFERENCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_{column}_{target}"),
                target,
                [column],
                ["id"],
                ondelete="SET NULL",
                deferrable=True,
                initially="DEFERRED",
            )


def downgrade() -> None:
    for table, column in FOREIGN_KEY_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    for table, column, target in CROSS_REFERENCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), type_="foreignkey")
    drop_tables(TABLES)
