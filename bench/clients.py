#!/usr/bin/env python3
"""Client benchmark: the "client ceiling", mcpbind's ``Client`` vs the official SDK's (``mcp==2.3.0``)
``ClientSession``, against the same near-free server.

Run from the repository root with the mcpbind environment's interpreter (it needs msgspec, uvicorn,
and aiohttp for the reference driver: ``pip install -e .[http,bench]``):

    python bench/clients.py            # full run (5 rounds), a few minutes
    python bench/clients.py --quick    # smoke run, < 60 s

What is measured is how many ``tools/call`` calls per second a client library can make, and their
latency, with 1 and 16 calls in flight. The server does next to nothing: the server benchmark's floors,
``bench/apps/floor_stdio.py`` (stdio, spawned by each client library itself, as in real use) and
``bench/apps/floor_asgi.py`` (a bare ASGI app under uvicorn, answering JSON, 202 for notifications, 405
for GET; one subprocess started here on 127.0.0.1), both under mcpbind's interpreter for both clients.
Each client runs in a subprocess of its own interpreter (``bench/apps/client_mcpbind.py`` here,
``bench/apps/client_sdk.py`` in the SDK's venv, ``bench/.venvs/mcp``, created on first use;
``--peer-python`` to bring your own; what they share is ``bench/apps/_clientrun.py``) on the default
asyncio loop (``--uvloop`` for uvloop in both), connects, warms up, makes N calls one at a time, then N
calls 16 at a time, and checks every answer's text. Both speak the same revision: legs

- ``stdio-2025`` / ``http-2025``: 2025-11-25, stateful (``initialize`` handshake; over HTTP with an
  ``Mcp-Session-Id``);
- ``stdio-2026`` / ``http-2026``: 2026-07-28, stateless (``server/discover``, then ``_meta`` on every
  request; over HTTP with the ``Mcp-Method``/``Mcp-Name`` headers).

The SDK lists the tools before its first call (to validate results against their output schema); that
happens during the warm-up. Beside them, over HTTP, ``bench/apps/client_aiohttp.py`` makes the same
POSTs through aiohttp with no MCP library: what a general-purpose HTTP client costs on its own (mcpbind's
client, on its own HTTP/1.1 client, is measured against it). The implementations alternate (the order
rotates every round); each phase calls for ``--seconds`` (1 s, after a warm-up half as long), by time
rather than by count. The client under test runs pinned to one CPU and the floor server to the other
(``--no-pin``: the scheduler's choice; the result records both): left to the scheduler, the share of the
raw driver at 16 in flight went 56-96% between two runs. Each leg records the machine's state
(`servers.MachineProbe`, the HTTP server's CPU counted as ours). Reported: the medians over rounds of calls/s,
p50/p99 of the latencies pooled over rounds, and for the ratio columns the median of per-round ratios
(mcpbind over the peer in the same round) with the lowest and highest round in brackets.
Target: >= 4x the official client's calls/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import shlex
import signal
import statistics
import sys
import time
from array import array
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers
from servers import (
    DEFAULT_PEER_VENV,
    LEGACY,
    MODERN,
    MachineProbe,
    Pin,
    _clean_env,
    _fmt,
    _free_port,
    _pct,
    _rotate,
    _spawn,
    _spread,
    _stop,
    _wait_port,
    leg_cpus,
    machine_state,
    peer_python,
)

BENCH_DIR = Path(__file__).resolve().parent
APPS = BENCH_DIR / "apps"
REPO_ROOT = BENCH_DIR.parent
DEFAULT_JSON_OUT = BENCH_DIR / "results" / "clients.json"
IMPLS = ("mcpbind", "sdk", "raw", "aiohttp")
DRIVERS = {
    "mcpbind": "client_mcpbind.py",
    "sdk": "client_sdk.py",
    "raw": "client_raw.py",
    "aiohttp": "client_aiohttp.py",
}
HTTP_ONLY = frozenset({"aiohttp"})
LEGS = {  # leg -> (transport, revision, label)
    "stdio-2025": ("stdio", LEGACY, f"stdio {LEGACY}"),
    "http-2025": ("http", LEGACY, f"HTTP {LEGACY}"),
    "stdio-2026": ("stdio", MODERN, f"stdio {MODERN}"),
    "http-2026": ("http", MODERN, f"HTTP {MODERN}"),
}
TARGET_RATIO = 4.0
PHASES = ("c1", "c16")  # the driver's result keys: 1 and 16 calls in flight
SIZES = {  # --quick, full run (--rounds overrides rounds)
    "rounds": (1, 5),
    "warmup": (50, 100),
    "seconds": (0.1, 1.0),  # each phase samples by time (the warm-up half as long) ...
    "n_stdio_1": (100, 200),  # ... and makes at least these calls
    "n_stdio_16": (200, 400),
    "n_http_1": (50, 200),
    "n_http_16": (100, 400),
    "leg_timeout": (45, 180),
}


# --------------------------------------------------------------------------------------------------------
# One leg: one client driver subprocess against the near-free server
# --------------------------------------------------------------------------------------------------------


async def run_driver(
    python: str, impl: str, leg: str, url: str | None, cfg: argparse.Namespace, server_cpus: list[int] | None
) -> dict[str, Any]:
    transport, era, _ = LEGS[leg]
    n1, n16 = (cfg.n_stdio_1, cfg.n_stdio_16) if transport == "stdio" else (cfg.n_http_1, cfg.n_http_16)
    cmd = [python, str(APPS / DRIVERS[impl]), "--transport", transport, "--era", era]
    pin = Pin()  # the client under test on one CPU, the floor server on the other
    if transport == "stdio":  # (the client spawns it: pinned by the command line it is given)
        cmd += ["--server-cmd", shlex.join(pin.command([sys.executable, str(APPS / "floor_stdio.py")]))]
    else:
        assert url is not None
        cmd += ["--url", url]
    cmd += ["--n1", str(n1), "--n16", str(n16), "--warmup", str(cfg.warmup), "--seconds", str(cfg.seconds)]
    cmd += ["--timeout", str(max(10, cfg.leg_timeout - 10)), "--call-timeout", "30"]
    if cfg.uvloop:
        cmd.append("--uvloop")
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_clean_env(),
        cwd=REPO_ROOT,
        start_new_session=True,  # its own process group: a stuck driver goes with its stdio server
        **pin.spawn_options(side=0),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), cfg.leg_timeout)
    except TimeoutError:
        _kill_group(proc)
        await proc.wait()
        raise RuntimeError(f"{impl} {leg}: no result within {cfg.leg_timeout} s") from None
    finally:
        if proc.returncode is None:
            _kill_group(proc)
            await proc.wait()
    lines = out.decode(errors="replace").strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{impl} {leg}: exit {proc.returncode}; stderr: {err.decode(errors='replace')[-1500:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    # Where each side ran: the client says where it was, the server is where it was put.
    result["cpus"] = {"client": result.pop("cpus", None), "server": server_cpus}
    if result.get("revision") != era:
        raise RuntimeError(f"{impl} {leg}: spoke {result.get('revision')}, not {era}")
    return result


def driver_latencies(phase: dict[str, Any]) -> list[float]:
    """A driver's latencies (ms) of one phase, taken out of its result: ``apps/_clientrun.py`` prints
    them as the base64 of their doubles (``latencies_f64``)."""
    return array("d", base64.b64decode(phase.pop("latencies_f64"))).tolist()


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class HttpServer:
    """The near-free ASGI server under uvicorn, one subprocess for the whole run (restarted if it died),
    on the server's CPU (`servers.Pin`; the clients run on the other)."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def ensure(self) -> str:
        if self.proc is not None and self.proc.returncode is None:
            return self.url
        port = _free_port()
        floor = [sys.executable, str(APPS / "floor_asgi.py"), "--http", str(port)]
        self.proc = await _spawn(floor, Pin())
        await _wait_port(port, self.proc)
        self.url = f"http://127.0.0.1:{port}/mcp"
        return self.url

    def cpus(self) -> list[int] | None:
        if self.proc is None:
            return None
        try:
            return sorted(os.sched_getaffinity(self.proc.pid))
        except OSError:
            return None

    async def stop(self) -> None:
        if self.proc is not None:
            await _stop(self.proc)
            self.proc = None


