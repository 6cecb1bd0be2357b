"""Council policy in the database: proposed changes, and published versions that never change.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "policy versions are immutable: publish a new version or a correction instead"


def upgrade() -> None:
    op.create_table(
        "policy_change",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("council", sa.String(60), nullable=False, index=True),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "policy_version",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("council", sa.String(60), nullable=False, index=True),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("change_id", sa.String(32), nullable=False, unique=True),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("bundle_hash", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION policy_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""")
        op.execute("""CREATE TRIGGER policy_version_immutable BEFORE UPDATE OR DELETE ON policy_version
                      FOR EACH ROW EXECUTE FUNCTION policy_version_immutable()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER policy_version_no_{verb.lower()} BEFORE {verb} ON policy_version
                           BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER policy_version_immutable ON policy_version")
        op.execute("DROP FUNCTION policy_version_immutable()")
    op.drop_table("policy_version")
    op.drop_table("policy_change")
