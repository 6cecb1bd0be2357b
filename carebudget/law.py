"""The law's vocabulary, at the bottom of the code: the outcomes and the ways of being unable of
the Care Act 2014 (Eligibility Criteria) Regulations 2015 (SI 2015/313 regs 2 and 3), where a
person lives, the premiums of SI 2014/2672 reg 7, and money. Imports nothing of ours: the
rulebook, the decision core and the workflows all build on it."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated

from pydantic import Field, PlainSerializer

# Money: numbers or decimal strings in, a Decimal with two places out, serialised as a string.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
]


class Outcome(str, Enum):
    """SI 2015/313 reg 2(2)(a)-(j): the ten specified outcomes for an adult."""

    nutrition = "nutrition"
    personal_hygiene = "personal_hygiene"
    toilet_needs = "toilet_needs"
    being_clothed = "being_clothed"
    home_safety = "home_safety"
    habitable_home = "habitable_home"
    relationships = "relationships"
    work_training_education_volunteering = "work_training_education_volunteering"
    community_facilities = "community_facilities"
    caring_for_child = "caring_for_child"


class CarerOutcome(str, Enum):
    """SI 2015/313 reg 3(2)(b)(i)-(viii): the outcomes for a carer."""

    caring_for_child = "caring_for_child"
    caring_for_others = "caring_for_others"
    habitable_home = "habitable_home"
    nutrition = "nutrition"
    relationships = "relationships"
    work_training_education_volunteering = "work_training_education_volunteering"
    community_facilities = "community_facilities"
    recreation = "recreation"


class Way(str, Enum):
    """SI 2015/313 reg 2(3)(a)-(d): the four ways of being unable to achieve an outcome."""

    needs_assistance = "needs_assistance"
    significant_pain_distress_anxiety = "significant_pain_distress_anxiety"
    endangers_health_safety = "endangers_health_safety"
    takes_significantly_longer = "takes_significantly_longer"


class WellbeingImpact(str, Enum):
    significant = "significant"
    not_significant = "not_significant"


class Setting(str, Enum):
    home = "home"
    care_home = "care_home"


class Premium(str, Enum):
    disability = "disability"
    enhanced_disability = "enhanced_disability"
