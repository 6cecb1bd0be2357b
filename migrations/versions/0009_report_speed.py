"""The reports' own narrow copy of the steps they read (issue 14): `report_step`, one row per
assessment, plan, sign-off, budget and review ledger row, with the few amounts the reports sum
taken out of the payload once, when the row is appended (a trigger), instead of on every report.

Ordered by (chain, action, case_id, seq): a report reads one action's rows of one council as one
range, never the ledger's payloads. The rows already in the ledger are copied in.

The decisions' index by council, bundle and date answers "the rules bundles this report covers"
with two seeks per bundle (first and last decision in the range), not a read of every decision.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACTIONS = ("assessment.verified", "plan.submitted", "counter_proposal.made", "counter_proposal.refused",
           "appeal.made", "budget.active", "review.completed")
# (column, {action: JSON path}) -- amounts are pence; `flag` is a count or a yes/no.
AMOUNT = {"budget.active": "weekly_cost", "plan.submitted": "plan.weekly_total",
          "review.completed": "underspend", "counter_proposal.made": "proposal.weekly_amount"}
CHARGE = {"budget.active": "person_charge", "review.completed": "banked"}
DETAIL = {"budget.active": "appeal_outcome", "review.completed": "outcome"}


def _values(payload: str, action: str, postgres: bool) -> str:
    """The SELECT list of a report_step row from a ledger row's columns (`payload`, `action`)."""

    def field(path: str) -> str:
        if postgres:
            return f"(({payload})::jsonb #>> '{{{path.replace('.', ',')}}}')"
        return f"json_extract({payload}, '$.{path}')"

    def pence(path: str) -> str:
        if postgres:
            return f"CAST(ROUND(CAST({field(path)} AS NUMERIC) * 100) AS BIGINT)"
        return f"CAST(ROUND(CAST({field(path)} AS REAL) * 100) AS INTEGER)"

    def by_action(paths: dict[str, str], make: object) -> str:
        whens = " ".join(f"WHEN '{a}' THEN {make(p)}" for a, p in paths.items())  # type: ignore[operator]
        return f"CASE {action} {whens} END"

    notes = (f"jsonb_array_length(({payload})::jsonb -> 'unmet_needs')" if postgres
             else f"json_array_length({payload}, '$.unmet_needs')")
    flag = (f"CASE {action} WHEN 'review.completed' THEN CASE WHEN {field('support')} IS NULL THEN 0 ELSE 1 END "
            f"WHEN 'plan.submitted' THEN {notes} END")
    return (f"{by_action(AMOUNT, pence)}, {by_action(CHARGE, pence)}, "
            f"CAST({by_action(DETAIL, field)} AS VARCHAR(40)), {flag}")


COLUMNS = "chain, seq, case_id, action, at, role, amount, charge, detail, flag"
LISTED = ", ".join(f"'{a}'" for a in ACTIONS)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"""CREATE TABLE report_step (
        chain VARCHAR(60) NOT NULL, seq BIGINT NOT NULL, case_id VARCHAR(100) NOT NULL,
        action VARCHAR(100) NOT NULL, at VARCHAR(32) NOT NULL, role VARCHAR(40) NOT NULL,
        amount BIGINT, charge BIGINT, detail VARCHAR(40), flag INTEGER,
        PRIMARY KEY (chain, action, case_id, seq)){'' if postgres else ' WITHOUT ROWID'}""")
    if postgres:
        op.execute(f"""
            CREATE FUNCTION report_step_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.case_id IS NOT NULL AND NEW.action IN ({LISTED}) THEN
                INSERT INTO report_step ({COLUMNS}) SELECT NEW.chain, NEW.seq, NEW.case_id, NEW.action,
                  NEW.at, NEW.role, {_values('NEW.payload', 'NEW.action', True)};
              END IF;
              RETURN NULL;
            END $$""")
        op.execute("""CREATE TRIGGER report_step_add AFTER INSERT ON ledger
                      FOR EACH ROW EXECUTE FUNCTION report_step_add()""")
    else:
        op.execute(f"""CREATE TRIGGER report_step_add AFTER INSERT ON ledger
                       WHEN NEW.case_id IS NOT NULL AND NEW.action IN ({LISTED})
                       BEGIN INSERT INTO report_step ({COLUMNS}) SELECT NEW.chain, NEW.seq, NEW.case_id,
                         NEW.action, NEW.at, NEW.role, {_values('NEW.payload', 'NEW.action', False)}; END""")
    op.execute(f"""INSERT INTO report_step ({COLUMNS}) SELECT chain, seq, case_id, action, at, role,
                   {_values('payload', 'action', postgres)} FROM ledger
                   WHERE case_id IS NOT NULL AND action IN ({LISTED})""")
    op.drop_index("ix_decision_council_on_date", "decision")
    op.create_index("ix_decision_council_bundle_on_date", "decision", ["council", "bundle_hash", "on_date"])


def downgrade() -> None:
    op.drop_index("ix_decision_council_bundle_on_date", "decision")
    op.create_index("ix_decision_council_on_date", "decision", ["council", "on_date"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_step_add ON ledger")
        op.execute("DROP FUNCTION report_step_add()")
    else:
        op.execute("DROP TRIGGER report_step_add")
    op.execute("DROP TABLE report_step")
