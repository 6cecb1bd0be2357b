"""axe-core in the browser tests: fetched once from the npm registry into var/axe, injected into
each page with Playwright, and run; a critical or serious violation fails the test (WCAG 2.2 AA).

The pages forbid inline script (CSP), so the contexts that run axe are opened with bypass_csp.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

AXE_VERSION = "4"
AXE_DIR = Path(__file__).resolve().parents[2] / "var" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("critical", "serious")

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None, reason="npm is not installed, so axe-core cannot be fetched"
)


def axe_script() -> Path:
    """axe.min.js, installed from the npm registry on first use (the registry must answer)."""
    if not AXE_SCRIPT.exists():
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund",
             "--no-save", f"axe-core@{AXE_VERSION}"],
            check=True, capture_output=True, timeout=300,
        )
    return AXE_SCRIPT


def violations(page: Any) -> list[str]:
    """Each critical or serious violation on the page as it stands, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script()))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
        TAGS,
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page: Any, where: str = "") -> None:
    problems = violations(page)
    assert not problems, f"axe on {where or page.url}:\n" + "\n".join(problems)


def assert_accessible_if_npm(page: Any, where: str = "") -> None:
    """For a test that is about something else: axe runs when npm is installed (the page's context
    must be opened with bypass_csp)."""
    if shutil.which("npm") is not None:
        assert_accessible(page, where)
