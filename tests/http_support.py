"""Helpers for the Streamable HTTP tests: a server in a subprocess, raw HTTP, SSE parsing, schema checks."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mcpbind.protocol import revisions

from .schema_check import Checker

SERVERS = Path(__file__).resolve().parent / "servers"
FULL = str(SERVERS / "full.py")
EXTRA = str(SERVERS / "http_extra.py")
MODERN = revisions.MODERN[-1]
"""The newest stateless revision (where a test means "the stateless era", not one revision)."""
META_VERSION = "io.modelcontextprotocol/protocolVersion"
BOTH = "application/json, text/event-stream"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(port: int) -> None:
    """Until a server accepts connections on the loopback port (10 s at most)."""
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"no server came up on port {port}")


@asynccontextmanager
async def full_server_over_http(*args: str) -> AsyncIterator[str]:
    """The full test server (tests/servers/full.py) under uvicorn, in its own process, on an ephemeral
    loopback port."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, FULL, *args, "--http", str(port), stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_for_port(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies (killed by a timeout, say), so that no
    server outlives its test run."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextmanager
def serve(script: str = FULL, *args: str, log: Any = None) -> Iterator[str]:
    """`script ... --http PORT` under uvicorn in its own process, on an ephemeral loopback port
    (`log`: a file for its stdout and stderr, else stderr is dropped). The process is always stopped
    when the block ends (terminate, then kill after a bounded wait)."""
    port = free_port()
    with serve_command(port, script, *args, "--http", str(port), log=log):
        yield f"http://127.0.0.1:{port}/mcp"


