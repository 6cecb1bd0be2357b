"""Indexes for the council reports (issue 14): a chain's rows of one action, per case in order
(latest plan, first step, budget before budget), and a council's decisions by date (bundles covered).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_chain_action_case", "ledger", ["chain", "action", "case_id", "seq"])
    op.create_index("ix_decision_council_on_date", "decision", ["council", "on_date"])


def downgrade() -> None:
    op.drop_index("ix_decision_council_on_date", "decision")
    op.drop_index("ix_ledger_chain_action_case", "ledger")
