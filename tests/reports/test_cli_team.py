"""`carebudget users add --team` and `carebudget users team`: the administrator's teams from the
command line, as on the users page (issue 14: fairness by team)."""

from __future__ import annotations

from typing import Any

from tests.store.test_cli import carebudget


def test_a_team_is_given_changed_refused_in_words_and_cleared_from_the_command_line(
        store: Any, store_url: str) -> None:
    added = carebudget(store_url, "users", "add", "sw-cli", "--role", "social_worker", "--council", "demo",
                       "--team", "North team", "--password", "a-long-unusual-password-77")
    assert added.returncode == 0, added.stderr + added.stdout
    assert store.get_user("sw-cli").team == "North team"
    moved = carebudget(store_url, "users", "team", "sw-cli", "South team")
    assert moved.returncode == 0 and "now in South team" in moved.stdout
    refused = carebudget(store_url, "users", "team", "sw-cli", "<b>")
    assert refused.returncode == 2 and "use 1-60 letters" in refused.stdout
    listed = carebudget(store_url, "users", "list")
    assert "South team" in listed.stdout
    cleared = carebudget(store_url, "users", "team", "sw-cli", "")
    assert cleared.returncode == 0 and store.get_user("sw-cli").team is None
