"""The input a decision record keeps is written directly, and is what pydantic's own dump gives."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.cases import generate_cases
from carebudget.decisions.inputs import CASE_FACTS_JSON_FIELDS, CaseFacts, case_facts_json
from carebudget.law import CarerOutcome, Premium
from carebudget.rulebook.vocabulary import OUTCOMES, WAYS

ways = st.lists(st.sampled_from(WAYS), unique=True, max_size=4)
money = st.one_of(st.decimals(min_value=0, max_value=10**9, places=2).map(str),
                  st.integers(0, 10**6), st.sampled_from(["0", "12.5", "100", "0.01", "1e2"]))


def _needs() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"arise_from_impairment_or_illness": st.booleans(),
         "wellbeing_impact": st.sampled_from(["significant", "not_significant"])},
        optional={"outcomes": st.dictionaries(st.sampled_from(OUTCOMES), ways)},
    )


person = st.fixed_dictionaries(
    {"date_of_birth": st.dates(date(1900, 1, 1), date(2000, 1, 1)).map(date.isoformat),
     "setting": st.sampled_from(["home", "care_home"])},
    optional={"care_home_admission_date": st.dates(date(2020, 1, 1), date(2025, 1, 1)),
              "has_capacity": st.booleans(), "has_authorised_person": st.booleans(),
              "asks_council_to_arrange": st.booleans()},
)
carer = st.fixed_dictionaries(
    {"health_at_risk": st.booleans(), "wellbeing_impact": st.sampled_from(["significant", "not_significant"])},
    optional={"needs_arise_from_providing_necessary_care": st.booleans(),
              "outcomes": st.dictionaries(st.sampled_from([o.value for o in CarerOutcome]), ways)},
)
finances = st.fixed_dictionaries(
    {"capital": money, "weekly_income": money},
    optional={"housing_costs": money, "disability_related_expenditure": money, "main_home_value": money,
              "premiums": st.lists(st.sampled_from([p.value for p in Premium]), max_size=2)},
)
case_inputs = st.fixed_dictionaries({}, optional={
    "person": person, "needs": _needs(), "predicted_needs": _needs(), "carer": carer, "finances": finances,
    "care": st.fixed_dictionaries({"weekly_cost": money}),
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_inputs)
def test_the_record_input_of_any_valid_case_is_pydantics_own_json_dump(payload: dict[str, Any]) -> None:
    facts = CaseFacts.model_validate(payload)
    # The same keys in the same order too: the record is stored and hashed as JSON.
    assert json.dumps(case_facts_json(facts)) == json.dumps(facts.model_dump(mode="json", exclude_none=True))


def test_the_record_input_of_generated_cases_is_pydantics_own_json_dump_key_for_key() -> None:
    for case in generate_cases(500, seed=3):
        facts = CaseFacts.model_validate(case["input"])
        assert json.dumps(case_facts_json(facts)) == json.dumps(facts.model_dump(mode="json", exclude_none=True))


def test_a_field_added_to_an_input_model_must_be_added_to_the_record_input_writer_too() -> None:
    for model, known in CASE_FACTS_JSON_FIELDS.items():
        assert tuple(model.model_fields) == known, (
            f"{model.__name__} has fields {tuple(model.model_fields)}; case_facts_json writes {known}")
