"""How a stdio server's answers leave it, seen one system call at a time: the server's stdout is one
end of a Unix SOCK_SEQPACKET pair, whose records keep the bounds of each write. Of requests that
arrive in one read, the first is answered at once, alone (the client gets on with it while the server
handles the rest), and the others together, in one write (not one write per answer), unless they are
eight or more (all in one write); a lone request is answered at once, in a write of its own."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
from typing import Any

import pytest

if not hasattr(socket, "SOCK_SEQPACKET"):
    pytest.skip("no SOCK_SEQPACKET sockets here", allow_module_level=True)

SERVER = """
import sys
from mcpbind.server import Server
server = Server("writes")

@server.tool()
def echo(text: str) -> str:
    return text

server.run_stdio(uvloop=sys.argv[1:] != ["asyncio"])
"""
WAIT = 10.0
"""Seconds a write of the server is waited for (its answers come in milliseconds)."""


def call(rid: int, text: str) -> bytes:
    params = {"name": "echo", "arguments": {"text": text}}
    return (
        json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}).encode() + b"\n"
    )


class Server:
    """The server in a subprocess: stdin a pipe, stdout a record socket; `write` is one system call
    of ours, `record` the next system call's bytes of the server's."""

    def __init__(self, loop: str) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.out = ours
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVER, loop], stdin=subprocess.PIPE, stdout=theirs.fileno()
            )
        finally:
            theirs.close()

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def record(self) -> list[dict[str, Any]]:
        ready, _, _ = select.select([self.out], [], [], WAIT)
        assert ready, f"no write from the server within {WAIT} s"
        data = self.out.recv(1 << 20)
        assert data.endswith(b"\n"), data
        return [json.loads(line) for line in data.splitlines()]

    def quiet(self) -> bool:
        """Nothing more was written (within a short while)."""
        return not select.select([self.out], [], [], 0.2)[0]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(WAIT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.out.close()


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_the_first_request_of_a_read_is_answered_alone_the_rest_in_one_write(loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    server = Server(loop)
    try:
        init = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        }
        server.write(
            json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}).encode() + b"\n"
        )
        assert [answer["id"] for answer in server.record()] == [0]
        server.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        # A lone request: its answer at once, alone.
        server.write(call(1, "one"))
        answers = server.record()
        assert [answer["id"] for answer in answers] == [1]
        assert answers[0]["result"]["content"][0]["text"] == "one"
        assert server.quiet()
        # Four requests in one write (one pipe read of the server's): the first answer alone, then the
        # other three in one write.
        server.write(b"".join(call(rid, f"t{rid}") for rid in range(2, 6)))
        first, rest = server.record(), server.record()
        assert [answer["id"] for answer in first] == [2]
        assert [answer["id"] for answer in rest] == [3, 4, 5]
        assert [answer["result"]["content"][0]["text"] for answer in first + rest] == ["t2", "t3", "t4", "t5"]
        assert server.quiet()
        # Eight or more in one read (the client has that many under way already): all in one write.
        server.write(b"".join(call(rid, f"t{rid}") for rid in range(6, 16)))
        answers = server.record()
        assert [answer["id"] for answer in answers] == list(range(6, 16))
        assert [answer["result"]["content"][0]["text"] for answer in answers] == [
            f"t{i}" for i in range(6, 16)
        ]
        assert server.quiet()
        # Seven: the first alone again, then the rest.
        server.write(b"".join(call(rid, f"t{rid}") for rid in range(16, 23)))
        first, rest = server.record(), server.record()
        assert [answer["id"] for answer in first] == [16]
        assert [answer["id"] for answer in rest] == list(range(17, 23))
        assert server.quiet()
        # And a lone request after the burst is still answered at once.
        server.write(call(30, "six"))
        assert [answer["id"] for answer in server.record()] == [30]
    finally:
        server.close()
