"""Unmet need (Care Act 2014 s5 market shaping, s25(1)(e)-(f) plans; CSSG 10.45): what people
wanted and could not get, from the unmet needs of each case's latest plan in the range, by
outcome, by the provision wanted (the council's rate card, or other), by area and month, costed at the
council's rate in force on the plan's date where the provision is on the card and units are given."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section, money
from carebudget.reports.sql import Dialect

NOT_RECORDED = "not recorded"  # a plain note from before needs were structured
# A case re-submits its plan after changes are asked for: only its latest plan in the range
# counts, or one wish would be counted once per draft. report_step (migration 0009) holds each
# plan's count of needs (`flag`); report_unmet (migration 0012) holds the needs themselves.
LATEST_PLANS = (
    "SELECT case_id, seq, at, flag FROM (SELECT case_id, seq, at, flag, ROW_NUMBER() OVER "
    "(PARTITION BY case_id ORDER BY seq DESC) AS nth FROM report_step WHERE chain = :council "
    "AND action = 'plan.submitted' AND at >= :at_from AND at < :at_to) ranked WHERE nth = 1"
)
# Rates in ten-thousandths of a pound (the card allows four places); units in hundredths: the
# weekly cost in pence is (units * rate + 5000) / 10000, whole-number arithmetic on both databases,
# rounded half up as the plan's own items are (carebudget.decisions.inputs.pennies).
RATE_SCALE = 10_000


@dataclass(frozen=True)
class Rate:
    provision: str
    label: str
    since: date
    until: date  # exclusive
    rate: Decimal


def card_history(council: str, rules: Any = None) -> list[Rate]:
    """Every dated version of the council's rate card, as (provision, from, until, rate) rows;
    `rules` is a registry (default: the service's, get_registry())."""
    from carebudget.rulebook import UnknownCouncil, get_registry

    try:
        param = (rules or get_registry()).library.parameters(council).get("rates.card")
    except UnknownCouncil:
        return []
    if param is None:
        return []
    rates = []
    versions = list(param.values)
    for i, version in enumerate(versions):
        until = versions[i + 1].since if i + 1 < len(versions) else date(9999, 12, 31)
        for p in version.value or []:
            rates.append(Rate(str(p["id"]), str(p.get("label", p["id"])), version.since, until,
                              Decimal(str(p["rate"]))))
    return rates


def _rates_sql(rates: list[Rate]) -> tuple[str, dict[str, Any]]:
    """The card as a derived table of bound values (never formatted into the SQL text)."""
    if not rates:
        return ("SELECT CAST(NULL AS VARCHAR(64)) AS provision, CAST(NULL AS VARCHAR(10)) AS since, "
                "CAST(NULL AS VARCHAR(10)) AS until, CAST(NULL AS BIGINT) AS rate WHERE 1 = 0"), {}
    parts, params = [], {}
    for i, r in enumerate(rates):
        parts.append(f"SELECT CAST(:rp{i} AS VARCHAR(64)) AS provision, CAST(:rs{i} AS VARCHAR(10)) AS since, "
                     f"CAST(:ru{i} AS VARCHAR(10)) AS until, CAST(:rr{i} AS BIGINT) AS rate")
        params.update({f"rp{i}": r.provision, f"rs{i}": r.since.isoformat(), f"ru{i}": r.until.isoformat(),
                       f"rr{i}": int(r.rate * RATE_SCALE)})
    return " UNION ALL ".join(parts), params


def _query(rates: str) -> str:
    """One pass: the latest plans once (materialised), their needs costed, then every grouping the
    report shows as tagged rows (kind, group, words, needs, cases, costed needs, pence, units)."""
    words = "lower(trim(COALESCE(words, '')))"
    what = f"COALESCE(provision, '{NOT_RECORDED}')"
    agg = "COUNT(*), COUNT(DISTINCT case_id), COUNT(cost), SUM(cost), SUM(units)"
    return (
        f"WITH p AS MATERIALIZED ({LATEST_PLANS}), "
        "n AS MATERIALIZED (SELECT u.case_id, u.at, u.outcome, u.provision, u.units, u.words, "
        f"COALESCE(c.area, '{NOT_RECORDED}') AS area, "
        "CASE WHEN u.units IS NOT NULL THEN (u.units * r.rate + 5000) / 10000 END AS cost "
        "FROM p JOIN report_unmet u ON u.chain = :council AND u.seq = p.seq "
        "LEFT JOIN case_list c ON c.case_id = u.case_id "
        f"LEFT JOIN ({rates}) r ON r.provision = u.provision AND substr(u.at, 1, 10) >= r.since "
        "AND substr(u.at, 1, 10) < r.until WHERE p.flag > 0) "
        "SELECT 'plans', '', '', COUNT(*), SUM(CASE WHEN flag > 0 THEN 1 ELSE 0 END), 0, SUM(flag), 0 FROM p "
        f"UNION ALL SELECT 'total', '', '', {agg} FROM n "
        f"UNION ALL SELECT 'outcome', COALESCE(outcome, '{NOT_RECORDED}'), '', {agg} FROM n "
        f"GROUP BY COALESCE(outcome, '{NOT_RECORDED}') "
        f"UNION ALL SELECT 'provision', {what}, '', {agg} FROM n GROUP BY {what} "
        f"UNION ALL SELECT 'wanted', {what}, {words}, {agg} FROM n GROUP BY {what}, {words} "
        f"UNION ALL SELECT 'month', substr(at, 1, 7), '', {agg} FROM n GROUP BY substr(at, 1, 7) "
        f"UNION ALL SELECT 'area', area, '', {agg} FROM n GROUP BY area"
    )


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    rates = card_history(s.council, s.rules)
    rates_sql, rate_params = _rates_sql(rates)
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for kind, group, words, *figures in conn.execute(text(_query(rates_sql)), {**s.params(), **rate_params}):
        groups[str(kind)].append((str(group), str(words), *(int(f or 0) for f in figures)))
    plans = groups["plans"][0] if groups["plans"] else ("", "", 0, 0, 0, 0, 0)
    total = groups["total"][0] if groups["total"] else ("", "", 0, 0, 0, 0, 0)
    report.sections.append(Section(
        "Plans and unmet need",
        ["plans", "plans with unmet need", "unmet needs", "costed needs", "weekly cost (£)", "a year (£)"],
        [[plans[2], plans[3], plans[5], total[4], money(total[5]), money(total[5] * 52)]],
        note="Each case's latest plan submitted in the range. A need is costed when it names a provision "
             "on the council's rate card and the units a week: units x the rate in force on the plan's date."))
    labels = {r.provision: r.label for r in rates}  # the latest label of each provision
    by = _ordered

    report.sections.append(Section(
        "By outcome", ["outcome", "needs", "cases", "costed needs", "weekly cost (£)"],
        [[g, n, k, c, money(p)] for g, _, n, k, c, p, _ in by(groups["outcome"])], chart=(0, 1),
        note="The Care Act outcome (SI 2015/313 reg 2(2)) each need is about; "
             f"'{NOT_RECORDED}': a plain note written before needs were recorded against an outcome."))
    report.sections.append(Section(
        "By provision wanted",
        ["provision", "rate card", "needs", "cases", "units a week", "costed needs", "weekly cost (£)"],
        [[g, labels.get(g, {"other": "not on the card", NOT_RECORDED: "a plain note"}.get(g, "not on the card")), n, k,
          _units(u), c, money(p)] for g, _, n, k, c, p, u in by(groups["provision"])], chart=(0, 2),
        note="What was wanted, chosen from the council's rate card, or 'other' (not on the card: counted, "
             "not costed). Export this report (CSV) for the market position statement."))
    report.sections.append(Section(
        "By what was wanted", ["provision", "what was wanted", "needs", "cases"],
        [[g, w, n, k] for g, w, n, k, _, _, _ in by(groups["wanted"])],
        note="The words of each need, grouped within the provision wanted (case and spaces ignored)."))
    report.sections.append(Section(
        "By area", ["area", "needs", "cases", "costed needs", "weekly cost (£)"],
        [[g, n, k, c, money(p)] for g, _, n, k, c, p, _ in by(groups["area"])], chart=(0, 1),
        note="The person's area as recorded at intake, from the council's list of localities; "
             f"'{NOT_RECORDED}': a case opened without one, or before areas were recorded."))
    report.sections.append(Section(
        "Over time", ["month", "needs", "cases", "weekly cost (£)"],
        [[g, n, k, money(p)] for g, _, n, k, _, p, _ in sorted(groups["month"])],
        chart=(0, 1), note="By the month the plan was submitted."))
    report.not_held += [
        "Unmet needs recorded before they were chosen from the council's rate card are plain notes: "
        f"counted under '{NOT_RECORDED}', by their words, and not costed.",
        "A need for a provision not on the card, or without units a week, is counted but not costed.",
    ]


def _ordered(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Most needs first, then by name: the table and chart read from the largest."""
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


def _units(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(Decimal("0.01"))
