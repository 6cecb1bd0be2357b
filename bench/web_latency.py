"""Web latency: p95 of the operations list and a case page (HTML and JSON) with 100,000 cases.

Goal: under 100 ms at p95. Measured in-process through the ASGI app (FastAPI TestClient, no
network), beside /api/health measured the same way in the same run as the baseline.
The 100,000 case-list rows are bulk-inserted into the store's own tables (opening each through
the ledger would take minutes and is the store bench's business); the cases whose pages are timed
are opened and moved through stages with the store's public API, so they have real ledger trails.
The workflow-backed case page (GET /cases/ID, a Temporal query) is measured too, on an embedded
dev server with a worker, when the workflows package is installed.
CAREBUDGET_BENCH_QUICK=1: 2,000 cases and fewer requests.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

QUICK = os.environ.get("CAREBUDGET_BENCH_QUICK") == "1"
CASES = 2_000 if QUICK else 100_000
REQUESTS = 60 if QUICK else 400
STAGES = (
    "assessment",
    "eligibility",
    "financial_assessment",
    "indicative_budget",
    "support_planning",
    "sign_off",
    "counter_proposal",
    "appeal",
    "active_budget",
    "review",
)


def seed(store: Any, n: int) -> list[str]:
    from carebudget.store.db import write
    from carebudget.store.models import CaseListRow, CasePersonRow

    rng = random.Random(2014)
    today = date.today()
    now = datetime.now(UTC)
    rows, people = [], []
    for i in range(n):
        case_id = f"B{i:07d}"
        rows.append(
            {
                "case_id": case_id,
                "council": rng.choice(("demo", "demo", "england")),
                "stage": rng.choice(STAGES),
                "opened": today - timedelta(days=rng.randint(0, 900)),
                "due": today + timedelta(days=rng.randint(-60, 120))
                if rng.random() < 0.9
                else None,
                "amounts": f'{{"indicative_budget": "{rng.randint(40, 900)}.00"}}',
                "assigned_to": f"worker-{rng.randint(1, 300)}",
                "updated_at": now,
                "last_seq": 0,
            }
        )
        people.append(
            {
                "case_id": case_id,
                "name": f"Person {i}",
                "date_of_birth": date(1940 + i % 60, 1 + i % 12, 1),
            }
        )
    with write(store.engine) as conn:
        for start in range(0, n, 5_000):
            conn.execute(CaseListRow.__table__.insert(), rows[start : start + 5_000])  # type: ignore[attr-defined]
            conn.execute(CasePersonRow.__table__.insert(), people[start : start + 5_000])  # type: ignore[attr-defined]
    timed = []
    for i in range(5):
        case_id = f"TIMED-{i}"
        store.upsert_case(
            f"{case_id}:open",
            case_id,
            {
                "council": "demo",
                "stage": "assessment",
                "opened": today,
                "due": today + timedelta(days=28),
                "name": f"Timed {i}",
            },
            "system",
            "system",
        )
        for step, stage in enumerate(STAGES[1:7]):
            store.upsert_case(f"{case_id}:{step}", case_id, {"stage": stage}, "system", "system")
            store.append_event(
                f"{case_id}:ev{step}",
                case_id,
                "demo-social-worker",
                "social_worker",
                "update.accepted",
                {"step": stage},
            )
        timed.append(case_id)
    return timed


@contextmanager
def temporal_with_worker(store: Any, task_queue: str) -> Iterator[str | None]:
    """A Temporal dev server and a case worker on their own thread; yields the address (or None)."""
    import asyncio
    import shutil
    import threading

    try:
        from temporalio.contrib.pydantic import pydantic_data_converter
        from temporalio.testing import WorkflowEnvironment

        from worker import build_worker
        from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE
    except ImportError:
        yield None
        return
    ready, box = threading.Event(), {}

    async def main() -> None:
        box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
        binary = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
        async with (
            await WorkflowEnvironment.start_local(
                data_converter=pydantic_data_converter,
                search_attributes=[STAGE, COUNCIL, DUE_AT, OVERDUE],
                dev_server_existing_path=binary,
                ui=False,
            ) as env,
            build_worker(env.client, task_queue, store=store),
        ):
            box["address"] = env.client.service_client.config.target_host
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    ready.wait(timeout=120)
    try:
        yield box.get("address")
    finally:
        if "loop" in box:
            box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(timeout=60)


def open_workflow_case(client: Any, headers: dict[str, str]) -> str:
    """A case through intake, self-assessment and verification, so its page has decisions."""
    start = {
        "council": "demo",
        "person": {"name": "Bench Person", "date_of_birth": "1950-03-01", "setting": "home",
                    "has_capacity": True, "asks_council_to_arrange": True},
        "person_user": "demo-person",
    }
    case_id = client.post("/api/cases", json=start, headers=headers).json()["case_id"]
    for _ in range(400):
        if client.get(f"/api/cases/{case_id}", headers=headers).json().get("stage") == "assessment":
            break
        time.sleep(0.05)
    needs = {
        "arise_from_impairment_or_illness": True,
        "wellbeing_impact": "significant",
        "outcomes": {"nutrition": ["needs_assistance"], "personal_hygiene": ["needs_assistance"]},
    }
    verify = {
        "needs": needs,
        "finances": {"capital": "9000", "weekly_income": "240"},
        "care": {"weekly_cost": "200"},
    }
    response = client.post(
        f"/api/cases/{case_id}/steps/verify_assessment", json=verify, headers=headers
    )
    assert response.status_code == 200, response.text
    return str(case_id)


def measure(client: Any, path: str, headers: dict[str, str] | None = None) -> dict[str, float]:
    for _ in range(max(5, REQUESTS // 20)):
        assert client.get(path, headers=headers).status_code == 200, path
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1]}


def main() -> None:
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from carebudget.settings import Settings
    from carebudget.store import Store
    from carebudget.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="carebudget-web-bench-") as tmp:
        settings = Settings(
            environment="development", data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db"
        )
        store = Store(settings.effective_database_url)
        store.migrate()
        started = time.perf_counter()
        timed = seed(store, CASES)
        print(
            f"seeded {CASES:,} cases in {time.perf_counter() - started:.1f} s (SQLite)", flush=True
        )
        queue = "web-bench-cases"
        with temporal_with_worker(store, queue) as address:
            if address:
                settings = settings.model_copy(
                    update={"temporal_address": address, "task_queue": queue}
                )
            results = run_requests(
                create_app(settings, store=store), timed, with_workflow=bool(address)
            )
        store.close()
    report(results)


def run_requests(
    app: Any, timed: list[str], with_workflow: bool
) -> list[tuple[str, dict[str, float]]]:
    from fastapi.testclient import TestClient

    from carebudget.web.demo_users import DEMO_PASSWORD

    with TestClient(app) as client:
        ops = TestClient(app)
        ops.post("/sign-in", data={"username": "demo-operations", "password": DEMO_PASSWORD})
        token = client.post(
            "/api/token", json={"username": "demo-operations", "password": DEMO_PASSWORD}
        )
        api = {"Authorization": f"Bearer {token.json()['access_token']}"}
        comp = client.post(
            "/api/token", json={"username": "demo-compliance", "password": DEMO_PASSWORD}
        )
        audit = {"Authorization": f"Bearer {comp.json()['access_token']}"}
        targets = [
            ("baseline GET /api/health", client, "/api/health", None),
            ("page  operations list", ops, "/operations", None),
            (
                "page  operations list, stage + overdue",
                ops,
                "/operations?stage=sign_off&overdue=true",
                None,
            ),
            ("page  operations list, page 200", ops, "/operations?page=200", None),
            ("page  case", ops, f"/operations/cases/{timed[0]}", None),
            ("api   case list", client, "/api/cases", api),
            (
                "api   case list, stage + overdue",
                client,
                "/api/cases?stage=sign_off&overdue=true",
                api,
            ),
            ("api   case trail (store)", client, f"/api/cases/{timed[1]}/trail", audit),
        ]
        if with_workflow:
            sw_token = client.post(
                "/api/token", json={"username": "demo-social-worker", "password": DEMO_PASSWORD}
            ).json()["access_token"]
            sw_api = {"Authorization": f"Bearer {sw_token}"}
            case_id = open_workflow_case(client, sw_api)
            sw = TestClient(app)
            sw.post("/sign-in", data={"username": "demo-social-worker", "password": DEMO_PASSWORD})
            targets += [
                ("page  case (workflow query)", sw, f"/cases/{case_id}", None),
                ("api   case (workflow query)", client, f"/api/cases/{case_id}", sw_api),
            ]
        else:
            print(
                "Temporal or the workflows package is not available: workflow case page not measured"
            )
        return [(label, measure(c, path, headers)) for label, c, path, headers in targets]


def report(results: list[tuple[str, dict[str, float]]]) -> None:
    base = results[0][1]["p95"]
    print(f"{CASES:,} cases, {REQUESTS} requests each, in-process ASGI; goal p95 < 100 ms")
    print(f"{'request':44} {'p50 ms':>8} {'p95 ms':>8} {'p95 / baseline':>15}")
    for label, figures in results:
        verdict = (
            ""
            if label.startswith("baseline")
            else ("  ok" if figures["p95"] < 100 else "  OVER GOAL")
        )
        print(
            f"{label:44} {figures['p50']:8.1f} {figures['p95']:8.1f} {figures['p95'] / base:14.1f}x{verdict}"
        )


if __name__ == "__main__":
    main()
