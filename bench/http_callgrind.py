"""Instructions per call of the real HTTP server process (uvicorn), counted by callgrind.

`http_cpu.py` reads the CPU time of the server processes, which a loaded machine's clock ticks blur;
this runs each server under ``valgrind --tool=callgrind`` instead, makes warm-up calls then N calls with
``servers.HttpDriver`` (the server benchmark's raw client), and does it twice, with two N: the
difference of the totals over the difference of N is one call (startup, imports, the handshake and the
warm-up cancel out). All runs go at once, one process each.

    python bench/http_callgrind.py [--n 200 1000] [--inflight 16] [--old PATH] [--out DIR] [--json-out PATH]
        [LEG ...]
    LEG: floor, floor-2025, 2026-json, 2025-json; all four by default. The WebSocket legs,
         one connection with a 2025-11-25 session driven by `rawws` (`servers.WsDriver`), as the
         server benchmark's WebSocket rows: ws (`run_websocket`), ws-uvicorn (`run_http` taking the
         upgrade), ws-floor (`apps/floor_ws.py`, RFC 6455 by hand on an `asyncio.Protocol`).
    --old PATH: also each mcpbind leg with PATH first on PYTHONPATH (as `http_cpu.py --old`).

Each HTTP floor (`apps/floor_asgi.py`) is driven as the mcpbind leg of its era, by the same driver, so
that uvicorn parses the same header lines and the app decodes the same body for both: `floor` gets what
`2026-json` gets (each call with the `_meta` of 2026-07-28, naming the protocol version, client and
capabilities, and the three routing headers `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`),
`floor-2025` what `2025-json` gets (`initialize` and its notification, then each call without `_meta`,
with that era's two headers, `Mcp-Session-Id` and `MCP-Protocol-Version`: the floor answers with a
session id of its own and checks none). Judge `2025-json` against `floor-2025`.

With several calls in flight, how many requests the server reads per loop turn follows the timing, so
the figure repeats less closely than the in-process one (`asgi_cost.py`): compare legs of one run.
``--json-out PATH`` also writes ``{"inflight": K, "legs": {leg: instructions per call}}``.

Every wait is bounded, so that a loaded machine makes a run slow or failed, never stalled: the server's
start (`START` s: a Python under callgrind starts slowly), then each step (`STEP` s: the WebSocket
upgrade, `initialize`, the warm-up, the N calls, the exit after SIGINT). A connection the server ends
fails the calls waiting on it at once (`servers.WsDriver`). One run failing stops the others (their
servers stopped, or killed past the bound) and the script exits with the first failure: the leg, N and
the step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
import callgrind
from servers import LEGACY, MODERN, HttpDriver, WsDriver, _clean_env, _free_port, _wait_port, load

APPS = Path(__file__).resolve().parent / "apps"
LEGS = {
    "floor": (["floor_asgi.py"], MODERN),  # (sent what 2026-json is)
    "floor-2025": (["floor_asgi.py"], LEGACY),  # (sent what 2025-json is)
    "2026-json": (["mcpbind_server.py", "--json"], MODERN),
    "2025-json": (["mcpbind_server.py", "--json"], LEGACY),
    "ws": (["mcpbind_server.py", "--websocket"], LEGACY),
    "ws-uvicorn": (["mcpbind_server.py", "--http"], LEGACY),
    "ws-floor": (["floor_ws.py"], LEGACY),
}
WARM_UP = 100
START = 600.0
"""Seconds a server under callgrind may take to listen: six servers at once took 55-115 s with a core kept
busy beside other work (load 9-11)."""
STEP = 300.0
"""Seconds any later step may take (the upgrade, `initialize`, the warm-up, the calls, the exit): the
slowest took about 10 s there."""
T = TypeVar("T")


async def step(what: str, leg: str, n: int, work: Awaitable[T], bound: float | None = STEP) -> T:
    """`work` within `bound` seconds (None: it bounds itself); past it, or failed, a RuntimeError that
    names the run and the step."""
    try:
        return await asyncio.wait_for(work, bound)
    except TimeoutError as exc:
        why = f" took over {bound:g} s" if bound is not None else f": {exc or 'timed out'}"
        raise RuntimeError(f"{leg} (N={n}): {what}{why}") from None
    except Exception as exc:
        raise RuntimeError(f"{leg} (N={n}): {what}: {type(exc).__name__}: {exc}") from exc


def sigint_default() -> None:
    """SIGINT at its default in a server about to start: a script run in the background (``cmd &``,
    as a benchmark run often is) starts with SIGINT ignored, its children inherit that, and a Python
    started with SIGINT ignored keeps ignoring it (`asyncio.Runner` puts no handler in place then). The
    WebSocket servers, `run_websocket` and the `websockets` floor of old, then never saw the SIGINT
    that `stop` sends and ran on until killed (uvicorn puts its own handler in place: the HTTP legs
    stopped)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def stop(proc: asyncio.subprocess.Process, leg: str, n: int, failed: bool = False) -> None:
    """SIGINT (uvicorn stops on it; callgrind writes its counts as the process exits), then the exit
    awaited `STEP` seconds; past that, or when cancelled meanwhile, the server is killed. Its exit too
    slow is an error unless the run has `failed` already (then the run's own error is the one told)."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    try:
        await step("the exit after SIGINT", leg, n, proc.wait())
    except BaseException as exc:
        if proc.returncode is None:
            proc.kill()
        if not (failed and isinstance(exc, RuntimeError)):
            raise


async def run(leg: str, n: int, inflight: int, out: Path, old: str | None) -> int:
    """Instructions of one server process: its start, the warm-up, `n` calls and its stop."""
    script, era = LEGS[leg.removeprefix("old:")]
    env = _clean_env()
    env["PYTHONHASHSEED"] = "0"
    if leg.startswith("old:"):
        assert old is not None
        env["PYTHONPATH"] = old
    port = _free_port()
    valgrind = callgrind.command(out, "--dump-instr=no")
    websocket = leg.removeprefix("old:").startswith("ws")
    flag = [] if websocket else ["--http"]
    server = [sys.executable, str(APPS / script[0]), *script[1:], *flag, str(port)]
    quiet = asyncio.subprocess.DEVNULL
    proc = await asyncio.create_subprocess_exec(
        *valgrind,
        *server,
        stdin=quiet,
        stdout=quiet,
        stderr=quiet,
        env=env,
        cwd=APPS.parent.parent,
        preexec_fn=sigint_default,
    )
    try:
        await step("the start", leg, n, _wait_port(port, proc, timeout=START), None)
        if websocket:
            ws = WsDriver(port, upgrade_timeout=STEP)
            try:
                await step("the upgrade", leg, n, ws.start(), None)
                await step("initialize", leg, n, ws.initialize())
                await step("the warm-up", leg, n, load(ws.echo, WARM_UP, inflight))
                await step("the calls", leg, n, load(ws.echo, n, inflight))
            finally:
                await ws.close()
        else:
            async with HttpDriver(port, era, "echo") as driver:
                await step("initialize", leg, n, driver.initialize())
                await step("the warm-up", leg, n, load(driver.echo, WARM_UP, inflight))
                await step("the calls", leg, n, load(driver.echo, n, inflight))
    except BaseException:  # (cancelled too: another run failed)
        await stop(proc, leg, n, failed=True)
        raise
    await stop(proc, leg, n)
    return callgrind.file_total(out)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("legs", nargs="*", default=["floor", "floor-2025", "2026-json", "2025-json"])
    ap.add_argument("--n", type=int, nargs=2, default=[200, 1000])
    ap.add_argument("--inflight", type=int, default=16)
    ap.add_argument("--old", help="PYTHONPATH of an older mcpbind, run as old:LEG beside each leg")
    ap.add_argument(
        "--out", type=Path, default=None, help="where the callgrind files go (default: a temporary folder)"
    )
    ap.add_argument(
        "--json-out", type=Path, default=None, help="also write the instructions per call as JSON"
    )
    args = ap.parse_args()
    names = list(args.legs)
    if args.old:
        names += [f"old:{name}" for name in args.legs if "floor" not in name]
    # Bytecode compiled first, once per checkout: otherwise the first of two runs to import a changed
    # module compiles it, and the difference of the two counts holds a compilation.
    for path in {None, args.old} if args.old else {None}:
        env = _clean_env()
        if path is not None:
            env["PYTHONPATH"] = path
        # The apps' own modules too (`cwd=APPS`), the floors' as mcpbind's: a run that finds one not
        # compiled yet compiles it, or not, as the other runs starting with it wrote it first or not.
        warm = (
            "import mcpbind.server, mcpbind.transports.http.app, mcpbind.transports.http.stateless,"
            " mcpbind.transports.websocket.standalone, mcpbind.transports.websocket.uvicorn_protocol,"
            " uvicorn, _toolgen, _uvicorn, floor_lines, floor_stdio"
        )
        subprocess.run([sys.executable, "-c", warm], env=env, check=True, cwd=APPS)
    out = args.out or Path(tempfile.mkdtemp(prefix="http-callgrind-"))
    out.mkdir(parents=True, exist_ok=True)
    small, large = args.n
    runs = [(name, n) for name in names for n in (small, large)]
    try:
        async with asyncio.TaskGroup() as group:  # (one failing cancels the others)
            tasks = [
                group.create_task(
                    run(name, n, args.inflight, out / f"{name.replace(':', '-')}.{n}.cg", args.old)
                )
                for name, n in runs
            ]
    except BaseExceptionGroup as failed:
        for exc in failed.exceptions:
            print(f"http_callgrind: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    counted = {run_: task.result() for run_, task in zip(runs, tasks, strict=True)}
    per_leg: dict[str, float] = {}
    for name in names:
        per_call = per_leg[name] = (counted[name, large] - counted[name, small]) / (large - small)
        print(f"{name:14s} {args.inflight:2d} in flight: {per_call / 1000:7.1f}k instructions/call")
    if args.json_out is not None:
        args.json_out.write_text(json.dumps({"inflight": args.inflight, "legs": per_leg}, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
