"""Web tests: the real app on a real SQLite store and a copy of the real rule files."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

# Starlette warns on import that its test client wraps httpx: filtered before the import.
warnings.filterwarnings("ignore", message="Using `httpx`", category=Warning)
from fastapi.testclient import TestClient  # noqa: E402

from carebudget.settings import REPO_ROOT, Settings  # noqa: E402
from carebudget.store.roles import ROLES  # noqa: E402
from carebudget.web.app import create_app  # noqa: E402
from carebudget.web.demo_users import DEMO_PASSWORD, demo_username  # noqa: E402

ASSESSMENT_FACTS: dict[str, Any] = {
    "person": {"date_of_birth": "1950-03-01", "setting": "home"},
    "needs": {
        "arise_from_impairment_or_illness": True,
        "wellbeing_impact": "significant",
        "outcomes": {
            "nutrition": ["needs_assistance"],
            "personal_hygiene": ["needs_assistance"],
            "toilet_needs": ["endangers_health_safety"],
        },
    },
    "finances": {"capital": "10000", "weekly_income": "250"},
    "care": {"weekly_cost": "300"},
}


def make_settings(root: Path) -> Settings:
    rules = root / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    return Settings(
        environment="development",
        data_dir=root / "var",
        rules_dir=rules,
        database_url=f"sqlite:///{root / 'carebudget.db'}",
        create_demo_users=True,
    )


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="session")
def app(web_settings: Settings) -> Any:
    return create_app(web_settings)


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # runs the lifespan: demo users are created
        yield test_client


@pytest.fixture(scope="session")
def tokens(client: TestClient) -> dict[str, str]:
    out = {}
    for role in ROLES:
        response = client.post(
            "/api/token", json={"username": demo_username(role), "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        out[role] = response.json()["access_token"]
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: Any) -> str:
    """The CSRF token of the client's session, as a page form carries it."""
    found = CSRF.search(client.get("/sign-in").text)
    assert found, "the sign-in page carries no CSRF token"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = DEMO_PASSWORD, **kwargs: Any) -> Any:
    """Sign a page client in through the form; its later form posts carry the new session's
    token in the X-CSRF-Token header."""
    response = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False, **kwargs,
    )
    client.headers["X-CSRF-Token"] = csrf_of(client)
    return response


@pytest.fixture(scope="session")
def browsers(app: Any, client: TestClient) -> dict[str, TestClient]:
    """One signed-in page session per role."""
    sessions = {}
    for role in ROLES:
        session = TestClient(app)
        response = sign_in(session, demo_username(role))
        assert response.status_code == 303, response.text
        sessions[role] = session
    return sessions


@pytest.fixture(scope="session")
def seeded_case(app: Any) -> dict[str, Any]:
    """A case on the store's list with a real assessment decision recorded against it."""
    from carebudget.decisions import decide_with_bundle
    from carebudget.rulebook import get_registry

    store = app.state.store
    case_id = "WEB-SEEDED-1"
    store.upsert_case(
        f"{case_id}:opened",
        case_id,
        {
            "council": "demo",
            "stage": "support_planning",
            "opened": date(2025, 6, 2),
            "due": date(2025, 7, 1),
            "assigned_to": "demo-social-worker",
            "name": "Ada Lovelace",
            "date_of_birth": date(1950, 3, 1),
        },
        actor="system",
        role="system",
    )
    on = date(2025, 6, 2)
    bundle = get_registry(app.state.settings.rules_dir).bundle("demo", on)
    record = decide_with_bundle("assessment", bundle, on, ASSESSMENT_FACTS)
    decision_id = store.record_decision(
        f"{case_id}:assessment",
        case_id,
        "assessment",
        record,
        "demo-social-worker",
        "social_worker",
        bundle_content=bundle.content,
    )
    return {"case_id": case_id, "decision_id": decision_id, "record": record}
