"""The outbox against a real SMTP server (aiosmtpd, started here), the development sink, and the
letter activity: once per key, whatever is retried."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from carebudget.notices import sink
from carebudget.notices.outbox import deliver
from carebudget.settings import REPO_ROOT, Settings
from carebudget.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    store.upsert_case("C-1:opened", "C-1", {"council": "demo", "stage": "assessment",
                                            "opened": date(2026, 1, 5)}, actor="carebudget", role="system")
    return store


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The development sink on a free port: a real aiosmtpd server keeping each message as a file."""
    port, folder = free_port(), tmp_path / "mail"
    controller = sink.start("127.0.0.1", port, folder)
    yield port, folder
    controller.stop()


def settings_for(tmp_path: Path, port: int) -> Settings:
    return Settings(data_dir=tmp_path / "var", smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_s=5,
                    database_url=f"sqlite:///{tmp_path / 'store.db'}")


def notice(key: str) -> dict[str, Any]:
    return {"notice_key": key, "case_id": "C-1", "kind": "letter_ready", "recipient": "ada",
            "address": "ada@carebudget.invalid", "subject": f"A letter ({key})", "body": "Read it here"}


def test_each_notice_is_sent_once_and_marked_sent(store: Store, mail: tuple[int, Path], tmp_path: Path) -> None:
    port, folder = mail
    store.queue_notices([notice("a"), notice("b")])
    settings = settings_for(tmp_path, port)
    assert deliver(store, settings) == 2
    assert deliver(store, settings) == 0  # nothing sent twice
    kept = sink.messages(folder)
    assert sorted(m.subject for m in kept) == ["A letter (a)", "A letter (b)"]
    assert {m.to for m in kept} == {"ada@carebudget.invalid"} and "Read it here" in kept[0].body
    assert all(n.sent_at is not None for n in store.list_notices())


