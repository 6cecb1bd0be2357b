"""The Store facade: one object per database, every store call the CLI, web and activities use."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from carebudget.store import (
    anchors,
    bundles,
    cases,
    decisions,
    ledger,
    letters,
    migrate,
    policy,
    sessions,
    steps,
    users,
    verify,
)
from carebudget.store.db import make_engine, read, write
from carebudget.store.letters import Draft as LetterDraft
from carebudget.store.roles import redact
from carebudget.store.schemas import (
    BundleRecord,
    CaseFilters,
    CaseRow,
    CaseUpdate,
    DecisionRecord,
    LedgerEntry,
    Page,
    ReplayResult,
    UserPublic,
    UserRecord,
    VerifyReport,
)
from carebudget.store.signing import Keyring

Progress = Callable[[int, int], None]  # (rows done, rows total)

BUNDLE_STATUSES = bundles.STATUSES


class Store:
    """SQLite or PostgreSQL behind SQLModel. Thread-safe; one per process is enough."""

    def __init__(self, url: str, keys: Keyring | None = None, checkpoint_every: int | None = None) -> None:
        """`keys` sign chain heads and checkpoints; default: CAREBUDGET_LEDGER_KEY from settings
        (refused outside development if it is the default or weak). A checkpoint is written
        every `checkpoint_every` rows of a chain (default: settings, 1000)."""
        from carebudget.settings import get_settings

        self.url = url
        self.keys = keys or Keyring.from_settings()
        every = checkpoint_every or get_settings().ledger_checkpoint_every
        # The key travels with every connection of this store, to wherever a row is appended.
        self.engine = make_engine(url).execution_options(
            **{ledger.KEYS_OPTION: self.keys, "carebudget_checkpoint_every": every})
        # Bundles known to be stored: content-addressed and never removed, so each is looked up
        # (and its content serialised) once per process, not on every decision's record.
        self._bundles_kept: set[str] = set()

    # --- schema -----------------------------------------------------------------------------
    def migrate(self) -> None:
        """Apply every Alembic migration (migrations/) not yet applied. Safe to call twice."""
        migrate.upgrade(self.engine, self.keys)

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    # --- ledger -----------------------------------------------------------------------------
    def append_event(
        self, event_key: str, case_id: str | None, actor: str, role: str, action: str,
        payload: Mapping[str, Any], personal: Mapping[str, Any] | None = None, *, chain: str | None = None,
    ) -> LedgerEntry:
        """Append one event to its chain; idempotent on `event_key`.

        The chain is the case's council's when `case_id` is given (`chain`, if also given, must
        agree); else `chain` (a council code, "national"), default "service" (sign-ins, users).
        Only that chain is locked: appends to other chains go ahead meanwhile (PostgreSQL).
        The same key with the same content returns the row already written (a retried activity
        writes once); the same key with different content raises DuplicateEvent. `case_id` must
        be on the case list (UnknownCase). `payload` / `personal` must be JSON objects
        (InvalidInput). `personal` holds identifying data, hidden by `redact` from roles that do
        not need it.
        """
        with write(self.engine) as conn:
            return ledger.append(conn, event_key, case_id, actor, role, action, payload, personal, chain=chain)

    def verify_chain(
        self, progress: Progress | None = None, *, council: str | None = None,
        anchor: Mapping[str, Any] | None = None,
    ) -> VerifyReport:
        """Check one council's chain (`council`: a council code, "national" or "service") or
        every chain; report the first broken row in plain words.

        Each chain: every row re-hashed in order; its head's and checkpoints' signatures; the
        rows the exported `anchor` (from export_anchor) recorded still there, unchanged; the
        council's case list and personal rows equal to what its rows say; each decision record,
        policy version and rule bundle still matching its ledger row or hash.
        """
        points = anchors.entries(anchor) if anchor is not None else []
        chain = None if council is None else ledger.chain_for_council(council)
        return verify.verify(self.engine, self.keys, chain, progress, points)

    def checkpoint(self, council: str | None = None) -> list[dict[str, Any]]:
        """Sign every chain's head (or one council's) into ledger_checkpoint now; the anchors."""
        return anchors.checkpoint(self.engine, self.keys, None if council is None else ledger.chain_for_council(council))

    def export_anchor(self, council: str | None = None) -> dict[str, Any]:
        """Checkpoint now and return the anchor document a council keeps away from this database
        (a JSON object); pass it back to verify_chain(anchor=...) to prove nothing was cut or
        rewritten since."""
        return anchors.export(self.checkpoint(council))

    def chains(self) -> list[str]:
        with read(self.engine) as conn:
            return ledger.chains(conn)

    def ledger_events(self, action: str) -> list[LedgerEntry]:
        """Every ledger event with this action, every chain, in time order."""
        with read(self.engine) as conn:
            entries = [ledger.to_entry(row) for row in ledger.rows_by_action(conn, (action,))]
        return sorted(entries, key=lambda e: (e.at, e.chain, e.seq))

    def ledger_count(self, council: str | None = None) -> int:
        """Rows on every chain, or on one council's."""
        with read(self.engine) as conn:
            return ledger.count(conn, None if council is None else ledger.chain_for_council(council))

    def case_trail(self, case_id: str, role: str | None = None) -> list[LedgerEntry]:
        """Every ledger row of a case, in order; personal data redacted unless `role` needs it."""
        ledger.check_text(case_id, "case_id", 100)
        with read(self.engine) as conn:
            entries = ledger.trail(conn, case_id)
        return [redact(e, role) for e in entries]

    # --- operations case list -------------------------------------------------------------
    def upsert_case(
        self, event_key: str, case_id: str, update: CaseUpdate | Mapping[str, Any],
        actor: str, role: str,
    ) -> CaseRow:
        """Open a case (council and opened required) or change its list fields.

        Writes ledger event `case.opened` (new case) or `case.updated` (the changed fields), so
        the list can be rebuilt from the ledger. Idempotent on `event_key` like append_event.
        """
        return redact(cases.upsert(self.engine, event_key, case_id, update, actor, role), role)

    def get_case(self, case_id: str, role: str | None = None) -> CaseRow:
        """One case-list row (UnknownCase if absent)."""
        return cases.get(self.engine, case_id, role)

    def list_cases(
        self, filters: CaseFilters | Mapping[str, Any] | None = None,
        page: Page | Mapping[str, Any] | None = None, role: str | None = None,
    ) -> tuple[list[CaseRow], int]:
        """One page of the operations list and the total matching the filters."""
        return cases.list_page(self.engine, filters, page, role)

    def person_cases(self, username: str, role: str | None = None) -> list[CaseRow]:
        """The cases of the person who signs in as `username`, newest first."""
        return cases.person_cases(self.engine, username, role)

    def reindex_cases(self, progress: Progress | None = None) -> int:
        """Rebuild the case list from the ledger's case.opened/case.updated rows; returns count."""
        return cases.reindex(self.engine, progress)

    # --- a case's steps, all or nothing ----------------------------------------------------
    def record_step(
        self, event_key: str, case_id: str, actor: str, role: str, action: str,
        payload: Mapping[str, Any], personal: Mapping[str, Any] | None = None, *,
        index: CaseUpdate | Mapping[str, Any] | None = None,
        decisions: Mapping[str, Mapping[str, Any]] | None = None,
        actor_roles: Collection[str] | None = None, letters: Sequence[LetterDraft] = (),
    ) -> LedgerEntry:
        """One step in one transaction: the case-list change `index` (opens the case when it has
        council/stage/opened), each decision record by kind, then the step's ledger event, then
        the `letters` its decisions produce (each with its `letter.issued` row and notices; one
        already issued under its key is left as it is, as `issue_letter` leaves it).

        With `actor_roles`, `actor` must be an active user in one of those roles and of the case's
        council; otherwise ActorRefused and nothing is written.

        Idempotent on `event_key`: the same content again returns the row already written. Other
        content under the same key writes nothing, appends `alarm.event_conflict` and raises
        DuplicateEvent. A step voided by `void_steps` is written under the next free key.
        """
        return steps.record(self.engine, event_key, case_id, actor, role, action, payload, personal,
                            index, decisions, actor_roles, letters, self._bundles_kept)

    def void_steps(self, case_id: str, event_keys: list[str], reason: str) -> list[str]:
        """Mark steps the case's workflow lost as void (`case.step_voided`); the keys newly voided."""
        return steps.void(self.engine, case_id, event_keys, reason)

    def voided_steps(self, case_id: str) -> set[str]:
        return steps.voided(self.engine, case_id)

    # --- decisions --------------------------------------------------------------------------
    def record_decision(
        self, decision_key: str, case_id: str | None, kind: str, record: Mapping[str, Any],
        actor: str, role: str, bundle_content: Mapping[str, Any] | None = None,
    ) -> int:
        """Store a decision record (as returned by carebudget.decisions.decide) and return its id.

        The bundle the record names (record["rules"]["bundle"]) is stored by hash if it is not
        already: from `bundle_content` when given, else from the rule files via
        get_registry().bundle(council, date), refused (BundleMismatch) if the hash differs.
        Appends ledger event `decision.recorded`. Idempotent on `decision_key`.
        """
        return decisions.record(self.engine, decision_key, case_id, kind, record, actor, role, bundle_content)

    def get_decision(self, decision_id: int, role: str | None = None) -> DecisionRecord:
        return decisions.get(self.engine, decision_id, role)

    def case_decisions(self, case_id: str, role: str | None = None) -> list[DecisionRecord]:
        return decisions.for_case(self.engine, case_id, role)

    def latest_decisions(self, council: str, kinds: Collection[str], limit: int,
                         role: str | None = None) -> list[DecisionRecord]:
        """Each of the council's cases' latest decision of one of `kinds`, in case id order."""
        return decisions.latest_per_case(self.engine, council, kinds, limit, role)

    def replay_decision(self, decision_id: int) -> ReplayResult:
        """Re-run a stored decision from its stored bundle content and compare with the record."""
        return decisions.replay(self.engine, decision_id)

    # --- rule bundles -----------------------------------------------------------------------
    def save_bundle(
        self, hash: str, council: str, content: Mapping[str, Any], effective_from: date,
        published_by: str, approved_by: str | None = None, status: str = "published",
    ) -> BundleRecord:
        """Store bundle content by hash (checked against the content) with its publication.

        Saving the same hash again updates status / approved_by and writes ledger event
        `rules.<status>`; the content itself never changes.
        """
        return bundles.save(self.engine, hash, council, content, effective_from, published_by, approved_by, status)

    def keep_bundle(self, hash: str, council: str, content: Mapping[str, Any], effective_from: date) -> bool:
        """Store the content of a bundle a decision was just made under; True if newly stored.

        Call it where the decision is made (`b = get_registry().bundle(council, on)`;
        `store.keep_bundle(b.hash, b.council, b.content, b.effective_from)`) when the record is
        written later, so a rule-file change in between cannot lose the content. No ledger event:
        the content is addressed by its hash, which is checked.
        """
        if hash in self._bundles_kept:
            return False
        stored = bundles.keep(self.engine, hash, council, content, effective_from)
        self._bundles_kept.add(hash)
        return stored

    def get_bundle(self, hash: str) -> BundleRecord:
        """A stored bundle (UnknownBundle if absent)."""
        return bundles.get(self.engine, hash)

    def list_bundles(self, council: str | None = None) -> list[BundleRecord]:
        return bundles.list_all(self.engine, council)

    # --- council policy: proposed changes and published versions ------------------------------
    def save_policy_change(self, change: Mapping[str, Any]) -> None:
        """Insert or update a proposed change (draft, refused or withdrawn)."""
        policy.save_change(self.engine, change)

    def get_policy_change(self, change_id: str) -> dict[str, Any] | None:
        return policy.get_change(self.engine, change_id)

    def list_policy_changes(self, council: str | None = None) -> list[dict[str, Any]]:
        return policy.list_changes(self.engine, council)

    def publish_policy_version(
        self, change: Mapping[str, Any], approver: str, base_seq: int, checks: Mapping[str, Any],
        bundle_hash: str, role: str = "policy_admin",
    ) -> dict[str, Any]:
        """Add the change's file as an immutable version, with its ledger event, atomically.
        DuplicateEvent if another version of the council was published since `base_seq`."""
        return policy.publish(self.engine, change, approver, base_seq, checks, bundle_hash, role)

    def latest_policy_seq(self, council: str | None = None) -> int:
        return policy.latest_seq(self.engine, council)

    def list_policy_versions(self, council: str | None = None, with_content: bool = False) -> list[dict[str, Any]]:
        return policy.list_versions(self.engine, council, with_content)

    def policy_files_in_force(self, up_to_seq: int | None = None) -> list[tuple[str, str, str]]:
        """(council, path, content) of the newest published version of every file."""
        return policy.files_in_force(self.engine, up_to_seq)

    # --- letters and the notice outbox (issue 13) ----------------------------------------------
    def issue_letter(
        self, key: str, case_id: str, kind: str, html: str, pdf: bytes | None, template: str,
        template_sha256: str, bundle: str, notices: list[dict[str, Any]] | None = None,
    ) -> letters.LetterMeta:
        """Store a letter once per `key` with its `letter.issued` ledger row (sha256 of the HTML,
        and of the PDF when there is one: None prints it when first asked for, see `letter_pdf`)
        and queue `notices` in the same transaction; a second call with the same key returns the
        letter already issued and writes nothing."""
        return letters.issue(self.engine, key, case_id, kind, html, pdf, template, template_sha256,
                             bundle, notices or [])

    def case_letters(self, case_id: str) -> list[letters.LetterMeta]:
        """A case's letters, oldest first, without their content."""
        return letters.for_case(self.engine, case_id)

    def get_letter(self, case_id: str, letter_id: int) -> letters.Letter:
        """One letter of the case with its HTML and PDF (UnknownLetter if it has no such letter)."""
        return letters.get(self.engine, case_id, letter_id)

    def letter_pdf(self, case_id: str, letter_id: int, print_pdf: Callable[[str], bytes]) -> letters.Letter:
        """The letter with its PDF: printed from its stored HTML by `print_pdf` and kept, with its
        `letter.pdf` ledger row, the first time it is asked for."""
        letter = letters.get(self.engine, case_id, letter_id)
        if letter.pdf:
            return letter
        return letters.attach_pdf(self.engine, letter, print_pdf(letter.html))

    def queue_notices(self, notices: list[dict[str, Any]]) -> None:
        """Put notices in the outbox; a key already there is left as it is."""
        letters.queue(self.engine, notices)

    def claim_notices(self, case_id: str | None = None, hold_seconds: float = 120) -> list[letters.Notice]:
        """Unsent notices no other sender holds, held for this one for `hold_seconds`: if it
        crashes before marking them sent, they are free again after that (see letters.claim)."""
        return letters.claim(self.engine, case_id, timedelta(seconds=hold_seconds))

    def notice_sent(self, notice_id: int) -> None:
        letters.mark_sent(self.engine, notice_id)

    def notice_withdrawn(self, notice_id: int, why: str) -> None:
        letters.withdraw(self.engine, notice_id, why)

    def notice_failed(self, notice_id: int, error: str, retry_in_seconds: float = 60) -> None:
        letters.mark_failed(self.engine, notice_id, error, timedelta(seconds=retry_in_seconds))

    def list_notices(self, case_id: str | None = None) -> list[letters.Notice]:
        """The outbox, newest first."""
        return letters.notices(self.engine, case_id)

    # --- web sessions -----------------------------------------------------------------------
    def create_session(self, username: str, role: str, kind: str, ttl_seconds: int) -> str:
        """A new session's secret (only its sha256 is stored)."""
        return sessions.create(self.engine, username, role, kind, ttl_seconds)

    def session_user(self, sid: str) -> tuple[str, str] | None:
        """(username, role) of a live session; None if unknown, expired or revoked."""
        return sessions.active(self.engine, sid)

    def revoke_session(self, sid: str) -> None:
        sessions.revoke(self.engine, sid)

    def revoke_user_sessions(self, username: str) -> None:
        sessions.revoke_user(self.engine, username)

    # --- users ------------------------------------------------------------------------------
    def create_user(
        self, username: str, display_name: str, role: str, password_hash: str, active: bool = True,
        *, actor: str = "admin", council: Any = users.UNSET, team: str | None = None,
    ) -> UserPublic:
        """Add a user (DuplicateUser if the username is taken, InvalidInput for unknown role or a
        council that does not fit the role). Without `council`: the demo council, or none for a
        national role.

        Writes ledger event `user.created` by `actor` (never the password hash).
        """
        return users.create(self.engine, username, display_name, role, password_hash, active, actor,
                            council, team)

    def get_user(self, username: str) -> UserRecord | None:
        return users.get(self.engine, username)

    def list_users(self) -> list[UserPublic]:
        return users.list_all(self.engine)

    def update_user(
        self, username: str, *, display_name: str | None = None, role: str | None = None,
        password_hash: str | None = None, active: bool | None = None, actor: str = "admin",
        council: str | None = None, team: str | None = None,
    ) -> UserPublic:
        """Change the given fields (UnknownUser if absent); ledger event `user.updated` by `actor`.
        `team=""` clears the team."""
        return users.update(self.engine, username, actor, display_name=display_name, role=role,
                            password_hash=password_hash, active=active, council=council, team=team)
