"""The need profile (issue 14: fairness "by need profile"): `report_need`, one row per
`assessment.verified` ledger row with the number of outcomes (SI 2015/313 reg 2(2)) the verified
assessment found the person unable to achieve, now or predicted within 12 months, counted once
each. Written by a trigger as the row is appended (as `report_step`, migration 0009); the rows
already in the ledger are copied in by the same SELECT.

Ordered by (chain, case_id, seq): the fairness report finds the assessment before each budget
with one index seek.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = "chain, seq, case_id, at, outcomes"


def _count(payload: str, postgres: bool) -> str:
    """Distinct outcomes with at least one way of being unable, in `needs` and `predicted_needs`."""
    if postgres:
        def outcomes(path: str) -> str:
            found = f"(({payload})::jsonb #> '{{{path},outcomes}}')"
            return (f"SELECT key, value FROM jsonb_each(CASE WHEN jsonb_typeof({found}) = 'object' "
                    f"THEN {found} ELSE '{{}}'::jsonb END)")
        return (f"(SELECT COUNT(DISTINCT o.key) FROM ({outcomes('needs')} UNION ALL {outcomes('predicted_needs')}) o "
                "WHERE jsonb_typeof(o.value) = 'array' AND jsonb_array_length(o.value) > 0)")
    return (f"(SELECT COUNT(DISTINCT o.key) FROM (SELECT key, value FROM json_each({payload}, '$.needs.outcomes') "
            f"UNION ALL SELECT key, value FROM json_each({payload}, '$.predicted_needs.outcomes')) o "
            "WHERE json_type(o.value) = 'array' AND json_array_length(o.value) > 0)")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"""CREATE TABLE report_need (
        chain VARCHAR(60) NOT NULL, case_id VARCHAR(100) NOT NULL, seq BIGINT NOT NULL,
        at VARCHAR(32) NOT NULL, outcomes INTEGER NOT NULL,
        PRIMARY KEY (chain, case_id, seq)){'' if postgres else ' WITHOUT ROWID'}""")
    if postgres:
        op.execute(f"""
            CREATE FUNCTION report_need_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.case_id IS NOT NULL AND NEW.action = 'assessment.verified' THEN
                INSERT INTO report_need ({COLUMNS}) SELECT NEW.chain, NEW.seq, NEW.case_id, NEW.at,
                  {_count('NEW.payload', True)};
              END IF;
              RETURN NULL;
            END $$""")
        op.execute("""CREATE TRIGGER report_need_add AFTER INSERT ON ledger
                      FOR EACH ROW EXECUTE FUNCTION report_need_add()""")
    else:
        op.execute(f"""CREATE TRIGGER report_need_add AFTER INSERT ON ledger
                       WHEN NEW.case_id IS NOT NULL AND NEW.action = 'assessment.verified'
                       BEGIN INSERT INTO report_need ({COLUMNS}) SELECT NEW.chain, NEW.seq, NEW.case_id,
                         NEW.at, {_count('NEW.payload', False)}; END""")
    op.execute(f"""INSERT INTO report_need ({COLUMNS}) SELECT l.chain, l.seq, l.case_id, l.at,
                   {_count('l.payload', postgres)} FROM ledger l
                   WHERE l.case_id IS NOT NULL AND l.action = 'assessment.verified'""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_need_add ON ledger")
        op.execute("DROP FUNCTION report_need_add()")
    else:
        op.execute("DROP TRIGGER report_need_add")
    op.execute("DROP TABLE report_need")
