"""The operations case list: one row per case, kept current at each stage change, derived from
the ledger (case.opened / case.updated rows), so it can be rebuilt and checked against it.

Name and date of birth live in case_person and are joined only for roles that need them
(UK GDPR art 5(1)(c), data minimisation).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, delete, func, or_, select

from carebudget.store import ledger
from carebudget.store.db import aware, read, write
from carebudget.store.errors import DuplicateEvent, InvalidInput, UnknownCase
from carebudget.store.models import CASES, LEDGER, PERSONS
from carebudget.store.roles import can_read_personal
from carebudget.store.schemas import CaseFilters, CaseRow, CaseUpdate, Page

LIST_FIELDS = ("council", "stage", "opened", "due", "amounts", "assigned_to", "area")
PERSON_FIELDS = ("name", "date_of_birth")
MONEY = re.compile(r"^-?\d+(\.\d+)?$")
LIST_ACTIONS = frozenset({"case.opened", "case.updated"})
# A case as its ledger rows say it is: list fields, personal fields, last row's seq and time.
Folded = dict[str, tuple[dict[str, Any], dict[str, Any], int, str]]


def parse_model(model: Any, value: Any, field: str) -> Any:
    if isinstance(value, model):
        return value
    if value is None:
        return model()
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be a mapping, got {type(value).__name__}", field)
    try:
        return model.model_validate(dict(value))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(f"{field}.{where}: {err['msg']}", f"{field}.{where}") from None


def _changes(update: CaseUpdate) -> tuple[dict[str, Any], dict[str, Any]]:
    data = update.model_dump(mode="json", exclude_unset=True)
    for name, amount in (data.get("amounts") or {}).items():
        if not MONEY.match(amount):
            raise InvalidInput(f"amounts.{name}: {amount!r} is not an amount like '123.45'", f"amounts.{name}")
        try:
            Decimal(amount)
        except InvalidOperation:
            raise InvalidInput(f"amounts.{name}: {amount!r} is not an amount", f"amounts.{name}") from None
    for name in ("council", "stage"):
        if name in data and (data[name] is None or not str(data[name]).strip()):
            raise InvalidInput(f"{name} must be a non-empty string", name)
    listed = {k: v for k, v in data.items() if k in LIST_FIELDS}
    personal = {k: v for k, v in data.items() if k in PERSON_FIELDS}
    return listed, personal


def _apply(conn: Connection, case_id: str, listed: dict[str, Any], personal: dict[str, Any],
           seq: int, at: datetime, exists: bool) -> None:
    values: dict[str, Any] = {k: v for k, v in listed.items() if k != "amounts"}
    for key in ("opened", "due"):
        if values.get(key) is not None:
            values[key] = date.fromisoformat(values[key])
    if "amounts" in listed:
        values["amounts"] = json.dumps(listed["amounts"] or {}, sort_keys=True)
    values.update(updated_at=at, last_seq=seq)
    table = CASES
    if exists:
        conn.execute(table.update().where(table.c.case_id == case_id).values(**values))
    else:
        values.setdefault("amounts", "{}")
        conn.execute(table.insert().values(case_id=case_id, **values))
    if personal:
        pvalues = dict(personal)
        if pvalues.get("date_of_birth") is not None:
            pvalues["date_of_birth"] = date.fromisoformat(pvalues["date_of_birth"])
        ptable = PERSONS
        has = conn.execute(select(ptable.c.case_id).where(ptable.c.case_id == case_id)).first()
        if has:
            conn.execute(ptable.update().where(ptable.c.case_id == case_id).values(**pvalues))
        else:
            conn.execute(ptable.insert().values(case_id=case_id, **pvalues))


def prepare(engine: Engine, case_id: str, update: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Check an upsert before any lock: (the case's chain, list fields, personal fields)."""
    ledger.check_text(case_id, "case_id", 100)
    parsed: CaseUpdate = parse_model(CaseUpdate, update, "update")
    listed, personal = _changes(parsed)
    if "council" in listed and listed["council"] in ledger.RESERVED:
        raise InvalidInput(f"{listed['council']!r} is not a council: it names a chain of the service", "council")
    with read(engine) as conn:
        council = conn.execute(select(CASES.c.council).where(CASES.c.case_id == case_id)).scalar()
    if council is not None and listed.get("council", council) != council:
        raise InvalidInput(f"case {case_id!r} belongs to council {council!r}; a case cannot move to "
                           f"{listed['council']!r} (each council keeps its own record)", "council")
    council = council or listed.get("council")
    if council is None:
        raise InvalidInput(f"opening case {case_id!r} needs council", "council")
    return ledger.chain_for_council(council), listed, personal


