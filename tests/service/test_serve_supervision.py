"""`carebudget serve` supervises what it starts (issue 11 point 2): a Temporal server left by a
killed run is found by its pidfile and stopped; a Temporal server that dies is started again; and
SIGTERM stops everything within 10 s even while the worker is retrying against a dead server."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from carebudget.service.server import dev_server_command
from carebudget.settings import REPO_ROOT, Settings
from tests.service.test_serve_command import CLI, _env


def _start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    serve = subprocess.Popen([*CLI, "serve"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert serve.stdout is not None
    seen = []
    for line in serve.stdout:
        seen.append(line)
        if "Press Ctrl-C to stop." in line:
            return serve, seen
    raise AssertionError("serve did not start: " + "".join(seen))


def _alive(pid: int) -> bool:
    try:
        return b"start-dev" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _settings(env: dict[str, str]) -> Settings:
    return Settings(data_dir=Path(env["CAREBUDGET_DATA_DIR"]),
                    temporal_port=int(env["CAREBUDGET_TEMPORAL_PORT"]),
                    temporal_ui_port=int(env["CAREBUDGET_TEMPORAL_UI_PORT"]))


def test_a_stale_temporal_server_is_stopped_and_a_dead_one_restarted_and_sigterm_stops_within_10s(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    # A server from a run that was killed: running, holding the ports, named by the pidfile.
    stale = subprocess.Popen(dev_server_command(_settings(env)), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    (tmp_path / "temporal.pid").write_text(f"{stale.pid}\n")
    time.sleep(2)
    serve, seen = _start_serve(env)
    try:
        assert any(f"left running by an earlier run (pid {stale.pid})" in line for line in seen), seen
        assert stale.wait(10) is not None
        first = int((tmp_path / "temporal.pid").read_text())
        os.kill(first, signal.SIGKILL)
        for _ in range(100):
            pid = int((tmp_path / "temporal.pid").read_text() or 0)
            if pid != first and _alive(pid):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the Temporal server was not started again")
        demo = subprocess.run([*CLI, "demo", "--cases", "2"], check=False, env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        # Temporal dies again; stop serve at once, while the worker is retrying against nothing.
        os.kill(pid, signal.SIGKILL)
        began = time.monotonic()
        serve.send_signal(signal.SIGTERM)
        rest, _ = serve.communicate(timeout=30)
        assert time.monotonic() - began < 10, rest  # the limit
        assert "Stopped." in rest
        assert not (tmp_path / "temporal.pid").exists()
    finally:
        for process in (serve, stale):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_killing_serve_alone_takes_its_temporal_server_with_it(tmp_path: Path) -> None:
    serve, _ = _start_serve(_env(tmp_path))
    pid = int((tmp_path / "temporal.pid").read_text())
    os.kill(serve.pid, signal.SIGKILL)
    serve.wait()
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.2)
    assert not _alive(pid), "the Temporal server outlived serve"


def test_serve_without_its_worker_leaves_the_cases_to_a_worker_run_beside_it(tmp_path: Path) -> None:
    # So a worker can be killed and restarted alone (docs/deploy.md, make fault-test).
    import asyncio
    import sys

    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    env = {**_env(tmp_path), "CAREBUDGET_SERVE_WORKER": "0"}
    address = f"127.0.0.1:{env['CAREBUDGET_TEMPORAL_PORT']}"

    async def pollers() -> int:
        client = await Client.connect(address)
        reply = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=env["CAREBUDGET_TASK_QUEUE"])))
        return len(reply.pollers)

    serve, seen = _start_serve(env)
    worker = None
    try:
        assert any("no worker here" in line for line in seen), seen
        assert asyncio.run(pollers()) == 0
        worker = subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        demo = subprocess.run([*CLI, "demo", "--cases", "2"], check=False, env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert asyncio.run(pollers()) >= 1
    finally:
        for process in (worker, serve):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_after_restarting_temporal_serve_reconciles_the_store_with_it(tmp_path: Path) -> None:
    # A step in flight when Temporal died can be kept by the store and lost by Temporal. Before,
    # serve reconciled only when it started, so the store stayed ahead (and a step taken again
    # with other content was refused as an ALARM) until someone ran `carebudget cases reconcile`.
    from carebudget.store import Store

    env = {**_env(tmp_path), "CAREBUDGET_RECONCILE_GRACE_S": "1"}
    out = tmp_path / "serve.out"
    serve = subprocess.Popen([*CLI, "serve"], env=env, cwd=REPO_ROOT, stdout=out.open("w"),
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(out, "Press Ctrl-C to stop.", serve)
        demo = subprocess.run([*CLI, "demo", "--cases", "1"], check=False, env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        store = Store(env["CAREBUDGET_DATABASE_URL"])
        case_id = store.list_cases()[0][0].case_id
        lost = f"{case_id}:99:review.opened"  # beyond the workflow's timeline: Temporal lost it
        store.record_step(lost, case_id, "demo-social-worker", "social_worker", "review.opened",
                          {"reasons": "written before the crash"})
        os.kill(int((tmp_path / "temporal.pid").read_text()), signal.SIGKILL)
        _wait_for(out, f"Reconciled 1 cases with their workflows: {case_id}", serve)
        assert store.voided_steps(case_id) == {lost}
        store.close()
    finally:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()


def _wait_for(out: Path, line: str, serve: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while line not in out.read_text():
        assert serve.poll() is None, f"serve exited:\n{out.read_text()}"
        assert time.monotonic() < deadline, f"no {line!r} from serve:\n{out.read_text()}"
        time.sleep(0.3)
