"""Letters as issued (Care Act 2014 s13(2), s24(2), s26) and the outbox of notices about them.

A letter is written once per key (the case's event key): a retried or replayed activity finds
the letter already issued and changes nothing. Its sha256 goes on the case's ledger chain in the
same transaction, with any notices it causes, so a crash leaves either all of them or none.

A letter issued with its HTML alone gets its PDF when the PDF is first asked for (`attach_pdf`):
printed from the stored HTML, with its own `letter.pdf` ledger row naming the letter, the HTML's
sha256 and the PDF's. Letters issued with both keep both sha256s on their `letter.issued` row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from carebudget.store import ledger
from carebudget.store.db import aware, read, utcnow, write
from carebudget.store.errors import InvalidInput, StoreError, UnknownCase
from carebudget.store.models import CASES, LEDGER, LETTERS, NOTICES
from carebudget.store.roles import SYSTEM_ROLE
from carebudget.store.schemas import LedgerEntry, Public

ISSUED = "letter.issued"
PDF_PRINTED = "letter.pdf"
ACTOR = "carebudget"


class UnknownLetter(StoreError):
    """No letter of this case has that id."""


class LetterMeta(Public):
    id: int
    letter_key: str
    case_id: str
    council: str
    kind: str
    created_at: datetime
    sha256: str
    pdf_sha256: str
    template: str
    template_sha256: str
    bundle: str
    ledger_chain: str
    ledger_seq: int


class Letter(LetterMeta):
    html: str
    pdf: bytes


class Notice(Public):
    id: int
    notice_key: str
    case_id: str | None
    kind: str
    recipient: str
    address: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str
    send_after: datetime | None = None
    only_at_stage: str | None = None
    withdrawn_at: datetime | None = None


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


META = [c for c in LETTERS.c if c.name not in ("html", "pdf")]


def _meta(m: Mapping[Any, Any]) -> LetterMeta:
    return LetterMeta(**{c.name: m[c.name] for c in META} | {"created_at": aware(m["created_at"])})


@dataclass(frozen=True)
class Draft:
    """A letter rendered and ready to be stored, with the notices it causes; its PDF is printed
    when first asked for. Issued on its own (`issue`) or with its step's record (steps.record)."""

    key: str
    kind: str
    html: str
    template: str
    template_sha256: str
    bundle: str
    notices: Sequence[Mapping[str, Any]] = field(default=())
    pdf: bytes | None = None

    def check(self) -> None:
        ledger.check_text(self.key, "letter_key", 200)
        ledger.check_text(self.kind, "kind", 40)
        if not self.html.strip():
            raise InvalidInput("a letter needs its HTML", "html")
        if self.pdf is not None and not self.pdf.startswith(b"%PDF"):
            raise InvalidInput("a letter's PDF must be a PDF document (it does not start with %PDF)", "pdf")
        for notice in self.notices:
            check_notice(notice)

    @property
    def ledger_key(self) -> str:
        return f"letter:{self.key}"

    def issued(self) -> dict[str, str]:
        """The `letter.issued` ledger row's payload: what the letter's content hashes to."""
        digest, pdf = sha256(self.html), self.pdf
        return {"kind": self.kind, "letter_key": self.key, "sha256": digest,
                **({"pdf_sha256": sha256(pdf)} if pdf is not None else {}),
                "template": self.template, "template_sha256": self.template_sha256, "bundle": self.bundle}

    def row(self, case_id: str, council: str, chain: str, entry: LedgerEntry) -> dict[str, Any]:
        return {"letter_key": self.key, "case_id": case_id, "council": council, "kind": self.kind,
                "created_at": entry.at, "html": self.html, "pdf": self.pdf or b"",
                "sha256": entry.payload["sha256"], "pdf_sha256": entry.payload.get("pdf_sha256", ""),
                "template": self.template, "template_sha256": self.template_sha256,
                "bundle": self.bundle, "ledger_chain": chain, "ledger_seq": entry.seq}


