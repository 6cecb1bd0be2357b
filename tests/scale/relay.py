"""The PostgreSQL host: a TCP relay inside its namespace to the machine's PostgreSQL on loopback.

Run from the root namespace as `python -m tests.scale.relay NETNS LISTEN_ADDR:PORT`: it moves
itself into NETNS (so `ip netns pids` finds it) and listens there; for each connection it opens a
socket in the root namespace it came from (setns(2) for that one socket) to 127.0.0.1:5432. So the hosts reach the database only over the namespace network, and
cutting the relay host off cuts the database off.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000
UPSTREAM = ("127.0.0.1", int(os.environ.get("CAREBUDGET_SCALE_PG_PORT", "5432")))
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


def upstream_socket(root_ns: int, own_ns: int) -> socket.socket:
    """A socket that belongs to the root namespace (a socket keeps the namespace it was made in)."""
    _setns(root_ns)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    finally:
        _setns(own_ns)
    sock.setblocking(False)
    return sock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(netns: str, host: str, port: int) -> None:
    root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    own_ns = os.open(f"/var/run/netns/{netns}", os.O_RDONLY)
    _setns(own_ns)
    loop = asyncio.get_running_loop()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = upstream_socket(root_ns, own_ns)
        try:
            await loop.sock_connect(sock, UPSTREAM)
        except OSError:
            sock.close()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(sock=sock)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(relay, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    host, port = sys.argv[2].rsplit(":", 1)
    asyncio.run(serve(sys.argv[1], host, int(port)))


if __name__ == "__main__":
    main()
