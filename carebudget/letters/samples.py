"""A council's letter templates, checked before they are published (Care Act 2014 s13(2), s26).

A letter template is council policy like a rule file, so a change to one goes through the same
two-person publication. Before it can be approved, every letter is rendered with the candidate
templates from one sample case (`sample_case.json`: a generated person taken through every stage,
written by tests/workflows/test_case_letters.py with CAREBUDGET_WRITE_LETTER_SAMPLE=1), so a
template that names a figure the letter is not given, or does not parse, is refused in words
before any person could be sent it. This runs in the vetting child process, under its limits.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from carebudget.letters.content import KINDS, LetterUnavailable, letter_content
from carebudget.letters.render import LetterTemplateError, render_html

SAMPLE = Path(__file__).with_name("sample_case.json")
# The files a council may hold in its letters folder: one per letter, and the shared pieces.
TEMPLATE_NAMES = frozenset({*KINDS, "layout", "letterhead", "routes"})


def sample_case(council: str) -> dict[str, Any]:
    """The sample case (CaseState as JSON, without its timeline), as a case of `council`."""
    case: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return {**case, "council": council}


def check_templates(rules_root: Path, council: str, on: date | None = None) -> list[str]:
    """Every letter rendered for `council` from the templates under `rules_root`: the problems,
    in words, naming the letter (empty: every letter renders)."""
    case, on = sample_case(council), on or date.today()
    problems = []
    for kind in KINDS:
        try:
            render_html(letter_content(kind, case, on), rules_root)
        except (LetterTemplateError, LetterUnavailable) as exc:
            problems.append(f"the {kind.replace('_', ' ')} letter: {exc}")
    return problems