def issue(engine: Engine, key: str, case_id: str, kind: str, html: str, pdf: bytes | None, template: str,
          template_sha256: str, bundle: str, notices: Sequence[Mapping[str, Any]] = ()) -> LetterMeta:
    """Store a letter and its ledger row and queue its notices, or return the letter already
    issued under `key` (nothing else written). `pdf` None: printed when first asked for."""
    draft = Draft(key, kind, html, template, template_sha256, bundle, notices, pdf)
    draft.check()
    with read(engine) as conn:
        council = conn.execute(select(CASES.c.council).where(CASES.c.case_id == case_id)).scalar()
    if council is None:
        raise UnknownCase(f"case {case_id!r} is not on the case list", "case_id")
    chain = ledger.chain_for_council(council)
    with write(engine, ledger.chain_lock(chain)) as conn:
        return issue_in(conn, chain, council, case_id, draft)


def issue_in(conn: Connection, chain: str, council: str, case_id: str, draft: Draft) -> LetterMeta:
    """`issue` inside the caller's write transaction on the case's chain."""
    found = conn.execute(select(*META).where(LETTERS.c.letter_key == draft.key)).first()
    if found is not None:
        return _meta(found._mapping)
    entry = ledger.append(conn, draft.ledger_key, case_id, ACTOR, SYSTEM_ROLE, ISSUED, draft.issued(),
                          chain=chain)
    conn.execute(LETTERS.insert().values(**draft.row(case_id, council, chain, entry)))
    queue_all_in(conn, draft.notices, entry.at)
    row = conn.execute(select(*META).where(LETTERS.c.letter_key == draft.key)).one()
    return _meta(row._mapping)


def issue_new(batch: ledger.Batch, council: str, case_id: str,
              drafts: Sequence[Draft]) -> list[tuple[Draft, dict[str, Any]]]:
    """Letters none of whose keys is used: their ledger rows appended to `batch` (their step's
    rows); their own rows to be inserted by `insert_new` once the batch is flushed."""
    issued = []
    for draft in drafts:
        entry = batch.add(draft.ledger_key, case_id, ACTOR, SYSTEM_ROLE, ISSUED, draft.issued())
        issued.append((draft, draft.row(case_id, council, batch.chain, entry)))
    return issued


def insert_new(conn: Connection, issued: Sequence[tuple[Draft, dict[str, Any]]]) -> None:
    if not issued:
        return
    conn.execute(LETTERS.insert(), [row for _, row in issued])
    queue_all_in(conn, [n for draft, _ in issued for n in draft.notices], issued[0][1]["created_at"])


def for_case(engine: Engine, case_id: str) -> list[LetterMeta]:
    ledger.check_text(case_id, "case_id", 100)
    with read(engine) as conn:
        rows = conn.execute(select(*META).where(LETTERS.c.case_id == case_id).order_by(LETTERS.c.id))
        return [_meta(r._mapping) for r in rows]


def get(engine: Engine, case_id: str, letter_id: int) -> Letter:
    ledger.check_text(case_id, "case_id", 100)
    if not 1 <= letter_id <= 2**31 - 1:  # an INTEGER column on PostgreSQL
        raise UnknownLetter(f"case {case_id!r} has no letter {letter_id}", "letter_id")
    with read(engine) as conn:
        row = conn.execute(select(LETTERS).where(
            LETTERS.c.case_id == case_id, LETTERS.c.id == letter_id)).first()
    if row is None:
        raise UnknownLetter(f"case {case_id!r} has no letter {letter_id}", "letter_id")
    m = row._mapping
    return Letter(**_meta(m).model_dump(), html=m["html"], pdf=bytes(m["pdf"]))


