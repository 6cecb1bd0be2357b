"""A council policy change from upload to publication: check, test, what-if, second approval.

CSSG 11.24 asks councils to be transparent about how they set budgets, and a new rule must not
reach a decision before it has been checked: an uploaded rule or parameter file is laid over the
rules in force in a folder of its own, checked with every other rule file, the council's rule
tests run on it, and the caseload is decided under both versions. Only then may a second policy
officer approve it. Publishing adds an immutable version to the store (never the shipped rules
folder), which every service process layers over the shipped rules within seconds.

Who may change what: a council's files by its policy officers (`policy_admin`), the national
rules and figures by national rules officers (`national_admin`), in the same two-person flow.

Never edit in place, never rewrite the past: a change takes effect on or after the day it is
published; one that would alter the rules in force on an earlier day is refused. Correcting a
legal error in a past period is a separate act, a correction, with its reason and clause, a
second approver and its own ledger event; decisions made before it keep the bundle they were
made under, by hash, and replay under it.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carebudget.policy.versions import registry_for
from carebudget.rulebook.library import Library, UnknownCouncil, load_library
from carebudget.rulebook.registry import layer_folder
from carebudget.rulebook.vetting import vet_in_subprocess
from carebudget.rulebook.yamlsource import RuleFileError

SAFE_PATH = re.compile(r"^(?:[a-z0-9][a-z0-9_-]*/)*[a-z0-9][a-z0-9_.-]*\.yaml$")
# A council's letter template (carebudget/letters): letters/<letter or shared piece>.html.j2
LETTER_PATH = re.compile(r"^letters/([a-z_]+)\.html\.j2$")


def is_letter_template(path: str) -> bool:
    return LETTER_PATH.match(path) is not None
MAX_FILE_BYTES = 200_000
CASELOAD_LIMIT = 5_000
Status = Literal["draft", "refused", "published", "withdrawn"]
Kind = Literal["change", "correction"]


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
        "for example parameters/ras.yaml or ras.yaml or tests/budget.yaml, "
        "or a letter template such as letters/eligibility.html.j2",
    )
    content: str = Field(
        min_length=1, max_length=MAX_FILE_BYTES, description="The YAML file's (or the letter template's) text"
    )
    note: str = Field(
        "", max_length=2000, description="Why the change is made (shown to the approver)"
    )
    kind: Kind = Field(
        "change",
        description="change: takes effect on or after the day it is published; correction: "
        "corrects a legal error in a past period (needs correction_reason and correction_clause)",
    )
    correction_reason: str = Field("", max_length=2000, description="For a correction: what was wrong")
    correction_clause: str = Field(
        "", max_length=200, description="For a correction: the clause of the law it puts right"
    )

    @model_validator(mode="after")
    def _correction_says_why(self) -> ProposalIn:
        if self.kind == "correction":
            if len(self.correction_reason.split()) < 3:
                raise ValueError("correction_reason: a correction must say in a sentence what was wrong")
            if not self.correction_clause.strip():
                raise ValueError("correction_clause: a correction must name the clause of the law it puts right")
        return self

    @field_validator("path")
    @classmethod
    def _safe_path(cls, v: str) -> str:
        from carebudget.letters.samples import TEMPLATE_NAMES

        v = v.strip()
        letter = LETTER_PATH.match(v)
        if letter is not None:
            if letter.group(1) not in TEMPLATE_NAMES:
                raise ValueError(f"there is no letter template {letter.group(1)!r}: a letter template is one of "
                                 f"{', '.join(f'letters/{n}.html.j2' for n in sorted(TEMPLATE_NAMES))}")
            return v
        if not SAFE_PATH.match(v) or ".." in v:
            raise ValueError(
                "use a path like parameters/ras.yaml: lower-case letters, digits, - and _, "
                "folders separated by /, ending in .yaml (or a letter template, letters/eligibility.html.j2)"
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
    kind: Kind = "change"
    correction: dict[str, str] | None = None
    base_seq: int = 0  # the newest published version (any council) when the change was checked
    version: int | None = None  # the version number once published
    problems: list[str] = []
    tests: dict[str, Any] = {}
    whatif: dict[str, Any] = {}
    whatif_pending: bool = False  # checked, its what-if still to run (the web page runs it in the background)
    diff: dict[str, Any] = {}
    bundle: str | None = None
    effective_from: date | None = None
    replaces: str | None = None  # the file's text before, if it existed
    approved_by: str | None = None
    decided_at: datetime | None = None

    @property
    def publishable(self) -> bool:
        return (self.status == "draft" and not self.problems and self.tests.get("failed", 0) == 0
                and not self.whatif_pending)


def _now() -> datetime:
    return datetime.now(UTC)


def save(store: Any, proposal: Proposal) -> None:
    store.save_policy_change(json.loads(proposal.model_dump_json()))


def load(store: Any, proposal_id: str) -> Proposal:
    found = store.get_policy_change(proposal_id) if re.fullmatch(r"[0-9a-f]{12}", proposal_id) else None
    if found is None:
        raise PolicyChangeNotFound(f"no policy change {proposal_id!r}", "proposal_id")
    return Proposal.model_validate(found)


def list_all(store: Any, council: str | None = None) -> list[Proposal]:
    return [Proposal.model_validate(c) for c in store.list_policy_changes(council)]


def _change_dates(libraries: tuple[Library, ...], council: str, today: date) -> list[date]:
    """Every day on which the bundle of either library may change, and today."""
    days = {today}
    for library in libraries:
        for layer in library.layers(council):
            days.update(f.effective_from for f in layer.rule_files)
            days.update(v.since for p in layer.parameters.values() for v in p.values)
    return sorted(days)


def first_difference(current: Library, candidate: Library, council: str, today: date) -> date | None:
    """The first day on which the candidate's bundle differs from the bundle in force (bundles
    only change on the dates of their files and values, so those days are enough)."""
    for day in _change_dates((current, candidate), council, today):
        if current.bundle(council, day).hash != candidate.bundle(council, day).hash:
            return day
    return None


def _retroactive(day: date, today: date) -> str:
    return (
        f"this change alters the rules in force on {day.isoformat()}, before today "
        f"({today.isoformat()}): a change takes effect on or after the day it is published, and "
        "what was in force on an earlier day is never rewritten. Date the new values or rule file "
        "from today or later; to correct a legal error in a past period, propose a correction "
        "with its reason and clause"
    )


def _candidate_folder(registry: Any, council: str, path: str, content: str, into: Path) -> Path:
    """The rules in force with one file replaced or added, in a folder of its own."""
    work = into / "rules"
    shutil.copytree(registry.effective_root, work, ignore=shutil.ignore_patterns(".*"))
    target = layer_folder(work, council) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    return work


def _candidate(registry: Any, council: str, path: str, content: str, into: Path) -> Library:
    return load_library(_candidate_folder(registry, council, path, content, into))


def _relative(exc: RuleFileError, folder: Path) -> str:
    return str(exc).replace(str(folder / "rules"), "rules")


def caseload(
    store: Any, council: str, library: Library, limit: int = CASELOAD_LIMIT
) -> tuple[list[dict[str, Any]], str]:
    """The inputs of each case's latest budget decision (at most `limit` cases, in case id order,
    read in one query); the council's rule tests when none exist."""
    cases: list[dict[str, Any]] = []
    if store is not None:
        cases = [{"id": d.case_id, "input": d.record.get("input", {})} for d in store.latest_decisions(
            council, ("indicative-budget", "assessment"), limit, role="compliance")]
    if cases:
        return cases[:limit], "the current caseload"
    from carebudget.policy.ruletests import discover

    tests = [
        t
        for t in discover(library, council)
        if t.kind in ("indicative-budget", "assessment") and not t.expected_error
    ]
    return [
        {"id": t.name, "input": t.input} for t in tests
    ], "the council's rule-test cases (no case with a budget decision is on record yet)"


