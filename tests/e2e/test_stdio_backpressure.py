"""A client that sends requests and does not read the answers: the stdio server stops taking more
instead of buffering answers without bound, and once the client reads, every answer arrives."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SERVER = """
import asyncio, sys
from mcpbind.server import Server
server = Server("echo")

@server.tool()
def echo(text: str) -> str:
    return text

if sys.argv[1] == "uvloop":
    server.run_stdio()  # uvloop, as a server runs by default
else:
    asyncio.run(server.serve_stdio())
"""
REQUESTS = 600
TEXT = "x" * 100_000  # each answer is about 100 kB: 60 MB in all if they were all buffered


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_a_client_that_does_not_read_holds_the_server_back_and_loses_nothing(loop: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, loop],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    init = {
        "jsonrpc": "2.0",
        "id": "init",
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    proc.stdin.write(json.dumps(init).encode() + b"\n")
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["id"] == "init"
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    proc.stdin.flush()
    base = rss_kib(proc.pid)
    lines = [
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": TEXT}},
            }
        ).encode()
        + b"\n"
        for i in range(REQUESTS)
    ]
    sent = threading.Event()

    def send() -> None:  # blocks once the server stops reading: in a thread
        assert proc.stdin is not None
        for line in lines:
            proc.stdin.write(line)
        proc.stdin.flush()
        sent.set()

    writer = threading.Thread(target=send, daemon=True)
    writer.start()
    try:
        # Nothing is read for a while: the server must stop reading rather than answer everything.
        peak = base
        for _ in range(30):
            time.sleep(0.1)
            peak = max(peak, rss_kib(proc.pid))
        assert not sent.is_set(), "the server read every request while its answers were not read"
        assert peak - base < 40_000, f"the server buffered {peak - base} KiB of answers nobody read"
        # Now read: every answer arrives, whole and in any order.
        seen: set[int] = set()
        deadline = time.monotonic() + 120
        while len(seen) < REQUESTS:
            assert time.monotonic() < deadline, f"{len(seen)} of {REQUESTS} answers"
            answer = json.loads(proc.stdout.readline())
            assert answer["result"]["content"][0]["text"] == TEXT
            seen.add(answer["id"])
        assert seen == set(range(REQUESTS))
        writer.join(30)
        assert sent.is_set()
    finally:
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
