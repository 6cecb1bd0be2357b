"""`carebudget serve` as a real subprocess on spare ports, and the pieces of it a fault kills.

The service is configured only through CAREBUDGET_* settings. For the worker-only kind, serve runs
without its worker (CAREBUDGET_SERVE_WORKER=0) and `python worker.py` runs beside it, so the
worker can die and come back alone; otherwise serve's own worker runs in its process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAq", "-c"]
DB_PREFIX = "cbfault_"  # the test's databases, dropped by name prefix (also a killed run's)


def spare_ports(count: int) -> list[int]:
    """Ports free now; held open together so the kernel hands out different ones."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def create_database() -> str:
    name = f"{DB_PREFIX}{uuid.uuid4().hex[:8]}"
    subprocess.run([*ADMIN_PSQL, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    # A killed service leaves its sessions "idle in transaction" holding the ledger's lock until
    # PostgreSQL ends them: the deployment setting (docs/deploy.md), on the test's database.
    subprocess.run([*ADMIN_PSQL, f"ALTER DATABASE \"{name}\" SET idle_in_transaction_session_timeout = '10s'"],
                   check=True, capture_output=True)
    return name


def drop_databases() -> list[str]:
    listed = subprocess.run(
        [*ADMIN_PSQL, f"SELECT datname FROM pg_database WHERE datname LIKE '{DB_PREFIX}%'"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    for name in listed:
        subprocess.run([*ADMIN_PSQL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                       capture_output=True, check=False)
    return listed


@dataclass
class Service:
    """One service: serve (with Temporal and, unless `separate_worker`, the worker), its data dir."""

    workdir: Path
    database_url: str | None
    separate_worker: bool = False
    ports: list[int] = field(default_factory=lambda: spare_ports(3))
    serve: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    secret: str = field(default_factory=lambda: uuid.uuid4().hex * 2)

    @property
    def http_port(self) -> int:
        return self.ports[2]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports[0]}"

    @property
    def env(self) -> dict[str, str]:
        env = {
            "CAREBUDGET_ENVIRONMENT": "development",  # the demo users drive the cases
            "CAREBUDGET_DATA_DIR": str(self.workdir),
            "CAREBUDGET_TEMPORAL_PORT": str(self.ports[0]),
            "CAREBUDGET_TEMPORAL_UI_PORT": str(self.ports[1]),
            "CAREBUDGET_HTTP_PORT": str(self.http_port),
            "CAREBUDGET_SECRET_KEY": self.secret,
            "CAREBUDGET_SERVE_WORKER": "0" if self.separate_worker else "1",
        }
        if self.database_url:
            env["CAREBUDGET_DATABASE_URL"] = self.database_url
        return env

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CAREBUDGET_")}
        return subprocess.Popen(argv, cwd=REPO, env={**environ, **self.env},
                                stdout=(self.workdir / log).open("ab"), stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start(self) -> None:
        """serve (and the worker beside it), and wait for the web API to answer."""
        self.serve = self._spawn([str(BIN / "carebudget"), "serve"], "serve.log")
        if self.separate_worker:
            self.start_worker()
        self._wait(lambda: self._healthy(), "the web API")

    def start_worker(self) -> None:
        self.worker = self._spawn([sys.executable, "worker.py"], "worker.log")

    def run_cli(self, *args: str) -> str:
        """A `carebudget` command against this service's store and Temporal; its output."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CAREBUDGET_")}
        done = subprocess.run([str(BIN / "carebudget"), *args], cwd=REPO, env={**environ, **self.env},
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"carebudget {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done.stdout

    # --- the faults: SIGKILL, no chance to finish anything ------------------------------------

    def kill_service(self) -> None:
        """The whole serve process group: web, worker, and the Temporal server it started."""
        _kill_group(self.serve)

    def kill_worker(self) -> None:
        _kill_group(self.worker)

    def kill_temporal(self) -> int:
        """Only the Temporal dev server serve supervises (named by its pidfile); its pid."""
        pid = self.temporal_pid()
        if pid is None:
            raise RuntimeError("serve's Temporal pidfile names no server")
        os.kill(pid, signal.SIGKILL)
        return pid

    def temporal_pid(self) -> int | None:
        try:
            return int((self.workdir / "temporal.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def temporal_up(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex(("127.0.0.1", self.ports[0])) == 0

    def stop(self, patience: float = 30) -> list[str]:
        """SIGTERM (Ctrl-C's twin), as an operator stops it; what did not stop and was killed.

        serve promises to stop within 10 s whatever a case is retrying; `patience` is generous
        (a loaded machine), so only a hang is reported, never slowness."""
        hung = []
        for name, process in (("worker", self.worker), ("serve", self.serve)):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(patience)
                except subprocess.TimeoutExpired:
                    hung.append(name)
                    _kill_group(process)
        return hung

    def tail(self, log: str, lines: int = 20) -> str:
        path = self.workdir / log
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/health", timeout=2):
                return True
        except OSError:
            return False

    def _wait(self, ready: object, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not ready():  # type: ignore[operator]
            if self.serve is not None and self.serve.poll() is not None:
                raise RuntimeError(f"serve exited ({self.serve.returncode}) before {what} was up:\n"
                                   f"{self.tail('serve.log')}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not up after {timeout:.0f} s:\n{self.tail('serve.log')}")
            time.sleep(0.3)


def _kill_group(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
