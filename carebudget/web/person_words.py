"""Where a person's case stands and what happens next, in the second person and plain words
(Care Act 2014 s4: information and advice must be accessible to the person it is for)."""

from __future__ import annotations

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
