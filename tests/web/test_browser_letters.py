"""In a real browser: an approver's counter-proposal produces a letter, as HTML and PDF, on the
person's case page, and an email the test's own SMTP server (aiosmtpd) receives; both name the
date by which to appeal. The letter's sha256 is on the ledger; operations may see that a letter
was sent, never what it says."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebudget.service import examples
from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, ensure_demo_users
from carebudget.web.forms import field_id
from tests.web.conftest import make_settings
from tests.web.live import SCREENSHOTS, chromium, free_port, needs_chromium, serve, sign_in
from tests.web.temporal_support import TemporalThread, with_queue

pytestmark = [pytest.mark.browser, needs_chromium]


class Inbox:
    """What the test's SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import email
        import email.policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def wait_for(self, to: str, timeout_polls: int = 300) -> Any:
        for _ in range(timeout_polls):
            found = [m for m in self.messages if m["To"] == to]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to}; received: {[m['To'] for m in self.messages]}")


def api(base: str, username: str) -> httpx.Client:
    token = httpx.post(f"{base}/api/token", json={"username": username, "password": DEMO_PASSWORD}).json()
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token['access_token']}"},
                        timeout=30)


def wait_for_stage(client: httpx.Client, case_id: str, stage: str) -> dict[str, Any]:
    for _ in range(300):
        response = client.get(f"/api/cases/{case_id}")
        if response.status_code == 200:
            state = response.json()
            if state["stage"] == stage and state.get("pending_step") is None:
                return dict(state)
        time.sleep(0.1)
    raise AssertionError(f"{case_id} never reached {stage}")


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def pdf_text_and_image(pdf: bytes) -> tuple[str, bytes]:
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    image = document[0].render(scale=1.6).to_pil()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return text, out.getvalue()


