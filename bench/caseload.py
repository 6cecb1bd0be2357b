"""A generated caseload for the reports (issue 14), written straight into the store's tables in the
shapes the case workflow leaves there (workflows/case.py `_record` -> store.record_step): per step,
the case-list change and its `case.opened`/`case.updated` row, each decision record with its
`decision.recorded` row, then the step's own row, on one valid hash chain with a signed head and
checkpoints every 1,000 rows.

The decision records are the real decision core's (`decide_with_bundle`, the real rules and
bundles in force on each date): made once for each of a sample of generated cases
(`carebudget.service.examples.make_case`) under each bundle a date falls in, at each weekly amount
a budget can take (plan, counter-proposal, appeal mid-point), then reused by many cases, each with
its own decision date. Case paths, dates, workers and reviews are drawn at random (seeded).

Bulk-inserted because a report bench needs 100,000 cases quickly, and because ledger times are set
by the store's clock: a caseload written through the service would have every step on one day.
Within a case, rows follow one another in time; across cases the chain is in case order.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

COUNCIL = "demo"
SAMPLE = 96  # distinct generated cases the real decision core decides; each reused by many cases
# Unmet needs as the workflow records them (workflows.models.UnmetNeed dumped: outcome, provision
# wanted from the rate card or other, units a week or null, words), and a plain note as plans
# written before that hold. Seven, as before needs had structure, so the caseload's shape is unchanged.
WANTS: tuple[dict[str, Any] | str, ...] = (
    {"outcome": "relationships", "provision": "community_activity_session", "units": "2",
     "words": "Evening social group"},
    {"outcome": "relationships", "provision": "community_activity_session", "units": "1.5",
     "words": "evening social group"},
    {"outcome": "community_facilities", "provision": "other", "units": None, "words": "Transport to church"},
    {"outcome": "home_safety", "provision": "respite_night", "units": "2", "words": "Respite at weekends"},
    {"outcome": "home_safety", "provision": "respite_night", "units": None, "words": "respite at weekends"},
    {"outcome": "habitable_home", "provision": "domestic_support_hour", "units": "1.25", "words": "Gardening help"},
    " Swimming with a carer",
)
WORKERS = ("sw-amir", "sw-beth", "sw-cara", "sw-dan", None)
# Their teams, as the council's administrator sets them (sw-dan is in none: "not recorded").
TEAMS = {"sw-amir": "North team", "sw-beth": "North team", "sw-cara": "South team", "sw-dan": None}
# The demo council's localities (rules/councils/demo/parameters/areas.yaml), and None: not recorded.
# Drawn from the case number, not the seeded stream, so the rest of the caseload is as before.
AREAS = ("Northgate", "Riverside", "Hillcrest", "Old Town", "Eastfield", None)
FIRST_DAY = date(2025, 4, 6)  # the demo council's rates (ras.bands) are in force from 2025-04-01
CHUNK = 2_000  # cases per insert batch: memory stays flat at any size
CHECKPOINT_EVERY = 1_000
BANK_SHARE = Decimal("0.25")
DAY_MARK = "@@the-case-day@@"  # stands for the decision date in a record encoded once


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _j(value: Any) -> str:
    """Canonical JSON, as the ledger and decision table hold it (carebudget.store.db.canonical_json)."""
    return _CANONICAL.encode(value)


def _at(day: date, n: int) -> str:
    """A ledger time on that day (ISO, UTC, microseconds): the row number keeps times distinct."""
    return f"{day.isoformat()}T09:00:00.{n % 10**6:06d}Z"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class _Sample:
    """One generated case's inputs, and the real decision core's records for it (made on demand)."""

    script: Any
    facts: dict[str, Any]
    records: dict[tuple[str, str, str], tuple[dict[str, Any], str]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, value: Any) -> str:
        """A payload the sample sends unchanged at every use, encoded once."""
        found = self.texts.get(name)
        if found is None:
            found = self.texts[name] = _j(value)
        return found

    @property
    def plan_total(self) -> Decimal:
        return Decimal(self.script.plan["plan"]["weekly_total"])

    @property
    def counter_amount(self) -> Decimal:
        return Decimal(self.script.counter["proposal"]["weekly_amount"])


class Decider:
    """The real decision core on the real rules, cached per (sample, bundle, kind, amount)."""

    def __init__(self, seed: int) -> None:
        from carebudget.rulebook.registry import get_registry
        from carebudget.service.examples import make_case
        from workflows.models import Verification

        self.registry = get_registry()
        self.samples: list[_Sample] = []
        for n in range(SAMPLE):
            script = make_case(n, COUNCIL, seed=seed)
            v = Verification.model_validate(script.verification)
            facts: dict[str, Any] = {
                "person": {"date_of_birth": script.start["person"]["date_of_birth"], "setting": "home"},
                "needs": v.needs.model_dump(mode="json"), "finances": v.finances.model_dump(mode="json"),
                "care": v.care.model_dump(mode="json")}
            if v.predicted_needs is not None:
                facts["predicted_needs"] = v.predicted_needs.model_dump(mode="json")
            self.samples.append(_Sample(script, facts))
        self.bundles: dict[str, Any] = {}
        self.by_day: dict[date, Any] = {}
        self.made = 0

    def bundle(self, on: date) -> Any:
        bundle = self.by_day.get(on)
        if bundle is None:
            bundle = self.by_day[on] = self.registry.bundle(COUNCIL, on)
            self.bundles.setdefault(bundle.hash, bundle)
        return bundle

    def decide(self, sample: _Sample, kind: str, on: date, amount: Decimal | None = None) -> Decided:
        """The record for this sample on day `on`: decided under the bundle in force that day."""
        from carebudget.decisions import decide_with_bundle

        bundle = self.bundle(on)
        key = (bundle.hash, kind, "" if amount is None else _money(amount))
        made = sample.records.get(key)
        if made is None:
            if kind == "counter-proposal":
                payload: dict[str, Any] = {
                    "needs": sample.script.verification["support"], "plan": sample.script.plan["plan"],
                    "proposal": sample.script.counter["proposal"]}
            else:
                payload = copy.deepcopy(sample.facts)
                if amount is not None:
                    payload["care"] = {"weekly_cost": _money(amount)}
            record = decide_with_bundle(kind, bundle, on, payload)
            made = sample.records[key] = (record, _j({**record, "date": DAY_MARK}))
            self.made += 1
        # The same facts, decided on this case's day (the mark stands only for the record's date).
        return Decided(made[0], made[1].replace(f'"{DAY_MARK}"', f'"{on.isoformat()}"', 1), on)


@dataclass(frozen=True)
class Decided:
    record: dict[str, Any]
    text: str
    on: date

    @property
    def bundle(self) -> str:
        return str(self.record["rules"]["bundle"])


class Chain:
    """Ledger rows of one council's chain, hashed in order as `ledger.append` does."""

    def __init__(self, keys: Any) -> None:
        from carebudget.store.ledger import GENESIS

        self.keys, self.seq, self.prev, self.at = keys, 0, GENESIS, ""
        self.ledger: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.decision_ids = 0

    def append(self, day: date, key: str, case_id: str, actor: str, role: str, action: str,
               payload: dict[str, Any] | str, personal: dict[str, Any] | None = None) -> int:
        from carebudget.store.ledger import row_document

        self.seq += 1
        at, body = _at(day, self.seq), payload if isinstance(payload, str) else _j(payload)
        personal_text = None if personal is None else _j(personal)
        digest = hashlib.sha256(row_document(COUNCIL, self.seq, at, key, case_id, actor, role, action, body,
                                             personal_text, self.prev).encode()).hexdigest()
        self.ledger.append({"chain": COUNCIL, "seq": self.seq, "at": at, "event_key": key, "case_id": case_id,
                            "actor": actor, "role": role, "action": action, "payload": body,
                            "personal": personal_text, "prev_hash": self.prev, "hash": digest})
        if self.seq % CHECKPOINT_EVERY == 0:
            key_id, mac = self.keys.sign("checkpoint", COUNCIL, self.seq, digest, at)
            self.checkpoints.append({"chain": COUNCIL, "seq": self.seq, "hash": digest, "at": at,
                                     "key_id": key_id, "mac": mac})
        self.prev, self.at = digest, at
        return self.seq


