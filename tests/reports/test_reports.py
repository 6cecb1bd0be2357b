"""Each report's figures equal the same figures worked out here, in Python, from what the store
returns for each case: its decision records, its ledger rows and its case-list row."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.caseload import generate
from carebudget.reports import ReportError, run
from carebudget.reports.cld import ROWS_SHOWN as CLD_ROWS_SHOWN
from carebudget.reports.export import stream_csv
from carebudget.rulebook.registry import Registry
from carebudget.settings import REPO_ROOT

TODAY = date(2026, 9, 30)
START, END = date(2025, 10, 1), date(2026, 9, 30)  # the rules bundle changes on 2026-04-06
N = 120


@pytest.fixture
def caseload(store: Any) -> dict[str, Any]:
    generate(store, N, TODAY)
    events: dict[str, list[Any]] = defaultdict(list)
    for action in ("plan.submitted", "budget.active", "review.completed", "assessment.verified",
                   "counter_proposal.made", "appeal.made", "case.opened", "user.created", "user.updated"):
        for e in store.ledger_events(action):
            events[action].append(e)
    rows, _ = store.list_cases({"council": "demo"}, {"number": 1, "size": 500}, role="compliance")
    cases = {r.case_id: r for r in rows}
    decisions = {cid: [d.record for d in store.case_decisions(cid, role="compliance")] for cid in cases}
    return {"events": events, "cases": cases, "decisions": decisions, "store": store}


def areas(load: dict[str, Any]) -> dict[str, str]:
    """Each case's area as its case.opened ledger row recorded it at intake."""
    return {e.case_id: e.payload["case"].get("area") or "not recorded" for e in load["events"]["case.opened"]
            if "case" in e.payload}


def teams(load: dict[str, Any]) -> dict[str, str]:
    """Each user's team now, from the users' ledger rows (created, then each change in order)."""
    found: dict[str, str] = {}
    rows = sorted(load["events"]["user.created"] + load["events"]["user.updated"], key=lambda e: e.seq)
    for e in rows:
        if "team" in e.payload:
            found[e.payload["username"]] = e.payload["team"] or "not recorded"
    return found


def need_profiles(load: dict[str, Any]) -> Any:
    """(case, budget row) -> "N outcomes": the outcomes the case's last verified assessment before
    the budget found unable to be achieved, now or predicted, counted once each."""
    verified = sorted(load["events"]["assessment.verified"], key=lambda e: e.seq)

    def profile(case_id: str, seq: int) -> str:
        before = [e for e in verified if e.case_id == case_id and e.seq < seq]
        if not before:
            return "not recorded"
        p = before[-1].payload
        found = {o for part in ("needs", "predicted_needs") for o, ways in ((p.get(part) or {}).get("outcomes") or {}).items()
                 if ways}
        return f"{len(found)} outcome{'s' if len(found) != 1 else ''}"
    return profile


def in_range(at: Any) -> bool:
    return START <= at.date() <= END


def pence(text: str) -> int:
    return int(Decimal(text) * 100)


def indicative(load: dict[str, Any], case_id: str) -> tuple[int, int] | None:
    for record in load["decisions"][case_id]:
        if record["kind"] == "indicative-budget":
            b = record["indicative_budget"]
            return pence(b["weekly_low"]), pence(b["weekly_high"])
    return None


def card_rates(on: date) -> dict[str, Decimal]:
    """The demo council's rate card in force on a day, read from its rule file here."""
    raw = yaml.safe_load((REPO_ROOT / "rules/councils/demo/parameters/rates.yaml").read_text())
    versions = sorted(raw["rates.card"]["values"].items())
    card = [v["value"] for since, v in versions if since <= on][-1]
    return {p["id"]: Decimal(str(p["rate"])) for p in card}


def need_cost(at: Any, need: Any) -> int | None:
    """A need's weekly cost in pence: units x the rate on the plan's date, or None if not costed."""
    if isinstance(need, str) or need.get("units") is None:
        return None
    rate = card_rates(at.date()).get(need["provision"])
    return None if rate is None else pence(str((Decimal(need["units"]) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)))


