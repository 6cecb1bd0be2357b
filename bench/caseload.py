"""A generated caseload for the reports (issue 14): seeded cases written straight into the store's
tables as the workflow would have left them (case list, person, decision records, a valid hash
chain of ledger rows with the workflow's payloads), at dates spread over the past 18 months.

Bulk-inserted because a report bench needs 100,000 cases, and because ledger times are set by the
store's clock: a caseload written through `append_event` would have every step on one day."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

COUNCIL = "demo"
BUNDLES = ("a" * 64, "b" * 64)  # the rules changed once, on BUNDLE_CHANGE days before today
BUNDLE_CHANGE = 200
WANTS = ("Evening social group", "evening social group", "Transport to church", "Respite at weekends",
         " respite at weekends", "Gardening help", "Swimming with a carer")
WORKERS = ("sw-amir", "sw-beth", "sw-cara", None)
CHUNK = 10_000


def _j(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _at(day: date, n: int) -> str:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{n % 10**6:06d}Z"


class _Case:
    def __init__(self, rng: random.Random, i: int, today: date) -> None:
        self.id, self.rng, self.today = f"G{i:07d}", rng, today
        self.opened = today - timedelta(days=rng.randint(10, 540))
        self.events: list[tuple[date, str, str, dict[str, Any]]] = []
        self.amounts: dict[str, str] = {}
        self.decisions: list[tuple[date, dict[str, Any]]] = []
        self.stage, self.due = "assessment", self.opened + timedelta(days=28)

    def step(self, day: date, after: tuple[int, int]) -> date | None:
        nxt = day + timedelta(days=self.rng.randint(*after))
        return nxt if nxt <= self.today else None

    def run(self) -> None:
        rng = self.rng
        verified = self.step(self.opened, (2, 45))
        if verified is None:
            return
        low = rng.randint(60, 500)
        high = low + rng.randint(20, 200)
        self.amounts = {"indicative_high": f"{high}.00", "indicative_low": f"{low}.00"}
        bundle = BUNDLES[0] if (self.today - verified).days > BUNDLE_CHANGE else BUNDLES[1]
        self.decisions.append((verified, {"kind": "indicative-budget", "council": COUNCIL, "rules": {"bundle": bundle},
                                          "indicative_budget": {"weekly_high": f"{high}.00", "weekly_low": f"{low}.00"}}))
        self.events.append((verified, "social_worker", "assessment.verified", {"notes": ""}))
        self.stage, self.due = "support_planning", verified + timedelta(days=28)
        day = verified
        for _ in range(rng.choice((1, 1, 1, 2))):  # some plans are sent back and submitted again
            plan_day = self.step(day, (1, 30))
            if plan_day is None:
                return
            total = rng.randint(int(low * 0.6), int(high * 1.4))
            wants = rng.sample(WANTS, rng.choice((0, 0, 1, 2)))
            self.events.append((plan_day, "social_worker", "plan.submitted", {
                "plan": {"items": [], "weekly_total": f"{total}.00"}, "unmet_needs": wants}))
            self.stage, self.due, day = "sign_off", plan_day + timedelta(days=14), plan_day
        self._sign_off(day, total)

    def _sign_off(self, day: date, total: int) -> None:
        rng = self.rng
        amount, role = total, "approver"
        if rng.random() < 0.2:
            cp_day = self.step(day, (1, 10))
            if cp_day is None:
                return
            amount = max(10, total - rng.randint(5, 60))
            self.events.append((cp_day, "approver", "counter_proposal.made", {
                "note": "", "proposal": {"weekly_amount": f"{amount}.00"}}))
            self.stage, self.due, day = "counter_proposal", cp_day + timedelta(days=28), cp_day
            if rng.random() < 0.4:
                ap_day = self.step(day, (1, 20))
                if ap_day is None:
                    return
                self.events.append((ap_day, "person", "appeal.made", {"reasons": "not enough"}))
                self.stage, self.due, day = "appeal", None, ap_day
                amount, role = rng.choice((total, amount, (total + amount) // 2)), "appeals_officer"
            else:
                role = "person"
        start = self.step(day, (1, 12))
        if start is None:
            return
        self._budget(start, amount, role)
        review = self.step(start, (42, 70))
        if review is None:
            self.due = start + timedelta(days=42)
            return
        if rng.random() < 0.15 and review < self.today - timedelta(days=5):
            self.stage, self.due = "review", review  # opened and still not done: overdue
            return
        reassessed = rng.random() < 0.3
        self.events.append((review, "social_worker", "review.completed", {
            "notes": "", "outcome": "revise_plan" if reassessed else "no_change",
            "support": [{"need": "x"}] if reassessed else None, "underspend": f"{rng.randint(0, 40)}.00"}))
        if reassessed:
            again = self.step(review, (3, 20))
            if again is not None:
                self._budget(again, max(10, amount - rng.randint(-20, 80)), "approver")

    def _budget(self, day: date, amount: int, role: str) -> None:
        charge = min(amount, self.rng.choice((0, 0, 25, 60)))
        statement = {"charge_decision": BUNDLES[1], "council_share": f"{amount - charge}.00",
                     "person_charge": f"{charge}.00", "starts": day.isoformat(), "weekly_cost": f"{amount}.00"}
        self.events.append((day, role, "budget.active", statement))
        self.amounts.update(personal_budget=f"{amount}.00", weekly_charge=f"{charge}.00",
                            council_share=f"{amount - charge}.00")
        self.stage, self.due = "active_budget", day + timedelta(days=42)


def generate(store: Any, n: int, today: date, seed: int = 14) -> None:
    """Write n cases of council `demo`, with a valid hash chain and signed head."""
    from carebudget.store.ledger import GENESIS, row_document

    rng = random.Random(seed)
    now = datetime.now(UTC)
    cases, people, ledger, decisions = [], [], [], []
    prev, seq = GENESIS, 0
    for i in range(n):
        c = _Case(rng, i, today)
        c.run()
        for day, role, action, payload in c.events:
            seq += 1
            at, body, key = _at(day, seq), _j(payload), f"{c.id}:{seq}:{action}"
            digest = hashlib.sha256(row_document(COUNCIL, seq, at, key, c.id, f"u-{role}", role, action, body, None,
                                                 prev).encode()).hexdigest()
            ledger.append({"chain": COUNCIL, "seq": seq, "at": at, "event_key": key, "case_id": c.id,
                           "actor": f"u-{role}", "role": role, "action": action, "payload": body, "personal": None,
                           "prev_hash": prev, "hash": digest})
            prev = digest
        for k, (day, record) in enumerate(c.decisions):
            decisions.append({"decision_key": f"{c.id}:d{k}", "case_id": c.id, "kind": record["kind"],
                              "council": COUNCIL, "on_date": day, "bundle_hash": record["rules"]["bundle"],
                              "record": _j(record), "actor": "u-social_worker", "role": "social_worker",
                              "recorded_at": now, "ledger_chain": COUNCIL, "ledger_seq": max(seq, 1)})
        cases.append({"case_id": c.id, "council": COUNCIL, "stage": c.stage, "opened": c.opened, "due": c.due,
                      "amounts": _j(c.amounts), "assigned_to": rng.choice(WORKERS), "updated_at": now,
                      "last_seq": max(seq, 1)})
        people.append({"case_id": c.id, "name": f"Person {i}",
                       "date_of_birth": today - timedelta(days=rng.randint(18 * 366, 99 * 365))})
    _insert(store, cases, people, ledger, decisions, seq, prev)


def _insert(store: Any, cases: list[Any], people: list[Any], ledger: list[Any], decisions: list[Any],
            seq: int, head: str) -> None:
    from carebudget.store.models import CASES, DECISIONS, LEDGER, PERSONS

    with store.engine.begin() as conn:
        for table, rows in ((CASES, cases), (PERSONS, people), (LEDGER, ledger), (DECISIONS, decisions)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[start:start + CHUNK])
        at = ledger[-1]["at"] if ledger else _at(date.today(), 0)
        key_id, mac = store.keys.sign("head", COUNCIL, seq, head, at)
        conn.execute(text("INSERT INTO ledger_head (chain, seq, hash, at, key_id, mac) VALUES "
                          "(:c, :s, :h, :at, :k, :m)"), {"c": COUNCIL, "s": seq, "h": head, "at": at, "k": key_id,
                                                         "m": mac})
        conn.exec_driver_sql("ANALYZE")
