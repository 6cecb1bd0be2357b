"""Issue 10 point 3: hostile policy uploads are refused with a clear message while the service
stays responsive. A real server (uvicorn on a free port) takes the uploads in parallel while
/api/health and case reads are timed; their p95 is compared with a baseline from the same run."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD
from tests.hostile import files
from tests.web.conftest import make_settings
from tests.web.live import serve

UPLOADS: dict[str, tuple[str, str]] = {
    # name: (file content, words the refusal must contain)
    "490 equality tests": (files.equality_tests_on_one_field(490), "'age_years' for equality in 490"),
    "600 equality tests": (files.equality_tests_on_one_field(600), "'age_years' for equality in 600"),
    "every operator": (files.every_operator(), "a council's rules for one stage may have at most 55"),
    "70 capital rules": (files.capital_rules(70), "stage 'charge' has 70 council rules"),
    "alias bomb": (files.alias_bomb(), "more than 20 YAML aliases"),
}
HUGE = "50 MB file"
SLOWDOWN_ALLOWED = 10  # p95 during the uploads at most this many times the baseline p95
FLOOR_S = 0.05  # below this, a scheduler hiccup on a busy machine is not a slowdown


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The server's address and bearer headers of a policy officer and an operations officer."""
    settings = make_settings(tmp_path_factory.mktemp("hostile"))
    app = create_app(settings)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        tokens = {
            name: http.post("/api/token", json={"username": name, "password": DEMO_PASSWORD})
            .json()["access_token"]
            for name in ("demo-policy-admin", "demo-operations")
        }
        yield url, {name: f"Bearer {token}" for name, token in tokens.items()}


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def _reads(url: str, tokens: dict[str, str]) -> list[Callable[[httpx.Client], httpx.Response]]:
    operations = {"Authorization": tokens["demo-operations"]}
    officer = {"Authorization": tokens["demo-policy-admin"]}
    return [
        lambda c: c.get(f"{url}/api/health"),
        lambda c: c.get(f"{url}/api/cases", params={"council": "demo"}, headers=operations),
        lambda c: c.get(f"{url}/api/policy/changes", headers=officer),
    ]


def _time_reads(url: str, headers: dict[str, str], until: Callable[[], bool]) -> list[float]:
    samples: list[float] = []
    with httpx.Client(timeout=60) as reader:
        while not until() or len(samples) < 30:
            for read in _reads(url, headers):
                started = time.perf_counter()
                response = read(reader)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
    return samples


def _upload(url: str, tokens: dict[str, str], content: str) -> httpx.Response:
    body = {"council": "demo", "path": "hostile.yaml", "content": content, "note": "hostile"}
    headers = {"Authorization": tokens["demo-policy-admin"]}
    with httpx.Client(timeout=120) as uploader:
        return uploader.post(f"{url}/api/policy/changes", json=body, headers=headers)


def test_hostile_uploads_are_refused_clearly_while_health_and_case_reads_stay_responsive(
    live: tuple[str, dict[str, str]],
) -> None:
    url, headers = live
    baseline = _time_reads(url, headers, until=lambda: True)

    done = threading.Event()
    results: dict[str, Any] = {}

    def upload_all() -> None:
        try:
            with ThreadPoolExecutor(max_workers=len(UPLOADS) + 1) as pool:
                futures = {name: pool.submit(_upload, url, headers, text)
                           for name, (text, _) in UPLOADS.items()}
                futures[HUGE] = pool.submit(_upload, url, headers, files.huge(50))
                results.update({name: f.result() for name, f in futures.items()})
        finally:
            done.set()

    uploader = threading.Thread(target=upload_all)
    uploader.start()
    during = _time_reads(url, headers, until=done.is_set)
    uploader.join()

    for name, (_, words) in UPLOADS.items():
        response = results[name]
        assert response.status_code == 201, (name, response.text)
        change = response.json()
        assert change["status"] == "refused", (name, change)
        assert any(words in p for p in change["problems"]), (name, change["problems"])
    huge = results[HUGE]
    assert huge.status_code == 413, huge.text[:500]
    assert "larger than 2,000,000 bytes" in huge.json()["message"]

    allowed = max(SLOWDOWN_ALLOWED * _p95(baseline), FLOOR_S)
    assert _p95(during) <= allowed, (
        f"p95 of health and case reads was {_p95(during):.3f}s during the uploads against "
        f"{_p95(baseline):.3f}s before ({len(during)} and {len(baseline)} reads)"
    )