# --------------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------------


async def run(cfg: argparse.Namespace, pythons: dict[str, str]) -> dict[str, Any]:
    impls = [i for i in IMPLS if i in pythons]
    raw: dict[str, dict[str, list[Any]]] = {}  # leg -> impl -> driver results, latencies taken out
    pooled: dict[tuple[str, str, str], list[float]] = {}  # (leg, impl, c1|c16) -> latencies (ms), all rounds
    errors: list[str] = []
    server = HttpServer()
    t_start = time.perf_counter()
    try:
        for r in range(cfg.rounds):
            for leg in cfg.legs:
                for impl in _rotate(tuple(impls), r):
                    if impl in HTTP_ONLY and LEGS[leg][0] != "http":
                        continue
                    print(f"# round {r + 1}/{cfg.rounds}: {leg} {impl}", file=sys.stderr)
                    try:
                        http = LEGS[leg][0] == "http"
                        url = await server.ensure() if http else None
                        pinned = leg_cpus()
                        cpus = server.cpus() if http else sorted(pinned[1]) if pinned else None
                        server_pids = (server.proc.pid,) if http and server.proc else ()
                        with MachineProbe(server_pids) as probe:
                            result = await run_driver(pythons[impl], impl, leg, url, cfg, cpus)
                        result["machine"] = probe.record()
                    except Exception as e:
                        errors.append(f"{leg}/{impl}: {type(e).__name__}: {str(e)[:1500]}")
                        print(f"# error {leg}/{impl}: {str(e)[:1500]}", file=sys.stderr)
                        continue
                    for c in PHASES:
                        pooled.setdefault((leg, impl, c), []).extend(driver_latencies(result[c]))
                    result["round"] = r
                    raw.setdefault(leg, {}).setdefault(impl, []).append(result)
    finally:
        await server.stop()
    return {"raw": raw, "pooled": pooled, "errors": errors, "elapsed_s": time.perf_counter() - t_start}


