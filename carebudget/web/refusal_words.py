"""A step the workflow refused, in words for the person at the screen, beside the field it is about.

The workflow's reasons (workflows/refusals.py) name steps, stages and fields as the code does
("request_changes is taken at sign_off, but the case is at active_budget"); those stay in the log
and the API, and the pages say what happened and what to do.
"""

from __future__ import annotations

import logging
import re

from carebudget.web.case_forms import OUTCOME_LABELS
from carebudget.web.stages import stage_label

log = logging.getLogger(__name__)

_WRONG_STAGE = re.compile(r"^[a-z_]+ is taken at [a-z_ ]+, but the case is at (?P<stage>[a-z_]+)$")
_BUSY = re.compile(r"^[a-z_]+ is still being processed")
_WRONG_ROLE = re.compile(r"^role [a-z_]+ may not ")
_NOT_THEIRS = re.compile(r"is not the person this case is about")
_CLOSED = re.compile(r"^the appeal window closed on (?P<day>\d{4}-\d{2}-\d{2})$")
_FIELD = re.compile(r"^(?P<field>[a-z_][a-z_.0-9]*): (?P<text>.+)$", re.S)
# workflow field -> the form field the message goes beside
_BESIDE = {"weekly_amount": "weekly_amount", "proposal.weekly_amount": "weekly_amount",
           "underspend": "underspend", "reasons": "reasons", "amount": "amount"}


def plain_refusal(message: str, username: str) -> tuple[str, str]:
    """(the form field to show it beside, or "form"; the sentence to show)."""
    log.info("step refused by the workflow: %s", message)
    if found := _WRONG_STAGE.match(message):
        return "form", (f"This cannot be done now: the case has moved on to {stage_label(found['stage'])}. "
                        "The page now shows what you can do.")
    if _BUSY.match(message):
        return "form", "The last step on this case is still being saved. Wait a moment and try again."
    if _WRONG_ROLE.match(message):
        return "form", "Your role does not take this step; someone else on the case does."
    if _NOT_THEIRS.search(message):
        return "form", "Only the person this case is about can do this."
    if found := _CLOSED.match(message):
        return "form", f"The time to appeal ended on {found['day']}. Ask your social worker what you can do now."
    field, text = "form", message
    if found := _FIELD.match(message):
        field, text = _BESIDE.get(found["field"], "form"), found["text"]
    if username and text.startswith(username + " "):
        text = "You" + text[len(username):]
    for key, label in OUTCOME_LABELS.items():
        text = re.sub(rf"\b{key}\b", label.lower(), text)
    text = re.sub(r"\b(\d+\.\d\d)\b", r"£\1", text)
    return field, text[:1].upper() + text[1:].rstrip(".") + "."
