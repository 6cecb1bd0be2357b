"""What-if on every core: batches of cases decided in worker processes, each holding its bundles.

The pool is started with `spawn`, never `fork`: the web and Temporal worker processes hold threads
and the rules engine's lock, which a forked child would inherit mid-use. The pool lives for the
life of the process, so its workers' start-up (imports, compiling each stage in their own
durable_rules engine) is paid once, not per run. The libraries go to the workers as pickled
content (a library holds no engine handles) and each worker keeps the few it was sent last,
keyed by the content's hash. A worker that dies (the engine crashing on a candidate, say) fails
this run with the reason and the pool is replaced for the next; the calling process is untouched.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any

from carebudget.policy.whatif import CaseChange, decide_cases
from carebudget.rulebook.library import Library

POOL_FROM_CASES = 2_000  # below this, starting or waking processes costs more than it saves
BATCH = 500  # most cases per task: small enough for a smooth progress bar, large enough to amortise IPC
SMALLEST_BATCH = 50  # a smaller caseload goes in batches of about a twentieth, for its progress bar
_KEPT = 4  # libraries a worker keeps (the current rules and a few candidates)
MAX_BATCHES_PER_WORKER = 400  # about four what-if runs of 100,000 cases on two cores

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_libraries: dict[str, Library] = {}  # in a worker: libraries by content hash
_bundles: dict[tuple[str, str, str], dict[tuple[int, date], Any]] = {}  # in a worker, per run's libraries


class WhatIfFailed(RuntimeError):
    """A worker process died while deciding the caseload."""


def pool_size(cases: int, pool_from: int = POOL_FROM_CASES) -> int:
    if cases < pool_from:
        return 1
    return max(1, min(os.cpu_count() or 1, 8, -(-cases // batch_size(cases))))


def batch_size(cases: int) -> int:
    """Cases per task: BATCH, or about a twentieth of a smaller caseload (never under SMALLEST_BATCH)."""
    return max(SMALLEST_BATCH, min(BATCH, -(-cases // 20)))


def _exit_with_parent(parent: int) -> None:
    """In a worker: end when the process that started the pool has gone. Workers were seen
    outliving their parent (a test process that started the pool from a background thread), each
    holding its compiled bundles; the pool's own shutdown at exit does not always reach them."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _executor(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            # A worker is replaced after a while: the engine can never unregister a ruleset, so
            # each candidate's compiled stages stay in a worker's memory for its life.
            _pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"),
                                        max_tasks_per_child=MAX_BATCHES_PER_WORKER,
                                        initializer=_exit_with_parent, initargs=(os.getpid(),))
            _pool_size = size
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def _library(key: str, blob: bytes) -> Library:
    library = _libraries.get(key)
    if library is None:
        library = pickle.loads(blob)  # our own parent's pickle, over the pool's own pipe
        while len(_libraries) >= _KEPT:
            _libraries.pop(next(iter(_libraries)))
        _libraries[key] = library
    return library


def _decide_batch(libraries: tuple[tuple[str, bytes], tuple[str, bytes]], council: str,
                  cases: list[dict[str, Any]], on_default: date, first_index: int) -> list[CaseChange]:
    current, candidate = (_library(key, blob) for key, blob in libraries)
    # A bundle is made (hashed, its stages compiled) once per worker, not once per batch.
    key = (libraries[0][0], libraries[1][0], council)
    bundles = _bundles.get(key)
    if bundles is None:
        while len(_bundles) >= _KEPT:
            _bundles.pop(next(iter(_bundles)))
        bundles = _bundles[key] = {}
    return decide_cases(current, candidate, council, cases, on_default, first_index, bundles=bundles)


def _packed(library: Library) -> tuple[str, bytes]:
    blob = pickle.dumps(library, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(blob).hexdigest(), blob


def decide_in_pool(
    current: Library, candidate: Library, council: str, cases: list[dict[str, Any]], on_default: date,
    workers: int, progress: Callable[[int], None] | None = None,
) -> list[CaseChange]:
    """The same changes as `decide_cases` over the whole caseload, in case order."""
    libraries = (_packed(current), _packed(candidate))
    pool = _executor(workers)
    batch = batch_size(len(cases))
    starts = range(0, len(cases), batch)
    try:
        futures = {pool.submit(_decide_batch, libraries, council, cases[s:s + batch], on_default, s): s
                   for s in starts}
        done: dict[int, list[CaseChange]] = {}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if progress:
                progress(len(done[futures[future]]))
    except BrokenProcessPool as exc:
        _discard(pool)
        raise WhatIfFailed("a what-if worker process stopped unexpectedly; nothing was decided") from exc
    return [change for s in starts for change in done[s]]


# --- the batch path: full decisions of any kind, records back as one JSON text per batch --------

RECORDS_BATCH = 1_000  # cases per task: the records of one batch come back as one JSON text


def _decide_records(library: tuple[str, bytes], council: str, kind: str, cases: list[dict[str, Any]],
                    on_default: date) -> bytes:
    """One batch decided in a worker: a JSON list (UTF-8) with, per case, its record or its
    refusal. One bytes object crosses the pipe (a memory copy to unpickle) rather than thousands
    of dicts. Written by pydantic's serializer (Rust): a record is about 6.5 KB of small strings,
    dicts and lists, which the json module took 32-49 us to write and pydantic_core.to_json 12 us.
    Parsed, the two are the same records. Each record is written as soon as it is made, so a
    batch never holds a thousand records' dicts at once: the cyclic garbage collector, which
    walks every live container, then costs far less."""
    from pydantic_core import to_json

    from carebudget.decisions.contract import DecisionError, decide_with_bundle

    chosen = _library(*library)
    bundles = _bundles.setdefault((library[0], library[0], council), {})
    out: list[bytes] = []
    for case in cases:
        on = date.fromisoformat(case["date"]) if case.get("date") else on_default
        bundle = bundles.get((0, on))
        if bundle is None:
            bundle = bundles[(0, on)] = chosen.bundle(council, on)
        try:
            out.append(to_json(decide_with_bundle(kind, bundle, on, case["input"])))
        except DecisionError as exc:
            out.append(to_json({"refused": exc.to_json()}))
    return b"[" + b",".join(out) + b"]"


def decide_records_in_pool(
    library: Library, council: str, kind: str, cases: list[dict[str, Any]], on_default: date, workers: int,
    progress: Callable[[int], None] | None = None,
) -> list[bytes]:
    """Every case decided as `decide_with_bundle` would, in the pool: one JSON text (UTF-8 bytes,
    for `json.loads`) per batch of RECORDS_BATCH cases, in case order (a list of records, or
    {"refused": ...} for a refusal)."""
    packed = _packed(library)
    pool = _executor(workers)
    starts = range(0, len(cases), RECORDS_BATCH)
    try:
        futures = {pool.submit(_decide_records, packed, council, kind, cases[s:s + RECORDS_BATCH], on_default): s
                   for s in starts}
        done: dict[int, bytes] = {}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if progress:
                progress(min(RECORDS_BATCH, len(cases) - futures[future]))
    except BrokenProcessPool as exc:
        _discard(pool)
        raise WhatIfFailed("a worker process stopped unexpectedly; nothing was decided") from exc
    return [done[s] for s in starts]
