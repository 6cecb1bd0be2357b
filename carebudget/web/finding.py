"""Finding a case: by the start of its reference, or (staff who may see names) by part of the
person's name. A name search reveals who has a case, so each one is on the ledger (UK GDPR
art 5(2), accountability): who searched, when, how many cases it found; the words searched are
kept as personal data."""

from __future__ import annotations

import re
import uuid
from typing import Any

from carebudget.web.auth import CurrentUser

# A reference is letters, digits and - _ . : ; anything with a digit or starting "C-" is one.
REFERENCE = re.compile(r"^(C-|[A-Za-z]*\d)[A-Za-z0-9_.:-]*$")


def search_filters(q: str, names: bool = True) -> dict[str, Any] | str:
    """The store filters for what was typed, or a sentence saying why it cannot be searched."""
    q = q.strip()
    if not q:
        return {}
    if REFERENCE.match(q) or not names:
        return {"id_prefix": q}
    if len(q) < 2:
        return "Enter at least two letters of the person's name"
    return {"name": q}


def record_name_search(store: Any, user: CurrentUser, q: str, found: int) -> None:
    store.append_event(
        f"search:{uuid.uuid4().hex}", None, user.username, user.role, "person.searched",
        {"found": found}, {"query": q},
    )