def attach_pdf(engine: Engine, letter: Letter, pdf: bytes) -> Letter:
    """Keep the PDF printed from `letter`'s stored HTML, with its `letter.pdf` ledger row, unless
    another request kept one first (then that one is returned and nothing is written)."""
    if not pdf.startswith(b"%PDF"):
        raise InvalidInput("a letter's PDF must be a PDF document (it does not start with %PDF)", "pdf")
    with write(engine, ledger.chain_lock(letter.ledger_chain)) as conn:
        kept = conn.execute(select(LETTERS.c.pdf).where(LETTERS.c.id == letter.id)).scalar_one()
        if kept:
            return letter.model_copy(update={"pdf": bytes(kept)})
        digest = sha256(pdf)
        ledger.append(conn, f"letter-pdf:{letter.letter_key}", letter.case_id, ACTOR, SYSTEM_ROLE, PDF_PRINTED, {
            "kind": letter.kind, "letter_key": letter.letter_key, "letter_id": letter.id,
            "sha256": letter.sha256, "pdf_sha256": digest,
        }, chain=letter.ledger_chain)
        conn.execute(update(LETTERS).where(LETTERS.c.id == letter.id).values(pdf=pdf, pdf_sha256=digest))
    return letter.model_copy(update={"pdf": pdf, "pdf_sha256": digest})


# --- the outbox ---------------------------------------------------------------------------------
NOTICE_FIELDS = ("notice_key", "case_id", "kind", "recipient", "address", "subject", "body")


def check_notice(notice: Mapping[str, Any]) -> None:
    missing = [f for f in NOTICE_FIELDS if f != "case_id" and not notice.get(f)]
    if missing:
        raise InvalidInput(f"a notice needs {', '.join(missing)}", missing[0])


def queue_all_in(conn: Any, notices: Sequence[Mapping[str, Any]], at: datetime) -> None:
    """Add notices inside the caller's transaction (keys looked up together, the new ones inserted
    together); a key already queued is left as it is, and so is a key's second notice."""
    for notice in notices:
        check_notice(notice)
    if not notices:
        return
    keys = [n["notice_key"] for n in notices]
    queued = set(conn.execute(select(NOTICES.c.notice_key).where(NOTICES.c.notice_key.in_(keys))).scalars())
    rows = []
    for notice in notices:
        if notice["notice_key"] in queued:
            continue
        queued.add(notice["notice_key"])
        rows.append({**{f: notice.get(f) for f in NOTICE_FIELDS}, "send_after": notice.get("send_after"),
                     "only_at_stage": notice.get("only_at_stage"), "created_at": at, "attempts": 0,
                     "last_error": ""})
    if rows:
        conn.execute(NOTICES.insert(), rows)


def queue(engine: Engine, notices: Sequence[Mapping[str, Any]]) -> None:
    with write(engine, "notices") as conn:
        queue_all_in(conn, notices, utcnow())


