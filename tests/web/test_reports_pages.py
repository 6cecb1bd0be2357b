"""Report pages for operations, compliance and policy officers: figures, charts, CSV, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.caseload import generate
from carebudget.reports import KINDS, run
from carebudget.web.app import create_app
from tests.web.conftest import make_settings, sign_in


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = create_app(make_settings(tmp_path_factory.mktemp("reports")))
    with TestClient(app):  # the lifespan opens the store and creates the demo users
        generate(app.state.store, 80, date.today())
        yield app


def signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    sign_in(client, username)
    return client


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("username", ["demo-operations", "demo-compliance", "demo-policy-admin"])
def test_each_role_sees_each_report_with_its_table_and_chart(app: Any, kind: str, username: str) -> None:
    page = signed_in(app, username).get(f"/reports/{kind}?council=demo")
    assert page.status_code == 200
    report = run(app.state.store.engine, kind, "demo")
    assert f"{report.start} to {report.end}" in page.text
    assert report.bundles[0]["bundle"][:12] in page.text
    for section in report.sections:
        assert section.title.replace("'", "&#39;") in page.text
    assert "<svg" in page.text and "<script" not in page.text


def test_the_figures_on_the_page_are_the_reports(app: Any) -> None:
    page = signed_in(app, "demo-operations").get("/reports/finance?council=demo")
    committed = run(app.state.store.engine, "finance", "demo").section("Committed now")
    for row in committed.rows:
        assert f"<td>{row[2]}</td>" in page.text


@pytest.mark.parametrize(("username", "pages"), [("demo-operations", "/operations/cases/"),
                                                  ("demo-compliance", "/compliance/cases/"),
                                                  ("demo-policy-admin", None)])
def test_outliers_named_for_review_open_their_case(app: Any, username: str, pages: str | None) -> None:
    """A case named for review is a link to the case for the roles that can open it; a policy
    officer (no case pages) sees the reference only."""
    reader = signed_in(app, username)
    page = reader.get("/reports/fairness?council=demo").text
    outliers = run(app.state.store.engine, "fairness", "demo").section("Outliers named for review").rows
    assert outliers
    for case_id, *_ in outliers:
        if pages is None:
            assert f"<td>{case_id}</td>" in page and f"cases/{case_id}\"" not in page
        else:
            assert f'<a href="{pages}{case_id}">{case_id}</a>' in page
    if pages is not None:
        opened = reader.get(f"{pages}{outliers[0][0]}")
        assert opened.status_code == 200 and outliers[0][0] in opened.text


def test_csv_download_names_the_council_and_range(app: Any) -> None:
    got = signed_in(app, "demo-compliance").get("/reports/cld?council=demo&from=2025-01-01&to=2025-12-31&format=csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert 'filename="cld-demo-2025-01-01-2025-12-31.csv"' in got.headers["content-disposition"]
    assert "LA Person Unique Identifier" in got.text


@pytest.mark.parametrize(("query", "words"), [
    ("/reports/money?council=demo", "there is no report"),
    ("/reports/finance?council=nowhere", "no records"),
    ("/reports/finance?council=demo&from=31/12/2025", "not a date"),
    ("/reports/timeliness?council=demo&from=2026-01-02&to=2026-01-01", "after it ends"),
])
def test_bad_input_gets_a_plain_400(app: Any, query: str, words: str) -> None:
    got = signed_in(app, "demo-operations").get(query)
    assert got.status_code == 400 and words in got.text.replace("&#39;", "'")


def test_other_roles_are_refused_and_the_nav_links_reports(app: Any) -> None:
    assert signed_in(app, "demo-social-worker").get("/reports/fairness?council=demo").status_code == 403
    home = signed_in(app, "demo-policy-admin").get("/reports")
    assert home.status_code == 200 and 'href="/reports"' in home.text
    assert all(f"/reports/{k}" in home.text for k in KINDS)


def test_another_councils_reports_are_no_records_to_its_staff(app: Any) -> None:
    from carebudget.web.auth import hash_password

    if app.state.store.get_user("ops-bravo") is None:
        app.state.store.create_user("ops-bravo", "Bravo operations", "operations",
                                    hash_password("bravo-ops-password-9"), council="bravo")
    bravo = TestClient(app)
    sign_in(bravo, "ops-bravo", "bravo-ops-password-9")
    got = bravo.get("/reports/finance?council=demo")
    assert got.status_code == 400 and "'demo' has no records" in got.text.replace("&#39;", "'")
    assert "council=demo" not in bravo.get("/reports").text
    assert signed_in(app, "demo-operations").get("/reports/finance?council=demo").status_code == 200
