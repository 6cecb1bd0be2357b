"""A checked policy change's what-if, run in the background while its page shows the progress.

The upload returns once the change is checked; the caseload is then decided (in the process
pool for a large one) on a thread of the web process, which counts the cases done. The change's
page polls `/policy/changes/{id}/whatif` (a static script: the CSP allows no inline script) and
shows the figures when the run is saved with the change. A run lost with its process (a restart)
is started again by the next look at the change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from carebudget.policy import changes as policy_changes


@dataclass
class Progress:
    state: str = "reading"  # reading the caseload, deciding, done or failed
    done: int = 0
    total: int = 0
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "done": self.done, "total": self.total, "message": self.message}


_runs: dict[str, Progress] = {}
_lock = threading.Lock()


def status(change_id: str) -> Progress | None:
    with _lock:
        return _runs.get(change_id)


def start(settings: Any, store: Any, change_id: str, retry_failed: bool = False) -> Progress:
    """The change's what-if run, started unless one is already under way or finished here (or
    failed here, unless `retry_failed`: looking at the page again tries again; polling does not)."""
    with _lock:
        found = _runs.get(change_id)
        if found is not None and (found.state != "failed" or not retry_failed):
            return found
        progress = _runs[change_id] = Progress()
    threading.Thread(target=_run, args=(settings, store, change_id, progress),
                     name=f"whatif-{change_id}", daemon=True).start()
    return progress


def _run(settings: Any, store: Any, change_id: str, progress: Progress) -> None:
    def started(total: int) -> None:
        with _lock:
            progress.total, progress.state = total, "deciding"

    def advanced(done: int) -> None:
        with _lock:
            progress.done += done

    try:
        policy_changes.complete_whatif(settings, store, change_id, started, advanced)
    except Exception as exc:  # noqa: BLE001 - shown on the page in plain words, never lost in a thread
        with _lock:
            progress.state = "failed"
            progress.message = f"The what-if could not be completed: {exc}"
        return
    with _lock:
        progress.state, progress.done = "done", progress.total
