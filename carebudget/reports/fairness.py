"""Fairness (Care Act 2014 s26, CSSG 11.7 and 11.24: a budget sufficient to meet need, set from
an indicative range): budgets set in the range against their indicative range, by who, when and
whose; counter-proposals, appeals, falls at review, and outliers named for review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section, money
from carebudget.reports.sql import Dialect

MONTHS = ("January February March April May June July August September October November December").split()
OUTLIER_ABOVE, OUTLIER_BELOW = 125, 75  # % of the indicative high / low: named for review beyond these
OUTLIERS_SHOWN = 25


ACTIONS = ("plan.submitted", "budget.active", "review.completed", "counter_proposal.made",
           "counter_proposal.refused", "appeal.made")

PROFILE_LABEL = ("CASE WHEN need_n IS NULL THEN 'not recorded' WHEN need_n < 10 THEN '0' || CAST(need_n AS VARCHAR(2)) "
                 "ELSE CAST(need_n AS VARCHAR(2)) END")


def _budgets() -> str:
    """Every budget put in place in the range (report_budget, migration 0014): each with the plan
    and budget before it, the reassessment between, and the case's indicative range, worker,
    team, area, age band and need profile as they were when it was set."""
    fell = "budget_before IS NOT NULL AND amount < budget_before"
    return (
        "b AS MATERIALIZED (SELECT case_id, seq, at, amount AS pb, low AS lo, high AS hi, "
        "COALESCE(worker, '(not assigned)') AS worker, substr(at, 6, 2) AS month, "
        "COALESCE(area, 'not recorded') AS area, COALESCE(team, 'not recorded') AS team, "
        "outcomes AS need_n, COALESCE(age_band, 'unknown') AS age_band, "
        "CASE WHEN plan_before IS NOT NULL THEN 1 ELSE 0 END AS after_plan, "
        "CASE WHEN plan_before IS NOT NULL AND amount <> plan_before THEN 1 ELSE 0 END AS changed, "
        "CASE WHEN role = 'appeals_officer' THEN 1 ELSE 0 END AS appeal_decided, "
        f"CASE WHEN {fell} THEN 1 ELSE 0 END AS fell, "
        f"CASE WHEN {fell} AND reassessed = 1 THEN 1 ELSE 0 END AS fell_reassessed, "
        "detail AS appeal_outcome FROM report_budget "
        "WHERE chain = :council AND at >= :at_from AND at < :at_to)"
    )


POSITION = ("SUM(CASE WHEN lo IS NOT NULL AND pb < lo THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lo IS NOT NULL AND pb >= lo AND pb <= hi THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lo IS NOT NULL AND pb > hi THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lo IS NOT NULL THEN pb ELSE 0 END), SUM(lo + hi)")
COLUMNS = ["budgets", "below range", "within range", "above range", "% of mid-point"]
GROUPS = (("By social worker", "worker", "social worker"), ("By team", "team", "team"), ("By area", "area", "area"),
          ("By month of the year", "month", "month"), ("By age band", "age_band", "age band"),
          ("By need profile", "need_profile", "outcomes assessed"))
OUTCOMES = ("uphold", "part_uphold", "dismiss")
SIGN_OFF = ("SUM(after_plan), SUM(changed), SUM(appeal_decided), SUM(fell), SUM(fell_reassessed), "
            + ", ".join(f"SUM(CASE WHEN appeal_outcome = '{o}' THEN 1 ELSE 0 END)" for o in OUTCOMES))
FIGURES = 5 + 5 + len(OUTCOMES)  # position, sign-off, appeal outcomes


def _query(sql: Dialect) -> str:
    """Every figure of the report in one statement: the rows are read once, then grouped."""
    def zeros(n: int) -> str:
        return ", ".join(["0"] * n)

    parts = [f"SELECT 'all' AS grp, '' AS label, COUNT(*), {POSITION}, {SIGN_OFF} FROM b"]
    exprs = {"need_profile": PROFILE_LABEL}
    parts += [f"SELECT '{key}', {exprs.get(key, key)}, COUNT(*), {POSITION}, {zeros(FIGURES - 5)} FROM b "
              f"GROUP BY {exprs.get(key, key)}" for _, key, _ in GROUPS]
    counted = ", ".join(f"SUM(CASE WHEN action = '{a}' THEN 1 ELSE 0 END)" for a in ACTIONS[3:])
    listed = ", ".join(f"'{a}'" for a in ("plan.submitted", *ACTIONS[3:]))
    parts.append(f"SELECT 'steps', '', COUNT(DISTINCT CASE WHEN action = 'plan.submitted' THEN case_id END), "
                 f"{counted}, {zeros(FIGURES - len(ACTIONS[3:]))} FROM report_step WHERE chain = :council "
                 f"AND action IN ({listed}) AND at >= :at_from AND at < :at_to")
    outlying = f"lo IS NOT NULL AND (pb * 100 > hi * {OUTLIER_ABOVE} OR pb * 100 < lo * {OUTLIER_BELOW})"
    parts.append(f"SELECT * FROM (SELECT 'outlier', case_id, seq, {sql.ymd('at', False)}, pb, lo, hi, "
                 f"{zeros(FIGURES - 4)} FROM b WHERE {outlying} ORDER BY case_id, seq LIMIT {OUTLIERS_SHOWN}) o")
    return f"WITH {_budgets()} " + " UNION ALL ".join(parts)


def _row(label: str, n: Any, below: Any, within: Any, above: Any, pb: Any, both: Any) -> list[Any]:
    # Budgets over mid-points, both summed: a ratio of sums, not an average of ratios.
    share = round(200 * int(pb or 0) / int(both), 1) if both else None
    return [label, int(n), int(below or 0), int(within or 0), int(above or 0), share]


NOTES = {"need_profile": "The number of outcomes (SI 2015/313 reg 2(2)) the case's last verified assessment "
                         "before the budget found the person unable to achieve, now or predicted: people with "
                         "the same kinds of needs should get roughly the same resources."}


def _label(key: str, value: str) -> str:
    if key == "month":
        return MONTHS[int(value) - 1]
    if key == "need_profile" and value.isdigit():
        return f"{int(value)} outcome{'s' if int(value) != 1 else ''}"
    return value


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    p = s.params()
    rows = conn.execute(text(_query(sql)), p).all()
    whole = next(r for r in rows if r[0] == "all")
    report.sections.append(Section("Budgets against their indicative range", ["all", *COLUMNS],
                                   [_row("all budgets set", *whole[2:8])],
                                   note="Every budget put in place in the range, against the case's indicative range."))
    for title, key, label in GROUPS:
        out = sorted((str(r[1]), r) for r in rows if r[0] == key)
        report.sections.append(Section(title, [label, *COLUMNS], [
            _row(_label(key, k), *r[2:8]) for k, r in out], chart=(0, 5), note=NOTES.get(key, "")))
    after_plan, changed, decided, fell, reassessed, upheld, part, dismissed = (int(v or 0) for v in whole[8:16])
    steps = next(r for r in rows if r[0] == "steps")
    plans, cps, refused, appeals = (int(v or 0) for v in steps[2:6])
    report.sections.append(Section(
        "Sign-off, counter-proposals and appeals", ["measure", "count"],
        [["cases with a plan submitted", plans], ["counter-proposals made", cps],
         ["counter-proposals refused by the rules", refused], ["appeals made", appeals],
         ["appeals decided", decided], ["of which upheld", upheld], ["of which partly upheld", part],
         ["of which dismissed", dismissed], ["budgets set after a plan", after_plan],
         ["of which differ from the plan's total", changed]],
        note="Budgets that differ from the plan's total measure the council's own share of budgets "
             "changed at sign-off."))
    report.sections.append(Section(
        "Budgets that fell", ["measure", "count"],
        [["budgets lower than the one before", fell], ["of which after a reassessment of need", reassessed]],
        note="CSSG 13.32: a budget is cut only on a reassessment showing reduced need."))
    outliers = sorted((str(r[1]), int(r[2]), int(r[3]), r[4], r[5], r[6]) for r in rows if r[0] == "outlier")
    report.sections.append(Section(
        "Outliers named for review", ["case", "set on", "weekly budget", "indicative low", "indicative high"],
        [[c, f"{day // 10000}-{day // 100 % 100:02d}-{day % 100:02d}", money(pb), money(lo), money(hi)]
         for c, _, day, pb, lo, hi in outliers],
        note=f"Budgets above {OUTLIER_ABOVE}% of the indicative high or below {OUTLIER_BELOW}% of the low "
             f"(first {OUTLIERS_SHOWN}).", case_column=0))
    report.not_held += [
        "By social worker and team: the worker holding the case when the budget was set, and the team "
        "the administrator had given them then; for budgets set before the service kept this (its "
        "upgrade of December 2026), the case's worker and team at the upgrade. 'not recorded': no "
        "worker, or a worker without a team.",
        "By need profile: the count of outcomes assessed, not which outcomes nor how severe; the units of "
        "support assessed are not compared.",
        "Appeal outcomes are counted from the budgets appeals officers put in place (the outcome rides on "
        "the budget's record); budgets of cases started before issue 11 carry no outcome.",
    ]
