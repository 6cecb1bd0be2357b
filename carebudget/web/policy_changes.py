"""A council policy change from upload to publication: validate, test, what-if, second approval.

CSSG 11.24 asks councils to be transparent about how they set budgets, and a new rule must not
reach a decision before it has been checked: an uploaded rule or parameter file is loaded into a
copy of the council's folder, checked with every other rule file, the council's rule tests run on
it, and the whole caseload is decided under both versions. Only then may a second policy officer
approve it, which writes the file into the rules folder, where the running service picks it up for
new decisions without a restart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.library import Library, UnknownCouncil, load_library
from carebudget.rulebook.registry import get_registry
from carebudget.rulebook.vetting import vet_in_subprocess
from carebudget.rulebook.yamlsource import RuleFileError

SAFE_PATH = re.compile(r"^(?:[a-z0-9][a-z0-9_-]*/)*[a-z0-9][a-z0-9_.-]*\.yaml$")
MAX_FILE_BYTES = 200_000
CASELOAD_LIMIT = 5_000
Status = Literal["draft", "refused", "published", "withdrawn"]


class PolicyChangeError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PolicyChangeNotFound(PolicyChangeError):
    """No policy change with that id."""


class ProposalIn(BaseModel):
    """An uploaded rule, parameter or rule-test file for one council's folder."""

    model_config = ConfigDict(extra="forbid")

    council: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    path: str = Field(
        min_length=6,
        max_length=200,
        description="Path inside rules/councils/<council>/, "
        "for example parameters/ras.yaml or ras.yaml or tests/budget.yaml",
    )
    content: str = Field(
        min_length=1, max_length=MAX_FILE_BYTES, description="The YAML file's text"
    )
    note: str = Field(
        "", max_length=2000, description="Why the change is made (shown to the approver)"
    )

    @field_validator("path")
    @classmethod
    def _safe_path(cls, v: str) -> str:
        v = v.strip()
        if not SAFE_PATH.match(v) or ".." in v:
            raise ValueError(
                "use a path like parameters/ras.yaml: lower-case letters, digits, - and _, "
                "folders separated by /, ending in .yaml"
            )
        return v


class Proposal(BaseModel):
    id: str
    council: str
    path: str
    content: str
    note: str
    proposed_by: str
    proposed_at: datetime
    status: Status
    problems: list[str] = []
    tests: dict[str, Any] = {}
    whatif: dict[str, Any] = {}
    diff: dict[str, Any] = {}
    bundle: str | None = None
    effective_from: date | None = None
    replaces: str | None = None  # the file's text before, if it existed
    approved_by: str | None = None
    decided_at: datetime | None = None

    @property
    def publishable(self) -> bool:
        return self.status == "draft" and not self.problems and self.tests.get("failed", 0) == 0


def proposals_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "policy-proposals"


def _now() -> datetime:
    return datetime.now(UTC)


def save(data_dir: Path, proposal: Proposal) -> None:
    folder = proposals_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{proposal.id}.json.tmp"
    tmp.write_text(proposal.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, folder / f"{proposal.id}.json")


def load(data_dir: Path, proposal_id: str) -> Proposal:
    if not re.fullmatch(r"[0-9a-f]{12}", proposal_id):
        raise PolicyChangeNotFound(f"no policy change {proposal_id!r}", "proposal_id")
    path = proposals_dir(data_dir) / f"{proposal_id}.json"
    if not path.is_file():
        raise PolicyChangeNotFound(f"no policy change {proposal_id!r}", "proposal_id")
    return Proposal.model_validate_json(path.read_text(encoding="utf-8"))


