"""Users belong to a council (issue 11): staff see and act on their own council's cases and policy.

Existing users are the demo council's; national roles (national_admin) belong to no council.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("council", sa.String(60), nullable=True))
        batch.create_index("ix_app_user_council", ["council"])
    op.execute("UPDATE app_user SET council = 'demo' WHERE role <> 'national_admin'")


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_index("ix_app_user_council")
        batch.drop_column("council")
