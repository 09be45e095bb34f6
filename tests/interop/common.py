"""Shared by the interop tests: paths, a bounded event loop run, schema checks of recorded frames, and
HTTP servers in their own processes (with what went over HTTP, for the Streamable HTTP tests)."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..schema_check import Checker

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
MCPBIND_SERVER = str(TESTS / "servers" / "full.py")
SDK_SERVER = str(HERE / "sdk_server.py")
RELAY = str(HERE / "relay.py")

#: Bounds every test: one connection, a handful of requests.
TEST_TIMEOUT = 60.0


def run(coro: Awaitable[Any], timeout: float = TEST_TIMEOUT) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def is_call(message: Any) -> bool:
    return isinstance(message, dict) and "method" in message


def validate(
    messages: Iterable[tuple[str, dict[str, Any]]], revision: str, *, skip_probe: bool = False
) -> int:
    """Check `(sender, message)` pairs against `revision`'s schema; returns how many were checked.

    Requests and notifications go first so that every answer finds the request it answers.
    `skip_probe` leaves out `server/discover` requests and their answers (a stateless-era probe
    sent before the client learnt that the server only initializes)."""
    pairs = list(messages)
    if skip_probe:
        probes = {(s, m.get("id")) for s, m in pairs if is_call(m) and m["method"] == "server/discover"}
        answered = {("server" if s == "client" else "client", i) for s, i in probes}
        pairs = [
            (s, m)
            for s, m in pairs
            if not ((s, m.get("id")) in probes and is_call(m))
            and not ((s, m.get("id")) in answered and not is_call(m))
        ]
    checker = Checker(revision)
    for sender, message in [p for p in pairs if is_call(p[1])] + [p for p in pairs if not is_call(p[1])]:
        checker.check(sender, json.dumps(message).encode())
    return checker.checked


class RelayLog:
    """What `relay.py` wrote: the frames each way, and the relay's and the server's process ids."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def frames(self) -> list[tuple[str, dict[str, Any]]]:
        return [(e["from"], json.loads(e["frame"])) for e in self.entries() if "from" in e]

    def pids(self) -> list[int]:
        head = next(e for e in self.entries() if "relay" in e)
        return [int(head["relay"]), int(head["child"])]

    def methods(self, sender: str) -> list[str]:
        return [m["method"] for s, m in self.frames() if s == sender and is_call(m)]


def process_gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie waiting to be reaped counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def children() -> list[int]:
    """The live (not zombie) child processes of this test process."""
    me, found = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def wait_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Waits (bounded) for the processes to exit; returns those still running."""
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if not process_gone(p)]
        if left:
            time.sleep(0.05)
    return left


# -- Streamable HTTP -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HttpServer:
    """`python SCRIPT ARGS... --http PORT` on a free loopback port, its output in a log file."""

    def __init__(self, script: str, args: tuple[str, ...], log_dir: Path) -> None:
        self.script, self.args = script, args
        self.port = free_port()
        self.log_path = log_dir / f"{Path(script).stem}-{self.port}.log"
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, timeout: float = 20.0) -> HttpServer:
        self._log = open(self.log_path, "wb")
        # MCPBIND_HTTP_SERVER_ARGS: e.g. "--workers 2 --redis redis://127.0.0.1:6379/0", to run the legs
        # against a scaled-out mcpbind server (the SDK's servers are left as they are).
        scaled = os.environ.get("MCPBIND_HTTP_SERVER_ARGS", "") if self.script == MCPBIND_SERVER else ""
        extra = shlex.split(scaled)
        command = [sys.executable, self.script, *self.args, *extra, "--http", str(self.port)]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{command} exited with {self.process.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"{command} did not listen within {timeout} s:\n{self.log()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> bool:
        """SIGTERM, a bounded wait, then SIGKILL; True when SIGTERM alone was enough."""
        clean = True
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                clean = False
                self.process.kill()
                self.process.wait(5.0)
        if self._log is not None:
            self._log.close()
            self._log = None
        return clean


class ServerPool:
    """HTTP servers shared by the tests of a module, one per (script, args); `close()` stops them all."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.servers: dict[tuple[str, tuple[str, ...]], HttpServer] = {}

    def get(self, script: str, *args: str) -> HttpServer:
        key = (script, args)
        server = self.servers.get(key)
        if server is None or not server.alive():
            server = self.servers[key] = HttpServer(script, args, self.log_dir).start()
        return server

    def close(self) -> list[str]:
        """Stops every server; returns those that needed SIGKILL."""
        return [f"{s.script} {' '.join(s.args)}" for s in self.servers.values() if not s.stop()]