def upsert(engine: Engine, event_key: str, case_id: str, update: Any, actor: str, role: str) -> CaseRow:
    chain, listed, personal = prepare(engine, case_id, update)
    # Only this council's chain is locked: other councils' cases are written meanwhile.
    with write(engine, ledger.chain_lock(chain)) as conn:
        upsert_in(conn, chain, event_key, case_id, listed, personal, actor, role)
        return _get(conn, case_id, role)


def upsert_in(conn: Connection, chain: str, event_key: str, case_id: str, listed: dict[str, Any],
              personal: dict[str, Any], actor: str, role: str) -> None:
    """The upsert inside the caller's write transaction (holding the chain's lock)."""
    exists = conn.execute(select(CASES.c.council).where(CASES.c.case_id == case_id)).scalar()
    if exists is not None and ledger.chain_for_council(exists) != chain:
        raise DuplicateEvent(f"case {case_id!r} was just opened by council {exists!r}", "case_id")
    prior = conn.execute(select(LEDGER.c.seq).where(LEDGER.c.event_key == event_key)).first()
    if not exists and prior is None:
        missing = [f for f in ("council", "stage", "opened") if listed.get(f) is None]
        if missing:
            raise InvalidInput(f"opening case {case_id!r} needs {', '.join(missing)}", missing[0])
    action = "case.updated" if exists or prior is not None else "case.opened"
    if prior is not None:  # a retry: ledger.append returns the earlier row or refuses
        ledger.append(conn, event_key, case_id, actor, role, _first_action(conn, event_key),
                      {"case": listed}, personal or None, chain=chain, case_must_exist=False)
    else:
        entry = ledger.append(conn, event_key, case_id, actor, role, action,
                              {"case": listed}, personal or None, chain=chain, case_must_exist=False)
        _apply(conn, case_id, listed, personal, entry.seq, entry.at, bool(exists))


def upsert_new(batch: ledger.Batch, event_key: str, case_id: str, listed: dict[str, Any],
               personal: dict[str, Any], actor: str, role: str) -> None:
    """`upsert_in` for a step whose keys are all unused (steps.record checked): no retry to meet."""
    conn = batch.conn
    exists = conn.execute(select(CASES.c.council).where(CASES.c.case_id == case_id)).scalar()
    if exists is not None and ledger.chain_for_council(exists) != batch.chain:
        raise DuplicateEvent(f"case {case_id!r} was just opened by council {exists!r}", "case_id")
    if not exists:
        missing = [f for f in ("council", "stage", "opened") if listed.get(f) is None]
        if missing:
            raise InvalidInput(f"opening case {case_id!r} needs {', '.join(missing)}", missing[0])
    action = "case.updated" if exists else "case.opened"
    entry = batch.add(event_key, case_id, actor, role, action, {"case": listed}, personal or None)
    _apply(conn, case_id, listed, personal, entry.seq, entry.at, bool(exists))


def _first_action(conn: Connection, event_key: str) -> str:
    row = conn.execute(select(LEDGER.c.action).where(LEDGER.c.event_key == event_key)).first()
    return str(row[0]) if row else "case.updated"


def _columns(with_person: bool) -> list[Any]:
    cols: list[Any] = list(CASES.c)
    if with_person:
        cols += [PERSONS.c.name, PERSONS.c.date_of_birth]
    return cols


def _query(with_person: bool) -> Any:
    q = select(*_columns(with_person))
    if with_person:
        q = q.outerjoin(PERSONS, PERSONS.c.case_id == CASES.c.case_id)
    return q


def _row(m: Mapping[Any, Any], today: date, with_person: bool) -> CaseRow:
    due = m["due"]
    return CaseRow(
        case_id=m["case_id"], council=m["council"], stage=m["stage"], opened=m["opened"], due=due,
        overdue=due is not None and due < today, amounts=json.loads(m["amounts"]),
        assigned_to=m["assigned_to"], area=m["area"], updated_at=aware(m["updated_at"]), last_seq=m["last_seq"],
        name=m["name"] if with_person else None,
        date_of_birth=m["date_of_birth"] if with_person else None,
    )


