"""The operations case list: filtered and paged, personal data only for roles that need it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from carebudget.store import PERSONAL_DATA_ROLES, ROLES, Store, redact

TODAY = date(2026, 3, 1)


def seed(store: Store) -> None:
    for i in range(1, 13):
        stage = "assessment" if i % 2 else "support_plan"
        store.upsert_case(f"C-{i:02}:opened", f"C-{i:02}", {
            "council": "demo", "stage": stage, "opened": date(2026, 1, i),
            "due": TODAY + timedelta(days=i - 6), "name": f"Person {i}",
            "date_of_birth": date(1950, 1, i)}, "system", "system")


def test_a_new_case_is_listed_with_its_deadline_and_overdue_flag(store: Store) -> None:
    seed(store)
    rows, total = store.list_cases({"today": TODAY}, {"size": 100}, role="operations")
    assert total == 12
    assert [r.overdue for r in rows] == [True] * 5 + [False] * 7
    assert [r.due for r in rows] == sorted(r.due for r in rows)  # soonest deadline first


def test_the_list_filters_by_stage_and_overdue_and_pages(store: Store) -> None:
    seed(store)
    rows, total = store.list_cases({"stage": "assessment", "overdue": True, "today": TODAY},
                                   {"number": 1, "size": 2}, role="operations")
    assert total == 3  # C-01, C-03, C-05
    assert [r.case_id for r in rows] == ["C-01", "C-03"]
    rows, _ = store.list_cases({"stage": "assessment", "overdue": True, "today": TODAY},
                               {"number": 2, "size": 2}, role="operations")
    assert [r.case_id for r in rows] == ["C-05"]
    rows, total = store.list_cases({"stage": ["assessment", "support_plan"], "overdue": False,
                                    "today": TODAY}, None, role="operations")
    assert total == 7 and all(not r.overdue for r in rows)


def test_a_case_with_nothing_due_is_never_overdue_and_lists_last(store: Store) -> None:
    seed(store)
    store.upsert_case("C-01:closed", "C-01", {"stage": "closed", "due": None}, "system", "system")
    rows, _ = store.list_cases({"today": TODAY}, {"size": 100}, role="operations")
    assert rows[-1].case_id == "C-01" and rows[-1].due is None and not rows[-1].overdue


@pytest.mark.parametrize("role", ROLES)
def test_name_and_date_of_birth_are_shown_only_to_roles_that_need_them(store: Store, role: str) -> None:
    seed(store)
    row = store.get_case("C-03", role=role)
    trail = store.case_trail("C-03", role=role)
    if role in PERSONAL_DATA_ROLES:
        assert (row.name, row.date_of_birth) == ("Person 3", date(1950, 1, 3))
        assert trail[0].personal == {"name": "Person 3", "date_of_birth": "1950-01-03"}
    else:
        assert (row.name, row.date_of_birth) == (None, None)
        assert trail[0].personal == {"redacted": True}
        assert redact({"name": "x", "case": {"date_of_birth": "y"}}, role) == \
            {"name": "[redacted]", "case": {"date_of_birth": "[redacted]"}}


def test_stage_changes_and_amounts_update_the_row(store: Store) -> None:
    seed(store)
    row = store.upsert_case("C-02:stage-2", "C-02", {
        "stage": "sign_off", "amounts": {"personal_budget": "412.50", "weekly_charge": "80.00"},
        "assigned_to": "jsmith"}, "jsmith", "social_worker")
    assert (row.stage, row.assigned_to, row.amounts["personal_budget"]) == ("sign_off", "jsmith", "412.50")
    rows, total = store.list_cases({"assigned_to": "jsmith"}, None, role="operations")
    assert total == 1 and rows[0].case_id == "C-02"


def test_a_retried_stage_change_is_written_once(store: Store) -> None:
    seed(store)
    for _ in range(2):
        store.upsert_case("C-02:stage-2", "C-02", {"stage": "sign_off"}, "jsmith", "social_worker")
    assert len(store.case_trail("C-02")) == 2


def test_reindex_rebuilds_the_same_list_from_the_ledger(store: Store) -> None:
    seed(store)
    store.upsert_case("C-02:stage-2", "C-02", {"stage": "sign_off", "amounts": {"personal_budget": "1.00"}},
                      "jsmith", "social_worker")
    store.upsert_case("C-04:moved", "C-04", {"due": None, "name": "Renamed"}, "jsmith", "social_worker")
    before, _ = store.list_cases({"today": TODAY}, {"size": 100}, role="compliance")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM case_person")
        conn.exec_driver_sql("UPDATE case_list SET stage = 'wrong'")
    assert store.reindex_cases() == 12
    after, _ = store.list_cases({"today": TODAY}, {"size": 100}, role="compliance")
    assert after == before
    assert store.get_case("C-04", role="compliance").name == "Renamed"