def sse_data(body: bytes) -> list[str]:
    """The data of each complete event of an SSE body (events without data, such as primers, left out)."""
    events: list[str] = []
    data: list[str] = []
    text = body.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    for line in text.split("\n"):
        if not line:
            if data and any(data):
                events.append("\n".join(data))
            data = []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            if name == "data":
                data.append(value[1:] if value.startswith(" ") else value)
    return events


@dataclass
class Exchange:
    """One HTTP request and its response, as seen by the client: headers lower-cased, the response body
    as far as the client read it."""

    method: str
    request_headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";")[0].strip()

    def client_messages(self) -> list[dict[str, Any]]:
        if self.method != "POST" or not self.body:
            return []
        value = json.loads(self.body)
        return value if isinstance(value, list) else [value]

    def server_messages(self) -> list[dict[str, Any]]:
        body = b"".join(self.chunks)
        if self.content_type == "text/event-stream":
            values = [json.loads(data) for data in sse_data(body)]
        elif self.content_type == "application/json" and body:
            values = [json.loads(body)]
        else:
            return []
        return [m for v in values for m in (v if isinstance(v, list) else [v])]

    def calls(self, method: str, name: str | None = None) -> bool:
        """Whether this is the POST of a `method` request (about `name`)."""
        return any(
            m.get("method") == method
            and "id" in m
            and (name is None or (m.get("params") or {}).get("name") == name)
            for m in self.client_messages()
        )


def http_frames(exchanges: Iterable[Exchange]) -> list[tuple[str, dict[str, Any]]]:
    """Every JSON-RPC message that went over HTTP: `(sender, message)` pairs for `validate()`."""
    frames: list[tuple[str, dict[str, Any]]] = []
    for exchange in exchanges:
        frames += [("client", m) for m in exchange.client_messages()]
        frames += [("server", m) for m in exchange.server_messages()]
    return frames


def check_http_headers(exchanges: list[Exchange], revision: str, modern: bool) -> None:
    """The headers each era needs: 2026-07-28 requests name their revision and method and carry no
    session; a stateful session's id is set by `initialize` and sent, with the revision, on everything
    after it."""
    assert exchanges, "nothing went over HTTP"
    if modern:
        for e in exchanges:
            assert "mcp-session-id" not in e.request_headers and "mcp-session-id" not in e.response_headers
            for m in e.client_messages():
                assert e.request_headers.get("mcp-protocol-version") == revision, (e.request_headers, m)
                if "method" in m:
                    assert e.request_headers.get("mcp-method") == m["method"], (e.request_headers, m)
        return
    start = next(i for i, e in enumerate(exchanges) if e.calls("initialize"))
    session = exchanges[start].response_headers.get("mcp-session-id")
    assert session, "initialize must open a session"
    for e in exchanges[start + 1 :]:
        assert e.request_headers.get("mcp-session-id") == session, (e.method, e.request_headers)
        # MCP-Protocol-Version exists from 2025-06-18 on; earlier clients may leave it out.
        version = e.request_headers.get("mcp-protocol-version")
        if version is not None or revision >= "2025-06-18":
            assert version == revision, (e.method, e.request_headers)
