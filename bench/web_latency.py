"""Web latency: p95 of the operations list and a case page (HTML and JSON) with 100,000 cases.

Goal: under 100 ms at p95. Measured in-process through the ASGI app (FastAPI TestClient, no
network), beside /api/health measured the same way in the same run as the baseline.
The 100,000 case-list rows are bulk-inserted into the store's own tables (opening each through
the ledger would take minutes and is the store bench's business); the cases whose pages are timed
are opened and moved through stages with the store's public API, so they have real ledger trails.
CAREBUDGET_BENCH_QUICK=1: 2,000 cases and fewer requests.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import warnings
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
    from fastapi.testclient import TestClient

    from carebudget.settings import Settings
    from carebudget.store import Store
    from carebudget.web.app import create_app
    from carebudget.web.demo_users import DEMO_PASSWORD

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
        app = create_app(settings, store=store)
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
            results = [(label, measure(c, path, headers)) for label, c, path, headers in targets]
        store.close()
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
