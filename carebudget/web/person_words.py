"""Where a person's case stands and what happens next, in the second person and plain words
(Care Act 2014 s4: information and advice must be accessible to the person it is for)."""

from __future__ import annotations

import re

# stage -> (where your case is, what happens next)
STANDING: dict[str, tuple[str, str]] = {
    "intake": ("We have your request.", "We are opening your case; this takes a moment."),
    "assessment": ("We are assessing what you need.",
                   ("Tell us about your needs, now and over the next year; a social worker will "
                    "check your answers with you.")),
    "eligibility": ("We are deciding whether the council will meet your needs.",
                    "You will get a letter with the decision and the reasons."),
    "financial_assessment": ("We are working out what you may need to pay towards your care.",
                             "You will get a letter showing the figures."),
    "indicative_budget": ("We are working out an early estimate of your budget.",
                          "Your social worker will plan your support with you."),
    "support_planning": ("You and your social worker are planning your support.",
                         "The plan goes to the council for approval."),
    "sign_off": ("The council is checking your plan.",
                 "The council approves it, asks for changes, or offers a different amount."),
    "counter_proposal": ("The council has offered a lower amount than your plan.",
                         "Accept it, or appeal before the deadline shown on your case."),
    "appeal": ("Your appeal is with an officer who has not worked on your case.",
               "You will get a letter with the decision and the reasons."),
    "active_budget": ("Your personal budget is in place.",
                      "We will review it with you; you can ask for a review at any time."),
    "review": ("We are reviewing your care and support.",
               "Your social worker will contact you about the review."),
    "closed": ("Your case is closed.",
               "If your needs change, ask for a new assessment at any time."),
}


def standing(stage: str | None) -> tuple[str, str]:
    return STANDING.get(stage or "", ("We are working on your case.", "We will tell you what happens next."))


# A parenthesis that cites the law or names a rule parameter: moved to the "the law" note.
_CITATION = re.compile(
    r"\s*\((?=[^()]*(?:\bSI \d|Care Act|CSSG|\breg \d|\bs\d|Sch \d|\[\d{4}\]|[a-z]+(?:_[a-z]+)+))"
    r"(?P<law>(?:[^()]|\([^()]*\))*)\)")
_YOU = [
    (r"\bthe adult's\b", "your"), (r"\bThe adult's\b", "Your"), (r"\bThe adult is\b", "You are"),
    (r"\bthe adult is\b", "you are"), (r"\bThe adult\b", "You"), (r"\bthe adult\b", "you"),
    (r"\bThe person's\b", "Your"), (r"\bthe person's\b", "your"), (r"\bThe person is\b", "You are"),
    (r"\bthe person is\b", "you are"), (r"\bThe person\b", "You"), (r"\bthe person\b", "you"),
    (r"^The needs\b", "Your needs"), (r"\bthe needs\b", "your needs"),
    (r"\s+(?:of|under|in) (?:reg|section|s)\s?\d+(?:\(\w+\))*", ""),
]


def for_you(sentences: list[str]) -> tuple[list[str], list[str]]:
    """Reasons written about "the adult", said to the person: (sentences, the law they cite).

    Notes on where a figure came from (its source grade) are for staff and compliance, not here.
    """
    said: list[str] = []
    law: list[str] = []
    for sentence in sentences:
        if sentence.startswith("The figure for "):
            continue
        for found in _CITATION.finditer(sentence):
            for part in found["law"].split(";"):
                part = part.strip()
                if part and not re.fullmatch(r"[a-z]+(?:[._][a-z_]+)+", part) and part not in law:
                    law.append(part)
        text = _CITATION.sub("", sentence)
        for pattern, words in _YOU:
            text = re.sub(pattern, words, text)
        said.append(text.replace(" .", ".").strip())
    return said, law


def plain_stage(label: str) -> str:
    """A stage's name without its clause, "Needs assessment (s9)" -> "Needs assessment"."""
    return re.sub(r"\s*\((?:s\d|CSSG)[^)]*\)$", "", label)


# What happened on a case, as the person's timeline says it (the workflow's event names).
EVENTS: dict[str, str] = {
    "case.opened": "Your case was opened",
    "assessment.self_assessed": "You told us about your needs",
    "assessment.verified": "Your social worker checked the assessment",
    "eligibility.decided": "We decided whether the council will meet your needs",
    "charge.decided": "We worked out what you may pay towards your care",
    "indicative_budget.decided": "We worked out an early estimate of your budget",
    "plan.submitted": "Your plan was sent to the council for approval",
    "plan.approved": "The council approved your plan",
    "plan.changes_requested": "The council asked for changes to your plan",
    "counter_proposal.made": "The council offered a different amount",
    "counter_proposal.accepted": "You accepted the council's amount",
    "counter_proposal.stood": "The time to appeal passed, so the council's amount stands",
    "appeal.made": "You appealed",
    "appeal.uphold": "Your appeal was upheld",
    "appeal.part_uphold": "Your appeal was partly upheld",
    "appeal.dismiss": "Your appeal was dismissed",
    "deadline.missed": "A step took longer than the council's time limit",
    "underspend.banked": "Unspent money was kept for you",
}


def event_words(action: str) -> str:
    if action in EVENTS:
        return EVENTS[action]
    if action.startswith("review."):
        return "Your review " + ("was completed" if ".completed" in action else "started")
    return action.replace("_", " ").replace(".", " ").capitalize()
