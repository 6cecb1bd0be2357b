"""Who is told what, and sending the outbox by email."""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from carebudget.letters.content import KINDS
from carebudget.letters.render import long_date, money
from carebudget.settings import Settings

log = logging.getLogger(__name__)


def address_of(settings: Settings, username: str) -> str:
    return settings.notice_address.format(username=username)


def case_link(settings: Settings, case_id: str) -> str:
    base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
    return f"{base.rstrip('/')}/cases/{case_id}"


def letter_notices(settings: Settings, key: str, kind: str, case: dict[str, Any]) -> list[dict[str, Any]]:
    """What the person is told when a letter is issued: that it is ready; for a counter-proposal,
    the amount and the date by which to appeal."""
    person = case.get("person_user")
    if not person:
        return []
    case_id = str(case["case_id"])
    link = case_link(settings, case_id)
    title = KINDS[kind]
    notice = {"notice_key": f"{key}:{kind}:{person}", "case_id": case_id, "recipient": person,
              "address": address_of(settings, person)}
    if kind == "counter_proposal":
        cp = case["counter_proposal"]
        deadline = long_date(cp["appeal_by"])
        return [*_appeal_reminder(settings, notice, cp, deadline, link), {**notice, "kind": "counter_proposal_made",
                 "subject": f"The council offers a different amount: appeal by {deadline}",
                 "body": (f"The council offers {money(cp['proposal']['weekly_amount'])} a week for your "
                          f"care instead of the amount in your plan.\n\nIf you want to appeal, do it by "
                          f"{deadline}. If you do nothing, the lower amount starts after that date.\n\n"
                          f"Your letter explains why and how to appeal: {link}\n\nReference {case_id}")}]
    return [{**notice, "kind": "letter_ready", "subject": f"A letter about your care: {title}",
             "body": f"We have written to you: {title}.\n\nRead it, or print it, here: {link}\n\n"
                     f"Reference {case_id}"}]


def _appeal_reminder(settings: Settings, notice: dict[str, Any], cp: dict[str, Any], deadline: str,
                     link: str) -> list[dict[str, Any]]:
    """'Your appeal window closes in N days': sent N days before the deadline, and only if the
    case is still waiting for the person's answer then (withdrawn once they accept or appeal)."""
    days = settings.appeal_reminder_days
    appeal_by = datetime.fromisoformat(str(cp["appeal_by"]).replace("Z", "+00:00"))
    send_after = appeal_by - timedelta(days=days)
    if days <= 0 or send_after <= datetime.now(UTC) + timedelta(days=1):
        return []  # the window is too short for a reminder to add anything
    return [{**notice, "notice_key": notice["notice_key"] + ":reminder", "kind": "appeal_window_closing",
             "send_after": send_after, "only_at_stage": "counter_proposal",
             "subject": f"{days} days left to appeal: the deadline is {deadline}",
             "body": (f"You have until {deadline} to appeal against the council's offer of "
                      f"{money(cp['proposal']['weekly_amount'])} a week. If you do nothing, the lower "
                      f"amount starts after that date.\n\nYour letter and how to appeal: {link}")}]


def notice_to(settings: Settings, key: str, kind: str, case_id: str, username: str,
                 subject: str, body: str) -> dict[str, Any]:
    return {"notice_key": f"{key}:{kind}:{username}", "case_id": case_id, "kind": kind,
            "recipient": username, "address": address_of(settings, username),
            "subject": subject, "body": f"{body}\n\n{case_link(settings, case_id)}"}


def message(settings: Settings, notice: Any) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = notice.address
    msg["Subject"] = notice.subject
    msg["Date"] = format_datetime(notice.created_at)
    # The outbox key makes the Message-ID: a message sent again after a crash is recognisably the same.
    msg["Message-ID"] = make_msgid(idstring=f"notice-{notice.id}", domain="carebudget.invalid")
    msg["X-Carebudget-Notice"] = notice.notice_key
    msg.set_content(notice.body)
    return msg


def deliver(store: Any, settings: Settings, case_id: str | None = None) -> int:
    """Send the unsent notices (of one case, or all); returns how many were sent. A notice that
    cannot be sent stays in the outbox with the reason, and is tried again a minute later."""
    sent = 0
    notices = store.claim_notices(case_id)
    if not notices:
        return 0
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        for notice in notices:
            store.notice_failed(notice.id, f"could not reach the mail server: {exc}")
        log.warning("notices not sent, the mail server is unreachable: %s", exc)
        return 0
    with smtp:
        for notice in notices:
            if notice.only_at_stage and _stage(store, notice.case_id) != notice.only_at_stage:
                store.notice_withdrawn(notice.id, "not sent: the case has moved on")
                continue
            try:
                smtp.send_message(message(settings, notice))
            except (OSError, smtplib.SMTPException) as exc:
                store.notice_failed(notice.id, f"the mail server refused it: {exc}")
                continue
            store.notice_sent(notice.id)
            sent += 1
    return sent


def _stage(store: Any, case_id: str | None) -> str | None:
    from carebudget.store import StoreError

    try:
        return None if case_id is None else str(store.get_case(case_id).stage)
    except StoreError:
        return None


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    if settings.smtp_starttls:
        smtp.starttls()
    if settings.smtp_username:
        smtp.login(settings.smtp_username, settings.smtp_password or "")
    return smtp


def deliver_soon(store: Any, settings: Settings) -> None:
    """Send in the background: the step that queued the notices does not wait for the mail server.
    One sender thread per store, woken by each call: calls that come while it is sending are one
    more pass over the outbox, not a thread and a claiming write transaction each."""
    with _SENDERS_LOCK:
        sender = _SENDERS.get(id(store))
        if sender is None or sender.store is not store or not sender.is_alive():
            sender = _SENDERS[id(store)] = _Sender(store, settings)
            sender.start()
    sender.wake.set()


class _Sender(threading.Thread):
    def __init__(self, store: Any, settings: Settings) -> None:
        super().__init__(name="notices", daemon=True)
        self.store, self.settings, self.wake = store, settings, threading.Event()

    def run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            try:
                deliver(self.store, self.settings)
            except Exception:  # noqa: BLE001 - the relay tries again; the outbox keeps the notice
                log.exception("sending notices failed")


_SENDERS: dict[int, _Sender] = {}
_SENDERS_LOCK = threading.Lock()


async def relay(store: Any, settings: Settings, every_s: float = 30.0) -> None:
    """Send whatever is left in the outbox (mail server down, a sender crashed) every `every_s`."""
    import asyncio

    while True:
        try:
            await asyncio.to_thread(deliver, store, settings)
        except Exception:  # noqa: BLE001 - keep relaying
            log.exception("the notice relay failed; trying again")
        await asyncio.sleep(every_s)