def test_unmet_need_counts_and_costs_each_case_latest_plan_needs_by_outcome_provision_words_and_month(
        caseload: dict[str, Any]) -> None:
    latest: dict[str, Any] = {}
    for e in caseload["events"]["plan.submitted"]:
        if in_range(e.at) and (e.case_id not in latest or e.seq > latest[e.case_id].seq):
            latest[e.case_id] = e
    needs = [(e, n) for e in latest.values() for n in e.payload["unmet_needs"]]
    assert any(isinstance(n, str) for _, n in needs) and any(isinstance(n, dict) for _, n in needs)

    def tally(key: Any) -> dict[Any, tuple[int, int, int]]:
        count: Counter[Any] = Counter()
        cases: dict[Any, set[str]] = defaultdict(set)
        cost: Counter[Any] = Counter()
        for e, n in needs:
            k = key(e, n)
            count[k] += 1
            cases[k].add(e.case_id)
            cost[k] += need_cost(e.at, n) or 0
        return {k: (count[k], len(cases[k]), cost[k]) for k in count}

    report = run(caseload["store"].engine, "unmet-need", "demo", START, END, today=TODAY)
    costs = [c for e, n in needs if (c := need_cost(e.at, n)) is not None]
    assert costs and report.section("Plans and unmet need").rows[0] == [
        len(latest), sum(1 for e in latest.values() if e.payload["unmet_needs"]), len(needs), len(costs),
        Decimal(sum(costs)) / 100, Decimal(sum(costs) * 52) / 100]
    outcome = tally(lambda e, n: "not recorded" if isinstance(n, str) else n["outcome"])
    assert {r[0]: (r[1], r[2], Decimal(pence(str(r[4])))) for r in report.section("By outcome").rows} == {
        k: (n, c, Decimal(p)) for k, (n, c, p) in outcome.items()}
    provision = tally(lambda e, n: "not recorded" if isinstance(n, str) else n["provision"])
    got = {r[0]: (r[2], r[3], pence(str(r[6]))) for r in report.section("By provision wanted").rows}
    assert got == provision and "other" in got and got["other"][2] == 0
    wanted = tally(lambda e, n: ("not recorded", n.strip().lower()) if isinstance(n, str)
                   else (n["provision"], n["words"].strip().lower()))
    assert {(r[0], r[1]): (r[2], r[3]) for r in report.section("By what was wanted").rows} == {
        k: v[:2] for k, v in wanted.items()}
    month = tally(lambda e, n: e.at.strftime("%Y-%m"))
    assert {r[0]: (r[1], r[2], pence(str(r[3]))) for r in report.section("Over time").rows} == month
    where = areas(caseload)
    by_area = tally(lambda e, n: where[e.case_id])
    assert {r[0]: (r[1], r[2], pence(str(r[4]))) for r in report.section("By area").rows} == by_area
    assert "not recorded" in by_area and len(by_area) > 3