def _get(conn: Connection, case_id: str, role: str | None) -> CaseRow:
    with_person = can_read_personal(role)
    row = conn.execute(_query(with_person).where(CASES.c.case_id == case_id)).first()
    if row is None:
        raise UnknownCase(f"case {case_id!r} is not on the case list", "case_id")
    return _row(row._mapping, datetime.now(UTC).date(), with_person)


def get(engine: Engine, case_id: str, role: str | None) -> CaseRow:
    with read(engine) as conn:
        return _get(conn, case_id, role)


def list_page(engine: Engine, filters: Any, page: Any, role: str | None) -> tuple[list[CaseRow], int]:
    f: CaseFilters = parse_model(CaseFilters, filters, "filters")
    p: Page = parse_model(Page, page, "page")
    today = f.today or datetime.now(UTC).date()
    conds: list[Any] = []
    if f.stage is not None:
        stages = [f.stage] if isinstance(f.stage, str) else f.stage
        conds.append(CASES.c.stage.in_(stages))
    if f.overdue is True:
        conds.append(and_(CASES.c.due.is_not(None), CASES.c.due < today))
    elif f.overdue is False:
        conds.append(or_(CASES.c.due.is_(None), CASES.c.due >= today))
    if f.council is not None:
        conds.append(CASES.c.council == f.council)
    if f.assigned_to is not None:
        conds.append(CASES.c.assigned_to == f.assigned_to)
    if f.unassigned is not None:
        conds.append(CASES.c.assigned_to.is_(None) if f.unassigned else CASES.c.assigned_to.is_not(None))
    if f.id_prefix is not None:
        conds.append(CASES.c.case_id.like(_like(f.id_prefix) + "%", escape="\\"))
    with_person = can_read_personal(role)
    source: Any = CASES
    if f.name is not None:
        # Names are personal data (UK GDPR art 5(1)(c)): only roles that may read them search them.
        if not with_person:
            raise InvalidInput("searching by name is for roles that may see people's names", "name")
        conds.append(func.lower(PERSONS.c.name).like("%" + _like(f.name.lower()) + "%", escape="\\"))
        source = CASES.outerjoin(PERSONS, PERSONS.c.case_id == CASES.c.case_id)
    where = and_(True, *conds)
    with read(engine) as conn:
        total = int(conn.execute(select(func.count()).select_from(source).where(where)).scalar_one())
        q = (_query(with_person).where(where)
             .order_by(CASES.c.due.asc().nulls_last(), CASES.c.case_id)
             .limit(p.size).offset((p.number - 1) * p.size))
        rows = [_row(r._mapping, today, with_person) for r in conn.execute(q)]
    return rows, total


def _like(text: str) -> str:
    """Text matched literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def person_cases(engine: Engine, username: str, role: str | None) -> list[CaseRow]:
    """The cases whose workflow names `username` as the person (its `case.opened` ledger row),
    newest first: how a person finds their cases without a reference."""
    ledger.check_text(username, "username", 200)
    needle = '"person_user":' + json.dumps(username, ensure_ascii=False)
    with read(engine) as conn:
        opened = conn.execute(
            select(LEDGER.c.case_id, LEDGER.c.payload).where(
                LEDGER.c.action == "case.opened",
                LEDGER.c.payload.like("%" + _like(needle) + "%", escape="\\"),
            )
        )
        # The LIKE narrows; the parsed payload decides (a name could contain the same text).
        ids = {r.case_id for r in opened if json.loads(r.payload).get("person_user") == username}
        if not ids:
            return []
        with_person = can_read_personal(role)
        rows = conn.execute(_query(with_person).where(CASES.c.case_id.in_(sorted(ids)))
                            .order_by(CASES.c.opened.desc(), CASES.c.case_id))
        today = datetime.now(UTC).date()
        return [_row(r._mapping, today, with_person) for r in rows]


def fold(state: Folded, case_id: str, payload: str, personal: str | None, seq: int, at: str) -> None:
    """Apply one case.opened / case.updated row to the case's state, as upsert applied it.

    Only rows upsert wrote (payload {"case": ...}) change the list: a workflow may record its own
    `case.opened` event through append_event, which never touched the list.
    """
    changes = json.loads(payload).get("case")
    if not isinstance(changes, dict):
        return
    listed, person, _, _ = state.get(case_id, ({}, {}, 0, at))
    state[case_id] = ({**listed, **changes}, {**person, **json.loads(personal or "{}")}, seq, at)


def derived_row(listed: dict[str, Any]) -> dict[str, Any] | None:
    """The case-list fields a case's ledger rows give it (None: it was never fully opened)."""
    if not all(listed.get(k) is not None for k in ("council", "stage", "opened")):
        return None
    return {"council": listed["council"], "stage": listed["stage"], "opened": listed["opened"],
            "due": listed.get("due"), "amounts": listed.get("amounts") or {},
            "assigned_to": listed.get("assigned_to"), "area": listed.get("area")}


