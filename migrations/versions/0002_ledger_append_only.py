"""The ledger refuses UPDATE and DELETE: append-only in the database, not just in our code.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "ledger is append-only: rows cannot be changed or deleted"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""")
        op.execute("""CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
                      FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER ledger_no_{verb.lower()} BEFORE {verb} ON ledger
                           BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_append_only ON ledger")
        op.execute("DROP FUNCTION ledger_append_only()")
    else:
        op.execute("DROP TRIGGER ledger_no_update")
        op.execute("DROP TRIGGER ledger_no_delete")
