"""England's caseload on paper, from costs measured on this machine (bench/_step_costs.py).

Care Act 2014 for everyone in England: 858,720 people on long-term support (2023-24), 5,715 new
requests a day, a review every 12 months (s27), and a national rule change re-decided over every
open case. Prints the assumptions and the figures, and writes both to docs/scale.md.
Usage: python -m bench england   (CAREBUDGET_BENCH_QUICK=1 measures fewer cases)
"""

from __future__ import annotations

import asyncio
import math
import os
from datetime import UTC, datetime

from bench._step_costs import Cost, measure, whatif_cpu_per_case
from carebudget.settings import REPO_ROOT

QUICK = os.environ.get("CAREBUDGET_BENCH_QUICK") == "1"
OPEN_CASES = 858_720  # NHS England, Adult Social Care Activity and Finance Report 2023-24
NEW_PER_DAY = 5_715  # same source: about 2.09 million requests for support a year
REVIEW_MONTHS = 12  # s27, CSSG 13.32: reviewed at least every 12 months
WORKING_DAYS = 253  # steps are taken by people: working days, 8 working hours
WORKING_HOURS = 8
PEAK = 3.0  # busiest hour against the working-hour average
TARGET_CPU = 0.5  # run workers and Temporal at half their cores, so one host can be lost
EVENTS_PER_SHARD_S = 50  # history events a second one Temporal history shard takes with room
MIN_SHARDS = 512  # Temporal's advice for production; fixed at cluster creation
WHATIF_HOURS = 4  # a national rule change re-decided over every case within one afternoon


def assumptions() -> list[str]:
    return [
        (f"open cases {OPEN_CASES:,}; new requests {NEW_PER_DAY:,}/day ({NEW_PER_DAY * 365:,}/year), "
         "each taken from intake to an active budget (an upper bound: many end at s13(5) sooner)"),
        f"every open case reviewed every {REVIEW_MONTHS} months ({OPEN_CASES * 12 // REVIEW_MONTHS:,}/year)",
        (f"people take steps on {WORKING_DAYS} working days, {WORKING_HOURS} hours each; the "
         f"busiest hour is {PEAK:g}x the average working hour"),
        (f"workers and Temporal run at {TARGET_CPU:.0%} CPU, and at least two of each, so a host "
         "can be lost; one worker process per core (Python: one core per process)"),
        f"a history shard takes {EVENTS_PER_SHARD_S} events/s with room; at least {MIN_SHARDS} shards",
        ("Temporal CPU is the dev server's (all services in one process, in-memory SQLite): a "
         "PostgreSQL-backed cluster spends more; treat it as a floor"),
        f"what-if: every open case's indicative budget re-decided under both bundles, in {WHATIF_HOURS} h",
    ]


def figures(new: Cost, review: Cost, whatif_s: float) -> list[tuple[str, str]]:
    reviews_per_year = OPEN_CASES * 12 / REVIEW_MONTHS
    per_working_day = (NEW_PER_DAY * 365, reviews_per_year)
    per_peak_s = [n / WORKING_DAYS / (WORKING_HOURS * 3600) * PEAK for n in per_working_day]

    def rate(attr: str) -> float:
        return per_peak_s[0] * getattr(new, attr) + per_peak_s[1] * getattr(review, attr)

    def yearly(attr: str) -> float:
        return per_working_day[0] * getattr(new, attr) + per_working_day[1] * getattr(review, attr)

    worker_cores = rate("worker_cpu_s") / TARGET_CPU
    server_cores = rate("server_cpu_s") / TARGET_CPU
    events_s = rate("history_events")
    shards = 2 ** math.ceil(math.log2(max(MIN_SHARDS, events_s / EVENTS_PER_SHARD_S)))
    whatif_cores = OPEN_CASES * whatif_s / (WHATIF_HOURS * 3600)
    return [
        ("busiest-hour steps/s", f"{rate('steps'):.1f}"),
        ("worker processes (cores)", f"{max(2, math.ceil(worker_cores))} ({worker_cores:.2f} cores of work)"),
        ("Temporal server cores (floor)", f"{max(2, math.ceil(server_cores))} ({server_cores:.2f} cores of work)"),
        ("Temporal history shards", f"{shards:,} (busiest hour {events_s:.0f} events/s)"),
        ("store rows written/s, busiest hour", f"{rate('store_rows'):.0f}"),
        ("store growth per year", f"{yearly('store_bytes') / 1e9:.0f} GB ({yearly('store_rows') / 1e6:.0f} M rows)"),
        ("Temporal history written per year", (f"{yearly('history_bytes') / 1e9:.0f} GB "
                                               f"({yearly('history_events') / 1e6:.0f} M events)")),
        ("national what-if over all open cases", (f"{OPEN_CASES * whatif_s / 3600:.1f} CPU-hours; "
                                                  f"{math.ceil(whatif_cores)} core(s) for {WHATIF_HOURS} h")),
    ]


def measurements(new: Cost, review: Cost, store: str, whatif_s: float) -> list[str]:
    rows = []
    for name, cost in (("new request to active budget", new), ("review (s27)", review)):
        rows.append(
            f"| {name} | {cost.count} | {cost.steps:g} | {cost.worker_cpu_s * 1000:.0f} ms | "
            f"{cost.server_cpu_s * 1000:.0f} ms | {cost.store_rows:.1f} | {cost.store_bytes / 1024:.1f} KiB | "
            f"{cost.history_events:.0f} | {cost.history_bytes / 1024:.1f} KiB |")
    return [
        f"Store: {store}. What-if: {whatif_s * 1e6:.0f} µs CPU per case.",
        "",
        "| unit | cases | steps | worker CPU | Temporal CPU | store rows | store bytes | history events | history bytes |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def write_doc(assumed: list[str], measured: list[str], figured: list[tuple[str, str]]) -> None:
    mode = "quick (CAREBUDGET_BENCH_QUICK=1)" if QUICK else "full"
    lines = [
        "# England on paper (issue 16)", "",
        (f"Written by `python -m bench england` ({mode} run, {datetime.now(UTC):%Y-%m-%d}); re-run "
         "it to refresh. Measured on the development machine (2 shared cores), so the figures are "
         "the order of magnitude, not a purchase order."), "",
        "## Measured cost per unit (bench/_step_costs.py)", "", *measured, "",
        "## Assumptions", "", *[f"- {a}" for a in assumed], "",
        "## What England needs", "", "| | |", "|---|---|", *[f"| {k} | {v} |" for k, v in figured], "",
        ("The ledger is one chain per database today: every write takes one advisory lock, so a "
         "national store would serialise every council's writes behind it (issue 16 point 2 "
         "shards it per council). `make scale-test` showed the other side of that lock: a host "
         "lost mid-transaction holds it until PostgreSQL ends the session "
         "(idle_in_transaction_session_timeout, docs/deploy.md)."), "",
    ]
    (REPO_ROOT / "docs/scale.md").write_text("\n".join(lines))


def main() -> None:
    count = 6 if QUICK else 30
    new, review, store = asyncio.run(measure(count))
    whatif_s = whatif_cpu_per_case(500 if QUICK else 5_000)
    assumed, measured, figured = assumptions(), measurements(new, review, store, whatif_s), figures(
        new, review, whatif_s)
    print("measured on this machine:")
    print("\n".join(f"  {line}" for line in measured))
    print("assumptions:")
    print("\n".join(f"  - {a}" for a in assumed))
    print("England needs:")
    for key, value in figured:
        print(f"  {key:40} {value}")
    write_doc(assumed, measured, figured)
    print("written to docs/scale.md")
