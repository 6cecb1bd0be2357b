"""Budgets with what came before them (issue 14, fairness): `report_budget`, one row per
`budget.active` row of `report_step`, with what the fairness report compares and groups it by,
as things stood when the budget was set:
- the case's last plan and last budget before it, and whether a review that reassessed need came
  between the two budgets (from `report_step`);
- the need profile of the last verified assessment before it (`report_need`);
- the indicative range, social worker, area (`case_list`), the worker's team (`app_user`) and the
  person's age band on the day (`case_person`: the band only, not the date of birth).

Written by a trigger as the `report_step` row is written (so as the ledger row is appended:
migration 0009). A step writes its case-list row before its ledger rows (store/steps.py), so the
trigger reads the case as that step left it. The budgets already there are copied in by the same
SELECT, with the case's circumstances as they are now (the earlier ones were not kept).

Before this, every view of the report found "the plan and budget before" with one window over
every plan, budget and review of the council in case order, then joined each budget to the case
list (its JSON amounts), the people and the users: about 1.1 to 1.4 s at 100,000 cases on both
databases. A budget's past does not change once written (the ledger is append-only), so it is
worked out once, when the budget is recorded, and the report reads one table.

Ordered by (chain, at, seq): the report reads the budgets of one council in a date range as one
range.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ("chain, at, seq, case_id, role, amount, detail, plan_before, budget_before, reassessed, outcomes, "
           "low, high, worker, team, area, age_band")
ONE_ROW = "(SELECT 1 AS one) o"


def _select(row: str, source: str, postgres: bool) -> str:
    """A report_budget row from a `budget.active` report_step row `row`: `NEW` in the trigger
    (`source` a one-row FROM), or the alias of `source` in the copy.

    As the report's window did: the last plan and budget before are the last with an amount; a
    reassessment counts when its review (flag 1: the review reassessed need) lies after that
    budget."""

    def before(action: str, column: str = "amount") -> str:
        return (f"(SELECT p.{column} FROM report_step p WHERE p.chain = {row}.chain AND p.action = '{action}' "
                f"AND p.case_id = {row}.case_id AND p.seq < {row}.seq AND p.amount IS NOT NULL "
                "ORDER BY p.seq DESC LIMIT 1)")

    def pence(key: str) -> str:
        if postgres:
            return f"CAST(ROUND(CAST((c.amounts::jsonb ->> '{key}') AS NUMERIC) * 100) AS BIGINT)"
        return f"CAST(ROUND(CAST(json_extract(c.amounts, '$.{key}') AS REAL) * 100) AS INTEGER)"

    def ymd(expr: str, is_date: bool) -> str:
        if postgres and is_date:
            return f"CAST(to_char({expr}, 'YYYYMMDD') AS INTEGER)"
        return f"CAST(replace(substr(CAST({expr} AS TEXT), 1, 10), '-', '') AS INTEGER)"

    reassessed = (f"CASE WHEN EXISTS (SELECT 1 FROM report_step r WHERE r.chain = {row}.chain "
                  f"AND r.action = 'review.completed' AND r.case_id = {row}.case_id AND r.seq < {row}.seq "
                  f"AND r.flag = 1 AND r.seq > {before('budget.active', 'seq')}) THEN 1 ELSE 0 END")
    outcomes = (f"(SELECT n.outcomes FROM report_need n WHERE n.chain = {row}.chain AND n.case_id = {row}.case_id "
                f"AND n.seq < {row}.seq ORDER BY n.seq DESC LIMIT 1)")
    age = f"({ymd(f'{row}.at', False)} - {ymd('pp.date_of_birth', True)}) / 10000"
    band = (f"CASE WHEN pp.date_of_birth IS NULL THEN 'unknown' WHEN {age} < 65 THEN '18-64' "
            f"WHEN {age} < 75 THEN '65-74' WHEN {age} < 85 THEN '75-84' ELSE '85+' END")
    return (f"SELECT {row}.chain, {row}.at, {row}.seq, {row}.case_id, {row}.role, {row}.amount, {row}.detail, "
            f"{before('plan.submitted')}, {before('budget.active')}, {reassessed}, {outcomes}, "
            f"{pence('indicative_low')}, {pence('indicative_high')}, c.assigned_to, u.team, c.area, {band} "
            f"FROM {source} LEFT JOIN case_list c ON c.case_id = {row}.case_id "
            f"LEFT JOIN case_person pp ON pp.case_id = {row}.case_id "
            "LEFT JOIN app_user u ON u.username = c.assigned_to")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"""CREATE TABLE report_budget (
        chain VARCHAR(60) NOT NULL, at VARCHAR(32) NOT NULL, seq BIGINT NOT NULL,
        case_id VARCHAR(100) NOT NULL, role VARCHAR(40) NOT NULL, amount BIGINT, detail VARCHAR(40),
        plan_before BIGINT, budget_before BIGINT, reassessed INTEGER NOT NULL, outcomes INTEGER,
        low BIGINT, high BIGINT, worker VARCHAR(200), team VARCHAR(60), area VARCHAR(60), age_band VARCHAR(8),
        PRIMARY KEY (chain, at, seq)){'' if postgres else ' WITHOUT ROWID'}""")
    if postgres:
        op.execute(f"""
            CREATE FUNCTION report_budget_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO report_budget ({COLUMNS}) {_select('NEW', ONE_ROW, postgres)};
              RETURN NULL;
            END $$""")
        op.execute("""CREATE TRIGGER report_budget_add AFTER INSERT ON report_step
                      FOR EACH ROW WHEN (NEW.action = 'budget.active') EXECUTE FUNCTION report_budget_add()""")
    else:
        op.execute(f"""CREATE TRIGGER report_budget_add AFTER INSERT ON report_step
                       WHEN NEW.action = 'budget.active'
                       BEGIN INSERT INTO report_budget ({COLUMNS}) {_select('NEW', ONE_ROW, postgres)}; END""")
    op.execute(f"INSERT INTO report_budget ({COLUMNS}) {_select('s', 'report_step s', postgres)} "
               "WHERE s.action = 'budget.active'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_budget_add ON report_step")
        op.execute("DROP FUNCTION report_budget_add()")
    else:
        op.execute("DROP TRIGGER report_budget_add")
    op.execute("DROP TABLE report_budget")
