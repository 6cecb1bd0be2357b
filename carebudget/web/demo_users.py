"""Development only: one demo user per role, so a fresh laptop can sign in as anyone at once."""

from __future__ import annotations

from typing import Any

from carebudget.store.roles import ROLES
from carebudget.web.auth import ROLE_LABELS, hash_password

DEMO_PASSWORD = "demo-password"


def demo_username(role: str) -> str:
    return f"demo-{role.replace('_', '-')}"


def demo_users() -> list[tuple[str, str]]:
    """(username, role) for every role; policy has two officers of each kind, since publishing
    needs two."""
    users = [(demo_username(role), role) for role in ROLES]
    users.append(("demo-policy-admin-2", "policy_admin"))
    users.append(("demo-national-admin-2", "national_admin"))
    users.append(("demo-approver-2", "approver"))
    return users


def ensure_demo_users(store: Any, announce: bool = False, url: str = "") -> list[tuple[str, str]]:
    created = []
    hashed = None
    for username, role in demo_users():
        if store.get_user(username) is None:
            hashed = hashed or hash_password(DEMO_PASSWORD)
            store.create_user(username, f"Demo {ROLE_LABELS[role]}", role, hashed, actor="system")
            created.append((username, role))
    if announce:
        print(
            "Development mode: demo users, each with the password "
            f"'{DEMO_PASSWORD}' (never use these outside development):",
            flush=True,
        )
        for username, role in demo_users():
            print(f"  {username:24} {ROLE_LABELS[role]}", flush=True)
        if url:
            print(f"Sign in at {url}", flush=True)
    return created
