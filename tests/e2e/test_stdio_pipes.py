"""Large messages over stdio: the pipe a large message crosses is grown (Linux), so that 1 MB goes in
one system call rather than sixteen hand-overs between the processes (a Unix socket pair, what a
client on libuv gives its child, has its send buffer grown instead: five hand-overs before); a peer
that sends only small messages leaves its pipes as the kernel made them. Messages of 4 MB, text that
needs escaping and text that is not ASCII, arrive whole either way."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import subprocess
import sys
from typing import IO, Any

import pytest

from mcpbind.client import Client

fcntl = pytest.importorskip("fcntl")
if not hasattr(fcntl, "F_GETPIPE_SZ"):
    pytest.skip("pipe sizes are Linux's", allow_module_level=True)

PIECE = 'ab"c\\d\n\té€😀\x01'
"""Characters a JSON text escapes, and characters UTF-8 encodes in two, three and four bytes."""

SERVER = """
import fcntl
import hashlib
import sys
from mcpbind.server import Server
server = Server("pipes")

@server.tool()
def text(size: int) -> str:
    return "x" * size

@server.tool()
def stdin_pipe(payload: str) -> int:
    return fcntl.fcntl(0, fcntl.F_GETPIPE_SZ)

@server.tool()
def mixed(size: int) -> str:
    return (PIECE * (size // len(PIECE) + 1))[:size]

@server.tool()
def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()

server.run_stdio(uvloop=sys.argv[1:] != ["asyncio"])
""".replace("PIECE", repr(PIECE))
FOUR_MB = 4 * 1024 * 1024


def mixed(size: int) -> str:
    """What the server's `mixed` tool answers."""
    return (PIECE * (size // len(PIECE) + 1))[:size]


def call(
    proc: subprocess.Popen[bytes], rid: int, size: int, stdout: IO[bytes] | None = None
) -> dict[str, object]:
    assert proc.stdin is not None
    params = {"name": "text", "arguments": {"size": size}}
    request = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}
    proc.stdin.write(json.dumps(request).encode() + b"\n")
    proc.stdin.flush()
    stdout = stdout or proc.stdout
    assert stdout is not None
    answer: dict[str, object] = json.loads(stdout.readline())
    return answer


def initialized(proc: subprocess.Popen[bytes], stdout: IO[bytes] | None = None) -> None:
    assert proc.stdin is not None
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    proc.stdin.write(
        json.dumps(init).encode() + b"\n{" + b'"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    )
    proc.stdin.flush()
    stdout = stdout or proc.stdout
    assert stdout is not None
    assert "result" in json.loads(stdout.readline())


def test_the_server_grows_its_stdout_pipe_for_a_large_answer_only() -> None:
    from mcpbind.transports.stdio import PIPE_SIZE

    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        initialized(proc)
        default = fcntl.fcntl(proc.stdout.fileno(), fcntl.F_GETPIPE_SZ)
        for rid in range(1, 20):
            assert "result" in call(proc, rid, 1000)
        assert fcntl.fcntl(proc.stdout.fileno(), fcntl.F_GETPIPE_SZ) == default  # small answers: as it was
        answer = call(proc, 20, 1_000_000)
        assert len(json.dumps(answer)) > 1_000_000
        assert fcntl.fcntl(proc.stdout.fileno(), fcntl.F_GETPIPE_SZ) == max(PIPE_SIZE, default)
        assert "result" in call(proc, 21, 10)  # and it goes on answering
    finally:
        proc.stdin.close()
        proc.wait(30)


def test_the_client_grows_the_servers_stdin_pipe_for_a_large_request_only() -> None:
    from mcpbind.transports.stdio import PIPE_SIZE

    async def main() -> None:
        async with Client.stdio(sys.executable, ["-c", SERVER], stderr="devnull") as client:
            small = await client.call_tool("stdin_pipe", {"payload": "x"})
            large = await client.call_tool("stdin_pipe", {"payload": "x" * 200_000})
            assert small.structured_content is not None and large.structured_content is not None
            default = small.structured_content["result"]
            assert default < PIPE_SIZE
            assert large.structured_content["result"] == PIPE_SIZE

    asyncio.run(asyncio.wait_for(main(), 60))


def test_the_server_grows_its_stdout_sockets_send_buffer_for_a_large_answer_only() -> None:
    """A client on libuv (Node, uvloop) gives its server one end of a Unix socket pair as stdout: its
    send buffer is what a large answer waits in (208 KiB by default, so five writes for 1 MB)."""
    from mcpbind.transports.stdio import PIPE_SIZE

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with ours, theirs, ours.makefile("rb") as lines:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=theirs, stderr=subprocess.DEVNULL
        )
        assert proc.stdin is not None
        # (`theirs` stays open here only to read the server's end's option: the same socket)
        try:
            initialized(proc, lines)
            default = theirs.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            for rid in range(1, 20):
                assert "result" in call(proc, rid, 1000, lines)
            assert theirs.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == default  # small answers
            answer = call(proc, 20, 1_000_000, lines)
            assert len(json.dumps(answer)) > 1_000_000
            with open("/proc/sys/net/core/wmem_max") as f:
                cap = int(f.read())
            # The kernel doubles what it is asked for (its bookkeeping), up to twice `wmem_max`.
            assert theirs.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == max(
                2 * min(PIPE_SIZE, cap), default
            )
            assert "result" in call(proc, 21, 10, lines)  # and it goes on answering
        finally:
            proc.stdin.close()
            proc.wait(30)


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_a_4mb_result_and_a_4mb_request_arrive_whole(loop: str) -> None:
    """Over real pipes (and, on uvloop, the client's end of a socket pair for the server's stdin), both
    ways: text that escapes and encodes to several bytes, byte for byte."""
    if loop == "uvloop":
        uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        async with Client.stdio(sys.executable, ["-c", SERVER, loop], stderr="devnull") as client:
            result = await client.call_tool("mixed", {"size": FOUR_MB})
            assert result.content[0].text == mixed(FOUR_MB)
            payload = mixed(FOUR_MB)[::-1]
            answer = await client.call_tool("digest", {"payload": payload})
            assert answer.content[0].text == hashlib.sha256(payload.encode()).hexdigest()
            assert (await client.call_tool("text", {"size": 3})).content[0].text == "xxx"

    if loop == "uvloop":
        uvloop.run(asyncio.wait_for(main(), 120))
    else:
        asyncio.run(asyncio.wait_for(main(), 120))


def test_on_uvloop_the_client_grows_its_socket_to_the_servers_stdin_for_a_large_request_only() -> None:
    """uvloop gives the server one end of a Unix socket pair as stdin: the client's end's send buffer
    is what a large request waits in."""
    from mcpbind.transports.stdio import PIPE_SIZE

    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        async with Client.stdio(sys.executable, ["-c", SERVER], stderr="devnull") as client:
            transport: Any = client.transport
            end = transport.process.stdin.transport.get_extra_info("socket")
            assert end is not None
            await client.call_tool("digest", {"payload": "x"})
            default = end.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            await client.call_tool("digest", {"payload": "x" * 200_000})
            with open("/proc/sys/net/core/wmem_max") as f:
                cap = int(f.read())
            assert end.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == max(
                2 * min(PIPE_SIZE, cap), default
            )

    uvloop.run(asyncio.wait_for(main(), 60))
