"""The benchmark's WebSocket driver (`bench/rawws.py`, `servers.WsDriver`) never waits for an answer
that cannot come: a close from the server is answered and fails the calls waiting (and every later
one) at once, so does a socket lost without a close, and an upgrade that is not answered gives up
within its deadline and drops the socket. Before, the driver ignored both ends of a connection and the
calls in flight waited forever (a run under callgrind stalled)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Run in a fresh interpreter: the benchmark is a script directory (it puts itself on sys.path).
PROBE = r"""
import asyncio, base64, hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import rawws, servers

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, 1.3


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


# (RFC 6455's own example of a key and its answer: the scripted server answers as a real one does)
assert accept_of(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def upgrade(reader, writer):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    key = [l.split(b":", 1)[1].strip() for l in lines if l.lower().startswith(b"sec-websocket-key")][0]
    accept = accept_of(key)
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: mcp\r\n\r\n")


async def frame(reader):
    # A client frame (masked with the zero key by rawws): its opcode and payload.
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    await reader.readexactly(4)
    return first & 0x0F, await reader.readexactly(length)


def text(payload):
    return bytes((0x81, len(payload))) + payload


async def server(kind, seen):
    async def handle(reader, writer):
        if kind == "silent":  # reads the upgrade, never answers it
            await reader.readuntil(b"\r\n\r\n")
            seen["after"] = (await reader.read()).hex()  # "": the driver dropped the socket
            return
        await upgrade(reader, writer)
        _, payload = await frame(reader)
        rid = json.loads(payload)["id"]
        writer.write(text(json.dumps({"jsonrpc": "2.0", "id": rid, "result": {}}).encode()))
        await frame(reader)  # the second call: never answered
        if kind == "close":
            writer.write(b"\x88\x18\x03\xf3keepalive ping timeout")  # 1011, as a server whose pong is late
            seen["answer"] = list(await frame(reader))
            seen["answer"][1] = seen["answer"][1].hex()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


async def calls(kind):
    seen = {}
    srv, port = await server(kind, seen)
    drv = servers.WsDriver(port, upgrade_timeout=1 if kind == "silent" else 30)
    got = {}
    try:
        await drv.start()
    except TimeoutError:
        got["start"] = "gave up"
        await asyncio.sleep(0.2)  # the server reads the end of the socket
        srv.close()
        return {**got, **seen}
    got["first"] = await drv.request("ping")
    for name in ("second", "third"):
        try:
            got[name] = await asyncio.wait_for(drv.request("ping"), 60)
        except ConnectionError as exc:
            got[name] = f"failed: {exc}"
        except TimeoutError:
            got[name] = "stalled"
    await drv.close()
    srv.close()
    return {**got, **seen}


async def main():
    return {kind: await calls(kind) for kind in sys.argv[2:]}

print(json.dumps(asyncio.run(main())))
"""


def probe(*kinds: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(BENCH), *kinds], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_close_from_the_server_is_answered_and_fails_the_calls_waiting() -> None:
    got = probe("close")["close"]
    assert got["first"] == {}
    assert got["second"] == "failed: the server closed the connection: 1011 keepalive ping timeout"
    assert got["third"] == got["second"]  # a call after the end fails at once
    assert got["answer"] == [8, "03e8"]  # the driver's close, 1000


def test_a_socket_lost_without_a_close_fails_the_calls_waiting() -> None:
    got = probe("drop")["drop"]
    assert got["first"] == {}
    assert got["second"].startswith("failed: the connection was lost")
    assert got["third"] == got["second"]


@pytest.mark.parametrize("kind", ["silent"])
def test_an_upgrade_not_answered_is_given_up_and_its_socket_dropped(kind: str) -> None:
    got = probe(kind)[kind]
    assert got == {"start": "gave up", "after": ""}