@contextmanager
def serve_command(port: int, *argv: str, log: Any = None) -> Iterator[None]:
    """`python argv...` in its own process until it accepts connections on the loopback `port` (15 s
    at most); always stopped when the block ends (terminate, then kill after a bounded wait)."""
    script = argv[0]
    process = subprocess.Popen(
        [sys.executable, *argv],
        stdout=log,
        stderr=subprocess.DEVNULL if log is None else log,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{script} exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the HTTP server did not start") from None
                time.sleep(0.03)
        yield
    finally:
        process.terminate()
        try:
            process.wait(8)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def serve_in_process(app: Any, lifespan: str = "on") -> Iterator[str]:
    """An ASGI app under uvicorn in a thread of this process (so that a test can look inside it);
    `lifespan="off"`: uvicorn sends it no lifespan events (as some servers never do)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the in-process HTTP server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "the in-process server did not stop"


def recording_lifespan(events: list[str], state: Any = None, pause: float = 0.0) -> Any:
    """A server's lifespan (`Server(lifespan=...)`) that notes "lifespan enter" and "lifespan exit" in
    `events` and yields `state`, `pause` seconds after it entered."""

    @asynccontextmanager
    async def lifespan(server: Any) -> AsyncIterator[Any]:
        events.append("lifespan enter")
        await asyncio.sleep(pause)
        yield state
        events.append("lifespan exit")

    return lifespan


def load_script(path: str, name: str) -> Any:
    """Import a server script as a module, once (its `if __name__ == "__main__"` part does not run)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path_before = list(sys.path)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path_before  # the script may add its folder: keep this process's path as it was
    return module


def by_hand(
    url: str, fields: list[tuple[str, str]], body: bytes = b"", method: str = "POST"
) -> tuple[int, bytes]:
    """One request written by hand on a socket to the endpoint of `url` (`fields`: its header lines in
    order, Host and the framing of `body` included; repeated ones, bytes no client library sends), the
    connection closed after it: its status and its body, read whole."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    lines = [f"{method} /mcp HTTP/1.1", *(f"{k}: {v}" for k, v in fields), "Connection: close"]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]


# -- messages ---------------------------------------------------------------------------------------


def request(rid: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        message["params"] = params
    return message


def initialize(revision: str, rid: Any = 1, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    return request(
        rid,
        "initialize",
        {
            "protocolVersion": revision,
            "capabilities": capabilities or {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    )


def modern(
    rid: Any, method: str, params: dict[str, Any] | None = None, version: str = MODERN
) -> dict[str, Any]:
    """A stateless request (of the newest stateless revision unless `version` says otherwise), its
    protocol version and client identity carried in `_meta`."""
    meta = {
        META_VERSION: version,
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    params = dict(params or {})
    return request(rid, method, {**params, "_meta": {**params.get("_meta", {}), **meta}})


def region_schema() -> dict[str, Any]:
    """A tool's input schema whose `region` argument is mirrored in an `Mcp-Param-Region` header."""
    return {
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
        "required": ["region"],
    }


def modern_headers(message: dict[str, Any], **extra: str) -> dict[str, str]:
    """The request metadata headers 2026-07-28 requires, mirrored from `message`."""
    headers = {"accept": BOTH, "mcp-protocol-version": MODERN, "mcp-method": message["method"]}
    params = message.get("params") or {}
    source = params.get("uri") if message["method"] == "resources/read" else params.get("name")
    if isinstance(source, str):
        headers["mcp-name"] = source
    headers.update(extra)
    return headers


def call(rid: Any, name: str, arguments: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    return request(rid, "tools/call", {"name": name, "arguments": arguments or {}, **params})


def sse_messages(text: str) -> list[dict[str, Any]]:
    """The JSON data of each event of an SSE body (comments and empty events skipped)."""
    out: list[dict[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if data and any(data):
            out.append(json.loads("\n".join(data)))
    return out


def messages_of(response: httpx.Response) -> list[dict[str, Any]]:
    """What a POST answered: the JSON object (or array), or the events of the SSE stream."""
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind == "text/event-stream":
        return sse_messages(response.text)
    if kind == "application/json" and response.content:
        value = response.json()
        return value if isinstance(value, list) else [value]
    return []


def check(revision: str, sent: list[dict[str, Any]], received: list[dict[str, Any]]) -> int:
    """Validate what a client sent and what came back against `revision`'s schema (requests first)."""
    checker = Checker(revision)
    for sender, frames in (("client", sent), ("server", received)):
        for m in frames:
            if "method" in m:
                checker.check(sender, json.dumps(m).encode())
    for sender, frames in (("client", sent), ("server", received)):
        for m in frames:
            if "method" not in m:
                checker.check(sender, json.dumps(m).encode())
    return checker.checked


@dataclass
class Session:
    """A stateful session opened over raw HTTP."""

    url: str
    id: str
    revision: str

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"accept": BOTH, "mcp-session-id": self.id}
        if self.revision != "2025-03-26":
            headers["mcp-protocol-version"] = self.revision
        headers.update(extra)
        return headers


async def open_session(
    http: httpx.AsyncClient, url: str, revision: str, capabilities: dict[str, Any] | None = None
) -> Session:
    init = initialize(revision, capabilities=capabilities)
    response = await http.post(url, json=init, headers={"accept": BOTH})
    assert response.status_code == 200, response.text
    (answer,) = messages_of(response)
    assert answer["result"]["protocolVersion"] == revision
    check(revision, [init], [answer])
    session = Session(url, response.headers["mcp-session-id"], revision)
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    done = await http.post(url, json=note, headers=session.headers())
    assert done.status_code == 202 and done.content == b""
    return session


def conforms(revision: str, definition: str, instance: Any) -> None:
    """Assert that `instance` is a valid `definition` of `revision`'s schema."""
    from .schema_check import _errors

    problems = _errors(revision, definition, instance)
    assert not problems, f"not a {definition} of {revision}: {instance}\n" + "\n".join(problems)


def error_of(response: httpx.Response, revision: str = "2025-11-25") -> dict[str, Any]:
    """The JSON-RPC error an HTTP refusal carries, checked against `revision`'s error envelope."""
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    conforms(revision, "JSONRPCErrorResponse", body)
    return dict(body["error"])
