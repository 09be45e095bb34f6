#!/usr/bin/env python3
"""Curves, not only points: how each server's cost grows, for mcpbind, the Python SDK, the TypeScript SDK
on Node and the floor, measured with the drivers of ``servers.py``.

1. ``inflight``: stdio calls/s and p50/p99 against requests in flight (1, 4, 16, 64, 256), one server per
   implementation and round, ``echo``. mcpbind and the floor on uvloop. It is ``servers.py``'s stdio
   leg (`servers.leg_stdio`) measuring every level: run by ``servers.py --curves``, the curve's points
   are the very runs of the table's stdio rows (its 5 rounds), so the row and the point at 1 and 16
   in flight are one figure; run here, the same procedure.
2. ``payload``: ms per call (one at a time) and MB/s against the size of a text result (1 KB .. 10 MB,
   the ``blob`` tool), over stdio and HTTP stateless JSON (Node: 2025-11-25 without a session). The
   floor sends the same bytes.
3. ``tools``: ``tools/list`` time against the number of tools (10 .. 10,000; the generated tools of
   ``apps/_toolgen.py``), over stdio, all in one page (mcpbind's page size set to the count). The floor
   has no tool catalogue, so no floor here.

Implementations alternate within every round (the order rotates); medians over rounds. ``charts.py``
draws the result. Run from the repository root (``servers.py --curves`` runs it after its table):

    python bench/curves.py [--quick] [--rounds N] [--curves inflight,payload,tools] [--json-out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers
from servers import (
    ALL,
    DEFAULT_PEER_VENV,
    LEGACY,
    MODERN,
    Commands,
    HttpDriver,
    MachineProbe,
    Pin,
    StdioDriver,
    _driver_loop_run,
    _free_port,
    _pct,
    _rotate,
    _spawn,
    _stop,
    _wait_port,
    leg_list,
    leg_stdio,
    machine_state,
    node_binary,
    peer_python,
    sampling,
)

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_JSON_OUT = BENCH_DIR / "results" / "curves.json"
INFLIGHT = servers.CURVE_LEVELS
SIZES = (1 << 10, 10 << 10, 100 << 10, 1 << 20, 10 << 20)
TOOL_COUNTS = (10, 100, 1000, 10000)
CURVES = ("inflight", "payload", "tools")


def _reps(size: int, quick: bool) -> int:
    return (3 if quick else 5) if size >= 10 << 20 else (5 if quick else 15)


async def curve_inflight(cmds: Commands, impl: str, cfg: argparse.Namespace) -> dict[str, Any]:
    cmd = cmds.stdio(impl)
    assert cmd is not None
    return inflight_points(await leg_stdio(cmd, cfg, cfg.inflight))


def inflight_points(run: dict[str, Any]) -> dict[str, Any]:
    """The in-flight curve's points of one run of `servers.leg_stdio`: calls/s and p50/p99 per level."""
    points = {}
    for key, got in run.items():
        if key.startswith("c") and isinstance(got, dict) and "latencies_ms" in got:
            lat = got["latencies_ms"]
            stats = {k: v for k, v in got.items() if k != "latencies_ms"}
            points[key[1:]] = {**stats, "p50_ms": _pct(lat, 0.5), "p99_ms": _pct(lat, 0.99)}
    return points