def _when(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def _notice(m: Mapping[Any, Any]) -> Notice:
    return Notice(**{k: m[k] for k in (*NOTICE_FIELDS, "id", "attempts", "last_error", "only_at_stage")},
                  created_at=aware(m["created_at"]), sent_at=_when(m["sent_at"]),
                  send_after=_when(m["send_after"]), withdrawn_at=_when(m["withdrawn_at"]))


def claim(engine: Engine, case_id: str | None = None, hold: timedelta = timedelta(minutes=2),
          limit: int = 50) -> list[Notice]:
    """Unsent notices no one else holds, held for `hold` by the caller: two senders never send the
    same one; one that crashed mid-send lets it go when the hold ends, so it is not lost."""
    now = utcnow()
    free = and_(NOTICES.c.sent_at.is_(None), NOTICES.c.withdrawn_at.is_(None),
                or_(NOTICES.c.send_after.is_(None), NOTICES.c.send_after <= now),
                or_(NOTICES.c.claimed_until.is_(None), NOTICES.c.claimed_until < now))
    where = free if case_id is None else and_(free, NOTICES.c.case_id == case_id)
    with write(engine, "notices") as conn:
        rows = list(conn.execute(select(NOTICES).where(where).order_by(NOTICES.c.id).limit(limit)))
        held = []
        for row in rows:
            done = conn.execute(update(NOTICES).where(and_(NOTICES.c.id == row.id, free))
                                .values(claimed_until=now + hold, attempts=NOTICES.c.attempts + 1))
            if done.rowcount == 1:
                held.append(_notice(row._mapping).model_copy(update={"attempts": row.attempts + 1}))
        return held


def mark_sent(engine: Engine, notice_id: int) -> None:
    with write(engine, "notices") as conn:
        conn.execute(update(NOTICES).where(NOTICES.c.id == notice_id)
                     .values(sent_at=utcnow(), claimed_until=None, last_error=""))


def withdraw(engine: Engine, notice_id: int, why: str) -> None:
    """A reminder no longer needed (the case moved on): never sent, and the reason kept."""
    with write(engine, "notices") as conn:
        conn.execute(update(NOTICES).where(NOTICES.c.id == notice_id)
                     .values(withdrawn_at=utcnow(), claimed_until=None, last_error=why[:2000]))


def mark_failed(engine: Engine, notice_id: int, error: str, retry_in: timedelta) -> None:
    """Sending failed: say why, and try again after `retry_in`."""
    with write(engine, "notices") as conn:
        conn.execute(update(NOTICES).where(NOTICES.c.id == notice_id)
                     .values(claimed_until=utcnow() + retry_in, last_error=error[:2000]))


def notices(engine: Engine, case_id: str | None = None, limit: int = 200) -> list[Notice]:
    query = select(NOTICES).order_by(NOTICES.c.id.desc()).limit(limit)
    if case_id is not None:
        query = query.where(NOTICES.c.case_id == case_id)
    with read(engine) as conn:
        return [_notice(r._mapping) for r in conn.execute(query)]


def check_letters(conn: Any, chain: str) -> tuple[int, str] | None:
    """Each letter on this chain must still hash to the sha256s its `letter.issued` row holds, and
    a PDF printed later to the one its `letter.pdf` row holds (a letter with no PDF yet has none)."""
    printed = {p["letter_key"]: (seq, p) for seq, p in (
        (seq, json.loads(payload)) for seq, payload in conn.execute(
            select(LEDGER.c.seq, LEDGER.c.payload).where(LEDGER.c.chain == chain,
                                                         LEDGER.c.action == PDF_PRINTED)))}
    rows = conn.execute(select(LETTERS.c.id, LETTERS.c.html, LETTERS.c.pdf, LETTERS.c.ledger_seq,
                               LEDGER.c.payload)
                        .outerjoin(LEDGER, and_(LEDGER.c.chain == LETTERS.c.ledger_chain,
                                                LEDGER.c.seq == LETTERS.c.ledger_seq))
                        .where(LETTERS.c.ledger_chain == chain).order_by(LETTERS.c.id))
    for letter_id, html, pdf, seq, payload in rows:
        if payload is None:
            return seq, f"letter {letter_id} points at ledger row {seq}, which does not exist"
        issued = json.loads(payload)
        if sha256(html) != issued.get("sha256"):
            return seq, f"letter {letter_id} was altered: it no longer matches ledger row {seq}"
        pdf = bytes(pdf)
        if "pdf_sha256" in issued:
            if sha256(pdf) != issued["pdf_sha256"]:
                return seq, f"letter {letter_id}'s PDF was altered: it no longer matches ledger row {seq}"
            continue
        print_seq, print_row = printed.get(issued["letter_key"], (None, None))
        if print_row is None:
            if pdf:
                return seq, f"letter {letter_id} has a PDF that no ledger row records"
        elif print_row.get("sha256") != issued["sha256"] or sha256(pdf) != print_row.get("pdf_sha256"):
            return print_seq, (f"letter {letter_id}'s PDF was altered: it no longer matches ledger "
                               f"row {print_seq}")
    return None