def test_a_counter_proposal_sends_the_person_a_letter_and_an_email_naming_the_appeal_deadline(
    tmp_path: Path,
) -> None:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = with_queue(make_settings(tmp_path)).model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_sink": False})
    store_app = create_app(settings)
    store = store_app.state.store
    ensure_demo_users(store)
    temporal = TemporalThread(store, settings.task_queue, settings)
    address = temporal.start()
    try:
        app = create_app(settings.model_copy(update={"temporal_address": address}), store=store)
        with serve(app) as base, chromium() as browser:
            script = examples.make_case(41, path="counter_appeal")
            sw, person_api = api(base, "demo-social-worker"), api(base, "demo-person")
            start = {**script.start, "person_user": "demo-person"}
            start.pop("opened_by")
            case_id = sw.post("/api/cases", json=start).json()["case_id"]
            wait_for_stage(sw, case_id, "assessment")
            for client, step, payload in ((person_api, "self_assess", script.self_assessment),
                                          (sw, "verify_assessment", script.verification),
                                          (sw, "submit_plan", script.plan)):
                response = client.post(f"/api/cases/{case_id}/steps/{step}", json=payload)
                assert response.status_code == 200, response.text
            wait_for_stage(sw, case_id, "sign_off")

            approver = sign_in(browser, base, "demo-approver")
            approver.goto(f"{base}/cases/{case_id}")
            approver.get_by_text("Set a lower amount, need by need").click()
            proposal = script.counter["proposal"]
            approver.get_by_label("Proposed weekly amount (£)").fill(proposal["weekly_amount"])
            for line in proposal["justifications"]:
                key = f"just-{line['outcome']}-0"
                approver.locator("#" + field_id(f"{key}-provision")).select_option(line["provision"])
                approver.locator("#" + field_id(f"{key}-units")).fill(line["units"])
                approver.locator("#" + field_id(f"{key}-unit_cost")).fill(line["unit_cost"])
                approver.locator("#" + field_id(f"{key}-reason")).fill(line["reason"])
            approver.get_by_role("button", name="Check the justification").click()
            assert "Every need is covered" in approver.content(), approver.locator("main").inner_text()[:1500]
            approver.get_by_role("button", name="Send the counter-proposal").click()

            state = wait_for_stage(person_api, case_id, "counter_proposal")
            deadline = long_date(date.fromisoformat(state["counter_proposal"]["appeal_by"][:10]))
            amount = f"£{proposal['weekly_amount']}"

            # The email, received by a real SMTP server, names the amount and the deadline.
            (mail,) = [m for m in inbox.wait_for("demo-person@carebudget.invalid")
                       if "appeal by" in m["Subject"]]
            assert deadline in mail["Subject"]
            body = mail.get_body(preferencelist=("plain",)).get_content()
            assert amount in body and f"appeal, do it by {deadline}" in body
            assert f"/cases/{case_id}" in body

            # The person finds the letter on their case page, reads it, and gets the PDF.
            person = sign_in(browser, base, "demo-person")
            person.goto(f"{base}/cases/{case_id}")
            assert person.locator("#letters").inner_text() == "Your letters"
            titles = person.locator("table.letters tbody tr td:first-child").all_inner_texts()
            assert "The council offers a different amount for your care" in titles
            assert "Your eligibility decision" in titles and "Your financial assessment" in titles
            person.get_by_role("link", name="Read the council offers a different amount for your care").click()
            letter_text = person.locator("body").inner_text()
            assert f"If you want to appeal, do it by {deadline}." in letter_text
            assert amount in letter_text and "Local Government and Social Care Ombudsman" in letter_text
            person.go_back()
            pdf_href = person.get_by_role(
                "link", name="PDF of the council offers a different amount for your care").get_attribute("href")
            assert pdf_href == f"/cases/{case_id}/letters/{pdf_href.rsplit('/', 1)[-1]}"
            response = person.request.get(f"{base}{pdf_href}")
            assert response.status == 200 and response.headers["content-type"] == "application/pdf"
            pdf = response.body()
            text, image = pdf_text_and_image(pdf)
            assert deadline in " ".join(text.split()) and amount in text
            if os.environ.get("CAREBUDGET_WRITE_SCREENSHOTS") == "1":
                (SCREENSHOTS / "letter-counter-proposal-pdf.png").write_bytes(image)

            # The API lists it with the same checks as the case; its sha256 is on the ledger.
            listed = person_api.get(f"/api/cases/{case_id}/letters").json()
            (counter,) = [row for row in listed if row["kind"] == "counter_proposal"]
            html = person_api.get(counter["links"]["html"]).text
            assert hashlib.sha256(html.encode()).hexdigest() == counter["sha256"]
            assert person_api.get(counter["links"]["pdf"]).content == pdf
            issued = [e for e in store.case_trail(case_id, role="compliance") if e.action == "letter.issued"]
            assert counter["sha256"] in {e.payload["sha256"] for e in issued}
            ops = api(base, "demo-operations")
            assert [r["kind"] for r in ops.get(f"/api/cases/{case_id}/letters").json()] == \
                [r["kind"] for r in listed]
            refused = ops.get(counter["links"]["pdf"])
            assert refused.status_code == 403 and "only that they were sent" in refused.json()["detail"]
            missing = person_api.get(f"/api/cases/{case_id}/letters/999999.pdf")
            assert missing.status_code == 404 and "has no letter 999999" in missing.json()["message"]
            assert person_api.get(f"/api/cases/{case_id}/letters/1.exe").status_code == 422
            assert person_api.get(f"/api/cases/{case_id}/letters/99999999999.pdf").status_code == 404

            # Staff see the outbox: sent, once.
            admin = sign_in(browser, base, "demo-admin")
            admin.goto(f"{base}/notices")
            outbox = admin.locator("main table").first.inner_text()
            assert f"appeal by {deadline}" in outbox
            sent = [n for n in store.list_notices(case_id) if n.kind == "counter_proposal_made"]
            assert len(sent) == 1 and sent[0].sent_at is not None
    finally:
        temporal.stop()
        smtp.stop()
