"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 20:38:08.072614
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

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


def upgrade() -> None:
    op.create_table('business_units',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['business_units.id'], name=op.f('fk_business_units_parent_id_business_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_units'))
    )
    with op.batch_alter_table('business_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('state', sa.Enum('active', 'inactive', name='campaignstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('code', name=op.f('uq_campaigns_code'))
    )
    op.create_table('currencies',
    sa.Column('iso_code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('symbol', sa.String(length=8), nullable=False),
    sa.Column('exchange_rate', sa.BigInteger(), nullable=False),
    sa.Column('is_base', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_currencies')),
    sa.UniqueConstraint('iso_code', name=op.f('uq_currencies_iso_code'))
    )
    op.create_table('organisation_settings',
    sa.Column('qualification_experience', sa.Enum('legacy', 'per_record', name='qualificationexperience', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('create_records_on_qualify', sa.Boolean(), nullable=False),
    sa.Column('account_creation', sa.Enum('automatic', 'seller', name='account_creation', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact_creation', sa.Enum('automatic', 'seller', name='contact_creation', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('opportunity_creation', sa.Enum('automatic', 'seller', name='opportunity_creation', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('duplicate_experience', sa.Enum('classic', 'enhanced', name='duplicateexperience', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('duplicate_detection_enabled', sa.Boolean(), nullable=False),
    sa.Column('base_currency_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['base_currency_id'], ['currencies.id'], name=op.f('fk_organisation_settings_base_currency_id_currencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_settings'))
    )
    op.create_table('teams',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('business_unit_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['business_unit_id'], ['business_units.id'], name=op.f('fk_teams_business_unit_id_business_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_business_unit_id'), ['business_unit_id'], unique=False)

    op.create_table('users',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('full_name', sa.String(length=160), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('business_unit_id', sa.Uuid(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['business_unit_id'], ['business_units.id'], name=op.f('fk_users_business_unit_id_business_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_business_unit_id'), ['business_unit_id'], unique=False)

    op.create_table('leads',
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('first_name', sa.String(length=50), nullable=True),
    sa.Column('last_name', sa.String(length=50), nullable=False),
    sa.Column('full_name', sa.String(length=160), nullable=False),
    sa.Column('job_title', sa.String(length=100), nullable=True),
    sa.Column('company_name', sa.String(length=100), nullable=True),
    sa.Column('business_phone', sa.String(length=50), nullable=True),
    sa.Column('mobile_phone', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('lead_source', sa.Enum('advertisement', 'employee_referral', 'external_referral', 'partner', 'public_relations', 'seminar', 'trade_show', 'web', 'word_of_mouth', 'other', name='leadsource', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('rating', sa.Enum('hot', 'warm', 'cold', name='rating', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('currency_id', sa.Uuid(), nullable=True),
    sa.Column('campaign_id', sa.Uuid(), nullable=True),
    sa.Column('purchase_timeframe', sa.Enum('immediate', 'this_quarter', 'next_quarter', 'this_year', 'unknown', name='purchasetimeframe', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('budget_amount', sa.BigInteger(), nullable=True),
    sa.Column('budget_status', sa.Enum('no_committed_budget', 'may_buy', 'can_buy', 'will_buy', name='budgetstatus', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('purchase_process', sa.Enum('individual', 'committee', 'unknown', name='purchaseprocess', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('decision_maker', sa.Boolean(), nullable=True),
    sa.Column('need', sa.Enum('must_have', 'should_have', 'good_to_have', 'no_need', name='need', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('qualification_comments', sa.String(length=2000), nullable=True),
    sa.Column('parent_account_id', sa.Uuid(), nullable=True),
    sa.Column('parent_contact_id', sa.Uuid(), nullable=True),
    sa.Column('qualifying_opportunity_id', sa.Uuid(), nullable=True),
    sa.Column('master_lead_id', sa.Uuid(), nullable=True),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('open', 'qualified', 'disqualified', name='leadstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_reason', sa.Enum('new', 'contacted', 'qualified', 'lost', 'cannot_contact', 'no_longer_interested', 'canceled', name='leadstatusreason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address_line1', sa.String(length=250), nullable=True),
    sa.Column('address_line2', sa.String(length=250), nullable=True),
    sa.Column('address_line3', sa.String(length=250), nullable=True),
    sa.Column('address_city', sa.String(length=80), nullable=True),
    sa.Column('address_state_or_province', sa.String(length=50), nullable=True),
    sa.Column('address_postal_code', sa.String(length=20), nullable=True),
    sa.Column('address_country', sa.String(length=80), nullable=True),
    sa.Column('owner_user_id', sa.Uuid(), nullable=True),
    sa.Column('owner_team_id', sa.Uuid(), nullable=True),
    sa.Column('owning_business_unit_id', sa.Uuid(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('modified_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_leads_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_leads_created_by_id_users')),
    sa.ForeignKeyConstraint(['currency_id'], ['currencies.id'], name=op.f('fk_leads_currency_id_currencies')),
    sa.ForeignKeyConstraint(['master_lead_id'], ['leads.id'], name=op.f('fk_leads_master_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['modified_by_id'], ['users.id'], name=op.f('fk_leads_modified_by_id_users')),
    sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'], name=op.f('fk_leads_owner_team_id_teams')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_leads_owner_user_id_users')),
    sa.ForeignKeyConstraint(['owning_business_unit_id'], ['business_units.id'], name=op.f('fk_leads_owning_business_unit_id_business_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_leads_owner_state_created', ['owner_user_id', 'state', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_owner_user_id'), ['owner_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_parent_account_id'), ['parent_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_parent_contact_id'), ['parent_contact_id'], unique=False)
        batch_op.create_index('ix_leads_state_created', ['state', 'created_at', 'id'], unique=False)

    op.create_table('notes',
    sa.Column('regarding_table', sa.Enum('leads', 'accounts', 'contacts', 'opportunities', name='regardingtable', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('regarding_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('mime_type', sa.String(length=255), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_notes_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index('ix_notes_regarding', ['regarding_table', 'regarding_id', 'created_at'], unique=False)

    op.create_table('accounts',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('telephone', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('currency_id', sa.Uuid(), nullable=True),
    sa.Column('primary_contact_id', sa.Uuid(), nullable=True),
    sa.Column('originating_lead_id', sa.Uuid(), nullable=True),
    sa.Column('master_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.Enum('active', 'inactive', name='customerstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address_line1', sa.String(length=250), nullable=True),
    sa.Column('address_line2', sa.String(length=250), nullable=True),
    sa.Column('address_line3', sa.String(length=250), nullable=True),
    sa.Column('address_city', sa.String(length=80), nullable=True),
    sa.Column('address_state_or_province', sa.String(length=50), nullable=True),
    sa.Column('address_postal_code', sa.String(length=20), nullable=True),
    sa.Column('address_country', sa.String(length=80), nullable=True),
    sa.Column('owner_user_id', sa.Uuid(), nullable=True),
    sa.Column('owner_team_id', sa.Uuid(), nullable=True),
    sa.Column('owning_business_unit_id', sa.Uuid(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('modified_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_accounts_created_by_id_users')),
    sa.ForeignKeyConstraint(['currency_id'], ['currencies.id'], name=op.f('fk_accounts_currency_id_currencies')),
    sa.ForeignKeyConstraint(['master_id'], ['accounts.id'], name=op.f('fk_accounts_master_id_accounts')),
    sa.ForeignKeyConstraint(['modified_by_id'], ['users.id'], name=op.f('fk_accounts_modified_by_id_users')),
    sa.ForeignKeyConstraint(['originating_lead_id'], ['leads.id'], name=op.f('fk_accounts_originating_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'], name=op.f('fk_accounts_owner_team_id_teams')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_accounts_owner_user_id_users')),
    sa.ForeignKeyConstraint(['owning_business_unit_id'], ['business_units.id'], name=op.f('fk_accounts_owning_business_unit_id_business_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_originating_lead_id'), ['originating_lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('attachments',
    sa.Column('note_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_attachments_note_id_notes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('note_id', name=op.f('pk_attachments'))
    )
    op.create_table('contacts',
    sa.Column('first_name', sa.String(length=50), nullable=True),
    sa.Column('last_name', sa.String(length=50), nullable=False),
    sa.Column('full_name', sa.String(length=160), nullable=False),
    sa.Column('job_title', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('business_phone', sa.String(length=50), nullable=True),
    sa.Column('mobile_phone', sa.String(length=50), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('currency_id', sa.Uuid(), nullable=True),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('originating_lead_id', sa.Uuid(), nullable=True),
    sa.Column('master_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.Enum('active', 'inactive', name='customerstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address_line1', sa.String(length=250), nullable=True),
    sa.Column('address_line2', sa.String(length=250), nullable=True),
    sa.Column('address_line3', sa.String(length=250), nullable=True),
    sa.Column('address_city', sa.String(length=80), nullable=True),
    sa.Column('address_state_or_province', sa.String(length=50), nullable=True),
    sa.Column('address_postal_code', sa.String(length=20), nullable=True),
    sa.Column('address_country', sa.String(length=80), nullable=True),
    sa.Column('owner_user_id', sa.Uuid(), nullable=True),
    sa.Column('owner_team_id', sa.Uuid(), nullable=True),
    sa.Column('owning_business_unit_id', sa.Uuid(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('modified_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contacts_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_contacts_created_by_id_users')),
    sa.ForeignKeyConstraint(['currency_id'], ['currencies.id'], name=op.f('fk_contacts_currency_id_currencies')),
    sa.ForeignKeyConstraint(['master_id'], ['contacts.id'], name=op.f('fk_contacts_master_id_contacts')),
    sa.ForeignKeyConstraint(['modified_by_id'], ['users.id'], name=op.f('fk_contacts_modified_by_id_users')),
    sa.ForeignKeyConstraint(['originating_lead_id'], ['leads.id'], name=op.f('fk_contacts_originating_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'], name=op.f('fk_contacts_owner_team_id_teams')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_contacts_owner_user_id_users')),
    sa.ForeignKeyConstraint(['owning_business_unit_id'], ['business_units.id'], name=op.f('fk_contacts_owning_business_unit_id_business_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_full_name'), ['full_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_originating_lead_id'), ['originating_lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('opportunities',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('customer_kind', sa.Enum('account', 'contact', name='customerkind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('parent_account_id', sa.Uuid(), nullable=True),
    sa.Column('parent_contact_id', sa.Uuid(), nullable=True),
    sa.Column('estimated_revenue', sa.BigInteger(), nullable=True),
    sa.Column('estimated_close_date', sa.Date(), nullable=True),
    sa.Column('currency_id', sa.Uuid(), nullable=True),
    sa.Column('campaign_id', sa.Uuid(), nullable=True),
    sa.Column('originating_lead_id', sa.Uuid(), nullable=True),
    sa.Column('purchase_timeframe', sa.Enum('immediate', 'this_quarter', 'next_quarter', 'this_year', 'unknown', name='purchasetimeframe', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('purchase_process', sa.Enum('individual', 'committee', 'unknown', name='purchaseprocess', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('decision_maker', sa.Boolean(), nullable=True),
    sa.Column('need', sa.Enum('must_have', 'should_have', 'good_to_have', 'no_need', name='need', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('qualification_comments', sa.String(length=2000), nullable=True),
    sa.Column('state', sa.Enum('open', 'won', 'lost', name='opportunitystate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('process_stage', sa.String(length=16), nullable=False),
    sa.Column('customer_need', sa.Text(), nullable=True),
    sa.Column('proposed_solution', sa.Text(), nullable=True),
    sa.Column('stakeholders_identified', sa.Boolean(), nullable=False),
    sa.Column('competitors_identified', sa.Boolean(), nullable=False),
    sa.Column('sales_team_identified', sa.Boolean(), nullable=False),
    sa.Column('proposal_developed', sa.Boolean(), nullable=False),
    sa.Column('internal_review_completed', sa.Boolean(), nullable=False),
    sa.Column('proposal_presented', sa.Boolean(), nullable=False),
    sa.Column('final_proposal_completed', sa.Boolean(), nullable=False),
    sa.Column('final_proposal_presented', sa.Boolean(), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('thank_you_note_sent', sa.Boolean(), nullable=False),
    sa.Column('debrief_filed', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner_user_id', sa.Uuid(), nullable=True),
    sa.Column('owner_team_id', sa.Uuid(), nullable=True),
    sa.Column('owning_business_unit_id', sa.Uuid(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('modified_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_opportunities_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_opportunities_created_by_id_users')),
    sa.ForeignKeyConstraint(['currency_id'], ['currencies.id'], name=op.f('fk_opportunities_currency_id_currencies')),
    sa.ForeignKeyConstraint(['modified_by_id'], ['users.id'], name=op.f('fk_opportunities_modified_by_id_users')),
    sa.ForeignKeyConstraint(['originating_lead_id'], ['leads.id'], name=op.f('fk_opportunities_originating_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'], name=op.f('fk_opportunities_owner_team_id_teams')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_opportunities_owner_user_id_users')),
    sa.ForeignKeyConstraint(['owning_business_unit_id'], ['business_units.id'], name=op.f('fk_opportunities_owning_business_unit_id_business_units')),
    sa.ForeignKeyConstraint(['parent_account_id'], ['accounts.id'], name=op.f('fk_opportunities_parent_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_contact_id'], ['contacts.id'], name=op.f('fk_opportunities_parent_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunities_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_originating_lead_id'), ['originating_lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_owner_user_id'), ['owner_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_parent_account_id'), ['parent_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_parent_contact_id'), ['parent_contact_id'], unique=False)

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
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunities_parent_contact_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_parent_account_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_originating_lead_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_customer_id'))

    op.drop_table('opportunities')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_originating_lead_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_full_name'))
        batch_op.drop_index(batch_op.f('ix_contacts_account_id'))

    op.drop_table('contacts')
    op.drop_table('attachments')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_originating_lead_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_name'))

    op.drop_table('accounts')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index('ix_notes_regarding')

    op.drop_table('notes')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_state_created')
        batch_op.drop_index(batch_op.f('ix_leads_parent_contact_id'))
        batch_op.drop_index(batch_op.f('ix_leads_parent_account_id'))
        batch_op.drop_index(batch_op.f('ix_leads_owner_user_id'))
        batch_op.drop_index('ix_leads_owner_state_created')
        batch_op.drop_index('ix_leads_created')

    op.drop_table('leads')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_business_unit_id'))

    op.drop_table('users')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_business_unit_id'))

    op.drop_table('teams')
    op.drop_table('organisation_settings')
    op.drop_table('currencies')
    op.drop_table('campaigns')
    with op.batch_alter_table('business_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_units_parent_id'))

    op.drop_table('business_units')
