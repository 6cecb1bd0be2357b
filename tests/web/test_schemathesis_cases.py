"""Generated requests against the case operations, served over HTTP with a real Temporal server
and case worker behind them, never cause a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from carebudget.store.roles import ROLES
from carebudget.web.app import create_app
from carebudget.web.auth import CurrentUser, issue_token
from carebudget.web.demo_users import demo_username, ensure_demo_users
from tests.web.conftest import make_settings
from tests.web.live import serve
from tests.web.temporal_support import TemporalThread, with_queue

ROLES_TRIED = ROLES  # every role: the 403s and the handlers behind them


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    settings = with_queue(make_settings(Path(tmp_path_factory.mktemp("schemathesis-cases"))))
    first = create_app(settings)
    ensure_demo_users(first.state.store)
    temporal = TemporalThread(first.state.store, settings.task_queue)
    address = temporal.start()
    try:
        app = create_app(
            settings.model_copy(update={"temporal_address": address}), store=first.state.store
        )
        with serve(app) as base:
            yield base, app
    finally:
        temporal.stop()


def test_no_generated_case_request_causes_a_server_error(served: tuple[str, Any]) -> None:
    base, app = served
    tokens = {
        r: issue_token(app.state.settings.secret_key, CurrentUser(demo_username(r), r),
                       app.state.store.create_session(demo_username(r), r, "api", 3600))
        for r in ROLES_TRIED
    }
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json").include(
        path_regex=r"^/api/cases"
    )
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/trail"):
            continue  # a store read, covered with every role in test_schemathesis.py

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case: Any) -> None:
            for role in ROLES_TRIED:
                case.call_and_validate(
                    base_url=base,
                    headers={"Authorization": f"Bearer {tokens[role]}"},
                    checks=[not_a_server_error],
                )

        call()
        tried.append(operation.label)
    assert sorted(tried) == [
        "GET /api/cases",
        "GET /api/cases/{case_id}",
        "GET /api/cases/{case_id}/letters",
        "GET /api/cases/{case_id}/letters/{letter_file}",
        "POST /api/cases",
        "POST /api/cases/{case_id}/steps/{step}",
    ]
