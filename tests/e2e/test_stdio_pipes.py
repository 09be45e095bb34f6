"""Large messages over stdio: the pipe a large message crosses is grown (Linux), so that 1 MB goes in
one system call rather than sixteen hand-overs between the processes; a peer that sends only small
messages leaves its pipes as the kernel made them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from mcpbind.client import Client

fcntl = pytest.importorskip("fcntl")
if not hasattr(fcntl, "F_GETPIPE_SZ"):
    pytest.skip("pipe sizes are Linux's", allow_module_level=True)

SERVER = """
import fcntl
from mcpbind.server import Server
server = Server("pipes")

@server.tool()
def text(size: int) -> str:
    return "x" * size

@server.tool()
def stdin_pipe(payload: str) -> int:
    return fcntl.fcntl(0, fcntl.F_GETPIPE_SZ)

server.run_stdio()
"""


def call(proc: subprocess.Popen[bytes], rid: int, size: int) -> dict[str, object]:
    assert proc.stdin is not None and proc.stdout is not None
    params = {"name": "text", "arguments": {"size": size}}
    request = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}
    proc.stdin.write(json.dumps(request).encode() + b"\n")
    proc.stdin.flush()
    answer: dict[str, object] = json.loads(proc.stdout.readline())
    return answer


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
        assert "result" in json.loads(proc.stdout.readline())
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