def test_unmet_need_is_costed_at_the_rate_in_force_on_each_plans_date(
        caseload: dict[str, Any], tmp_path: Path) -> None:
    """A new card from 2026-04-01 doubles the rate of respite: plans before are costed at the old rate."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    card = rules / "councils/demo/parameters/rates.yaml"
    raw = yaml.safe_load(card.read_text())
    first = next(iter(raw["rates.card"]["values"].values()))
    later = copy.deepcopy(first)
    later["source"] = "A test's second card"
    for p in later["value"]:
        if p["id"] == "respite_night":
            p["rate"] = 290.0
    raw["rates.card"]["values"][date(2026, 4, 1)] = later
    card.write_text(yaml.safe_dump(raw, sort_keys=False))
    report = run(caseload["store"].engine, "unmet-need", "demo", START, END, today=TODAY,
                 rules=Registry(rules))
    expected = 0
    latest: dict[str, Any] = {}
    for e in caseload["events"]["plan.submitted"]:
        if in_range(e.at) and (e.case_id not in latest or e.seq > latest[e.case_id].seq):
            latest[e.case_id] = e
    after = before = 0
    for e in latest.values():
        for n in e.payload["unmet_needs"]:
            if isinstance(n, dict) and n["provision"] == "respite_night" and n["units"] is not None:
                doubled = e.at.date() >= date(2026, 4, 1)
                expected += pence(str(Decimal(n["units"]) * Decimal("145.00") * (2 if doubled else 1)))
                after, before = after + doubled, before + (not doubled)
    assert after and before
    row = next(r for r in report.section("By provision wanted").rows if r[0] == "respite_night")
    assert pence(str(row[6])) == expected


def test_finance_sums_budgets_in_force_and_the_pipeline_at_mid_point(caseload: dict[str, Any]) -> None:
    live = [c for c in caseload["cases"].values() if c.stage != "closed"]
    held = [c for c in live if "personal_budget" in c.amounts]
    weekly = sum(pence(c.amounts["council_share"]) for c in held)
    report = run(caseload["store"].engine, "finance", "demo", START, END, today=TODAY, uplift="2.5")
    committed = {r[0]: r for r in report.section("Committed now").rows}
    assert committed["council share"][1] == len(held) and held
    assert committed["council share"][2] == Decimal(weekly) / 100
    assert committed["people's charges"][3] == Decimal(sum(pence(c.amounts["weekly_charge"]) for c in held)) / 100 * 52
    pipeline = [c for c in live if "personal_budget" not in c.amounts and indicative(caseload, c.case_id)]
    mids = defaultdict(int)
    for c in pipeline:
        mids[c.stage] += sum(indicative(caseload, c.case_id) or (0, 0))
    assert {r[0]: r[2] for r in report.section("Pipeline").rows} == {
        s: (Decimal(v) / 200).quantize(Decimal("0.01")) for s, v in mids.items()}
    year5 = report.section("Five-year projection").rows[4]
    assert year5[1] == (Decimal(weekly) / 100 * 52 * Decimal("1.025") ** 4).quantize(Decimal("0.01"))
    set_in_range = [e for e in caseload["events"]["budget.active"] if in_range(e.at)]
    assert report.section("In the range").rows[0][1:] == [
        len(set_in_range), Decimal(sum(pence(e.payload["weekly_cost"]) for e in set_in_range)) / 100]


def test_fairness_places_each_budget_against_the_indicative_range(caseload: dict[str, Any]) -> None:
    by_worker: dict[str, Counter[str]] = defaultdict(Counter)
    by_area: dict[str, Counter[str]] = defaultdict(Counter)
    by_team: dict[str, Counter[str]] = defaultdict(Counter)
    where, team = areas(caseload), teams(caseload)
    changed = budgets_after_plan = 0
    plans = caseload["events"]["plan.submitted"]
    for e in caseload["events"]["budget.active"]:
        if not in_range(e.at):
            continue
        case = caseload["cases"][e.case_id]
        low, high = indicative(caseload, e.case_id) or (0, 0)
        cost = pence(e.payload["weekly_cost"])
        place = "below" if cost < low else "above" if cost > high else "within"
        by_worker[case.assigned_to or "(not assigned)"][place] += 1
        by_area[where[e.case_id]][place] += 1
        by_team[team.get(case.assigned_to or "", "not recorded")][place] += 1
        plan = max((p for p in plans if p.case_id == e.case_id and p.seq < e.seq), key=lambda p: p.seq)
        budgets_after_plan += 1
        changed += pence(plan.payload["plan"]["weekly_total"]) != cost
    report = run(caseload["store"].engine, "fairness", "demo", START, END, today=TODAY)
    got = {r[0]: (r[2], r[3], r[4]) for r in report.section("By social worker").rows}
    assert got == {w: (c["below"], c["within"], c["above"]) for w, c in by_worker.items()}
    got = {r[0]: (r[2], r[3], r[4]) for r in report.section("By area").rows}
    assert got == {a: (c["below"], c["within"], c["above"]) for a, c in by_area.items()} and len(got) > 3
    profile = need_profiles(caseload)
    by_need: dict[str, Counter[str]] = defaultdict(Counter)
    for e in caseload["events"]["budget.active"]:
        if in_range(e.at):
            low, high = indicative(caseload, e.case_id) or (0, 0)
            cost = pence(e.payload["weekly_cost"])
            place = "below" if cost < low else "above" if cost > high else "within"
            by_need[profile(e.case_id, e.seq)][place] += 1
    got = {r[0]: (r[2], r[3], r[4]) for r in report.section("By need profile").rows}
    assert got == {k: (c["below"], c["within"], c["above"]) for k, c in by_need.items()} and len(got) > 1
    got = {r[0]: (r[2], r[3], r[4]) for r in report.section("By team").rows}
    assert got == {t: (c["below"], c["within"], c["above"]) for t, c in by_team.items()}
    assert set(got) == {"North team", "South team", "not recorded"}
    sign_off = dict(report.section("Sign-off, counter-proposals and appeals").rows)
    assert sign_off["budgets set after a plan"] == budgets_after_plan
    assert sign_off["of which differ from the plan's total"] == changed > 0
    made = [e for e in caseload["events"]["counter_proposal.made"] if in_range(e.at)]
    assert sign_off["counter-proposals made"] == len(made)
    assert sign_off["appeals made"] == len([e for e in caseload["events"]["appeal.made"] if in_range(e.at)])
    ages = Counter()
    for e in caseload["events"]["budget.active"]:
        if in_range(e.at):
            dob = caseload["cases"][e.case_id].date_of_birth
            age = e.at.year - dob.year - ((e.at.month, e.at.day) < (dob.month, dob.day))
            ages["18-64" if age < 65 else "65-74" if age < 75 else "75-84" if age < 85 else "85+"] += 1
    assert {r[0]: r[1] for r in report.section("By age band").rows} == dict(ages)


def nearest_rank(values: list[int], p: int) -> int:
    ordered = sorted(values)
    return ordered[-(-p * len(ordered) // 100) - 1]


def test_timeliness_gives_median_and_90th_percentile_of_each_step(caseload: dict[str, Any]) -> None:
    first: dict[tuple[str, str], date] = {}
    for action, events in caseload["events"].items():
        for e in events:
            key = (e.case_id, action)
            first[key] = min(first.get(key, e.at.date()), e.at.date())
    opened = {c.case_id: c.opened for c in caseload["cases"].values() if START <= c.opened <= END}
    waits = [(first[(c, "budget.active")] - o).days for c, o in opened.items() if (c, "budget.active") in first]
    plans = [(first[(c, "plan.submitted")] - first[(c, "assessment.verified")]).days
             for c in opened if (c, "plan.submitted") in first]
    report = run(caseload["store"].engine, "timeliness", "demo", START, END, today=TODAY)
    rows = {r[0]: r[1:] for r in report.section("Durations in days").rows}
    assert rows["first contact to budget in place"] == [len(waits), nearest_rank(waits, 50), nearest_rank(waits, 90)]
    assert rows["assessment to plan"] == [len(plans), nearest_rank(plans, 50), nearest_rank(plans, 90)]
    overdue = [c for c in caseload["cases"].values() if c.stage == "review" and c.due and c.due < TODAY]
    assert report.section("Overdue reviews").rows[0][0] == len(overdue) > 0


def test_cld_counts_every_event_and_its_csv_streams_one_row_per_event(caseload: dict[str, Any]) -> None:
    kinds = {"assessment.verified": "Assessment", "budget.active": "Service", "review.completed": "Review"}
    expected = Counter((e.case_id, kinds[a], e.at.date().isoformat(),
                        pence(e.payload["weekly_cost"]) if a == "budget.active" else None)
                       for a in kinds for e in caseload["events"][a] if in_range(e.at))
    report = run(caseload["store"].engine, "cld", "demo", START, END, today=TODAY)
    by_type = {r[0]: r[1] for r in report.section("Events by type").rows}
    assert by_type == dict(Counter(kind for _, kind, _, _ in expected.elements()))
    shown = report.section("Event rows").rows
    assert len(shown) == min(CLD_ROWS_SHOWN, sum(expected.values())) and sum(expected.values()) > CLD_ROWS_SHOWN
    lines = list(csv.reader(io.StringIO("".join(stream_csv(caseload["store"].engine, report)))))
    rows = lines[lines.index(["Event rows"]) + 2:]
    rows = [r for r in rows if r and r[0] == "demo"]
    assert Counter((r[1], r[2], r[3], pence(r[6]) if r[2] == "Service" else None) for r in rows) == expected
    assert rows[:len(shown)] == shown


def test_every_report_states_its_bundles_and_range(caseload: dict[str, Any]) -> None:
    used: Counter[str] = Counter(r["rules"]["bundle"] for rs in caseload["decisions"].values() for r in rs
                                 if START <= date.fromisoformat(r["date"]) <= END)
    assert len(used) == 2  # decisions on both sides of the rules' yearly change are in range
    dates: dict[str, list[str]] = defaultdict(list)
    for rs in caseload["decisions"].values():
        for r in rs:
            if START <= date.fromisoformat(r["date"]) <= END:
                dates[r["rules"]["bundle"]].append(r["date"])
    for kind in ("unmet-need", "finance", "fairness", "timeliness", "cld"):
        report = run(caseload["store"].engine, kind, "demo", START, END, today=TODAY).to_json()
        assert (report["from"], report["to"]) == (START.isoformat(), END.isoformat())
        assert {b["bundle"]: (b["first_decision"], b["last_decision"]) for b in report["rules_bundles"]} == {
            h: (min(days), max(days)) for h, days in dates.items()}
        json.dumps(report)


@pytest.mark.parametrize(("kind", "council", "start", "end", "words"), [
    ("unmet-need", "nowhere", None, None, "no records"),
    ("money", "demo", None, None, "there is no report"),
    ("finance", "demo", "2026-13-01", None, "not a date"),
    ("finance", "demo", "2026-03-01", "2026-01-01", "after it ends"),
    ("finance", "service", None, None, "not a council"),
])
def test_bad_input_is_refused_in_plain_words(caseload: dict[str, Any], kind: str, council: str,
                                             start: str | None, end: str | None, words: str) -> None:
    with pytest.raises(ReportError, match=words):
        run(caseload["store"].engine, kind, council, start, end, today=TODAY)


def test_a_range_before_any_case_gives_zero_not_an_error(caseload: dict[str, Any]) -> None:
    old = TODAY - timedelta(days=3000)
    report = run(caseload["store"].engine, "fairness", "demo", old, old + timedelta(days=30), today=TODAY)
    assert report.section("Budgets against their indicative range").rows[0][1] == 0


def test_fairness_counts_falls_after_reassessment_and_appeal_outcomes(caseload: dict[str, Any]) -> None:
    rows = sorted((e for a in ("budget.active", "review.completed") for e in caseload["events"][a]),
                  key=lambda e: e.seq)
    fell = fell_reassessed = 0
    last: dict[str, int] = {}
    reassessed: dict[str, bool] = defaultdict(bool)
    for e in rows:
        if e.action == "review.completed":
            reassessed[e.case_id] |= e.payload["support"] is not None
            continue
        cost = pence(e.payload["weekly_cost"])
        if e.case_id in last and cost < last[e.case_id] and in_range(e.at):
            fell += 1
            fell_reassessed += reassessed[e.case_id]
        last[e.case_id], reassessed[e.case_id] = cost, False
    outcomes = Counter(e.action.split(".")[1] for a in ("appeal.uphold", "appeal.part_uphold", "appeal.dismiss")
                       for e in caseload["store"].ledger_events(a) if in_range(e.at))
    report = run(caseload["store"].engine, "fairness", "demo", START, END, today=TODAY)
    falls = dict(report.section("Budgets that fell").rows)
    assert (falls["budgets lower than the one before"], falls["of which after a reassessment of need"]) == (
        fell, fell_reassessed)
    assert fell_reassessed > 0
    sign_off = dict(report.section("Sign-off, counter-proposals and appeals").rows)
    assert (sign_off["of which upheld"], sign_off["of which partly upheld"], sign_off["of which dismissed"]) == (
        outcomes["uphold"], outcomes["part_uphold"], outcomes["dismiss"])
    assert sign_off["appeals decided"] == sum(outcomes.values())


def test_finance_sets_banked_underspend_and_a_policy_change_against_the_annual_budget(
        caseload: dict[str, Any]) -> None:
    store = caseload["store"]
    reviews = caseload["events"]["review.completed"]
    store.save_policy_change({"id": "c1", "council": "demo", "path": "parameters/rates.yaml", "kind": "change",
                              "status": "draft", "proposed_at": "2026-09-01T10:00:00+00:00",
                              "whatif": {"cases": 40, "total_weekly_change": "1250.00"}})
    store.save_policy_change({"id": "c2", "council": "demo", "path": "ras.yaml", "kind": "change",
                              "status": "refused", "proposed_at": "2026-09-02T10:00:00+00:00", "whatif": {}})
    report = run(store.engine, "finance", "demo", START, END, today=TODAY, annual_budget="20,000,000")
    got = {r[0]: r for r in report.section("In the range").rows}
    in_range_reviews = [e for e in reviews if in_range(e.at)]
    assert got["of which banked"][2] == Decimal(sum(pence(e.payload["banked"]) for e in in_range_reviews)) / 100
    assert got["banked underspend to the range's end, all reviews"][2] == Decimal(
        sum(pence(e.payload["banked"]) for e in reviews if e.at.date() <= END)) / 100 > 0
    committed = report.section("Committed now").rows[2][3]  # council share, a year
    [change] = report.section("Policy changes against the annual budget").rows
    assert change[:6] == ["c1", "parameters/rates.yaml", "draft", 40, Decimal("1250.00"), Decimal("65000.00")]
    assert change[6] == f"{Decimal(6500000) / Decimal(20000000):.2f}%"
    assert change[7] == Decimal("20000000.00") - committed - Decimal("65000.00")
    without = run(store.engine, "finance", "demo", START, END, today=TODAY)
    assert without.section("Policy changes against the annual budget").rows[0][6:] == [None, None]


@pytest.mark.parametrize(("uplift", "budget", "words"), [
    ("nan", None, "uplift"), ("3", "lots", "not an amount of pounds"), ("3", "-5", "above 0"),
    ("3", "1e13", "below"),
])
def test_finance_refuses_a_bad_uplift_or_budget_in_words(caseload: dict[str, Any], uplift: str, budget: str | None,
                                                         words: str) -> None:
    with pytest.raises(ReportError, match=words):
        run(caseload["store"].engine, "finance", "demo", START, END, today=TODAY, uplift=uplift, annual_budget=budget)


def test_fairness_names_the_outliers_beyond_a_quarter_of_the_range(caseload: dict[str, Any]) -> None:
    named = []
    for e in sorted(caseload["events"]["budget.active"], key=lambda e: (e.case_id, e.seq)):
        low, high = indicative(caseload, e.case_id) or (0, 0)
        cost = pence(e.payload["weekly_cost"])
        if in_range(e.at) and (cost * 100 > high * 125 or cost * 100 < low * 75):
            named.append([e.case_id, e.at.date().isoformat(), Decimal(cost) / 100, Decimal(low) / 100,
                          Decimal(high) / 100])
    report = run(caseload["store"].engine, "fairness", "demo", START, END, today=TODAY)
    assert report.section("Outliers named for review").rows == named[:25] and named