def test_a_notice_the_mail_server_cannot_take_waits_in_the_outbox_with_the_reason(
    store: Store, tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens here
    store.queue_notices([notice("a")])
    assert deliver(store, settings_for(tmp_path, port)) == 0
    (waiting,) = store.list_notices()
    assert waiting.sent_at is None and "could not reach the mail server" in waiting.last_error
    # Once the server is up and the retry time has passed, it goes.
    controller = sink.start("127.0.0.1", port, tmp_path / "mail")
    try:
        with store.engine.begin() as conn:  # the minute's wait, passed
            conn.exec_driver_sql("UPDATE notice SET claimed_until = NULL")
        assert deliver(store, settings_for(tmp_path, port)) == 1
    finally:
        controller.stop()
    assert [m.subject for m in sink.messages(tmp_path / "mail")] == ["A letter (a)"]


def test_the_letter_activity_issues_a_letter_once_however_often_it_runs(
    store: Store, mail: tuple[int, Path], tmp_path: Path,
) -> None:
    from activities.letters import Letters
    from carebudget.policy.decide import decide
    from carebudget.rulebook.registry import get_registry
    from workflows.models import LetterRequest

    port, folder = mail
    facts = {"person": {"date_of_birth": "1950-01-01", "setting": "home"},
             "needs": {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
                       "outcomes": {"nutrition": ["needs_assistance"]}},
             "finances": {"capital": "1000", "weekly_income": "200"}, "care": {"weekly_cost": "100"}}
    record = decide("eligibility", "demo", date(2026, 6, 1), facts)
    case = {"case_id": "C-1", "council": "demo", "person": {"name": "Ada Lovelace"},
            "person_user": "ada", "decisions": {"eligibility": record}, "advice": ["Join a lunch club"]}
    request = LetterRequest(key="C-1:5:letter.eligibility", case_id="C-1", kind="eligibility",
                            on=date(2026, 6, 1), case=case)
    letters = Letters(get_registry(), store, settings_for(tmp_path, port))
    first = letters.issue_letter(request)
    second = letters.issue_letter(request)  # a retry after a crash, or a replayed worker
    assert first == second
    (meta,) = store.case_letters("C-1")
    html = store.get_letter("C-1", meta.id).html
    assert "do not meet the eligibility criteria" in html and "Join a lunch club" in html
    assert len([e for e in store.case_trail("C-1") if e.action == "letter.issued"]) == 1
    assert len(store.list_notices("C-1")) == 1
    for _ in range(100):  # sent in the background
        if sink.messages(folder):
            break
        import time

        time.sleep(0.05)
    assert [m.subject for m in sink.messages(folder)] == ["A letter about your care: Your eligibility decision"]


def test_a_broken_council_template_is_refused_in_plain_words_and_cannot_reach_out(tmp_path: Path) -> None:
    from carebudget.letters import letter_content
    from carebudget.letters.render import LetterTemplateError, render_html

    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    case = {"case_id": "C-1", "council": "demo", "person": {"name": "Ada"},
            "decisions": {"charge": {"charge": {}, "rules": {"bundle": "b" * 64}}}}
    content = letter_content("financial_assessment", case, date(2026, 6, 1))
    own = rules / "councils" / "demo" / "letters" / "financial_assessment.html.j2"
    own.write_text("{{ charge.__class__.__mro__ }}")
    with pytest.raises(LetterTemplateError, match="financial assessment letter template of council 'demo'"):
        render_html(content, rules)
    own.write_text("{% extends 'layout.html.j2' %}{% block body %}{{ no_such_thing }}{% endblock %}")
    with pytest.raises(LetterTemplateError, match="no_such_thing"):
        render_html(content, rules)
    own.write_text("{% extends 'layout.html.j2' %}{% block body %}<p>Our own words {{ person_name }}</p>{% endblock %}")
    html, template = render_html(content, rules)
    assert template == "councils/demo/letters/financial_assessment.html.j2" and "Our own words Ada" in html


def test_an_appeal_reminder_waits_for_its_day_and_goes_only_if_the_person_has_not_answered(
    store: Store, mail: tuple[int, Path], tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    port, folder = mail
    settings = settings_for(tmp_path, port)
    past, future = datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(days=3)
    store.upsert_case("C-2:opened", "C-2", {"council": "demo", "stage": "counter_proposal",
                                            "opened": date(2026, 1, 5)}, actor="carebudget", role="system")
    store.queue_notices([
        {**notice("later"), "case_id": "C-2", "send_after": future, "only_at_stage": "counter_proposal"},
        {**notice("still-waiting"), "case_id": "C-2", "send_after": past, "only_at_stage": "counter_proposal"},
        {**notice("answered"), "send_after": past, "only_at_stage": "counter_proposal"},  # C-1: assessment
    ])
    assert deliver(store, settings) == 1
    assert [m.subject for m in sink.messages(folder)] == ["A letter (still-waiting)"]
    rows = {n.notice_key: n for n in store.list_notices()}
    assert rows["later"].sent_at is None and rows["later"].withdrawn_at is None
    assert rows["answered"].withdrawn_at is not None and rows["answered"].sent_at is None
    assert "moved on" in rows["answered"].last_error


def test_a_counter_proposal_queues_its_notice_and_a_reminder_before_the_deadline(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from carebudget.notices.outbox import letter_notices

    settings = settings_for(tmp_path, 25)
    appeal_by = datetime.now(UTC) + timedelta(days=42)
    case = {"case_id": "C-3", "person_user": "ada",
            "counter_proposal": {"appeal_by": appeal_by.isoformat(), "proposal": {"weekly_amount": "150.00"}}}
    made, = [n for n in letter_notices(settings, "C-3:9", "counter_proposal", case)
             if n["kind"] == "counter_proposal_made"]
    reminder, = [n for n in letter_notices(settings, "C-3:9", "counter_proposal", case)
                 if n["kind"] == "appeal_window_closing"]
    deadline = f"{appeal_by.day} {appeal_by:%B %Y}"
    assert deadline in made["subject"] and "£150.00" in made["body"]
    assert reminder["send_after"] == appeal_by - timedelta(days=7)
    assert reminder["subject"] == f"7 days left to appeal: the deadline is {deadline}"
    short = {**case, "counter_proposal": {**case["counter_proposal"],
                                          "appeal_by": (datetime.now(UTC) + timedelta(days=5)).isoformat()}}
    assert [n["kind"] for n in letter_notices(settings, "C-3:9", "counter_proposal", short)] == \
        ["counter_proposal_made"]
