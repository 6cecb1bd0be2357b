"""`carebudget serve`: refuses clearly when it cannot start; starts and stops everything cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from carebudget.settings import REPO_ROOT

CLI = [sys.executable, "-m", "carebudget.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data: Path, **ports: int) -> dict[str, str]:
    settings = {
        "CAREBUDGET_DATA_DIR": str(data),
        "CAREBUDGET_DATABASE_URL": f"sqlite:///{data / 'carebudget.db'}",
        "CAREBUDGET_TEMPORAL_PORT": str(ports.get("temporal", _free_port())),
        "CAREBUDGET_TEMPORAL_UI_PORT": str(ports.get("ui", _free_port())),
        "CAREBUDGET_HTTP_PORT": str(ports.get("http", _free_port())),
        "CAREBUDGET_TASK_QUEUE": f"serve-{os.getpid()}",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREBUDGET_")}
    return {**env, **settings}


def test_serve_refuses_a_port_already_in_use_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve"], check=False, env=_env(tmp_path, temporal=port), cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    assert f"port {port} (temporal_port) is already in use" in result.stderr
    assert "CAREBUDGET_TEMPORAL_PORT" in result.stderr


def test_serve_refuses_a_data_dir_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        [*CLI, "serve"], check=False, env=_env(blocker / "var"), cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "is not writable" in result.stderr and "CAREBUDGET_DATA_DIR" in result.stderr


def test_serve_runs_temporal_worker_and_web_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = _env(tmp_path)
    server = subprocess.Popen(
        [*CLI, "serve"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        assert server.stdout is not None
        seen = []
        for line in server.stdout:
            seen.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        assert any("Temporal UI" in line for line in seen), seen
        demo = subprocess.run(
            [*CLI, "demo", "--cases", "3"], check=False, env=env, cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=120,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "carebudget demo" in demo.stdout
        # Case commands act through the API as a signed-in user (issue 11).
        env["CAREBUDGET_TOKEN_FILE"] = str(tmp_path / "token")
        signed = subprocess.run(
            [*CLI, "login", "--username", "demo-operations", "--password-stdin"], check=False,
            env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
            input="demo-password\n",
        )
        assert signed.returncode == 0, signed.stdout + signed.stderr
        listed = subprocess.run(
            [*CLI, "case", "list"], check=False, env=env, cwd=REPO_ROOT, capture_output=True,
            text=True,
            timeout=60,
        )
        assert "of 3 case(s)" in listed.stdout, listed.stdout + listed.stderr
        server.send_signal(signal.SIGTERM)
        rest, _ = server.communicate(timeout=60)
        assert server.returncode == 0, rest
        assert "Stopped." in rest
        assert (tmp_path / "temporal.db").exists()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
