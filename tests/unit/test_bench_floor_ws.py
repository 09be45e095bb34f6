"""The WebSocket floor (`bench/apps/floor_ws.py`) answers a real client: the `websockets` client's
upgrade (subprotocol `mcp`), a text frame in and its answer out, a message in fragments, a ping, and
the close; the benchmark's own driver (`servers.WsDriver`) too. It ends on SIGINT, even when started
with SIGINT ignored (as a background job's children are); and `http_callgrind.py` starts every server
with SIGINT at its default, so that `run_websocket` (which keeps an inherited ignore) stops on it too."""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("websockets")
pytest.importorskip("uvloop")

BENCH = Path(__file__).resolve().parents[2] / "bench"

PROBE = r"""
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import servers
from websockets.asyncio.client import connect

async def main(port):
    got = {}
    async with connect(f"ws://127.0.0.1:{port}/mcp", subprotocols=["mcp"], compression=None) as ws:
        got["subprotocol"] = ws.subprotocol
        call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "h\u00e9llo"}}}
        await ws.send(json.dumps(call))
        got["answer"] = json.loads(await ws.recv())
        text = json.dumps({"jsonrpc": "2.0", "id": "p", "method": "ping"})
        await ws.send([text[:10], text[10:20], text[20:]])  # one message in three frames
        got["fragmented"] = json.loads(await ws.recv())
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        pong = await ws.ping(b"hi")
        await asyncio.wait_for(pong, 10)
        got["pong"] = True
    got["close"] = [ws.close_code, ws.protocol.close_rcvd is not None]
    drv = servers.WsDriver(port)
    await drv.start()
    await drv.initialize()
    got["driver"] = await drv.request("tools/call", {"name": "echo", "arguments": {"text": "x"}})
    await drv.close()
    print(json.dumps(got))

asyncio.run(main(int(sys.argv[2])))
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _listening(port: int, proc: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("the floor did not listen")


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_the_floor_answers_a_real_client_and_ends_on_sigint_ignored_or_not() -> None:
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "apps" / "floor_ws.py"), str(port)],
        stderr=subprocess.PIPE,
        preexec_fn=_ignoring_sigint,  # (as started by a script run in the background)
    )
    try:
        _listening(port, proc)
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(BENCH), str(port)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        got: dict[str, Any] = json.loads(done.stdout)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert got["subprotocol"] == "mcp"
    text = {"content": [{"type": "text", "text": "h\u00e9llo"}], "isError": False}
    assert got["answer"] == {"jsonrpc": "2.0", "id": 7, "result": text}
    assert got["fragmented"] == {"jsonrpc": "2.0", "id": "p", "result": {}}
    assert got["pong"] is True
    assert got["close"] == [1000, True]
    assert got["driver"]["content"][0]["text"] == "x"


def test_a_frame_that_breaks_the_protocol_ends_the_connection_with_its_code() -> None:
    port = _port()
    proc = subprocess.Popen([sys.executable, str(BENCH / "apps" / "floor_ws.py"), str(port)])
    try:
        _listening(port, proc)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(
                b"GET /mcp HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Protocol: mcp\r\n\r\n"
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            assert head.startswith(b"HTTP/1.1 101")
            assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head  # RFC 6455's example
            s.sendall(b"\x81\x02{}")  # unmasked: a client's frame must be masked
            rest = head.split(b"\r\n\r\n", 1)[1]
            while len(rest) < 4:
                chunk = s.recv(4096)
                assert chunk
                rest += chunk
            assert rest[:4] == b"\x88\x02\x03\xea"  # close, 1002
            assert s.recv(4096) == b""  # then the end of the socket
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_http_callgrind_starts_its_servers_with_sigint_at_its_default() -> None:
    spec = importlib.util.spec_from_file_location(
        "mcpbind_bench_http_callgrind_sig", BENCH / "http_callgrind.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    show = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"

    def both() -> None:  # a parent ignoring SIGINT, then the harness's own reset before the exec
        _ignoring_sigint()
        module.sigint_default()

    ignored = subprocess.run(
        [sys.executable, "-c", show], preexec_fn=_ignoring_sigint, capture_output=True, text=True
    )
    reset = subprocess.run([sys.executable, "-c", show], preexec_fn=both, capture_output=True, text=True)
    assert ignored.stdout.strip() == "False"  # (what the servers inherited before)
    assert reset.stdout.strip() == "True"
