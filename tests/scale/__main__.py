"""`make scale-test`: carebudget across several hosts (network namespaces), with hosts lost mid-run.

Hosts: Temporal, PostgreSQL (a relay to the machine's server, with a database of the run's own),
three worker hosts, two web hosts. Cases go through every stage from the web API with 1, 2 and 3
worker hosts (throughput reported, not asserted), then once more while one worker host is cut off
(link down) and later another is killed. Exit 0 only if every case finished, none twice, the
ledger verifies and every decision replays identically. Everything made is removed at the end,
and whatever a killed earlier run left (by name prefix) at the start.

CAREBUDGET_SCALE_CASES sets the cases per throughput phase (the failure phase runs twice as many).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.scale import netns
from tests.scale.hosts import WEB_PORT, Cluster, create_database, drop_databases
from tests.scale.run import run


def main() -> int:
    if os.geteuid() != 0:
        print("make scale-test needs root (network namespaces)", file=sys.stderr)
        return 2
    old_dirs = list(Path(tempfile.gettempdir()).glob(f"{netns.PREFIX}*/"))
    for old in old_dirs:
        shutil.rmtree(old, ignore_errors=True)
    leftovers = netns.remove_all() + drop_databases() + [str(d) for d in old_dirs]
    if leftovers:
        print(f"removed a previous run's leftovers: {', '.join(leftovers)}")
    workdir = Path(tempfile.mkdtemp(prefix=netns.PREFIX))
    cluster = Cluster(workdir, temporal=netns.Host("temporal", f"{netns.SUBNET}.2"),
                      postgres=netns.Host("pg", f"{netns.SUBNET}.3"))
    started = time.monotonic()
    ok = False
    try:
        netns.create_switch()
        create_database(cluster.database)
        ok = asyncio.run(run(cluster))
    finally:
        cluster.stop_all()
        if not ok:
            for process in cluster.processes:
                print(f"--- {process.host.name} {process.role} (exit {process.popen.returncode})")
                print(process.tail())
        removed = netns.remove_all()
        dropped = drop_databases()
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"cleaned up: namespaces {', '.join(removed)}; databases {', '.join(dropped)}; "
              f"{workdir}")
        print(f"scale test took {time.monotonic() - started:.0f} s (web port {WEB_PORT})")
    sys.stdout.flush()
    # The Temporal SDK can crash at interpreter exit after success (sdk-python #300).
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
