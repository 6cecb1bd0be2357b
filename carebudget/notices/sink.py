"""The development mail server: accepts every message and keeps it under <data_dir>/mail, where
the web's Notices page reads it. Never for production: it delivers nothing anywhere."""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUFFIX = ".eml"


def mail_dir(data_dir: Path) -> Path:
    return data_dir / "mail"


class Keep:
    """aiosmtpd handler: each message a file named by arrival time, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        part = self.folder / (name + ".part")
        part.write_bytes(envelope.original_content or envelope.content)
        part.rename(self.folder / name)
        return "250 Message accepted"


def start(host: str, port: int, folder: Path) -> Any:
    """Start the sink in its own thread; returns the controller (call .stop())."""
    from aiosmtpd.controller import Controller

    controller = Controller(Keep(folder), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class Kept:
    name: str
    received: datetime
    to: str
    subject: str
    body: str


def messages(folder: Path, limit: int = 100) -> list[Kept]:
    """The newest messages the sink kept, newest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{SUFFIX}"), reverse=True)[:limit]:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        stamp = path.name.split("-", 1)[0]
        found.append(Kept(
            name=path.name, received=datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC),
            to=str(msg.get("To", "")), subject=str(msg.get("Subject", "")),
            body=body.get_content() if body is not None else "",  # type: ignore[union-attr]
        ))
    return found
