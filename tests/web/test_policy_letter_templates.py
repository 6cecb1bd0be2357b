"""A council changes a letter's wording the way it changes its rules: uploaded, every letter
rendered from the candidate templates before anyone may approve it, published only by a second
policy officer, and used for the next letter without a restart (Care Act 2014 s13(2), s26)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebudget.letters.content import letter_content
from carebudget.letters.render import render_letter
from carebudget.letters.samples import sample_case
from carebudget.policy.versions import registry_for
from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD
from tests.web.conftest import bearer, make_settings

SHIPPED = Path(__file__).resolve().parents[2] / "rules/england/letters/eligibility.html.j2"


@pytest.fixture(scope="module")
def officers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
    settings = make_settings(tmp_path_factory.mktemp("letter-policy"))
    app = create_app(settings)
    with TestClient(app) as client:
        tokens = {name: client.post("/api/token", json={"username": name, "password": DEMO_PASSWORD})
                  .json()["access_token"] for name in ("demo-policy-admin", "demo-policy-admin-2")}
        yield client, settings, tokens


def _propose(client: TestClient, token: str, path: str, content: str) -> Any:
    return client.post("/api/policy/changes", headers=bearer(token), json={
        "council": "demo", "path": path, "note": "Plainer words", "content": content})


def test_a_new_wording_is_checked_published_by_a_second_officer_and_used_for_the_next_letter(
    officers: Any,
) -> None:
    client, settings, tokens = officers
    wording = SHIPPED.read_text(encoding="utf-8").replace(
        "{% block body %}", "{% block body %}<p class=\"plain\">We have looked at what you told us.</p>", 1)
    assert "We have looked" in wording
    upload = _propose(client, tokens["demo-policy-admin"], "letters/eligibility.html.j2", wording)
    assert upload.status_code == 201, upload.text
    change = upload.json()
    assert change["status"] == "draft" and change["problems"] == [], change["problems"]
    assert "no what-if" in change["whatif"]["letters"]

    own = client.post(f"/api/policy/changes/{change['id']}/publish", headers=bearer(tokens["demo-policy-admin"]))
    assert own.status_code == 409 and "second policy officer" in own.json()["message"]
    published = client.post(f"/api/policy/changes/{change['id']}/publish",
                            headers=bearer(tokens["demo-policy-admin-2"]))
    assert published.status_code == 200, published.text
    assert published.json()["effective_from"] == date.today().isoformat()

    # The next letter, from the rules in force (as a worker reads them), uses the new wording.
    registry = registry_for(settings.rules_dir, client.app.state.store)  # type: ignore[attr-defined]
    registry.refresh(force=True)
    letter = render_letter(letter_content("eligibility", sample_case("demo"), date.today()),
                           registry.effective_root)
    assert "We have looked at what you told us." in letter.html
    assert letter.template == "councils/demo/letters/eligibility.html.j2"


def test_a_template_naming_a_figure_the_letter_is_not_given_is_refused_in_words(officers: Any) -> None:
    client, _, tokens = officers
    change = _propose(client, tokens["demo-policy-admin"], "letters/financial_assessment.html.j2",
                      "{% extends 'layout.html.j2' %}{% block body %}You pay {{ weekly_fee }}.{% endblock %}")
    assert change.status_code == 201, change.text
    body = change.json()
    assert body["status"] == "refused"
    assert any(p.startswith("the financial assessment letter: ") and "weekly_fee" in p
               for p in body["problems"]), body["problems"]
    broken = _propose(client, tokens["demo-policy-admin"], "letters/eligibility.html.j2", "{% if %}")
    assert broken.json()["status"] == "refused"
    assert any("the eligibility letter" in p and "TemplateSyntaxError" in p for p in broken.json()["problems"])
    sums = _propose(client, tokens["demo-policy-admin"], "letters/routes.html.j2", "{{ 1 / 0 }}")
    assert sums.json()["status"] == "refused" and any("ZeroDivisionError" in p for p in sums.json()["problems"])


def test_an_unknown_letter_template_is_refused_before_anything_is_saved(officers: Any) -> None:
    client, _, tokens = officers
    before = client.get("/api/policy/changes", headers=bearer(tokens["demo-policy-admin"])).json()
    for path in ("letters/cheque.html.j2", "letters/../eligibility.html.j2", "letters/eligibility.j2"):
        refused = _propose(client, tokens["demo-policy-admin"], path, "<p>x</p>")
        assert refused.status_code == 422, (path, refused.text)
        assert "letter template" in refused.text or "parameters/ras.yaml" in refused.text
    assert client.get("/api/policy/changes", headers=bearer(tokens["demo-policy-admin"])).json() == before


def test_on_the_web_a_template_change_shows_its_letter_for_a_sample_person_not_a_whatif(tmp_path: Path) -> None:
    from tests.web.conftest import csrf_of, sign_in

    app = create_app(make_settings(tmp_path))
    wording = SHIPPED.read_text(encoding="utf-8").replace(
        "{% block body %}", "{% block body %}<p>Dear reader, this is the new wording.</p>", 1)
    with TestClient(app) as officer:
        assert sign_in(officer, "demo-policy-admin").status_code == 303
        page = officer.get("/policy")
        assert "letters/eligibility.html.j2" in page.text  # the form says a template may be uploaded
        sent = officer.post("/policy/changes", data={
            "council": "demo", "path": "letters/eligibility.html.j2", "content": wording,
            "note": "Warmer", "csrf_token": csrf_of(officer)}, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        change = officer.get(sent.headers["location"])
        assert change.status_code == 200
        assert "no what-if on the caseload" in change.text and "Reading the caseload" not in change.text
        preview = officer.get(sent.headers["location"] + "/letter.html")
        assert preview.status_code == 200 and "Dear reader, this is the new wording." in preview.text
        assert "Your eligibility decision" in preview.text
        broken = officer.post("/policy/changes", data={
            "council": "demo", "path": "letters/eligibility.html.j2", "content": "{{ nope }}",
            "csrf_token": csrf_of(officer)}, follow_redirects=False)
        refused = officer.get(broken.headers["location"])
        assert "the eligibility letter" in refused.text and "Read the letter" not in refused.text
        assert officer.get(broken.headers["location"] + "/letter.html").status_code == 404
