"""The operations case list: one row per case, kept current at each stage change, rebuildable.

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
from carebudget.store.db import aware, read, utcnow, write
from carebudget.store.errors import InvalidInput, UnknownCase
from carebudget.store.models import CASES, LEDGER, PERSONS
from carebudget.store.roles import can_read_personal
from carebudget.store.schemas import CaseFilters, CaseRow, CaseUpdate, Page

LIST_FIELDS = ("council", "stage", "opened", "due", "amounts", "assigned_to")
PERSON_FIELDS = ("name", "date_of_birth")
MONEY = re.compile(r"^-?\d+(\.\d+)?$")


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


def upsert(engine: Engine, event_key: str, case_id: str, update: Any, actor: str, role: str) -> CaseRow:
    ledger.check_text(case_id, "case_id", 100)
    parsed: CaseUpdate = parse_model(CaseUpdate, update, "update")
    listed, personal = _changes(parsed)
    with write(engine) as conn:
        exists = conn.execute(select(CASES.c.case_id).where(CASES.c.case_id == case_id)).first()
        prior = conn.execute(select(LEDGER.c.seq).where(LEDGER.c.event_key == event_key)).first()
        if not exists and prior is None:
            missing = [f for f in ("council", "stage", "opened") if listed.get(f) is None]
            if missing:
                raise InvalidInput(f"opening case {case_id!r} needs {', '.join(missing)}", missing[0])
        action = "case.updated" if exists or prior is not None else "case.opened"
        if prior is not None:  # a retry: ledger.append returns the earlier row or refuses
            ledger.append(conn, event_key, case_id, actor, role, _first_action(conn, event_key),
                          {"case": listed}, personal or None, case_must_exist=False)
        else:
            entry = ledger.append(conn, event_key, case_id, actor, role, action,
                                  {"case": listed}, personal or None, case_must_exist=False)
            _apply(conn, case_id, listed, personal, entry.seq, entry.at, bool(exists))
        return _get(conn, case_id, role)


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
        assigned_to=m["assigned_to"], updated_at=aware(m["updated_at"]), last_seq=m["last_seq"],
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
    with_person = can_read_personal(role)
    where = and_(True, *conds)
    with read(engine) as conn:
        total = int(conn.execute(select(func.count()).select_from(CASES).where(where)).scalar_one())
        q = (_query(with_person).where(where)
             .order_by(CASES.c.due.asc().nulls_last(), CASES.c.case_id)
             .limit(p.size).offset((p.number - 1) * p.size))
        rows = [_row(r._mapping, today, with_person) for r in conn.execute(q)]
    return rows, total


def reindex(engine: Engine, progress: ledger.Progress | None = None) -> int:
    """Fold every case.opened / case.updated row of the ledger, in order, into a fresh list."""
    with write(engine) as conn:
        conn.execute(delete(PERSONS))
        conn.execute(delete(CASES))
        events = list(ledger.rows_by_action(conn, ("case.opened", "case.updated")))
        state: dict[str, tuple[dict[str, Any], dict[str, Any], int, datetime]] = {}
        for done, row in enumerate(events, 1):
            m = row._mapping
            listed, personal, _, _ = state.get(m["case_id"], ({}, {}, 0, utcnow()))
            listed = {**listed, **json.loads(m["payload"]).get("case", {})}
            personal = {**personal, **json.loads(m["personal"] or "{}")}
            state[m["case_id"]] = (listed, personal, m["seq"], datetime.fromisoformat(m["at"]))
            if progress and done % 1000 == 0:
                progress(done, len(events))
        for case_id, (listed, personal, seq, at) in state.items():
            if all(listed.get(k) is not None for k in ("council", "stage", "opened")):
                _apply(conn, case_id, listed, personal, seq, at, exists=False)
        if progress:
            progress(len(events), len(events))
        return len(state)
