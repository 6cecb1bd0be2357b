"""The person's area (issue 14): the locality a case is recorded in at intake, from the council's
list (parameter `case.areas`), kept on the case-list row so the reports group unmet need and
fairness by it. Cases opened before have none ("not recorded"): nothing to copy in, since their
ledger rows hold no area.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_list", sa.Column("area", sa.String(60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_list") as batch:
        batch.drop_column("area")
