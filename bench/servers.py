#!/usr/bin/env python3
"""Server benchmark: mcpbind vs the official SDK (``mcp==2.3.0``) vs a no-framework floor, in one run.

Run from the repository root with the mcpbind environment's interpreter (it needs msgspec, uvicorn:
``pip install -e .[http]``):

    python bench/servers.py            # full run, a few minutes
    python bench/servers.py --quick    # smoke run, < 60 s

Every server is a subprocess (scripts in ``bench/apps/``); the SDK's runs in its own venv
(``bench/.venvs/mcp``, created on first use; ``--peer-python`` to bring your own). One raw driver per
transport drives every server, so the server is what is measured; the drivers run on uvloop (the
lighter the instrument, the more of each latency is the server's) and everything is on loopback. The
implementations alternate (the order rotates every round) and the medians over rounds are reported.

Measures, with one trivial tool ``echo(text: str) -> str`` unless said otherwise:

1. stdio: calls/s and p50/p99 latency with 1 and 16 requests in flight (initialize 2025-11-25, then
   ``tools/call`` N times; newline-delimited JSON-RPC on the pipes). mcpbind's ``run_stdio`` runs on
   uvloop (installed with it); the floor is plain asyncio, as defined, and runs on uvloop as well, for
   comparison (the share of that floor is shown beside the target).
2. Streamable HTTP, every server on the same uvicorn with uvloop and httptools (and the options of
   mcpbind's ``run_http``: no access log, no proxy-headers middleware), driven by ``rawhttp``
   (prepared HTTP/1.1 requests on keep-alive sockets, one per request in flight: aiohttp's client cost
   as much per request as the floor and measured itself):
   - 2026-07-28 stateless JSON (POST with MCP-Protocol-Version/Mcp-Method/Mcp-Name headers and the
     ``_meta`` envelope; the SDK with ``json_response=True``), against the bare ASGI floor;
   - SSE that has to be SSE: ``echo_progress`` reports progress once (the request carries a
     ``progressToken``), so every answer is a stream, for 2026-07-28 and for a 2025-11-25 session;
   - a 2025-11-25 session with the plain ``echo``: each server's default answer (the SDK streams
     every answer, mcpbind answers JSON when nothing else is sent). Each HTTP leg shows the share of
     answers that came as SSE.
3. A tool returning 1 MB of text: ms per call, one at a time, over stdio and HTTP 2026-07-28 JSON.
4. cold start: spawn the stdio server until the first ``tools/call`` result (median), and the
   server's peak RSS (``VmHWM`` from /proc, read before stdin is closed). Servers cache bytecode as an
   installed package does (an untimed spawn first writes it).
5. ``tools/list`` with 500 generated tools (3-5 typed parameters each): one round trip over stdio.
6. auth: HTTP 2026-07-28 JSON as in 2., every request carrying a JWT access token (RS256) that the
   server verifies (signature against a JWKS loaded at start, ``iss``, ``aud`` = the endpoint, ``exp``):
   mcpbind's ``ProtectedResource`` with ``JwtVerifier`` (joserfc), the SDK's ``AuthSettings`` with a
   ``TokenVerifier`` on PyJWT (the SDK ships the interface, not a JWT verifier). Compare with 2.: the
   difference is the price of a verified token per request.
7. WebSocket (SEP-1288, a proposal): calls/s and latency with 1 and 16 requests in flight on one
   connection (a 2025-11-25 session, subprotocol ``mcp``, no compression), driven by ``rawws`` (the
   ``websockets`` client cost as much per message as a server): mcpbind's ``run_websocket`` (its own
   asyncio server, uvloop) and mcpbind's ``run_http`` taking the upgrade (uvicorn), against the
   floor: the ``websockets`` server
   answering each frame with msgspec and nothing else (``floor_ws.py``). The SDK has no WebSocket
   server. Target: at 1 in flight at least mcpbind's own Streamable HTTP (2026-07-28 JSON), and at
   least 70% of the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rawhttp
import rawws

BENCH_DIR = Path(__file__).resolve().parent
APPS = BENCH_DIR / "apps"
REPO_ROOT = BENCH_DIR.parent
DEFAULT_PEER_VENV = BENCH_DIR / ".venvs" / "mcp"
DEFAULT_JSON_OUT = BENCH_DIR / "results" / "servers.json"
SDK_REQUIREMENTS = ("mcp==2.3.0", "uvicorn", "uvloop", "httptools")
SDK_VERSION = "2.3.0"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
IMPLS = ("mcpbind", "sdk", "floor")
ECHO_TEXT = "hello from the benchmark driver"
N_TOOLS = 500
MEGABYTE = 1 << 20
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
"""What a 2026-07-28 request carries in `_meta` (no handshake)."""

encode = msgspec.json.Encoder().encode
decode = msgspec.json.decode


# --------------------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # PYTHONDONTWRITEBYTECODE would make every spawn compile mcpbind from source (an editable install
    # has no bytecode from pip), which no installed package pays: the servers cache bytecode as usual.
    for key in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "0"
    return env


def peer_python(args: argparse.Namespace) -> str | None:
    """The interpreter of the SDK environment, creating it if needed."""
    if args.peer_python:
        return str(args.peer_python)
    venv_dir: Path = args.peer_venv
    python = venv_dir / "bin" / "python"
    check = [str(python), "-c", "from importlib.metadata import version as v; v('uvicorn'); print(v('mcp'))"]
    if python.exists():
        got = subprocess.run(check, capture_output=True, text=True, env=_clean_env())
        if got.returncode == 0 and got.stdout.strip() == SDK_VERSION:
            return str(python)
    if args.no_peer_setup:
        print(f"# warning: {python} has no mcp=={SDK_VERSION}; SDK skipped", file=sys.stderr)
        return None
    print(f"# creating {venv_dir} with {' '.join(SDK_REQUIREMENTS)} ...", file=sys.stderr)
    for step in (
        [sys.executable, "-m", "venv", "--clear", str(venv_dir)],
        [str(python), "-m", "pip", "install", "--quiet", *SDK_REQUIREMENTS],
    ):
        done = subprocess.run(step, capture_output=True, text=True, env=_clean_env())
        if done.returncode != 0:
            msg = f"`{' '.join(step)}` failed:\n{done.stderr.strip()[-2000:]}"
            if not args.quick:
                sys.exit(f"error: the SDK environment is unavailable: {msg}")
            print(f"# warning: SDK skipped: {msg}", file=sys.stderr)
            return None
    return str(python)


class Commands:
    def __init__(self, sdk_python: str | None) -> None:
        self.sdk_python = sdk_python

    def python(self, impl: str) -> str | None:
        return self.sdk_python if impl == "sdk" else sys.executable

    def stdio(
        self, impl: str, tools: int = 0, page_size: int | None = None, big: bool = False
    ) -> list[str] | None:
        py = self.python(impl)
        if py is None:
            return None
        script = {"mcpbind": "mcpbind_server.py", "sdk": "sdk_server.py"}.get(impl, "floor_stdio.py")
        cmd = [py, str(APPS / script)]
        if impl == "floor_uvloop":
            cmd.append("--uvloop")
        if tools:
            cmd += ["--tools", str(tools)]
        if page_size:
            cmd += ["--page-size", str(page_size)]
        if big:
            cmd.append("--big")
        return cmd

    def http(
        self, impl: str, port: int, json_mode: bool, big: bool = False, auth: Path | None = None
    ) -> list[str] | None:
        py = self.python(impl)
        if py is None:
            return None
        script = {"mcpbind": "mcpbind_server.py", "sdk": "sdk_server.py", "floor": "floor_asgi.py"}[impl]
        cmd = [py, str(APPS / script), "--http", str(port)]
        # The SDK needs json_response=True to answer JSON; mcpbind answers JSON by default (run_http).
        if json_mode and impl == "sdk":
            cmd.append("--json")
        if big:
            cmd.append("--big")
        if auth is not None:
            cmd += ["--auth", str(auth)]
        return cmd

    def ws(self, impl: str, port: int) -> list[str]:
        """mcpbind on the websockets server ("mcpbind"), under uvicorn ("mcpbind_asgi"), the floor."""
        if impl == "floor":
            return [sys.executable, str(APPS / "floor_ws.py"), str(port)]
        flag = "--http" if impl == "mcpbind_asgi" else "--websocket"
        return [sys.executable, str(APPS / "mcpbind_server.py"), flag, str(port)]


class Tokens:
    """One RSA key, its JWKS in a file for the servers, and a valid access token per endpoint."""

    def __init__(self, folder: Path) -> None:
        from joserfc.jwk import KeySet, RSAKey  # the `auth` extra: only this measure needs it

        sys.path.insert(0, str(APPS))
        from _toolgen import ISSUER

        self.issuer = ISSUER
        self.key = RSAKey.generate_key(2048, parameters={"kid": "bench"})
        folder.mkdir(parents=True, exist_ok=True)
        self.jwks = folder / "bench-jwks.json"
        self.jwks.write_text(json.dumps(KeySet([self.key]).as_dict(private=False)))

    def token(self, port: int) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": f"http://127.0.0.1:{port}/mcp",
            "sub": "bench-user",
            "client_id": "bench-client",
            "scope": "mcp",
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode({"alg": "RS256", "kid": "bench", "typ": "at+jwt"}, claims, self.key)


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------------------------------------
# Load generator (shared by both transports)
# --------------------------------------------------------------------------------------------------------


async def load(call: Callable[[], Awaitable[float]], n: int, inflight: int) -> dict[str, Any]:
    """Run ``n`` calls with ``inflight`` outstanding; calls/s and latency percentiles (ms)."""
    latencies: list[float] = []
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            latencies.append(await call())

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    wall = time.perf_counter() - t0
    return {"n": n, "inflight": inflight, "wall_s": wall, "calls_per_s": n / wall, "latencies_ms": latencies}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


# --------------------------------------------------------------------------------------------------------
# stdio driver
# --------------------------------------------------------------------------------------------------------


class StdioDriver:
    """Minimal raw client: newline-delimited JSON-RPC on a subprocess's pipes."""

    def __init__(self, cmd: list[str]) -> None:
        self.cmd = cmd
        self.proc: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.reader: asyncio.Task[None] | None = None
        self.stderr = b""

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 26,
            env=_clean_env(),
            cwd=REPO_ROOT,
        )
        self.reader = asyncio.create_task(self._read())
        self.err_reader = asyncio.create_task(self._read_err())

    async def _read_err(self) -> None:
        assert self.proc and self.proc.stderr
        while chunk := await self.proc.stderr.read(65536):
            self.stderr = (self.stderr + chunk)[-8000:]

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        while line := await self.proc.stdout.readline():
            if not line.strip():
                continue
            msg = decode(line)
            fut = self.pending.pop(msg.get("id"), None) if isinstance(msg, dict) else None
            if fut is not None and not fut.done():
                fut.set_result(msg)
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(RuntimeError(f"server closed stdout; stderr: {self.stderr[-1500:]!r}"))

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        assert self.proc and self.proc.stdin
        self.next_id += 1
        rid = self.next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        frame: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            frame["params"] = params
        self.proc.stdin.write(encode(frame) + b"\n")
        await self.proc.stdin.drain()
        msg = await fut
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg["result"]

    async def notify(self, method: str) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(encode({"jsonrpc": "2.0", "method": method}) + b"\n")
        await self.proc.stdin.drain()

    async def initialize(self) -> Any:
        result = await self.request(
            "initialize",
            {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        await self.notify("notifications/initialized")
        return result

    async def big(self) -> float:
        t0 = time.perf_counter()
        result = await self.request("tools/call", {"name": "big", "arguments": {}})
        dt = (time.perf_counter() - t0) * 1000
        return dt if len(result["content"][0]["text"]) == MEGABYTE else _bad(result)

    async def echo(self) -> float:
        t0 = time.perf_counter()
        result = await self.request("tools/call", {"name": "echo", "arguments": {"text": ECHO_TEXT}})
        dt = (time.perf_counter() - t0) * 1000
        return dt if result["content"][0]["text"] == ECHO_TEXT else _bad(result)

    def peak_rss_kib(self) -> int | None:
        return _vm_hwm_kib(self.proc.pid) if self.proc else None

    async def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            assert self.proc.stdin
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        for task in (self.reader, self.err_reader):
            if task:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


def _bad(result: Any) -> float:
    raise RuntimeError(f"echo answered {str(result)[:300]}")


# --------------------------------------------------------------------------------------------------------
# HTTP driver
# --------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_port(port: int, proc: asyncio.subprocess.Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def _sse_answer(body: bytes) -> Any:
    """The answer in an SSE body. It is the stream's last message, which every server here writes as
    one `data:` line: only that line is decoded (the driver must cost far less than the servers)."""
    end = body.rfind(b"data:")
    if end >= 0:
        stop = body.find(b"\n", end)
        try:
            msg = decode(body[end + 5 : stop if stop >= 0 else len(body)])
        except msgspec.DecodeError:
            msg = None
        if isinstance(msg, dict) and ("result" in msg or "error" in msg):
            return msg
    return _parse_events(body)


def _parse_events(body: bytes) -> Any:
    """The answer in an SSE body, event by event (data split over several lines, or not last)."""
    for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = b"\n".join(ln[5:].lstrip() for ln in event.splitlines() if ln.startswith(b"data:"))
        if data:
            msg = decode(data)
            if isinstance(msg, dict) and ("result" in msg or "error" in msg):
                return msg
    raise RuntimeError(f"no response in SSE body {body[:300]!r}")


class HttpDriver:
    """Minimal raw Streamable HTTP client: prepared HTTP/1.1 requests on keep-alive connections
    (``rawhttp``), one connection per request in flight, POST /mcp. aiohttp's client costs about as
    much per request as a bare ASGI app, so it would measure itself rather than the servers."""

    def __init__(self, port: int, era: str, tool: str = "echo", token: str | None = None) -> None:
        self.host = f"127.0.0.1:{port}"
        self.token = token
        self.era = era
        self.pool = rawhttp.Pool("127.0.0.1", port)
        self.session_id: str | None = None
        self.next_id = 0
        self.sse_answers = 0
        # echo_progress reports progress when asked (progressToken): its answer has to be a stream.
        self.tool = tool
        self._heads: dict[tuple[str, str | None, str | None], bytes] = {}

    async def __aenter__(self) -> HttpDriver:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.session_id:
            with contextlib.suppress(Exception):
                bye = rawhttp.delete("/mcp", self.host, self._headers())
                await asyncio.wait_for(self.pool.request(bye), 5)
        self.pool.close()

    def _headers(self, method: str | None = None, name: str | None = None) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        if self.token is not None:
            h["authorization"] = f"Bearer {self.token}"
        if self.era == MODERN:
            h["mcp-protocol-version"] = MODERN
            if method:
                h["mcp-method"] = method
            if name:
                h["mcp-name"] = name
        elif self.session_id is not None:
            h["mcp-session-id"] = self.session_id
            h["mcp-protocol-version"] = LEGACY
        return h

    async def post(self, frame: dict[str, Any], name: str | None = None) -> tuple[dict[bytes, bytes], Any]:
        # The request head (everything but Content-Length) is the same for every call of a method and
        # tool on this driver: it is built once (the driver must cost far less than the servers).
        key = (frame["method"], name, self.session_id)
        head = self._heads.get(key)
        if head is None:
            head = rawhttp.head("POST", "/mcp", self.host, self._headers(frame["method"], name))
            self._heads[key] = head
        data = encode(frame)
        request = head + b"content-length: %d\r\n\r\n%s" % (len(data), data)
        status, headers, body = await self.pool.request(request)
        if status >= 400:
            raise RuntimeError(f"HTTP {status} for {frame['method']}: {body[:300]!r}")
        ctype = headers.get(b"content-type", b"")
        if ctype.startswith(b"text/event-stream"):
            self.sse_answers += 1
            return headers, (_sse_answer(body) if body else None)
        return headers, (decode(body) if body else None)

    async def initialize(self) -> None:
        if self.era == MODERN:
            return
        self.next_id += 1
        frame = {
            "jsonrpc": "2.0",
            "id": self.next_id,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": "b", "version": "0"},
            },
        }
        headers, msg = await self.post(frame)
        if not msg or "result" not in msg:
            raise RuntimeError(f"initialize answered {msg}")
        self.session_id = rawhttp.header(headers, "mcp-session-id")
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.sse_answers = 0

    async def big(self) -> float:
        t0 = time.perf_counter()
        _, msg = await self.post(self._call("big", {}), "big")
        dt = (time.perf_counter() - t0) * 1000
        return dt if len(msg["result"]["content"][0]["text"]) == MEGABYTE else _bad(msg)

    def _call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        if self.era == MODERN:
            params["_meta"] = dict(MODERN_META)
        return {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}

    async def echo(self) -> float:
        frame = self._call(self.tool, {"text": ECHO_TEXT})
        if self.tool == "echo_progress":
            frame["params"].setdefault("_meta", {})["progressToken"] = frame["id"]
        t0 = time.perf_counter()
        _, msg = await self.post(frame, self.tool)
        dt = (time.perf_counter() - t0) * 1000
        if "result" not in msg:
            raise RuntimeError(f"tools/call answered {str(msg)[:300]}")
        # The floor answers without checking; the servers must echo.
        return dt


class WsDriver(StdioDriver):
    """Minimal raw WebSocket client (``rawws``): one connection, JSON-RPC per text frame, answers matched
    by id; the requests and checks of `StdioDriver`."""

    def __init__(self, port: int) -> None:
        super().__init__([])
        self.port = port
        self.conn: rawws.Connection | None = None

    async def start(self) -> None:
        self.conn = await rawws.Connection.open("127.0.0.1", self.port, "/mcp", self._received)

    def _received(self, data: bytes) -> None:
        msg = decode(data)
        fut = self.pending.pop(msg.get("id"), None) if isinstance(msg, dict) else None
        if fut is not None and not fut.done():
            fut.set_result(msg)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        assert self.conn is not None
        self.next_id += 1
        rid = self.next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        frame: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            frame["params"] = params
        self.conn.send(encode(frame))
        msg = await fut
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg["result"]

    async def notify(self, method: str) -> None:
        assert self.conn is not None
        self.conn.send(encode({"jsonrpc": "2.0", "method": method}))

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()


async def leg_ws(cmd: list[str], port: int, cfg: argparse.Namespace) -> dict[str, Any]:
    proc = await _spawn(cmd)
    drv = WsDriver(port)
    try:
        await _wait_port(port, proc)
        await drv.start()
        await asyncio.wait_for(drv.initialize(), 30)
        await load(drv.echo, cfg.warmup, 16)
        out = {"c1": await load(drv.echo, cfg.n_stdio_1, 1), "c16": await load(drv.echo, cfg.n_stdio_16, 16)}
        out["peak_rss_kib"] = _vm_hwm_kib(proc.pid)
        return out
    finally:
        await drv.close()
        await _stop(proc)


async def _spawn(cmd: list[str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=_clean_env(),
        cwd=REPO_ROOT,
    )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 8)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# --------------------------------------------------------------------------------------------------------
# Legs: each spawns one server, warms it up, measures, stops it
# --------------------------------------------------------------------------------------------------------


async def leg_stdio(cmd: list[str], cfg: argparse.Namespace) -> dict[str, Any]:
    drv = StdioDriver(cmd)
    await drv.start()
    try:
        await asyncio.wait_for(drv.initialize(), 30)
        await load(drv.echo, cfg.warmup, 16)
        out = {"c1": await load(drv.echo, cfg.n_stdio_1, 1), "c16": await load(drv.echo, cfg.n_stdio_16, 16)}
        out["peak_rss_kib"] = drv.peak_rss_kib()
        return out
    finally:
        await drv.close()


async def leg_http(
    cmd: list[str], port: int, era: str, cfg: argparse.Namespace, tool: str = "echo", token: str | None = None
) -> dict[str, Any]:
    proc = await _spawn(cmd)
    try:
        await _wait_port(port, proc)
        async with HttpDriver(port, era, tool, token) as drv:
            await drv.initialize()
            await load(drv.echo, cfg.warmup_http, 16)
            drv.sse_answers = 0
            out: dict[str, Any] = {
                "c1": await load(drv.echo, cfg.n_http_1, 1),
                "c16": await load(drv.echo, cfg.n_http_16, 16),
            }
            out["sse_answers"] = drv.sse_answers
            out["peak_rss_kib"] = _vm_hwm_kib(proc.pid)
            return out
    except Exception as e:
        err = b""
        if proc.stderr is not None:
            await _stop(proc)
            err = await proc.stderr.read()
        raise RuntimeError(f"{e}; server stderr: {err[-1500:]!r}") from e
    finally:
        await _stop(proc)


async def leg_big(cmd: list[str], port: int | None, cfg: argparse.Namespace) -> dict[str, Any]:
    """A tool returning 1 MB of text, one call at a time: stdio (port None) or HTTP 2026-07-28 JSON."""
    if port is None:
        drv = StdioDriver(cmd)
        await drv.start()
        try:
            await asyncio.wait_for(drv.initialize(), 30)
            for _ in range(3):
                await drv.big()
            times = [await drv.big() for _ in range(cfg.big_reps)]
        finally:
            await drv.close()
    else:
        proc = await _spawn(cmd)
        try:
            await _wait_port(port, proc)
            async with HttpDriver(port, MODERN) as http:
                for _ in range(3):
                    await http.big()
                times = [await http.big() for _ in range(cfg.big_reps)]
        finally:
            await _stop(proc)
    return {"ms": statistics.median(times), "samples_ms": times}


async def leg_cold(cmd: list[str]) -> dict[str, Any]:
    drv = StdioDriver(cmd)
    t0 = time.perf_counter()
    await drv.start()
    try:
        await asyncio.wait_for(drv.initialize(), 30)
        await asyncio.wait_for(drv.echo(), 30)
        cold_ms = (time.perf_counter() - t0) * 1000
        return {"cold_ms": cold_ms, "peak_rss_kib": drv.peak_rss_kib()}
    finally:
        await drv.close()


async def leg_list(cmd: list[str], reps: int) -> dict[str, Any]:
    drv = StdioDriver(cmd)
    await drv.start()
    try:
        await asyncio.wait_for(drv.initialize(), 60)

        async def list_all() -> tuple[float, int, int]:
            t0 = time.perf_counter()
            tools, pages, cursor = 0, 0, None
            while True:
                result = await drv.request("tools/list", {"cursor": cursor} if cursor else {})
                tools += len(result["tools"])
                pages += 1
                cursor = result.get("nextCursor")
                if not cursor:
                    return (time.perf_counter() - t0) * 1000, tools, pages

        for _ in range(2):
            await list_all()
        times = []
        for _ in range(reps):
            ms, tools, pages = await list_all()
            times.append(ms)
        return {
            "ms": statistics.median(times),
            "samples_ms": times,
            "tools": tools,
            "pages": pages,
            "peak_rss_kib": drv.peak_rss_kib(),
        }
    finally:
        await drv.close()


# --------------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------------


def _rotate(seq: tuple[str, ...], r: int) -> list[str]:
    return list(seq[r % len(seq) :] + seq[: r % len(seq)])


async def run(cfg: argparse.Namespace, cmds: Commands) -> dict[str, Any]:
    impls = [i for i in IMPLS if i in cfg.impls and cmds.python(i) is not None]
    raw: dict[str, Any] = {}
    errors: list[str] = []

    def add(key: str, impl: str, value: Any) -> None:
        raw.setdefault(key, {}).setdefault(impl, []).append(value)

    async def guarded(key: str, impl: str, coro: Awaitable[Any], timeout: float) -> None:
        try:
            add(key, impl, await asyncio.wait_for(coro, timeout))
        except Exception as e:
            errors.append(f"{key}/{impl}: {type(e).__name__}: {str(e)[:600]}")
            print(f"# error {key}/{impl}: {str(e)[:600]}", file=sys.stderr)

    t_start = time.perf_counter()
    for r in range(cfg.rounds):
        # The stdio floor also runs on uvloop, the loop mcpbind's run_stdio uses, for comparison.
        extra = ("floor_uvloop",) if "floor" in impls else ()
        for impl in _rotate(tuple(impls) + extra, r):
            print(f"# round {r + 1}/{cfg.rounds}: {impl}", file=sys.stderr)
            if "stdio" in cfg.measures:
                await guarded("stdio", impl, leg_stdio(cmds.stdio(impl), cfg), cfg.leg_timeout)  # type: ignore[arg-type]
            if impl == "floor_uvloop":
                continue
            if "http" in cfg.measures:
                port = _free_port()
                await guarded(
                    "http_2026_json",
                    impl,
                    leg_http(cmds.http(impl, port, True), port, MODERN, cfg),  # type: ignore[arg-type]
                    cfg.leg_timeout,
                )
            if "sse" in cfg.measures and impl != "floor":
                for key, era, tool in (
                    ("http_2026_sse", MODERN, "echo_progress"),
                    ("http_2025_sse", LEGACY, "echo_progress"),
                    ("http_2025_default", LEGACY, "echo"),
                ):
                    port = _free_port()
                    await guarded(
                        key,
                        impl,
                        leg_http(cmds.http(impl, port, False), port, era, cfg, tool),  # type: ignore[arg-type]
                        cfg.leg_timeout,
                    )
            if "auth" in cfg.measures and impl != "floor" and cfg.tokens is not None:
                port = _free_port()
                await guarded(
                    "http_2026_auth",
                    impl,
                    leg_http(
                        cmds.http(impl, port, True, auth=cfg.tokens.jwks),  # type: ignore[arg-type]
                        port,
                        MODERN,
                        cfg,
                        token=cfg.tokens.token(port),
                    ),
                    cfg.leg_timeout,
                )
            if "ws" in cfg.measures and impl in ("mcpbind", "floor"):
                for key, which in (("ws", impl), ("ws_asgi", "mcpbind_asgi")):
                    if key == "ws_asgi" and impl == "floor":
                        continue  # one floor for both rows
                    port = _free_port()
                    await guarded(key, impl, leg_ws(cmds.ws(which, port), port, cfg), cfg.leg_timeout)
            if "big" in cfg.measures and impl != "floor":
                await guarded("big_stdio", impl, leg_big(cmds.stdio(impl, big=True), None, cfg), 120)  # type: ignore[arg-type]
                port = _free_port()
                await guarded(
                    "big_http", impl, leg_big(cmds.http(impl, port, True, big=True), port, cfg), 120
                )  # type: ignore[arg-type]
    if "cold" in cfg.measures:
        for impl in impls:  # untimed: writes any bytecode not yet cached, as an install would have
            with contextlib.suppress(Exception):
                await asyncio.wait_for(leg_cold(cmds.stdio(impl)), 60)  # type: ignore[arg-type]
        for k in range(cfg.cold_reps):
            for impl in _rotate(tuple(impls), k):
                await guarded("cold", impl, leg_cold(cmds.stdio(impl)), 60)  # type: ignore[arg-type]
    if "list" in cfg.measures:
        for k in range(cfg.list_rounds):
            for impl in _rotate(tuple(i for i in impls if i != "floor"), k):
                page = N_TOOLS if impl == "mcpbind" else None
                await guarded(
                    "tools_list_500", impl, leg_list(cmds.stdio(impl, N_TOOLS, page), cfg.list_reps), 120
                )  # type: ignore[arg-type]
                if impl == "mcpbind":
                    await guarded(
                        "tools_list_500_default_pages",
                        impl,
                        leg_list(cmds.stdio(impl, N_TOOLS), cfg.list_reps),
                        120,
                    )  # type: ignore[arg-type]
    return {"raw": raw, "errors": errors, "impls": impls, "elapsed_s": time.perf_counter() - t_start}


# --------------------------------------------------------------------------------------------------------
# Summary and table
# --------------------------------------------------------------------------------------------------------


def summarize(raw: dict[str, Any]) -> dict[str, dict[str, float]]:
    """measure -> impl -> value (medians over rounds; latencies pooled over rounds)."""
    rows: dict[str, dict[str, float]] = {}

    def put(measure: str, impl: str, value: float | None) -> None:
        if value is not None:
            rows.setdefault(measure, {})[impl] = value

    for key, label in (
        ("stdio", "stdio"),
        ("http_2026_json", "HTTP 2026 JSON"),
        ("http_2026_sse", "HTTP 2026 SSE (+1 progress)"),
        ("http_2025_sse", "HTTP 2025 SSE (+1 progress)"),
        ("http_2025_default", "HTTP 2025 session, default answer"),
        ("http_2026_auth", "HTTP 2026 JSON, verified JWT"),
        ("ws", "WebSocket"),
        ("ws_asgi", "WebSocket under uvicorn"),
    ):
        # The WebSocket floor (floor_ws.py) is the floor of both WebSocket rows.
        runs_of = raw.get(key, {}) if key != "ws_asgi" else {**raw.get(key, {}), **_floor(raw, "ws")}
        for impl, runs in runs_of.items():
            for c in ("c1", "c16"):
                n = c[1:]
                put(
                    f"{label} calls/s, {n} in flight",
                    impl,
                    statistics.median(x[c]["calls_per_s"] for x in runs),
                )
                lat = [v for x in runs for v in x[c]["latencies_ms"]]
                put(f"{label} p50 ms, {n} in flight", impl, _pct(lat, 0.5))
                put(f"{label} p99 ms, {n} in flight", impl, _pct(lat, 0.99))
            if key.startswith("http"):
                sse = [x["sse_answers"] / (x["c1"]["n"] + x["c16"]["n"]) for x in runs]
                put(f"{label}: answers as SSE, %", impl, 100 * statistics.median(sse))
            if key == "stdio":
                rss = [x["peak_rss_kib"] for x in runs if x.get("peak_rss_kib")]
                put("stdio peak RSS after load MiB", impl, max(rss) / 1024 if rss else None)
    for key, label in (("big_stdio", "stdio"), ("big_http", "HTTP 2026 JSON")):
        for impl, runs in raw.get(key, {}).items():
            put(f"1 MB tool result ms, {label}", impl, statistics.median(x["ms"] for x in runs))
    for impl, runs in raw.get("cold", {}).items():
        put("cold start ms (spawn to 1st result)", impl, statistics.median(x["cold_ms"] for x in runs))
        rss = [x["peak_rss_kib"] for x in runs if x.get("peak_rss_kib")]
        put("server peak RSS MiB (cold)", impl, statistics.median(rss) / 1024 if rss else None)
    for impl, runs in raw.get("tools_list_500", {}).items():
        put("tools/list 500 tools ms", impl, statistics.median(x["ms"] for x in runs))
    for impl, runs in raw.get("tools_list_500_default_pages", {}).items():
        pages = runs[0]["pages"]
        put(
            f"tools/list 500 tools ms, default page size ({pages} pages)",
            impl,
            statistics.median(x["ms"] for x in runs),
        )
    return rows


def _floor(raw: dict[str, Any], key: str) -> dict[str, Any]:
    runs = raw.get(key, {}).get("floor")
    return {"floor": runs} if runs else {}


def _target(measure: str, v: dict[str, float], rows: dict[str, dict[str, float]]) -> str:
    m, s, f = v.get("mcpbind"), v.get("sdk"), v.get("floor")

    def mark(ok: bool | None, text: str) -> str:
        return f"{'✓' if ok else '✗' if ok is not None else '?'} {text}"

    def both(a: bool | None, b: bool | None, text: str) -> str:
        ok = None if a is None or b is None else a and b
        return mark(ok, text)

    if m is None:
        return ""
    ratio = m / s if s else None
    pfloor = m / f if f else None

    def reach(text: str, floor: float | None, what: str) -> str:
        """Say so where the floor itself is under 5x the SDK: no server on it can reach the target."""
        if ratio is not None and ratio < 5 and floor and s and floor / s < 5:
            return f"{text}; 5x out of reach: {what} is {floor / s:.2f}x SDK"
        return text

    if measure.startswith("stdio calls/s"):
        text = both(ratio and ratio >= 5, pfloor and pfloor >= 0.7, ">= 5x SDK, >= 70% floor")
        if fu := v.get("floor_uvloop"):
            text += f" ({100 * m / fu:.0f}% of the floor on uvloop, {_fmt(fu)} calls/s)"
        return reach(text, f, "the floor")
    if measure.startswith("HTTP 2026 JSON calls/s"):
        text = both(ratio and ratio >= 5, pfloor and pfloor >= 0.6, ">= 5x SDK, >= 60% ASGI")
        return reach(text, f, "the bare ASGI app")
    if measure.startswith("HTTP 2025 SSE (+1 progress) calls/s"):
        text = mark(None if ratio is None else ratio >= 5, ">= 5x SDK")
        json_floor = rows.get(measure.replace("HTTP 2025 SSE (+1 progress)", "HTTP 2026 JSON"), {})
        return reach(text, json_floor.get("floor"), "the bare ASGI app answering JSON")
    if measure.startswith("WebSocket") and "calls/s" in measure:
        if measure.endswith("16 in flight"):
            return mark(None if pfloor is None else pfloor >= 0.7, ">= 70% floor")
        http = rows.get("HTTP 2026 JSON calls/s, 1 in flight", {}).get("mcpbind")
        return both(
            None if http is None else m >= http, pfloor and pfloor >= 0.7, ">= HTTP 2026 JSON, >= 70% floor"
        )
    if measure.startswith("cold start"):
        return both(m <= 100, None if s is None else m <= s / 4, "<= 100 ms, <= 1/4 SDK")
    if measure.startswith("server peak RSS"):
        return mark(m <= 35, "<= 35 MiB")
    if measure == "tools/list 500 tools ms":
        return mark(m <= 10, "<= 10 ms")
    return ""


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def table(rows: dict[str, dict[str, float]]) -> str:
    out = [
        "| measure | mcpbind | SDK | floor | mcpbind/SDK | % of floor | target |",
        "|---|--:|--:|--:|--:|--:|---|",
    ]
    for measure, v in rows.items():
        m, s, f = v.get("mcpbind"), v.get("sdk"), v.get("floor")
        ratio = f"{m / s:.2f}x" if m and s and not measure.endswith("%") else "—"
        pf = f"{100 * m / f:.0f}%" if m and f and "calls/s" in measure else "—"
        target = _target(measure, v, rows)
        out.append(f"| {measure} | {_fmt(m)} | {_fmt(s)} | {_fmt(f)} | {ratio} | {pf} | {target} |")
    return "\n".join(out)


def _driver_loop_run(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run the drivers on uvloop when it is installed: the lighter the instrument, the more of each
    latency is the server's (the default loop's Python costs the driver a third more per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _same_uvicorn() -> None:
    """The HTTP servers all run on mcpbind's uvicorn options, or the comparison is not fair."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))
    from _uvicorn import OPTIONS

    from mcpbind.server import UVICORN_DEFAULTS

    if {k: v for k, v in OPTIONS.items() if k != "log_level"} != UVICORN_DEFAULTS:
        raise SystemExit(f"bench/apps/_uvicorn.py {OPTIONS} differs from run_http's {UVICORN_DEFAULTS}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny N, one round (CI smoke run, < 60 s)")
    ap.add_argument("--json-out", type=Path, default=DEFAULT_JSON_OUT)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--measures", default="stdio,http,sse,auth,ws,big,cold,list")
    ap.add_argument("--peer-python", type=Path, help="interpreter that has mcp==2.3.0 and uvicorn")
    ap.add_argument("--peer-venv", type=Path, default=DEFAULT_PEER_VENV)
    ap.add_argument("--no-peer-setup", action="store_true")
    cfg = ap.parse_args()
    q = cfg.quick
    cfg.rounds = cfg.rounds or (1 if q else 5)
    cfg.impls = cfg.impls.split(",")
    cfg.measures = cfg.measures.split(",")
    cfg.warmup, cfg.warmup_http = (50, 30) if q else (500, 300)
    cfg.n_stdio_1, cfg.n_stdio_16 = (100, 300) if q else (2000, 5000)
    cfg.n_http_1, cfg.n_http_16 = (50, 150) if q else (1000, 3000)
    cfg.cold_reps = 2 if q else 7
    cfg.list_rounds, cfg.list_reps = (1, 3) if q else (3, 10)
    cfg.big_reps = 5 if q else 20
    cfg.leg_timeout = 60 if q else 300

    _same_uvicorn()
    cfg.tokens = None
    if "auth" in cfg.measures:
        try:
            cfg.tokens = Tokens(cfg.json_out.parent)
        except ImportError:
            print(
                "# warning: no joserfc (pip install -e .[auth]): the auth measure is skipped", file=sys.stderr
            )
    sdk = peer_python(cfg) if "sdk" in cfg.impls else None
    result = _driver_loop_run(run(cfg, Commands(sdk)))
    rows = summarize(result["raw"])
    print(table(rows))
    for e in result["errors"]:
        print(f"\nerror: {e}")
    print(f"\n({result['elapsed_s']:.0f} s; {cfg.rounds} rounds; medians over rounds, latencies pooled)")
    cfg.json_out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.now(UTC).isoformat(),
        "python": sys.version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sdk_python": sdk,
        "config": {k: (str(v) if isinstance(v, Path | Tokens) else v) for k, v in vars(cfg).items()},
    }
    slim = json.loads(json.dumps(result["raw"]))
    for key in (
        "stdio",
        "http_2026_json",
        "http_2026_sse",
        "http_2025_sse",
        "http_2025_default",
        "http_2026_auth",
        "ws",
        "ws_asgi",
    ):
        for runs in slim.get(key, {}).values():
            for x in runs:
                for c in ("c1", "c16"):
                    x[c].pop("latencies_ms", None)
    cfg.json_out.write_text(
        json.dumps({"meta": meta, "summary": rows, "raw": slim, "errors": result["errors"]}, indent=1)
    )
    print(f"# wrote {cfg.json_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
