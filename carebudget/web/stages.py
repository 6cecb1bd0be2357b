"""The stages of a case in the order the Care Act takes them, with plain names for the pages."""

from __future__ import annotations

import importlib

# Fallback until the workflow's own stage list is importable (workflows.models.Stage).
_STAGES: dict[str, str] = {
    "intake": "Intake (s9)",
    "assessment": "Needs assessment (s9)",
    "eligibility": "Eligibility (s13)",
    "financial_assessment": "Financial assessment (s14, s17)",
    "indicative_budget": "Indicative budget (CSSG 11.7)",
    "support_planning": "Support planning (s25)",
    "sign_off": "Sign-off (s24-26)",
    "counter_proposal": "Counter-proposal (s26)",
    "appeal": "Appeal",
    "active_budget": "Active budget (s26)",
    "review": "Review (s27)",
    "closed": "Closed",
}


def _from_workflows() -> dict[str, str] | None:
    try:
        models = importlib.import_module("workflows.models")
    except ImportError:
        return None
    stage = getattr(models, "Stage", None)
    if stage is None:
        return None
    return {s.value: _STAGES.get(s.value, s.value.replace("_", " ").capitalize()) for s in stage}


STAGE_LABELS: dict[str, str] = _from_workflows() or _STAGES
STAGES: tuple[str, ...] = tuple(STAGE_LABELS)


def stage_label(stage: str | None) -> str:
    if not stage:
        return "–"
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


def workflow_id(case_id: str) -> str:
    try:
        from carebudget.service.cases import workflow_id as service_workflow_id
    except ImportError:
        return case_id
    return str(service_workflow_id(case_id))
