"""Shared test setup.

The temporalio SDK can crash at interpreter exit after every test has passed (sdk-python
issue 300: exit 134/139). Ending the process with os._exit(exitstatus) once pytest has
computed its real exit status keeps that crash out of CI without hiding any failure.
"""

from __future__ import annotations

import os
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    status = getattr(config, "_carebudget_exitstatus", None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._carebudget_exitstatus = exitstatus  # type: ignore[attr-defined]
