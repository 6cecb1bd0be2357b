"""The processes on the test's hosts: Temporal, the PostgreSQL relay, workers and web services.

Every carebudget process is configured only through CAREBUDGET_* settings, the same ones
docker-compose.yml sets, so the test proves the deployment's configuration, not a special one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.scale.netns import PREFIX, Host

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEMPORAL_PORT = 7233
WEB_PORT = 8000
PG_PORT = 5432
ADMIN_PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAq", "-c"]
DB_PREFIX = PREFIX.replace("-", "_")  # cbsc_: the test's databases, dropped by name prefix


@dataclass
class Process:
    host: Host
    role: str
    popen: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL: a host that dies gets no chance to finish anything."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    """What one run started; `settings` is the environment every carebudget process gets."""

    workdir: Path
    temporal: Host
    postgres: Host
    database: str = field(default_factory=lambda: f"{DB_PREFIX}{uuid.uuid4().hex[:8]}")
    secret: str = field(default_factory=lambda: uuid.uuid4().hex * 2)
    processes: list[Process] = field(default_factory=list)

    @property
    def temporal_address(self) -> str:
        return f"{self.temporal.address}:{TEMPORAL_PORT}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.postgres.address}:{PG_PORT}/{self.database}"

    def settings(self, host: Host) -> dict[str, str]:
        return {
            "CAREBUDGET_ENVIRONMENT": "development",  # the demo users drive the cases
            "CAREBUDGET_DATABASE_URL": self.database_url,
            "CAREBUDGET_TEMPORAL_ADDRESS": self.temporal_address,
            "CAREBUDGET_TEMPORAL_NAMESPACE": "default",
            "CAREBUDGET_TASK_QUEUE": "carebudget-cases",
            "CAREBUDGET_DATA_DIR": str(self.workdir / host.name),
            "CAREBUDGET_SECRET_KEY": self.secret,
            "CAREBUDGET_HTTP_HOST": host.address,
            "CAREBUDGET_HTTP_PORT": str(WEB_PORT),
        }

    def spawn(self, host: Host, role: str, argv: list[str], env: dict[str, str] | None = None,
              in_namespace: bool = True) -> Process:
        (self.workdir / host.name).mkdir(parents=True, exist_ok=True)
        log = self.workdir / f"{host.name}-{role}.log"
        command = host.command(*argv) if in_namespace else argv
        popen = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **(env or {})}, stdout=log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        process = Process(host, role, popen, log)
        self.processes.append(process)
        return process

    def start_temporal(self) -> Process:
        from carebudget.service.server import SEARCH_ATTRIBUTES

        # Not `--ip <address>`: the dev server then binds its internal services (matching, history)
        # to that address too, but its frontend dials them on 127.0.0.1, so no poll is ever served.
        # In this host's own namespace 0.0.0.0 means its loopback and its one veth address.
        argv = [str(BIN / "temporal"), "server", "start-dev", "--ip", "0.0.0.0",
                "--port", str(TEMPORAL_PORT), "--headless", "--log-level", "error",
                "--db-filename", str(self.workdir / "temporal.db")]
        for key, kind in SEARCH_ATTRIBUTES.items():
            argv += ["--search-attribute", f"{key}={kind}"]
        return self.spawn(self.temporal, "temporal", argv)

    def start_relay(self) -> Process:
        # Started in the root namespace: it moves itself into the PostgreSQL host (relay.py).
        argv = [sys.executable, "-m", "tests.scale.relay", self.postgres.netns,
                f"{self.postgres.address}:{PG_PORT}"]
        return self.spawn(self.postgres, "relay", argv, in_namespace=False)

    def start_worker(self, host: Host) -> Process:
        return self.spawn(host, "worker", [sys.executable, "worker.py"], self.settings(host))

    def start_web(self, host: Host) -> Process:
        argv = [str(BIN / "uvicorn"), "--factory", "carebudget.web.app:create_app",
                "--host", host.address, "--port", str(WEB_PORT), "--log-level", "warning"]
        return self.spawn(host, "web", argv, self.settings(host))

    def of(self, host: Host) -> list[Process]:
        return [p for p in self.processes if p.host == host]

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


# A host lost mid-transaction leaves its session "idle in transaction" until TCP gives up (hours),
# and one such session holds the ledger's advisory lock: every writer in the council waits behind
# it. Ending such sessions after a few seconds is a deployment setting (docker-compose.yml sets it
# for the server; docs/deploy.md), so the test sets it the same way, on its database.
IDLE_IN_TRANSACTION_TIMEOUT = "10s"


def create_database(name: str) -> None:
    subprocess.run([*ADMIN_PSQL, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    setting = f"idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"
    subprocess.run([*ADMIN_PSQL, f'ALTER DATABASE "{name}" SET {setting}'], check=True,
                   capture_output=True)


def drop_databases(prefix: str = DB_PREFIX) -> list[str]:
    """Drop this run's database and any a killed run left (by name prefix)."""
    listed = subprocess.run(
        [*ADMIN_PSQL, f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    for name in listed:
        subprocess.run([*ADMIN_PSQL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                       capture_output=True, check=False)
    return listed


def wait_for(ready: object, what: str, process: Process | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if process is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.popen.returncode}):\n{process.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.3)