NATIONAL = "england"


def role_for(council: str) -> str:
    return "national_admin" if council == NATIONAL else "policy_admin"


def _check_role(council: str, role: str) -> None:
    needed = role_for(council)
    if role != needed:
        who = "national rules officer (national_admin)" if council == NATIONAL else "council policy officer (policy_admin)"
        what = "the national rules and figures" if council == NATIONAL else f"{council}'s rules"
        raise PolicyChangeError(f"only a {who} may change {what}", "council")


def propose(settings: Any, store: Any, change: ProposalIn, proposed_by: str,
            role: str = "policy_admin", defer_whatif: bool = False) -> Proposal:
    """Check an uploaded file against the rules in force; keep it as a draft (or refused) change.

    `defer_whatif`: save the checked change with its what-if still to run (`whatif_pending`), for
    `complete_whatif` to run while the web page shows its progress."""
    from carebudget.decisions.indicative_budget import check_bands
    from carebudget.policy.ruletests import discover, run_test
    from carebudget.rulebook.diff import diff_two

    registry = registry_for(settings.rules_dir, store)
    current = registry.library
    try:
        current.layers(change.council)
    except UnknownCouncil as exc:
        raise PolicyChangeError(str(exc), "council") from None
    _check_role(change.council, role)
    target = layer_folder(registry.effective_root, change.council) / change.path
    proposal = Proposal(
        id=uuid.uuid4().hex[:12],
        council=change.council,
        path=change.path,
        content=change.content,
        note=change.note,
        proposed_by=proposed_by,
        proposed_at=_now(),
        status="draft",
        kind=change.kind,
        correction=(
            {"reason": change.correction_reason, "clause": change.correction_clause}
            if change.kind == "correction" else None
        ),
        base_seq=store.latest_policy_seq(),
        replaces=target.read_text(encoding="utf-8") if target.is_file() else None,
    )
    today = date.today()
    folder = Path(tempfile.mkdtemp(prefix="carebudget-proposal-"))
    try:
        work = _candidate_folder(registry, change.council, change.path, change.content, folder)
        # Issue 10 point 3: the candidate is first loaded and run in a child process under
        # limits; only rules that passed there are ever compiled in this (serving) process.
        vetted = vet_in_subprocess(work, change.council, timeout_s=settings.vetting_timeout_s,
                                   memory_mb=settings.vetting_memory_mb)
        if vetted:
            proposal.problems = [p.replace(str(work), "rules") for p in vetted]
            proposal.status = "refused"
            save(store, proposal)
            return proposal
        try:
            candidate = load_library(work)
        except RuleFileError as exc:
            proposal.problems = [_relative(exc, folder)]
            proposal.status = "refused"
            save(store, proposal)
            return proposal
        bands = candidate.parameters(change.council).get("ras.bands")
        for value in bands.values if bands else ():
            proposal.problems += [f"ras.bands: {p}" for p in check_bands(value.value)]
        try:
            # A national change is tested against every council's rule tests too.
            scope = None if change.council == NATIONAL else change.council
            results = [run_test(candidate, t) for t in discover(candidate, scope)]
        except RuleFileError as exc:
            results = []
            proposal.problems.append(_relative(exc, folder))
        failures = [{"name": r.test.name, "problems": r.problems} for r in results if not r.passed]
        proposal.tests = {
            "run": len(results),
            "passed": len(results) - len(failures),
            "failed": len(failures),
            "failures": failures,
        }
        letter = is_letter_template(change.path)
        differs = None if letter else first_difference(current, candidate, change.council, today)
        if letter and proposal.replaces == change.content:
            proposal.problems.append("this template is the one in force, word for word")
        elif differs is None and not letter and not change.path.startswith("tests/"):
            proposal.problems.append("this file changes no rule and no amount in force on any day")
        on = differs or today
        if on < today and change.kind == "change":
            proposal.problems.append(_retroactive(on, today))
        if letter and change.kind == "correction":
            proposal.problems.append("a letter's wording is changed from the day it is published; "
                                     "propose it as an ordinary change")
        elif change.kind == "correction" and on >= today:
            proposal.problems.append(
                "a correction puts right a past period; this file changes nothing before today, "
                "so propose it as an ordinary change")
        proposal.diff = diff_two(current.bundle(change.council, on), candidate.bundle(change.council, on),
                                 change.council, f"in force on {on.isoformat()}", "with this change")
        proposal.bundle, proposal.effective_from = candidate.bundle(change.council, on).hash, on
        if letter:  # wording, not amounts: nothing on the caseload changes
            proposal.whatif = {"letters": "a letter template changes what letters say, not any "
                                          "decision or amount: there is no what-if on the caseload"}
        elif defer_whatif:
            proposal.whatif_pending = True
        else:
            proposal.whatif = whatif_section(store, current, candidate, change.council, on,
                                             pool_from=getattr(settings, "whatif_pool_from_cases", None))
        if proposal.problems or failures:
            proposal.status = "refused"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    save(store, proposal)
    return proposal


