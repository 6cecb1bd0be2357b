"""A password must be long and not one of the passwords attackers try first (NCSC and NIST
SP 800-63B 5.1.1.2: length and a blocklist, no composition rules)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str, username: str = "") -> str | None:
    """Why the password is not acceptable, in plain words; None when it is."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters; a few unrelated words make a good password"
    lowered = password.lower()
    squeezed = "".join(lowered.split())
    if lowered in common_passwords() or squeezed in common_passwords():
        return "this is one of the most common passwords; choose another"
    if len(set(lowered)) <= 3:
        return "this repeats too few characters; choose a password that is harder to guess"
    if username and len(username) >= 3 and username.lower() in lowered:
        return "a password must not contain the username"
    return None
