"""duplicate detection rules, match codes, find-all jobs and the merge journal

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:24:40.708128
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duplicate_rules',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('base_table', sa.Enum('leads', 'accounts', 'contacts', 'opportunities', name='base_table', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('matching_table', sa.Enum('leads', 'accounts', 'contacts', 'opportunities', name='matching_table', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('case_sensitive', sa.Boolean(), nullable=False),
    sa.Column('exclude_inactive', sa.Boolean(), nullable=False),
    sa.Column('default_region', sa.String(length=2), nullable=False),
    sa.Column('state', sa.Enum('unpublished', 'publishing', 'published', name='rulestate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_builtin', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publish_done', sa.Integer(), nullable=False),
    sa.Column('publish_total', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_rules'))
    )
    op.create_table('duplicate_match_codes',
    sa.Column('rule_id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['duplicate_rules.id'], name=op.f('fk_duplicate_match_codes_rule_id_duplicate_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'record_id', name=op.f('pk_duplicate_match_codes'))
    )
    with op.batch_alter_table('duplicate_match_codes', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_match_codes_lookup', ['rule_id', 'code'], unique=False)

    op.create_table('duplicate_rule_conditions',
    sa.Column('rule_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('base_column', sa.String(length=64), nullable=False),
    sa.Column('matching_column', sa.String(length=64), nullable=False),
    sa.Column('criterion', sa.Enum('exact_match', 'same_first_characters', 'same_last_characters', 'same_date', 'same_date_and_time', 'exact_picklist', 'normalized', 'similar', name='criterion', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('ignore_blank', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['duplicate_rules.id'], name=op.f('fk_duplicate_rule_conditions_rule_id_duplicate_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'position', name=op.f('pk_duplicate_rule_conditions'))
    )
    op.create_table('duplicate_jobs',
    sa.Column('table_name', sa.Enum('leads', 'accounts', 'contacts', 'opportunities', name='table_name', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'completed', 'failed', name='jobstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('set_count', sa.Integer(), nullable=False),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_duplicate_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_jobs'))
    )
    op.create_table('merge_journal',
    sa.Column('table_name', sa.Enum('leads', 'accounts', 'contacts', 'opportunities', name='table_name', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('master_id', sa.Uuid(), nullable=False),
    sa.Column('subordinate_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.Enum('merged', 'undone', name='mergestate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('merged_by_id', sa.Uuid(), nullable=True),
    sa.Column('undone_by_id', sa.Uuid(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('master_before', sa.JSON(), nullable=False),
    sa.Column('subordinate_before', sa.JSON(), nullable=False),
    sa.Column('master_version_after', sa.Integer(), nullable=False),
    sa.Column('subordinate_version_after', sa.Integer(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_by_id'], ['users.id'], name=op.f('fk_merge_journal_merged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], name=op.f('fk_merge_journal_undone_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merge_journal'))
    )
    with op.batch_alter_table('merge_journal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merge_journal_master_id'), ['master_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_merge_journal_subordinate_id'), ['subordinate_id'], unique=False)

    op.create_table('duplicate_sets',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=False),
    sa.Column('rule_id', sa.Uuid(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['duplicate_jobs.id'], name=op.f('fk_duplicate_sets_job_id_duplicate_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['duplicate_rules.id'], name=op.f('fk_duplicate_sets_rule_id_duplicate_rules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_sets'))
    )
    with op.batch_alter_table('duplicate_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_sets_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_sets_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index('uq_duplicate_sets_job_position', ['job_id', 'position'], unique=True)

    op.create_table('duplicate_set_members',
    sa.Column('set_id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['duplicate_sets.id'], name=op.f('fk_duplicate_set_members_set_id_duplicate_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('set_id', 'record_id', name=op.f('pk_duplicate_set_members'))
    )
    with op.batch_alter_table('duplicate_set_members', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_set_members_record', ['record_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('language', existing_type=sa.String(length=8), nullable=True)

    with op.batch_alter_table('organisation_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detect_duplicates_leads', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('detect_duplicates_accounts', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('detect_duplicates_contacts', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('detect_duplicates_opportunities', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('default_phone_region', sa.String(length=2), nullable=False, server_default='ES'))
        batch_op.add_column(sa.Column('builtin_duplicate_rules_created', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    op.execute("UPDATE users SET language = 'en' WHERE language IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('language', existing_type=sa.String(length=8), nullable=False)

    with op.batch_alter_table('organisation_settings', schema=None) as batch_op:
        batch_op.drop_column('builtin_duplicate_rules_created')
        batch_op.drop_column('default_phone_region')
        batch_op.drop_column('detect_duplicates_opportunities')
        batch_op.drop_column('detect_duplicates_contacts')
        batch_op.drop_column('detect_duplicates_accounts')
        batch_op.drop_column('detect_duplicates_leads')

    with op.batch_alter_table('duplicate_set_members', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_set_members_record')

    op.drop_table('duplicate_set_members')
    with op.batch_alter_table('duplicate_sets', schema=None) as batch_op:
        batch_op.drop_index('uq_duplicate_sets_job_position')
        batch_op.drop_index(batch_op.f('ix_duplicate_sets_rule_id'))
        batch_op.drop_index(batch_op.f('ix_duplicate_sets_job_id'))

    op.drop_table('duplicate_sets')
    with op.batch_alter_table('merge_journal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merge_journal_subordinate_id'))
        batch_op.drop_index(batch_op.f('ix_merge_journal_master_id'))

    op.drop_table('merge_journal')
    op.drop_table('duplicate_jobs')
    op.drop_table('duplicate_rule_conditions')
    with op.batch_alter_table('duplicate_match_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_match_codes_lookup')

    op.drop_table('duplicate_match_codes')
    op.drop_table('duplicate_rules')
