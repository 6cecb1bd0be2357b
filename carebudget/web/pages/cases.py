"""Pages for the people in a case: the person, the social worker, the approver, the appeals officer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