class _Case:
    """One case's story, step by step as the workflow records it."""

    def __init__(self, rng: random.Random, i: int, today: date, decider: Decider, chain: Chain) -> None:
        self.id, self.rng, self.today, self.chain, self.decider = f"G{i:07d}", rng, today, chain, decider
        self.sample = rng.choice(decider.samples)
        self.opened = today - timedelta(days=rng.randint(10, max(10, min(540, (today - FIRST_DAY).days))))
        self.worker = rng.choice(WORKERS)
        self.area = AREAS[i % len(AREAS)]
        self.n = 0
        self.stage, self.due = "assessment", self.opened + timedelta(days=28)
        self.amounts: dict[str, str] = {}
        self.listed: dict[str, Any] = {}
        self.banked = Decimal(0)
        person = self.sample.script.start["person"]
        self.name, self.born = f"Person {i}", date.fromisoformat(person["date_of_birth"])

    @property
    def sw(self) -> tuple[str, str]:
        return (self.worker or "sw-duty", "social_worker")

    def later(self, day: date, after: tuple[int, int]) -> date | None:
        nxt = day + timedelta(days=self.rng.randint(*after))
        return nxt if nxt <= self.today else None

    def step(self, day: date, who: tuple[str, str], action: str, payload: dict[str, Any] | str,
             made: dict[str, Decided] | None = None, opening: bool = False) -> None:
        """store.record_step: the list row's change, the decisions, the step's event."""
        self.n += 1
        key = f"{self.id}:{self.n}:{action}"
        index: dict[str, Any] = {"stage": self.stage, "due": self.due and self.due.isoformat(),
                                 "amounts": dict(self.amounts)}
        personal = None
        if opening:
            index.update(council=COUNCIL, opened=self.opened.isoformat())
            if self.worker:
                index["assigned_to"] = self.worker
            if self.area:
                index["area"] = self.area
            personal = {"name": self.name, "date_of_birth": self.born.isoformat()}
        seq = self.chain.append(day, f"{key}:index", self.id, who[0], who[1],
                                "case.opened" if opening else "case.updated", {"case": index}, personal)
        self.listed.update(index, last_seq=seq, updated_at=self.chain.at)
        for kind, decided in sorted((made or {}).items()):
            body, record = decided.text, decided.record
            dkey = f"{key}:{kind}"
            self.chain.decision_ids += 1
            seq = self.chain.append(day, f"decision:{dkey}", self.id, who[0], who[1], "decision.recorded", {
                "bundle": record["rules"]["bundle"], "council": COUNCIL, "date": decided.on.isoformat(),
                "decision_id": self.chain.decision_ids, "kind": kind,
                "record_sha256": hashlib.sha256(body.encode()).hexdigest()})
            self.chain.decisions.append({
                "id": self.chain.decision_ids, "decision_key": dkey, "case_id": self.id, "kind": kind,
                "council": COUNCIL, "on_date": day, "bundle_hash": record["rules"]["bundle"], "record": body,
                "actor": who[0], "role": who[1], "recorded_at": datetime.now(UTC), "ledger_chain": COUNCIL,
                "ledger_seq": seq})
        self.chain.append(day, key, self.id, who[0], who[1], action, payload,
                          {"name": self.name} if opening else None)

    def run(self) -> None:
        rng, script = self.rng, self.sample.script
        self.step(self.opened, ("sw-duty", "system"), "case.opened",
                  {"council": COUNCIL, "person_user": script.start["person_user"]}, opening=True)
        day = self.later(self.opened, (0, 10))
        if day is None:
            return
        if rng.random() < 0.6:
            self.step(day, (script.start["person_user"], "person"), "assessment.self_assessed",
                      self.sample.text("self", script.self_assessment))
        verified = self.later(day, (2, 40))
        if verified is None:
            return
        made = {k: self.decider.decide(self.sample, k, verified) for k in ("eligibility", "charge", "indicative-budget")}
        eligibility = made["eligibility"].record["eligibility"]
        if not eligibility.get("needs_met", eligibility["eligible"]):
            self.stage, self.due = "closed", None
            self.step(verified, self.sw, "eligibility.not_eligible", {}, {"eligibility": made["eligibility"]})
            return
        indicative = made["indicative-budget"].record["indicative_budget"]
        self.amounts = {"indicative_high": str(indicative["weekly_high"]), "indicative_low": str(indicative["weekly_low"])}
        self.stage, self.due = "support_planning", verified + timedelta(days=28)
        self.step(verified, self.sw, "assessment.verified", self.sample.text("verified", script.verification), made)
        self._plan_and_sign_off(verified, self._plan())

    def _plan(self, cheaper: bool = False) -> dict[str, Any]:
        """The sample's plan (a revised plan after reassessment meets each need the cheaper way),
        with unmet-need notes drawn at random."""
        wants = self.rng.sample(WANTS, self.rng.choice((0, 0, 1, 2)))
        if not cheaper:
            return {"plan": self.sample.script.plan["plan"], "unmet_needs": wants}
        items = [{"outcomes": [j["outcome"]], "provision": j["provision"], "units": j["units"],
                  "unit_cost": j["unit_cost"]} for j in self.sample.script.counter["proposal"]["justifications"]]
        return {"plan": {"items": items, "weekly_total": _money(self.sample.counter_amount)}, "unmet_needs": wants}

    def _plan_and_sign_off(self, day: date, plan: dict[str, Any]) -> None:
        rng = self.rng
        total = Decimal(plan["plan"]["weekly_total"])
        for attempt in range(rng.choice((1, 1, 1, 2))):  # some plans are sent back and submitted again
            if attempt:
                back = self.later(day, (1, 10))
                if back is None:
                    return
                self.stage, self.due, day = "support_planning", back + timedelta(days=28), back
                self.step(day, ("ap-bo", "approver"), "plan.changes_requested", {"reasons": "Say who provides the meals"})
            plan_day = self.later(day, (1, 30))
            if plan_day is None:
                return
            self.stage, self.due, day = "sign_off", plan_day + timedelta(days=14), plan_day
            self.step(day, self.sw, "plan.submitted", plan)
        signed = self.later(day, (1, 12))
        if signed is None:
            return
        counter = self.sample.counter_amount
        if rng.random() > 0.25 or counter >= total:
            self.step(signed, ("ap-bo", "approver"), "plan.approved",
                      {"note": "Meets the assessed needs", "weekly_amount": _money(total)})
            self._budget(signed, total, ("ap-bo", "approver"))
            return
        made = {"counter-proposal": self.decider.decide(self.sample, "counter-proposal", signed)}
        self.stage, self.due = "counter_proposal", signed + timedelta(days=28)
        self.step(signed, ("ap-bo", "approver"), "counter_proposal.made",
                  self.sample.text("counter", self.sample.script.counter), made)
        path = rng.random()
        if path < 0.4:
            when = self.later(signed, (1, 20))
            if when is None:
                return
            self.step(when, (self.sample.script.start["person_user"], "person"), "counter_proposal.accepted",
                      {"note": "Agreed", "weekly_amount": _money(counter)})
            self._budget(when, counter, (self.sample.script.start["person_user"], "person"))
        elif path < 0.7:
            when = self.later(signed, (1, 20))
            decided = when and self.later(when, (5, 40))
            if when is None:
                return
            self.stage, self.due = "appeal", None
            self.step(when, (self.sample.script.start["person_user"], "person"), "appeal.made",
                      {"reasons": "The framework provider cannot visit mornings"})
            if decided is None:
                return
            outcome = rng.choice(("uphold", "part_uphold", "dismiss"))
            amount = {"uphold": total, "part_uphold": ((total + counter) / 2).quantize(Decimal("0.01")),
                      "dismiss": counter}[outcome]
            reasons = f"Reviewed the plan and the counter-proposal: {outcome}"
            self.step(decided, ("ao-cy", "appeals_officer"), f"appeal.{outcome}",
                      {"outcome": outcome, "reasons": reasons, "weekly_amount": _money(amount)})
            self._budget(decided, amount, ("ao-cy", "appeals_officer"),
                         {"appeal_outcome": outcome, "appeal_reasons": reasons})
        else:
            stood = signed + timedelta(days=28)
            if stood <= self.today:
                self._budget(stood, counter, ("carebudget", "system"))

    def _budget(self, day: date, amount: Decimal, who: tuple[str, str], because: dict[str, Any] | None = None) -> None:
        charge = self.decider.decide(self.sample, "charge", day, amount)
        c = charge.record["charge"]
        statement = {"charge_decision": charge.bundle, "council_share": str(c["council_pays"]),
                     "person_charge": str(c["weekly_charge"]), "starts": day.isoformat(),
                     "weekly_cost": str(c["weekly_cost"])}
        self.amounts.update(personal_budget=_money(Decimal(statement["weekly_cost"])),
                            weekly_charge=_money(Decimal(statement["person_charge"])),
                            council_share=_money(Decimal(statement["council_share"])))
        review_opens = day + timedelta(days=42)
        self.stage, self.due = "active_budget", review_opens
        self.step(day, who, "budget.active", {**statement, **(because or {})}, {"charge": charge})
        self._review(review_opens, Decimal(statement["council_share"]))

    def _review(self, opens: date, share: Decimal) -> None:
        rng = self.rng
        if opens > self.today:
            return
        self.stage, self.due = "review", opens + timedelta(days=14)
        self.step(opens, ("carebudget", "system"), "review.opened", {"kind": "light_touch", "reasons": ""})
        done = self.later(opens, (1, 30))
        if done is None or rng.random() < 0.12:
            return  # still open: overdue once its due date passes
        reassessed = rng.random() < 0.3 and self.sample.counter_amount < Decimal(self.amounts["personal_budget"])
        underspend = Decimal(rng.choice((0, 0, 0, 10, 25, 40)))
        banked = min(underspend, (share * BANK_SHARE).quantize(Decimal("0.01")))
        self.banked += banked
        support = None
        if reassessed:
            support = [{"outcome": j["outcome"], "when": "current",
                        "support": [{"provision": j["provision"], "units": j["units"]}]}
                       for j in self.sample.script.counter["proposal"]["justifications"]]
        self.stage, self.due = ("support_planning", done + timedelta(days=28)) if reassessed else \
            ("active_budget", done + timedelta(days=300))
        self.step(done, self.sw, "review.completed", {
            "outcome": "revise_plan" if reassessed else "no_change", "underspend": _money(underspend), "notes": "",
            "support": support, "outcomes_met": None, "banked": _money(banked), "banked_total": _money(self.banked)})
        if reassessed:
            self._plan_and_sign_off(done, self._plan(cheaper=True))


