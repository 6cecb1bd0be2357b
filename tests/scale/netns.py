"""The test's own hosts: Linux network namespaces on one bridge, each joined by a veth pair.

Layout: a switch namespace holds a bridge; every host namespace has `eth0` (its address) whose peer
sits on the bridge, so taking the peer down cuts that host off exactly as a pulled cable would.
The test driver reaches the hosts through one more veth from the root namespace. Everything is
named with PREFIX, so a run killed half-way is cleaned up by the next one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass

PREFIX = "cbsc-"
SUBNET = "10.77.0"
SWITCH = f"{PREFIX}switch"
ROOT_LINK = f"{PREFIX}root"  # the driver's end, in the root namespace
DRIVER_ADDRESS = f"{SUBNET}.1"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


@dataclass(frozen=True)
class Host:
    name: str  # short: the namespace is PREFIX + name, the bridge port PREFIX + name + "-p"
    address: str

    @property
    def netns(self) -> str:
        return PREFIX + self.name

    @property
    def port(self) -> str:
        return f"{PREFIX}{self.name}-p"[:15]  # Linux interface names are at most 15 bytes

    def command(self, *argv: str) -> list[str]:
        """`argv` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.netns, *argv]


def create_switch() -> None:
    ip("netns", "add", SWITCH)
    ip("-n", SWITCH, "link", "add", "br0", "type", "bridge")
    ip("-n", SWITCH, "link", "set", "br0", "up")
    ip("link", "add", ROOT_LINK, "type", "veth", "peer", "name", "root-p", "netns", SWITCH)
    ip("-n", SWITCH, "link", "set", "root-p", "master", "br0", "up")
    ip("addr", "add", f"{DRIVER_ADDRESS}/24", "dev", ROOT_LINK)
    ip("link", "set", ROOT_LINK, "up")


def create_host(host: Host) -> None:
    ip("netns", "add", host.netns)
    ip("-n", host.netns, "link", "set", "lo", "up")
    ip("-n", host.netns, "link", "add", "eth0", "type", "veth", "peer", "name", host.port,
       "netns", SWITCH)
    ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
    ip("-n", host.netns, "link", "set", "eth0", "up")
    ip("-n", SWITCH, "link", "set", host.port, "master", "br0", "up")


def cut_off(host: Host) -> None:
    """Link down on the switch side: the host keeps running but can reach no one."""
    ip("-n", SWITCH, "link", "set", host.port, "down")


def our_namespaces() -> list[str]:
    listed = ip("netns", "list", check=False).stdout.split("\n")
    return [line.split()[0] for line in listed if line.startswith(PREFIX)]


def kill_processes_in(netns: str) -> None:
    """Every process still running in one of our namespaces was started by this test."""
    pids = ip("netns", "pids", netns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while ip("netns", "pids", netns, check=False).stdout.split() and time.monotonic() < deadline:
        time.sleep(0.1)


def remove_all() -> list[str]:
    """Remove every namespace and veth with our prefix (this run's, or a killed run's)."""
    removed = our_namespaces()
    for netns in removed:
        kill_processes_in(netns)
    for netns in removed:
        ip("netns", "delete", netns, check=False)  # deletes its veths, and so their peers
    if ip("link", "show", ROOT_LINK, check=False).returncode == 0:
        ip("link", "delete", ROOT_LINK, check=False)
        removed.append(ROOT_LINK)
    return removed
