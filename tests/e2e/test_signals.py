"""`run_stdio`, `run_websocket` and `run_http` stop alike on SIGINT and SIGTERM, also when the process
was started with SIGINT ignored (as a Unix shell's background job's children are): before, the first
two kept ignoring SIGINT then, and SIGTERM killed them with nothing ended (no lifespan exit). Each is a
real process; every wait is bounded. Status: 130 after SIGINT, 0 after SIGTERM (`run_http`: 0 after
either, uvicorn's); stdin's end ends `run_stdio` with 0."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from ..http_support import initialize

SCRIPT = """
import contextlib, sys
from mcpbind.server import Server

@contextlib.asynccontextmanager
async def lifespan(server):
    print("lifespan entered", file=sys.stderr, flush=True)
    try:
        yield None
    finally:
        print("lifespan ended", file=sys.stderr, flush=True)

server = Server("signals", "1.0.0", lifespan=lifespan)

@server.tool()
def echo(text: str) -> str:
    return text

how, port = sys.argv[1], int(sys.argv[2])
if how == "stdio":
    server.run_stdio()
elif how == "websocket":
    server.run_websocket(port=port)
else:
    server.run_http(port=port, log_level="warning")
print("returned", file=sys.stderr, flush=True)
"""
WAIT = 30


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(how: str, port: int, ignored: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, how, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ignoring_sigint if ignored else None,
    )


def _serving(how: str, port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until `process` serves: its answer to `initialize` (stdio), or its port listening."""
    assert process.stdin is not None and process.stdout is not None
    if how == "stdio":
        process.stdin.write(json.dumps(initialize("2025-11-25", rid=0)).encode() + b"\n")
        process.stdin.flush()
        assert b'"result"' in process.stdout.readline()
        return
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate(timeout=WAIT)[1].decode()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{how} did not listen")


def _ended(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Its status and stderr, once it ended (killed past the bound: the test fails)."""
    assert process.stderr is not None
    try:
        process.wait(WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    return process.returncode, process.stderr.read().decode()


@pytest.mark.parametrize("ignored", [True, False], ids=["sigint-ignored", "sigint-default"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("how", ["stdio", "websocket", "http"])
def test_a_server_stops_on_sigint_and_sigterm_whatever_it_inherited(
    how: str, signum: signal.Signals, ignored: bool
) -> None:
    port = _port()
    process = _start(how, port, ignored)
    try:
        _serving(how, port, process)
        process.send_signal(signum)
    finally:
        status, err = _ended(process)
    if how == "http":
        assert status == 0, err
    else:
        assert status == (130 if signum == signal.SIGINT else 0), err
        assert "returned" not in err  # (ended by the signal, not by serving's end)
    assert "Traceback" not in err, err
    if how != "websocket":  # (a WebSocket server's lifespan is its connections': none was opened)
        assert "lifespan ended" in err, err


def test_stdins_end_ends_a_stdio_server_with_status_0() -> None:
    process = _start("stdio", 0, ignored=True)
    try:
        _serving("stdio", 0, process)
        assert process.stdin is not None
        process.stdin.close()
    finally:
        status, err = _ended(process)
    assert status == 0, err
    assert "lifespan ended" in err and "returned" in err and "Traceback" not in err, err