def stories(n: int, today: date, decider: Decider, chain: Chain, seed: int) -> Iterator[_Case]:
    rng = random.Random(seed)
    for i in range(n):
        case = _Case(rng, i, today, decider, chain)
        case.run()
        yield case


def generate(store: Any, n: int, today: date, seed: int = 14) -> Decider:
    """Write n cases of council `demo` with a valid hash chain, signed head and checkpoints;
    returns the decider (its bundles, how many records it made)."""
    from carebudget.store.bundles import content_text
    from carebudget.store.models import CASES, CHECKPOINTS, DECISIONS, LEDGER, PERSONS

    for worker, team in TEAMS.items():  # through the store, as the users page adds them
        if store.get_user(worker) is None:
            store.create_user(worker, worker, "social_worker", "bench: no password", actor="bench",
                              council=COUNCIL, team=team)
    decider = Decider(seed)
    chain = Chain(store.keys)
    cases: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []

    def flush(conn: Any) -> None:
        for table, rows in ((CASES, cases), (PERSONS, people), (LEDGER, chain.ledger),
                            (DECISIONS, chain.decisions), (CHECKPOINTS, chain.checkpoints)):
            if rows:
                conn.execute(table.insert(), rows)
                rows.clear()

    with store.engine.begin() as conn:
        for case in stories(n, today, decider, chain, seed):
            listed = case.listed
            cases.append({"case_id": case.id, "council": COUNCIL, "stage": listed["stage"],
                          "opened": case.opened, "due": listed["due"] and date.fromisoformat(listed["due"]),
                          "amounts": json.dumps(listed["amounts"], sort_keys=True),
                          "assigned_to": case.worker, "area": case.area, "updated_at": datetime.fromisoformat(listed["updated_at"]),
                          "last_seq": listed["last_seq"]})
            people.append({"case_id": case.id, "name": case.name, "date_of_birth": case.born})
            if len(cases) >= CHUNK:
                flush(conn)
        flush(conn)
        for bundle in decider.bundles.values():
            if conn.execute(text("SELECT 1 FROM rule_bundle WHERE hash = :h"), {"h": bundle.hash}).first():
                continue
            conn.execute(text("INSERT INTO rule_bundle (hash, council, content, effective_from, published_by, "
                              "approved_by, status, saved_at) VALUES (:h, :c, :t, :e, 'rule-files', NULL, "
                              "'published', :s)"),
                         {"h": bundle.hash, "c": COUNCIL, "t": content_text(bundle.hash, bundle.content),
                          "e": bundle.effective_from, "s": datetime.now(UTC)})
        key_id, mac = store.keys.sign("head", COUNCIL, chain.seq, chain.prev, chain.at)
        conn.execute(text("INSERT INTO ledger_head (chain, seq, hash, at, key_id, mac) VALUES "
                          "(:c, :s, :h, :at, :k, :m)"), {"c": COUNCIL, "s": chain.seq, "h": chain.prev,
                                                         "at": chain.at, "k": key_id, "m": mac})
        if store.engine.dialect.name == "postgresql":  # ids were given: move the sequence past them
            conn.execute(text("SELECT setval(pg_get_serial_sequence('decision', 'id'), "
                              "(SELECT COALESCE(MAX(id), 1) FROM decision))"))
    # The planner's statistics, and on PostgreSQL the visibility map index-only scans need, as a
    # database in service has them from autovacuum.
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if store.engine.dialect.name == "postgresql" else "ANALYZE")
    return decider