def whatif_section(
    store: Any, current: Library, candidate: Library, council: str, on: date,
    started: Callable[[int], None] | None = None, progress: Callable[[int], None] | None = None,
    pool_from: int | None = None,
) -> dict[str, Any]:
    """The caseload decided under the rules in force and with the change, as a proposal shows it.
    `started(n)` is told the number of cases once they are read, `progress(n)` as n more are done;
    `pool_from`: the caseload size from which the process pool decides it."""
    from carebudget.policy import rate_review
    from carebudget.policy.whatif import run_whatif

    cases, source = caseload(store, council, current)
    if started:
        started(len(cases))
    report = run_whatif(current, candidate, council, cases, on, progress=progress, pool_from=pool_from)
    changes = sorted((c for c in report.changes if c.error is None), key=lambda c: c.delta)
    section: dict[str, Any] = {
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
    if rate_review.rate_card_changed(current, candidate, council, on):
        budgets = rate_review.active_budgets(store, council)
        section["sufficiency"] = rate_review.below_sufficiency(current, candidate, council, budgets, on)
    return section


def complete_whatif(
    settings: Any, store: Any, proposal_id: str,
    started: Callable[[int], None] | None = None, progress: Callable[[int], None] | None = None,
) -> Proposal:
    """Run a checked change's deferred what-if and save it with the change. The candidate is laid
    over the rules in force again from the change's own file (it passed vetting when checked)."""
    proposal = load(store, proposal_id)
    if not proposal.whatif_pending:
        return proposal
    assert proposal.effective_from is not None
    registry = registry_for(settings.rules_dir, store)
    folder = Path(tempfile.mkdtemp(prefix="carebudget-whatif-"))
    try:
        candidate = _candidate(registry, proposal.council, proposal.path, proposal.content, folder)
        section = whatif_section(store, registry.library, candidate, proposal.council,
                                 proposal.effective_from, started, progress,
                                 getattr(settings, "whatif_pool_from_cases", None))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    proposal = load(store, proposal_id)  # as it is now: it may have been withdrawn meanwhile
    proposal.whatif, proposal.whatif_pending = section, False
    save(store, proposal)
    return proposal


def approve_and_publish(settings: Any, store: Any, proposal_id: str, approver: str,
                        role: str = "policy_admin") -> Proposal:
    """A second policy officer approves; the file becomes the council's next immutable version."""
    from carebudget.store import StoreError

    proposal = load(store, proposal_id)
    _check_role(proposal.council, role)
    if proposal.status != "draft":
        raise PolicyChangeError(
            f"this change is {proposal.status}; only a draft that passed its checks "
            "can be published",
            "proposal_id",
        )
    if proposal.whatif_pending:
        raise PolicyChangeError("the what-if on the caseload is still running: approve the change "
                                "once its figures are shown", "proposal_id")
    if not proposal.publishable:
        raise PolicyChangeError("this change has not passed its checks and tests", "proposal_id")
    if approver == proposal.proposed_by:
        raise PolicyChangeError(
            "a second policy officer must approve: you proposed this change", "approver"
        )
    assert proposal.effective_from is not None and proposal.bundle is not None
    today = date.today()
    letter = is_letter_template(proposal.path)
    if letter:  # a letter's wording is in force from the day it is published
        proposal.effective_from = today
    if proposal.kind == "change" and proposal.effective_from < today:
        raise PolicyChangeError(
            f"this change was to take effect on {proposal.effective_from.isoformat()}, which has "
            "passed: upload it again dated from today or later", "effective_from")
    registry = registry_for(settings.rules_dir, store)
    registry.refresh(force=True)
    if store.latest_policy_seq() != proposal.base_seq:
        raise PolicyChangeError(
            "another change to the rules was published after this one was checked; "
            "upload it again so it is checked against the rules now in force", "proposal_id")
    folder = Path(tempfile.mkdtemp(prefix="carebudget-publish-"))
    try:
        candidate = _candidate(registry, proposal.council, proposal.path, proposal.content, folder)
        checked = candidate.bundle(proposal.council, proposal.effective_from)
    except RuleFileError as exc:
        raise PolicyChangeError(f"the rules in force refused the change: {_relative(exc, folder)}", "content") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if checked.hash != proposal.bundle:
        raise PolicyChangeError(
            "the rules in force changed since this proposal was checked (its bundle would now be "
            f"{checked.hash[:12]}, not the {proposal.bundle[:12]} that was checked); upload it again",
            "proposal_id")
    checks = {"problems": proposal.problems, "tests": proposal.tests, "whatif": proposal.whatif,
              "diff": proposal.diff}
    try:
        version = store.publish_policy_version(
            json.loads(proposal.model_dump_json()), approver, proposal.base_seq, checks, checked.hash, role)
        if not letter:  # a template leaves the bundle as it was: it is not published again
            store.save_bundle(checked.hash, proposal.council, checked.content, proposal.effective_from,
                              proposal.proposed_by, approver, "published")
    except StoreError as exc:
        raise PolicyChangeError(str(exc), getattr(exc, "field", None) or "proposal_id") from None
    registry.refresh(force=True)
    return load(store, proposal.id).model_copy(update={"version": version["seq"]})


def letter_preview(settings: Any, store: Any, proposal: Proposal) -> str:
    """The letter a proposed template writes, for the sample case (carebudget/letters/samples):
    the template's own letter, or the eligibility letter for a shared piece. Only for a template
    that passed its checks, which rendered every letter in the vetting child under its limits."""
    from carebudget.letters.content import KINDS, letter_content
    from carebudget.letters.render import LetterTemplateError, render_html
    from carebudget.letters.samples import sample_case

    found = LETTER_PATH.match(proposal.path)
    if found is None or proposal.problems or proposal.status not in ("draft", "published"):
        raise PolicyChangeError("only a letter template that passed its checks has a preview", "proposal_id")
    kind = found.group(1) if found.group(1) in KINDS else "eligibility"
    council = proposal.council if proposal.council != NATIONAL else "demo"
    registry = registry_for(settings.rules_dir, store)
    folder = Path(tempfile.mkdtemp(prefix="carebudget-letter-preview-"))
    try:
        work = _candidate_folder(registry, proposal.council, proposal.path, proposal.content, folder)
        html, _ = render_html(letter_content(kind, sample_case(council), date.today()), work)
    except LetterTemplateError as exc:  # the templates in force moved on since it was checked
        raise PolicyChangeError(str(exc), "content") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return html


def withdraw(store: Any, proposal_id: str, actor: str) -> Proposal:
    proposal = load(store, proposal_id)
    if proposal.status not in ("draft", "refused"):
        raise PolicyChangeError(
            f"this change is {proposal.status} and cannot be withdrawn", "proposal_id"
        )
    proposal.status, proposal.approved_by, proposal.decided_at = "withdrawn", actor, _now()
    save(store, proposal)
    return proposal


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def as_json(proposal: Proposal) -> dict[str, Any]:
    return json.loads(proposal.model_dump_json())