def list_all(data_dir: Path, council: str | None = None) -> list[Proposal]:
    folder = proposals_dir(data_dir)
    found = (
        [Proposal.model_validate_json(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
        if folder.is_dir()
        else []
    )
    return sorted(
        (p for p in found if council in (None, p.council)),
        key=lambda p: p.proposed_at,
        reverse=True,
    )


class _TwoBundles:
    """Lets the rulebook's dated diff compare the bundle in force with a candidate bundle."""

    def __init__(self, first: Bundle, second: Bundle) -> None:
        self._queue = [first, second]

    def bundle(self, council: str, on: date) -> Bundle:
        return self._queue.pop(0)


def _effective_on(library: Library, council: str) -> date:
    layer = library.layers(council)[-1]
    dates = [f.effective_from for f in layer.rule_files]
    dates += [v.since for p in layer.parameters.values() for v in p.values]
    return max([date.today(), *dates])


def caseload(
    store: Any, council: str, library: Library, limit: int = CASELOAD_LIMIT
) -> tuple[list[dict[str, Any]], str]:
    """The inputs of each case's latest budget decision; the council's rule tests when none exist."""
    cases: list[dict[str, Any]] = []
    if store is not None:
        number = 1
        while len(cases) < limit:
            rows, total = store.list_cases(
                {"council": council}, {"number": number, "size": 500}, role="compliance"
            )
            for row in rows:
                latest = None
                for record in store.case_decisions(row.case_id, role="compliance"):
                    if record.kind in ("indicative-budget", "assessment"):
                        latest = record
                if latest is not None:
                    cases.append({"id": row.case_id, "input": latest.record.get("input", {})})
            if number * 500 >= total or not rows:
                break
            number += 1
    if cases:
        return cases[:limit], "the current caseload"
    from carebudget.rulebook.ruletests import discover

    tests = [
        t
        for t in discover(library, council)
        if t.kind in ("indicative-budget", "assessment") and not t.expected_error
    ]
    return [
        {"id": t.name, "input": t.input} for t in tests
    ], "the council's rule-test cases (no case with a budget decision is on record yet)"


def propose(settings: Any, store: Any, change: ProposalIn, proposed_by: str) -> Proposal:
    """Check an uploaded file against everything else; keep it as a draft (or refused) change."""
    from carebudget.decisions.indicative_budget import check_bands
    from carebudget.rulebook.ruletests import discover, run_test
    from carebudget.rulebook.whatif import run_whatif

    rules_dir = Path(settings.rules_dir)
    current = get_registry(rules_dir).library
    try:
        current.layers(change.council)
    except UnknownCouncil as exc:
        raise PolicyChangeError(str(exc), "council") from None
    if change.council == "england":
        raise PolicyChangeError(
            "national rules change only with the law; upload a council's file", "council"
        )
    target = rules_dir / "councils" / change.council / change.path
    proposal = Proposal(
        id=uuid.uuid4().hex[:12],
        council=change.council,
        path=change.path,
        content=change.content,
        note=change.note,
        proposed_by=proposed_by,
        proposed_at=_now(),
        status="draft",
        replaces=target.read_text(encoding="utf-8") if target.is_file() else None,
    )
    work = proposals_dir(settings.data_dir) / f"{proposal.id}-rules"
    shutil.copytree(rules_dir, work)
    try:
        (work / "councils" / change.council / change.path).parent.mkdir(parents=True, exist_ok=True)
        (work / "councils" / change.council / change.path).write_text(
            change.content, encoding="utf-8"
        )
        # Issue 10 point 3: the candidate rules are first loaded and run in a child process
        # under limits; only rules that passed are ever compiled in this (serving) process.
        problems = vet_in_subprocess(
            work, change.council,
            timeout_s=settings.vetting_timeout_s, memory_mb=settings.vetting_memory_mb,
        )
        if problems:
            proposal.problems = [p.replace(str(work), "rules") for p in problems]
            proposal.status = "refused"
            save(settings.data_dir, proposal)
            return proposal
        try:
            candidate = load_library(work)
        except RuleFileError as exc:
            proposal.problems = [str(exc).replace(str(work), "rules")]
            proposal.status = "refused"
            save(settings.data_dir, proposal)
            return proposal
        bands = candidate.parameters(change.council).get("ras.bands")
        for value in bands.values if bands else ():
            proposal.problems += [f"ras.bands: {p}" for p in check_bands(value.value)]
        try:
            results = [run_test(candidate, t) for t in discover(candidate, change.council)]
        except RuleFileError as exc:
            results = []
            proposal.problems.append(str(exc).replace(str(work), "rules"))
        failures = [{"name": r.test.name, "problems": r.problems} for r in results if not r.passed]
        proposal.tests = {
            "run": len(results),
            "passed": len(results) - len(failures),
            "failed": len(failures),
            "failures": failures,
        }
        on = _effective_on(candidate, change.council)
        before, after = current.bundle(change.council, on), candidate.bundle(change.council, on)
        from carebudget.rulebook.diff import diff_bundles

        proposal.diff = diff_bundles(_TwoBundles(before, after), change.council, on, on)  # type: ignore[arg-type]
        proposal.bundle, proposal.effective_from = after.hash, on
        cases, source = caseload(store, change.council, current)
        report = run_whatif(current, candidate, change.council, cases, on)
        changes = sorted((c for c in report.changes if c.error is None), key=lambda c: c.delta)
        proposal.whatif = {
            **report.summary(),
            "source": source,
            "date": on.isoformat(),
            "largest": [
                {
                    "case": c.case_id,
                    "before": f"{c.before:.2f}",
                    "after": f"{c.after:.2f}",
                    "change": f"{c.delta:.2f}",
                }
                for c in (changes[:8] + changes[-8:] if len(changes) > 16 else changes)
                if c.delta != 0
            ],
            "errors_sample": [{"case": c.case_id, "error": c.error} for c in report.errors[:5]],
        }
        if proposal.problems or failures:
            proposal.status = "refused"
        elif store is not None:
            store.save_bundle(
                after.hash, change.council, after.content, on, proposed_by, None, "draft"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save(settings.data_dir, proposal)
    return proposal


def approve_and_publish(settings: Any, store: Any, proposal_id: str, approver: str) -> Proposal:
    """A second policy officer approves; the file goes into the rules folder and is in force."""
    proposal = load(settings.data_dir, proposal_id)
    if proposal.status != "draft":
        raise PolicyChangeError(
            f"this change is {proposal.status}; only a draft that passed its checks "
            "can be published",
            "proposal_id",
        )
    if not proposal.publishable:
        raise PolicyChangeError("this change has not passed its checks and tests", "proposal_id")
    if approver == proposal.proposed_by:
        raise PolicyChangeError(
            "a second policy officer must approve: you proposed this change", "approver"
        )
    rules_dir = Path(settings.rules_dir)
    target = rules_dir / "councils" / proposal.council / proposal.path
    now_text = target.read_text(encoding="utf-8") if target.is_file() else None
    if now_text != proposal.replaces:
        raise PolicyChangeError(
            "the file changed since this proposal was checked; upload it again", "path"
        )
    registry = get_registry(rules_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{proposal.id}.tmp")
    tmp.write_text(proposal.content, encoding="utf-8")
    os.replace(tmp, target)
    registry.refresh(force=True)
    if registry.refused is not None:  # the rules moved on under us: put the old file back
        if now_text is None:
            target.unlink()
        else:
            target.write_text(now_text, encoding="utf-8")
        registry.refresh(force=True)
        raise PolicyChangeError(
            f"the rules in force refused the change: {registry.refused}", "content"
        )
    proposal.status, proposal.approved_by, proposal.decided_at = "published", approver, _now()
    if store is not None and proposal.bundle and proposal.effective_from:
        bundle = registry.bundle(proposal.council, proposal.effective_from)
        store.save_bundle(
            bundle.hash,
            proposal.council,
            bundle.content,
            proposal.effective_from,
            proposal.proposed_by,
            approver,
            "published",
        )
        proposal.bundle = bundle.hash
    save(settings.data_dir, proposal)
    return proposal


def withdraw(settings: Any, proposal_id: str, actor: str) -> Proposal:
    proposal = load(settings.data_dir, proposal_id)
    if proposal.status not in ("draft", "refused"):
        raise PolicyChangeError(
            f"this change is {proposal.status} and cannot be withdrawn", "proposal_id"
        )
    proposal.status, proposal.approved_by, proposal.decided_at = "withdrawn", actor, _now()
    save(settings.data_dir, proposal)
    return proposal


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def as_json(proposal: Proposal) -> dict[str, Any]:
    return json.loads(proposal.model_dump_json())