# --------------------------------------------------------------------------------------------------------
# Summary and table
# --------------------------------------------------------------------------------------------------------


def summarize(
    raw: dict[str, Any], pooled: dict[tuple[str, str, str], list[float]]
) -> dict[str, dict[str, float]]:
    """measure -> impl -> value: the median over rounds of calls/s, percentiles of the pooled latencies."""
    rows: dict[str, dict[str, float]] = {}
    for leg, (_, _, label) in LEGS.items():
        for impl, runs in raw.get(leg, {}).items():
            for c in PHASES:
                stats = {"calls/s": statistics.median(x[c]["calls_per_s"] for x in runs)}
                if all("cpu_us_per_call" in x[c] for x in runs):
                    # The driver's own CPU per call: what load on the machine changes least.
                    stats["CPU us/call"] = statistics.median(x[c]["cpu_us_per_call"] for x in runs)
                if lat := pooled.get((leg, impl, c)):
                    stats |= {"p50 ms": _pct(lat, 0.5), "p99 ms": _pct(lat, 0.99)}
                for name, value in stats.items():
                    rows.setdefault(f"{label} {name}, {c[1:]} in flight", {})[impl] = value
    return rows


def round_ratios(raw: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """measure -> peer (sdk, raw) -> mcpbind's calls/s over the peer's, one per round both ran: their
    median is the table's ratio (steadier than the ratio of medians), their range its noise."""
    out: dict[str, dict[str, list[float]]] = {}
    for leg, (_, _, label) in LEGS.items():
        runs_of = raw.get(leg, {})
        for peer in ("sdk", "raw"):
            theirs = {x["round"]: x for x in runs_of.get(peer, [])}
            for c in PHASES:
                ratios = [
                    x[c]["calls_per_s"] / theirs[x["round"]][c]["calls_per_s"]
                    for x in runs_of.get("mcpbind", [])
                    if x["round"] in theirs
                ]
                if ratios:
                    out.setdefault(f"{label} calls/s, {c[1:]} in flight", {})[peer] = ratios
    return out


def _target(measure: str, v: dict[str, float], ratios: dict[str, list[float]] | None = None) -> str:
    m, s, r = v.get("mcpbind"), v.get("sdk"), v.get("raw")
    if "calls/s" not in measure or m is None:
        return ""
    of_sdk = statistics.median(ratios["sdk"]) if ratios and "sdk" in ratios else m / s if s else None
    ok = None if of_sdk is None else of_sdk >= TARGET_RATIO
    mark = f"{'✓' if ok else '✗' if ok is not None else '?'} >= {TARGET_RATIO:g}x SDK"
    if ok is False and s and r and r / s < TARGET_RATIO:
        mark += f"; out of reach: no library at all is {r / s:.2f}x SDK"
    return mark


def table(rows: dict[str, dict[str, float]], ratios: dict[str, dict[str, list[float]]] | None = None) -> str:
    """The figures, mcpbind's ratio to the SDK and share of the raw driver: for calls/s, the median of
    the per-round ratios (`round_ratios`) with the lowest and highest round in brackets."""
    ratios = ratios or {}
    out = [
        "| measure | mcpbind | SDK | raw (no library) | aiohttp alone | mcpbind/SDK | % of raw | target |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for measure, v in rows.items():
        m, s, r, a = v.get("mcpbind"), v.get("sdk"), v.get("raw"), v.get("aiohttp")
        per_round = ratios.get(measure, {})
        ratio = f"{m / s:.2f}x" if m and s else "—"
        if "sdk" in per_round:
            ratio = _spread(per_round["sdk"], lambda x: f"{x:.2f}", "x")
        of_raw = "—"
        if "raw" in per_round:
            of_raw = _spread(per_round["raw"], lambda x: f"{100 * x:.0f}", "%")
        elif m and r and "calls/s" in measure:
            of_raw = f"{100 * m / r:.0f}%"
        elif m and r and "CPU" in measure:
            of_raw = f"{100 * r / m:.0f}%"  # as a share of calls/s would be, were the client the limit
        out.append(
            f"| {measure} | {_fmt(m)} | {_fmt(s)} | {_fmt(r)} | {_fmt(a)} | {ratio} | {of_raw} "
            f"| {_target(measure, v, per_round)} |"
        )
    return "\n".join(out)


def _subset(known: tuple[str, ...]) -> Callable[[str], list[str]]:
    """An argparse ``type``: a comma-separated list of some of ``known``."""

    def parse(text: str) -> list[str]:
        names = text.split(",")
        if unknown := [x for x in names if x not in known]:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; known: {','.join(known)}")
        return names

    return parse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny N, one round (CI smoke run, < 60 s)")
    ap.add_argument("--json-out", type=Path, default=DEFAULT_JSON_OUT)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--impls", type=_subset(IMPLS), default=list(IMPLS), help=",".join(IMPLS))
    ap.add_argument("--legs", type=_subset(tuple(LEGS)), default=list(LEGS), help=",".join(LEGS))
    ap.add_argument("--uvloop", action="store_true", help="both clients on uvloop (default: asyncio's loop)")
    ap.add_argument("--peer-python", type=Path, help="interpreter that has mcp==2.3.0")
    ap.add_argument("--peer-venv", type=Path, default=DEFAULT_PEER_VENV)
    ap.add_argument("--no-peer-setup", action="store_true")
    ap.add_argument("--no-pin", action="store_true", help="leave CPU placement to the scheduler")
    ap.add_argument("--seconds", type=float, default=None, help="each phase's time (default 1)")
    cfg = ap.parse_args()
    servers.PIN = not cfg.no_pin
    for key, (quick, full) in SIZES.items():
        if getattr(cfg, key, None) is None:
            setattr(cfg, key, quick if cfg.quick else full)

    pythons = {i: sys.executable for i in ("mcpbind", "raw", "aiohttp") if i in cfg.impls}
    sdk = peer_python(cfg) if "sdk" in cfg.impls else None
    if sdk is not None:
        pythons["sdk"] = sdk
    result = asyncio.run(run(cfg, pythons))
    rows, ratios = summarize(result["raw"], result["pooled"]), round_ratios(result["raw"])
    print(table(rows, ratios))
    print(f"\n- {machine_state(result['raw'])}")
    for e in result["errors"]:
        print(f"\nerror: {e}")
    how = f"{cfg.rounds} rounds, {'uvloop' if cfg.uvloop else 'asyncio'} loop"
    print(f"\n({result['elapsed_s']:.0f} s; {how}; medians, ratios per round; latencies pooled)")
    # Each driver's result says which Python and loop it ran on; the latencies are in the summary only.
    env = {"date": datetime.now(UTC).isoformat(), "platform": platform.platform(), "cpus": os.cpu_count()}
    meta = {**env, "pythons": pythons, "config": vars(cfg)}
    out = {"meta": meta, "summary": rows, "ratios": ratios, "raw": result["raw"], "errors": result["errors"]}
    cfg.json_out.parent.mkdir(parents=True, exist_ok=True)
    cfg.json_out.write_text(json.dumps(out, indent=1, default=str))
    print(f"# wrote {cfg.json_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