def reindex(engine: Engine, progress: ledger.Progress | None = None) -> int:
    """Fold every case.opened / case.updated row of the ledger, in order, into a fresh list."""
    with read(engine) as conn:
        chains = ledger.chains(conn)
    with write(engine, *[ledger.chain_lock(c) for c in chains]) as conn:  # sorted: no lock cycles
        conn.execute(delete(PERSONS))
        conn.execute(delete(CASES))
        events = list(ledger.rows_by_action(conn, LIST_ACTIONS))
        state: Folded = {}
        for done, row in enumerate(events, 1):
            m = row._mapping
            fold(state, m["case_id"], m["payload"], m["personal"], m["seq"], m["at"])
            if progress and done % 1000 == 0:
                progress(done, len(events))
        for case_id, (listed, personal, seq, at) in state.items():
            if derived_row(listed) is not None:
                _apply(conn, case_id, listed, personal, seq, datetime.fromisoformat(at), exists=False)
        if progress:
            progress(len(events), len(events))
        return len(state)


def check_list(conn: Connection, chain: str, folded: Folded) -> tuple[int, str] | None:
    """The council's case-list and personal rows must be exactly what its chain's rows say.

    Returns (row of the chain to look at, what differs in plain words), or None.
    """
    rows = conn.execute(_query(True).where(CASES.c.council == chain).order_by(CASES.c.case_id))
    listed_ids = set()
    for row in rows:
        m = row._mapping
        case_id = m["case_id"]
        listed_ids.add(case_id)
        state = folded.get(case_id)
        expected = None if state is None else derived_row(state[0])
        if state is None or expected is None:
            return 0, (f"case {case_id!r} is on the case list of council {chain!r} but no ledger row of that "
                       "chain opened it: the case list was edited outside the service")
        listed, personal, seq, at = state
        if problem := _differs(m, expected, personal, seq, at):
            return seq, (f"the case-list record of case {case_id!r} was edited outside the service: {problem} "
                         f"(its last ledger row is row {seq})")
    for case_id, (listed, _, seq, _) in sorted(folded.items()):
        if case_id not in listed_ids and derived_row(listed) is not None:
            return seq, (f"case {case_id!r} was opened on the {chain!r} chain (last row {seq}) but is missing "
                         f"from council {chain!r}'s case list: its case-list record was deleted or moved")
    return None


def _differs(m: Mapping[Any, Any], expected: dict[str, Any], personal: dict[str, Any], seq: int,
             at: str) -> str | None:
    actual = {"council": m["council"], "stage": m["stage"], "opened": m["opened"].isoformat(),
              "due": None if m["due"] is None else m["due"].isoformat(),
              "amounts": json.loads(m["amounts"]), "assigned_to": m["assigned_to"], "area": m["area"]}
    for name, value in expected.items():
        if actual[name] != value:
            return f"{name} is {actual[name]!r} but the ledger says {value!r}"
    if m["last_seq"] != seq or aware(m["updated_at"]) != datetime.fromisoformat(at):
        return f"its last change is recorded as row {m['last_seq']} at {aware(m['updated_at']).isoformat()}"
    dob = m["date_of_birth"]
    person = {"name": m["name"], "date_of_birth": None if dob is None else dob.isoformat()}
    for name in PERSON_FIELDS:
        if person[name] != personal.get(name):
            return f"the person's {name.replace('_', ' ')} differs from the ledger's"
    return None
