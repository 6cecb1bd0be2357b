"""Initial store: ledger, case list (personal data apart), decisions, rule bundles, users.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:28:37.492060
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('case_list',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('council', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('opened', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('amounts', sa.Text(), nullable=False),
    sa.Column('assigned_to', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('case_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_list_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index('ix_case_list_due', ['due', 'case_id'], unique=False)
        batch_op.create_index('ix_case_list_stage_due', ['stage', 'due', 'case_id'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('council', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('bundle_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_key')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_bundle_hash'), ['bundle_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_case_id'), ['case_id'], unique=False)

    op.create_table('ledger',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('personal', sa.Text(), nullable=True),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_key')
    )
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_case_id'), ['case_id'], unique=False)

    op.create_table('ledger_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rule_bundle',
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('council', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('published_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hash')
    )
    with op.batch_alter_table('rule_bundle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_bundle_council'), ['council'], unique=False)

    op.create_table('case_person',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_list.case_id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade() -> None:
    op.drop_table('case_person')
    with op.batch_alter_table('rule_bundle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_bundle_council'))

    op.drop_table('rule_bundle')
    op.drop_table('ledger_head')
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_case_id'))

    op.drop_table('ledger')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_case_id'))
        batch_op.drop_index(batch_op.f('ix_decision_bundle_hash'))

    op.drop_table('decision')
    with op.batch_alter_table('case_list', schema=None) as batch_op:
        batch_op.drop_index('ix_case_list_stage_due')
        batch_op.drop_index('ix_case_list_due')
        batch_op.drop_index(batch_op.f('ix_case_list_assigned_to'))

    op.drop_table('case_list')
    op.drop_table('app_user')