def from_table(stdio: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    """The in-flight curve's runs by implementation, from the runs of the table's stdio leg."""
    return {
        impl: [{"points": inflight_points(x), "machine": x.get("machine")} for x in runs]
        for impl, runs in stdio.items()
    }


async def curve_payload(cmds: Commands, impl: str, cfg: argparse.Namespace, http: bool) -> dict[str, Any]:
    with Pin(pinned=http) as pin:  # (a StdioDriver pins itself)
        return await _payload_points(cmds, impl, cfg, http, pin)


async def _payload_points(
    cmds: Commands, impl: str, cfg: argparse.Namespace, http: bool, pin: Pin
) -> dict[str, Any]:
    proc = None
    drv: StdioDriver | HttpDriver | None = None
    try:  # (from the spawn: a server whose port never opens, or that fails to start, is stopped too)
        if http:
            port = _free_port()
            cmd = cmds.http(impl, port, True, stateless=True)
            assert cmd is not None
            proc = await _spawn(cmd, pin)
            await _wait_port(port, proc)
            drv = HttpDriver(port, LEGACY if impl == "node" else MODERN)
            await drv.initialize()
        else:
            cmd = cmds.stdio(impl)
            assert cmd is not None
            drv = StdioDriver(cmd, pinned=True)
            await drv.start()
            await asyncio.wait_for(drv.initialize(), 60)
        points = {}
        for size in cfg.sizes:
            await drv.text_call("blob", {"size": size}, size)
            times = [await drv.text_call("blob", {"size": size}, size) for _ in range(_reps(size, cfg.quick))]
            ms = statistics.median(times)
            points[str(size)] = {
                "ms": ms,
                "p99_ms": _pct(times, 0.99),
                "mb_per_s": size / 1e6 / (ms / 1000),
                "bytes": drv.last_bytes,
            }
        return points
    finally:
        if isinstance(drv, StdioDriver):
            await drv.close()
        elif drv is not None:
            await drv.__aexit__()
        if proc is not None:
            await _stop(proc)


async def curve_tools(cmds: Commands, impl: str, cfg: argparse.Namespace) -> dict[str, Any]:
    points = {}
    for n in cfg.tool_counts:
        cmd = cmds.stdio(impl, tools=n, page_size=n if impl == "mcpbind" else None)
        assert cmd is not None
        got = await leg_list(cmd, 3 if cfg.quick else 7)
        points[str(n)] = {"ms": got["ms"], "tools": got["tools"], "pages": got["pages"]}
    return points


async def run(
    cfg: argparse.Namespace, cmds: Commands, inflight: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """The curves, each implementation in turn within a round. ``inflight``: the runs of the table's
    stdio leg by implementation (``servers.py --curves``), which are then the in-flight curve."""
    impls = [i for i in ALL if i in cfg.impls and cmds.available(i)]
    raw: dict[str, dict[str, list[Any]]] = {}
    errors: list[str] = []
    if inflight is not None and "inflight" in cfg.curve_set:
        raw["inflight_stdio"] = from_table(inflight)

    async def guarded(key: str, impl: str, coro: Coroutine[Any, Any, dict[str, Any]]) -> None:
        try:
            with MachineProbe() as probe:
                points = await asyncio.wait_for(coro, cfg.leg_timeout)
            raw.setdefault(key, {}).setdefault(impl, []).append({"points": points, "machine": probe.record()})
        except Exception as e:
            errors.append(f"{key}/{impl}: {type(e).__name__}: {str(e)[:600]}")
            print(f"# error {key}/{impl}: {str(e)[:600]}", file=sys.stderr)

    t0 = time.perf_counter()
    for r in range(cfg.rounds):
        for impl in _rotate(tuple(impls), r):
            print(f"# curves round {r + 1}/{cfg.rounds}: {impl}", file=sys.stderr)
            if "inflight" in cfg.curve_set and inflight is None:
                await guarded("inflight_stdio", impl, curve_inflight(cmds, impl, cfg))
            if "payload" in cfg.curve_set:
                await guarded("payload_stdio", impl, curve_payload(cmds, impl, cfg, http=False))
                await guarded("payload_http", impl, curve_payload(cmds, impl, cfg, http=True))
            if "tools" in cfg.curve_set and impl != "floor":
                await guarded("tools_list", impl, curve_tools(cmds, impl, cfg))
    return {"raw": raw, "summary": summarize(raw), "errors": errors, "elapsed_s": time.perf_counter() - t0}


def summarize(raw: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """curve -> impl -> x -> metric -> median over rounds."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for key, impls in raw.items():
        for impl, runs in impls.items():
            xs = runs[0]["points"].keys()
            out.setdefault(key, {})[impl] = {
                x: {
                    metric: statistics.median(run["points"][x][metric] for run in runs if x in run["points"])
                    for metric in runs[0]["points"][x]
                }
                for x in xs
            }
    return out


def table(summary: dict[str, Any]) -> str:
    """The curves as small tables (the charts show the same figures)."""
    specs = (
        ("inflight_stdio", "stdio, requests in flight", ("calls_per_s", "p99_ms")),
        ("payload_stdio", "stdio, text result bytes", ("ms", "mb_per_s")),
        ("payload_http", "HTTP stateless JSON, text result bytes", ("ms", "mb_per_s")),
        ("tools_list", "tools/list over stdio, tools", ("ms",)),
    )
    parts = []
    for key, title, metrics in specs:
        data = summary.get(key)
        if not data:
            continue
        impls = [i for i in ALL if i in data]
        xs = list(next(iter(data.values())).keys())
        for metric in metrics:
            head = f"| {title} → {metric} | " + " | ".join(impls) + " |"
            lines = [head, "|---|" + "--:|" * len(impls)]
            for x in xs:
                cells = [_cell(data[i].get(x, {}).get(metric)) for i in impls]
                lines.append(f"| {int(x):,} | " + " | ".join(cells) + " |")
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _cell(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v < 10 else f"{v:.1f}"


def configure(cfg: argparse.Namespace) -> None:
    """Fill in what the curves need on a namespace parsed by this module or by ``servers.py``."""
    cfg.inflight = INFLIGHT
    cfg.sizes = SIZES if not cfg.quick else SIZES[:4]
    cfg.tool_counts = TOOL_COUNTS if not cfg.quick else TOOL_COUNTS[:3]
    cfg.curve_set = getattr(cfg, "curve_set", None) or CURVES
    cfg.leg_timeout = max(getattr(cfg, "leg_timeout", 0), 600)
    sampling(cfg)


def write(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(f"# wrote {path}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer points and calls, one round")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--impls", default=",".join(ALL))
    ap.add_argument("--curves", default=",".join(CURVES))
    ap.add_argument("--json-out", type=Path, default=DEFAULT_JSON_OUT)
    ap.add_argument("--charts", type=Path, default=None, help="draw the charts into this folder")
    ap.add_argument("--peer-python", type=Path)
    ap.add_argument("--peer-venv", type=Path, default=DEFAULT_PEER_VENV)
    ap.add_argument("--no-peer-setup", action="store_true")
    ap.add_argument("--no-pin", action="store_true", help="leave CPU placement to the scheduler")
    cfg = ap.parse_args()
    servers.PIN = not cfg.no_pin
    cfg.rounds = cfg.rounds or (1 if cfg.quick else 3)
    cfg.impls = cfg.impls.split(",")
    cfg.curve_set = tuple(cfg.curves.split(","))
    configure(cfg)
    sdk = peer_python(cfg) if "sdk" in cfg.impls else None
    node = node_binary() if "node" in cfg.impls else None
    result = _driver_loop_run(run(cfg, Commands(sdk, node)))
    print(table(result["summary"]))
    print(f"\n- {machine_state(result['raw'])}")
    for e in result["errors"]:
        print(f"\nerror: {e}")
    write(result, cfg.json_out)
    if cfg.charts:
        import charts

        charts.draw(result["summary"], cfg.charts)


if __name__ == "__main__":
    main()
