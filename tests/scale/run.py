"""The run itself: bring the hosts up, drive the phases, lose two worker hosts, check, report."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from dataclasses import dataclass

from temporalio.client import Client

from carebudget.service.cases import get_client
from carebudget.settings import Settings
from tests.scale import netns
from tests.scale.checks import Findings, check
from tests.scale.drive import Api, Outcome, drive_cases
from tests.scale.hosts import WEB_PORT, Cluster, wait_for

CASES = int(os.environ.get("CAREBUDGET_SCALE_CASES", "60"))
CONCURRENCY = int(os.environ.get("CAREBUDGET_SCALE_CONCURRENCY", "12"))
SEED = 16
WORKERS = [netns.Host(f"w{i}", f"{netns.SUBNET}.{10 + i}") for i in (1, 2, 3)]
WEBS = [netns.Host(f"web{i}", f"{netns.SUBNET}.{20 + i}") for i in (1, 2)]


@dataclass
class Phase:
    name: str
    worker_hosts: int
    outcomes: list[Outcome]
    seconds: float


def _web_up(host: netns.Host) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host.address}:{WEB_PORT}/api/health", timeout=2):
            return True
    except OSError:
        return False


async def _temporal(cluster: Cluster) -> Client:
    deadline = time.monotonic() + 90
    while True:
        try:
            # The service's own client: payloads are sealed with the same (development) keys.
            client = await get_client(Settings(temporal_address=cluster.temporal_address))
            await client.count_workflows()
            return client
        except Exception:  # not up yet: any failure to connect means wait
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def run(cluster: Cluster) -> bool:
    for host in [cluster.temporal, cluster.postgres, *WORKERS, *WEBS]:
        netns.create_host(host)
    cluster.start_relay()
    cluster.start_temporal()
    client = await _temporal(cluster)
    for web in WEBS:  # one at a time: the first creates the demo users and migrates the store
        process = cluster.start_web(web)
        wait_for(lambda web=web: _web_up(web), f"web host {web.name}", process)
    api = Api([f"http://{web.address}:{WEB_PORT}" for web in WEBS])
    await api.sign_in()
    phases: list[Phase] = []
    first = 0
    try:
        for count in (1, 2, 3):
            cluster.start_worker(WORKERS[count - 1])
            numbers = list(range(first, first + CASES))
            first += CASES
            phases.append(await _phase(f"{count} worker host(s)", count, api, numbers))
        numbers = list(range(first, first + 2 * CASES))
        phases.append(await _phase("3, then one cut off, one killed", 3, api, numbers,
                                   on_done=_losing_hosts(cluster, len(numbers))))
    finally:
        await api.close()
    outcomes = [o for p in phases for o in p.outcomes]
    from carebudget.store import Store

    store = Store(cluster.database_url)
    print("checking ...", flush=True)
    findings = await check(outcomes, store, client)
    store.close()
    _report(phases, findings)
    return (len(findings.finished) == len(outcomes) and not findings.duplicated
            and findings.ledger_ok and not findings.replay_differs)


async def _phase(name: str, hosts: int, api: Api, numbers: list[int], on_done: object = None) -> Phase:
    print(f"phase: {len(numbers)} cases with {name} ...", flush=True)
    started = time.monotonic()
    outcomes = await drive_cases(api, numbers, SEED, CONCURRENCY, on_done)
    seconds = time.monotonic() - started
    failed = [o for o in outcomes if o.error]
    print(f"  {seconds:.0f} s; {len(failed)} failed" + (f", e.g. {failed[0].error}" if failed else ""),
          flush=True)
    return Phase(name, hosts, outcomes, seconds)


def _losing_hosts(cluster: Cluster, total: int):  # type: ignore[no-untyped-def]
    """A quarter of the way in, cut worker host 1 off; halfway, kill worker host 2."""
    def on_done(count: int) -> None:
        if count == total // 4:
            netns.cut_off(WORKERS[0])
            print(f"  {count}/{total} done: cut {WORKERS[0].name} off (link down)", flush=True)
        if count == total // 2:
            for process in cluster.of(WORKERS[1]):
                process.kill()
            print(f"  {count}/{total} done: killed {WORKERS[1].name}", flush=True)
    return on_done


def _report(phases: list[Phase], findings: Findings) -> None:
    print()
    print(f"{'phase':32} {'hosts':>5} {'cases':>5} {'finished':>8} {'lost':>4} {'dup':>4} "
          f"{'cases/s':>7} {'steps/s':>7}")
    for phase in phases:
        ids = {o.case_id for o in phase.outcomes}
        steps = sum(sum(o.steps.values()) for o in phase.outcomes)
        finished = len(ids & findings.finished)
        print(f"{phase.name:32} {phase.worker_hosts:>5} {len(ids):>5} {finished:>8} "
              f"{len(ids) - finished:>4} {len(ids & set(findings.duplicated)):>4} "
              f"{len(ids) / phase.seconds:>7.2f} {steps / phase.seconds:>7.2f}")
    print(f"hosts: temporal, pg, {len(WORKERS)} workers, {len(WEBS)} web; "
          f"ledger {'verifies' if findings.ledger_ok else 'BROKEN'} ({findings.ledger_rows} rows); "
          f"{findings.decisions} decisions replayed, {len(findings.replay_differs)} differ")
    for cid, why in list(findings.lost.items())[:10]:
        print(f"  lost {cid}: {why}")
    for cid, why in list(findings.duplicated.items())[:10]:
        print(f"  duplicated {cid}: {why}")
