"""`carebudget serve` looks after the Temporal dev server it starts (issue 11 point 2).

A pidfile in the data dir names the server; a server left by a killed run is found through it and
stopped before a new one starts (else its ports keep the new run from starting). The server is in
serve's process group and is also told to die with serve (Linux PR_SET_PDEATHSIG), so killing
the group, or serve alone, leaves nothing running. A server that dies is started again, and serve
then reconciles the store with it (carebudget.service.reconcile).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from carebudget.service import server
from carebudget.settings import Settings

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
try:  # loaded here, not in the child: between fork and exec only the system call itself is safe
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def pidfile(settings: Settings) -> Path:
    return settings.data_dir / "temporal.pid"


def _die_with_parent() -> None:  # runs in the child between fork and exec
    prctl = getattr(_LIBC, "prctl", None)
    if prctl is not None:  # not Linux: the pidfile still catches a stale server
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _ours(pid: int, settings: Settings) -> bool:
    """The pid is a Temporal dev server on this data dir (not a pid reused by something else)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    db = str((settings.data_dir / "temporal.db").resolve()).encode()
    return b"start-dev" in command and db in command


def stop_stale(settings: Settings) -> int | None:
    """Stop the server a killed run left behind, if the pidfile names one; its pid, else None."""
    path = pidfile(settings)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if not _ours(pid, settings):
        path.unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while _ours(pid, settings) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _ours(pid, settings):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    path.unlink(missing_ok=True)
    return pid


def start(settings: Settings) -> subprocess.Popen[bytes]:
    log_file = (settings.data_dir / "temporal.log").open("ab")
    process = subprocess.Popen(server.dev_server_command(settings), stdout=log_file,
                               stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)  # noqa: PLW1509 - one prctl call, nothing else
    pidfile(settings).write_text(f"{process.pid}\n")
    return process


class Supervisor:
    """Keeps one dev server running until `stop()`; restarts it when it exits on its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = start(settings)
        self.restarts = 0
        self._stopping = False

    async def watch(self, every: float = 0.5, on_restart: Callable[[], None] | None = None) -> None:
        """Restart the server whenever it has exited; then `on_restart()` (serve reconciles: a
        step in flight when the server died may be kept by the store and lost by Temporal)."""
        while not self._stopping:
            await asyncio.sleep(every)
            if self.process.poll() is not None and not self._stopping:
                log.warning("the Temporal server exited (code %s); starting it again", self.process.returncode)
                self.process = start(self.settings)
                self.restarts += 1
                if on_restart is not None:
                    on_restart()

    def stop(self, timeout: float = 3) -> None:
        self._stopping = True
        process = self.process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        pidfile(self.settings).unlink(missing_ok=True)
