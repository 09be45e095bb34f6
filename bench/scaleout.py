"""Scale-out benchmark: calls/s of mcpbind's HTTP server on 1 and 2 workers (`run_http(workers=, redis=)`),
both eras, with the CPU every process took per call, and what the Redis session store costs per request
against memory (stateful era): CPU, and Redis commands counted by Redis itself (INFO commandstats).

The load comes from `wrk` (C, epoll; bench/wrk_mcp.lua makes the MCP requests and checks every answer),
so that the driver takes a small share of the cores the workers need; the Python driver of
`servers.py` is the fallback when wrk is absent (a warning says so: it needs about a core itself at
these rates, so the 2-worker figure is then a floor). Each configuration is a fresh server process
(bench/apps/mcpbind_server.py); a real redis-server runs on a free loopback port. Configurations alternate
over the rounds (the machine may be shared): the figures are medians over rounds.

CPU is utime+stime from /proc (the workers, redis-server, the machine) and wait4's rusage (wrk), over
the measured run alone; "driver cores" is the driver's CPU seconds per second of the run, "other
load" what the rest of the machine took meanwhile.

    python bench/scaleout.py [--rounds 3] [--duration 5] [--inflight 16] [--pin] [--python-driver]
    python bench/scaleout.py --quick   # a smoke run (CI): 1 round of 1 s
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import LEGACY, MODERN, HttpDriver, load

BENCH = Path(__file__).resolve().parent
APP = str(BENCH / "apps" / "mcpbind_server.py")
LUA = str(BENCH / "wrk_mcp.lua")
DEFAULT_JSON_OUT = BENCH / "results" / "scaleout.json"
TICK = os.sysconf("SC_CLK_TCK")
CONFIGS = {
    "1 worker, memory": (1, False),
    "1 worker, Redis": (1, True),
    "2 workers, Redis": (2, True),
}


@dataclass
class Run:
    """One measured run of one configuration and era."""

    config: str
    era: str
    driver: str
    calls: int
    wall_s: float
    calls_per_s: float
    p50_ms: float
    server_us_per_call: float
    """CPU of every server process (the workers and their parent) per call."""
    worker_cores: list[float]
    """Each worker's CPU seconds per second of the run (a core is 1.0)."""
    worker_connections: list[int]
    """The driver's connections each worker held (the kernel spreads them over the workers' sockets)."""
    driver_cores: float
    driver_us_per_call: float
    redis_cores: float
    redis_us_per_call: float
    redis_commands_per_call: float
    redis_commands: dict[str, int] = field(default_factory=dict)
    other_cores: float = 0.0
    """What the rest of the machine took meanwhile (other processes: a shared machine's noise)."""
    loadavg: float = 0.0


# -- processes and their CPU ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no server on port {port}") from None
            time.sleep(0.05)


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def wait_workers(pid: int, workers: int) -> list[int]:
    """The server's processes once all its workers run: [pid] alone, or the parent and its workers."""
    deadline = time.monotonic() + 30
    while workers > 1 and len(children(pid)) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not start")
        time.sleep(0.05)
    return [pid, *children(pid)] if workers > 1 else [pid]


def cpu_seconds(pid: int) -> float:
    """utime+stime of `pid` (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of proc(5), after the name


def connections(pids: list[int], port: int) -> list[int]:
    """How many established connections to `port` each of `pids` holds (how the kernel spread them)."""
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            continue
        hexport = f":{port:04X}"
        established.update(row[9] for row in rows if row[1].endswith(hexport) and row[3] == "01")
    counts = []
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            links = []
        counts.append(sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in established))
    return counts


def machine_busy() -> float:
    """CPU seconds every core spent not idle since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICK


# -- Redis: its server, and the commands it counted -----------------------------------------------------


def redis_commands(port: int) -> dict[str, int]:
    """INFO commandstats: calls per command since start (read over a raw socket: no client needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"INFO commandstats\r\n")
        data = sock.recv(65536)
        size = int(data[1 : data.index(b"\r\n")])  # a bulk string: $<size>\r\n<text>\r\n
        while len(data) < data.index(b"\r\n") + 2 + size:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("redis-server closed the connection")
            data += chunk
    counts: dict[str, int] = {}
    for line in data.decode().splitlines():
        if line.startswith("cmdstat_"):
            name, _, stats = line[len("cmdstat_") :].partition(":")
            counts[name] = int(stats.split(",")[0].partition("=")[2])
    counts.pop("info", None)  # our own
    return counts


# -- sessions for the stateful era -----------------------------------------------------------------------


def open_sessions(port: int, count: int) -> list[str]:
    """`count` 2025-11-25 sessions (initialize, then notifications/initialized): their ids."""
    ids = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "wrk", "version": "0"},
        },
    }
    try:
        for _ in range(count):
            conn.request("POST", "/mcp", json.dumps(init), headers)
            response = conn.getresponse()
            body = response.read()
            sid = response.getheader("mcp-session-id")
            if response.status != 200 or not sid:
                raise RuntimeError(f"initialize answered {response.status}: {body[:300]!r}")
            done = {**headers, "mcp-session-id": sid, "mcp-protocol-version": LEGACY}
            conn.request(
                "POST", "/mcp", json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}), done
            )
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                raise RuntimeError(f"notifications/initialized answered {response.status}")
            ids.append(sid)
    finally:
        conn.close()
    return ids


# -- drivers ---------------------------------------------------------------------------------------------


def run_wrk(
    port: int, era: str, sessions: list[str], seconds: float, args: Any, probe: Callable[[], None]
) -> tuple[dict[str, Any], float]:
    """wrk's summary (wrk-json line of bench/wrk_mcp.lua) and the CPU seconds wrk took; `probe` is called
    once while it runs."""
    threads, inflight = min(args.inflight, args.driver_threads), args.inflight
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(inflight),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
    ]
    cmd += ["-s", LUA, f"http://127.0.0.1:{port}/mcp", "--", era, ",".join(sessions)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    time.sleep(min(1.0, seconds / 2))  # every connection is open by then
    probe()
    with proc.stdout:
        out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)  # wrk's own CPU (Popen.wait would drop it)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.startswith("wrk-json: ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out[-1000:]}")
    summary: dict[str, Any] = json.loads(lines[-1][len("wrk-json: ") :])
    if summary["bad"] or summary["errors"]:
        raise RuntimeError(
            f"{summary['bad']} bad answers, {summary['errors']} errors: {summary['first_bad']}"
        )
    return summary, usage.ru_utime + usage.ru_stime


def run_python(
    port: int, era: str, calls: int, inflight: int, probe: Callable[[], None]
) -> tuple[dict[str, Any], float]:
    """The fallback: servers.py's raw asyncio driver in this process (its CPU from getrusage)."""

    async def go() -> dict[str, Any]:
        async with HttpDriver(port, era) as driver:
            await driver.initialize()
            await load(driver.echo, inflight, inflight)  # every connection open
            probe()
            before = resource.getrusage(resource.RUSAGE_SELF)
            got = await load(driver.echo, calls, inflight)
            after = resource.getrusage(resource.RUSAGE_SELF)
            got["cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            return got

    got = asyncio.run(go())
    summary = {
        "requests": calls,
        "duration_us": got["wall_s"] * 1e6,
        "p50_us": statistics.median(got["latencies_ms"]) * 1000,
    }
    return summary, got["cpu"]


# -- one configuration ------------------------------------------------------------------------------------


def measure(
    config: str,
    port: int,
    pids: list[int],
    redis_pid: int | None,
    redis_port: int | None,
    era: str,
    args: Any,
) -> Run:
    sessions = open_sessions(port, args.inflight) if era == LEGACY else []
    use_wrk = not args.python_driver

    workers = pids[1:] if len(pids) > 1 else pids
    split: list[int] = []

    def probe() -> None:
        split[:] = connections(workers, port)

    def drive(seconds: float, calls: int) -> tuple[dict[str, Any], float]:
        if use_wrk:
            return run_wrk(port, era, sessions, seconds, args, probe)
        return run_python(port, era, calls, args.inflight, probe)

    drive(args.warmup, max(200, args.calls // 10))  # every worker and connection warm
    cpu0 = [cpu_seconds(p) for p in pids]
    redis0 = cpu_seconds(redis_pid) if redis_pid else 0.0
    commands0 = redis_commands(redis_port) if redis_port else {}
    busy0, t0 = machine_busy(), time.monotonic()
    summary, driver_cpu = drive(args.duration, args.calls)
    busy, wall = machine_busy() - busy0, time.monotonic() - t0
    cpu = [cpu_seconds(p) - c for p, c in zip(pids, cpu0, strict=True)]
    redis_cpu = (cpu_seconds(redis_pid) - redis0) if redis_pid else 0.0
    commands1 = redis_commands(redis_port) if redis_port else {}
    commands = {k: v - commands0.get(k, 0) for k, v in commands1.items() if v != commands0.get(k, 0)}
    calls = int(summary["requests"])
    driven = summary["duration_us"] / 1e6
    per_call = lambda seconds: seconds / calls * 1e6  # noqa: E731
    return Run(
        config=config,
        era=era,
        driver="wrk" if use_wrk else "python",
        calls=calls,
        wall_s=round(driven, 3),
        calls_per_s=calls / driven,
        p50_ms=summary["p50_us"] / 1000,
        server_us_per_call=per_call(sum(cpu)),
        worker_cores=[round(c / wall, 2) for c in (cpu[1:] if len(cpu) > 1 else cpu)],
        worker_connections=split,
        driver_cores=driver_cpu / wall,
        driver_us_per_call=per_call(driver_cpu),
        redis_cores=redis_cpu / wall,
        redis_us_per_call=per_call(redis_cpu),
        redis_commands_per_call=sum(commands.values()) / calls,
        redis_commands=commands,
        other_cores=max(0.0, (busy - sum(cpu) - driver_cpu - redis_cpu) / wall),
        loadavg=os.getloadavg()[0],
    )


def pin(pids: list[int]) -> None:
    """Each worker on a core of its own (the driver and Redis run anywhere)."""
    cores = sorted(os.sched_getaffinity(0))
    for i, pid in enumerate(pids):
        os.sched_setaffinity(pid, {cores[i % len(cores)]})


def serve(config: str, redis_url: str | None, args: Any) -> tuple[subprocess.Popen[bytes], int, list[int]]:
    workers, with_redis = CONFIGS[config]
    port = free_port()
    cmd = [sys.executable, APP, "--http", str(port), "--workers", str(workers)]
    server = subprocess.Popen([*cmd, *(["--redis", redis_url] if with_redis and redis_url else [])])
    try:
        wait_port(port, server)
        pids = wait_workers(server.pid, workers)
        if args.pin:
            pin(pids[1:] if len(pids) > 1 else pids)
    except BaseException:
        server.terminate()
        server.wait(15)
        raise
    return server, port, pids


# -- the table -------------------------------------------------------------------------------------------


def medians(runs: list[Run]) -> dict[tuple[str, str], dict[str, float]]:
    keys = ("calls_per_s", "p50_ms", "server_us_per_call", "driver_cores", "driver_us_per_call")
    keys += ("redis_us_per_call", "redis_commands_per_call", "other_cores", "loadavg")
    grouped: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        grouped.setdefault((run.config, run.era), []).append(run)
    out = {}
    for key, group in grouped.items():
        out[key] = {k: statistics.median(float(getattr(r, k)) for r in group) for k in keys}
        out[key]["workers_cores"] = statistics.median(sum(r.worker_cores) for r in group)
        out[key]["ceiling"] = statistics.median(ceiling(r) for r in group)
    return out


def ceiling(run: Run) -> float:
    """The calls/s the machine's cores allow at this run's CPU per call (server, driver, Redis), with nothing
    else running: a worker is one process, so it uses one core at most."""
    cores = os.cpu_count() or 1
    total = run.server_us_per_call + run.driver_us_per_call + run.redis_us_per_call
    return min(len(run.worker_cores) * 1e6 / run.server_us_per_call, cores * 1e6 / total)


def table(runs: list[Run], args: Any) -> str:
    med = medians(runs)
    driver = runs[0].driver
    lines = [
        f"Medians over {args.rounds} alternating rounds of "
        + (f"{args.duration:g} s" if driver == "wrk" else f"{args.calls} calls")
        + f", {args.inflight} in flight (one connection each), `echo` tool calls; driver "
        + (
            f"wrk ({args.driver_threads} thread, bench/wrk_mcp.lua)"
            if driver == "wrk"
            else "Python (servers.py's; it competes with the workers for the cores: a floor)"
        )
        + f"; workers {'pinned one per core' if args.pin else 'not pinned'}; {os.cpu_count()} CPUs. CPU is "
        "utime+stime from /proc over the measured run (cores: CPU seconds per second). Ceiling: the calls/s "
        "the cores allow at the measured CPU per call of server, driver and Redis together, a worker "
        "using one core at most. Other load: what the rest of the machine took meanwhile.",
        "",
        "| configuration | era | calls/s | ceiling | p50 ms | server CPU µs/call | worker cores "
        "| Redis CPU µs/call | Redis cmds/call | driver cores | driver CPU µs/call | other load, cores |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for (config, era), m in sorted(
        med.items(), key=lambda kv: (kv[0][1] != MODERN, list(CONFIGS).index(kv[0][0]))
    ):
        lines.append(
            f"| {config} | {era} | {m['calls_per_s']:.0f} | {m['ceiling']:.0f} | {m['p50_ms']:.2f} "
            f"| {m['server_us_per_call']:.0f} | {m['workers_cores']:.2f} | {m['redis_us_per_call']:.0f} "
            f"| {m['redis_commands_per_call']:.2f} | {m['driver_cores']:.2f} | {m['driver_us_per_call']:.1f} "
            f"| {m['other_cores']:.2f} |"
        )
    lines.append("")
    one_mem, one_redis, two_redis = CONFIGS
    for era in (MODERN, LEGACY):
        if (two_redis, era) not in med:
            continue
        two, r1, m1 = med[(two_redis, era)], med[(one_redis, era)], med[(one_mem, era)]
        splits = ", ".join(
            "/".join(map(str, r.worker_connections)) for r in runs if (r.config, r.era) == (two_redis, era)
        )
        lines.append(
            f"- {era}: calls/s of 2 workers (Redis) / 1 worker (Redis) = "
            f"**{two['calls_per_s'] / r1['calls_per_s']:.2f}x**; 2 workers (Redis) / 1 worker (memory) = "
            f"{two['calls_per_s'] / m1['calls_per_s']:.2f}x; the cores' ceilings allow "
            f"{two['ceiling'] / r1['ceiling']:.2f}x. Server CPU per call: 1 worker "
            f"{m1['server_us_per_call']:.0f} µs (memory), {r1['server_us_per_call']:.0f} µs (Redis); "
            f"2 workers {two['server_us_per_call']:.0f} µs. The 2 workers' connections: {splits}."
        )
    if (one_redis, LEGACY) in med:
        r1, m1 = med[(one_redis, LEGACY)], med[(one_mem, LEGACY)]
        commands: dict[str, list[float]] = {}
        for run in runs:
            if run.era == LEGACY and run.config == one_redis:
                for name, count in run.redis_commands.items():
                    commands.setdefault(name, []).append(count / run.calls)
        detail = ", ".join(f"{name} {statistics.median(v):.2f}" for name, v in sorted(commands.items()))
        lines.append(
            f"- {LEGACY}, 1 worker, the Redis session store against memory: "
            f"{r1['calls_per_s'] / m1['calls_per_s']:.2f}x the calls/s; server CPU "
            f"{r1['server_us_per_call'] - m1['server_us_per_call']:+.0f} µs per call, redis-server "
            f"{r1['redis_us_per_call']:.0f} µs per call; Redis commands per call, counted by Redis "
            f"{r1['redis_commands_per_call']:.2f} ({detail or 'none'}; the calls still in flight when the "
            "driver stops are counted by Redis but not by the driver)."
        )
    loads = [r.loadavg for r in runs]
    lines.append(f"- Load average (1 min) during the runs: {min(loads):.1f} to {max(loads):.1f}.")
    return "\n".join(lines)


def progress(r: int, run: Run) -> None:
    print(
        f"# round {r + 1} {run.config:18s} {run.era}: {run.calls_per_s:7.0f} calls/s, server "
        f"{run.server_us_per_call:4.0f} µs/call on {run.worker_cores} cores, {run.worker_connections} "
        f"connections; driver {run.driver_cores:.2f} cores; Redis {run.redis_commands_per_call:.2f} "
        f"cmds/call; other {run.other_cores:.2f} cores; load {run.loadavg:.1f}",
        file=sys.stderr,
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run (wrk)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each run (wrk)")
    parser.add_argument("--calls", type=int, default=20000, help="calls per run (the Python driver)")
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--driver-threads", type=int, default=1, help="wrk's threads (one epoll loop each)")
    parser.add_argument("--pin", action="store_true", help="pin each worker to a core of its own")
    parser.add_argument("--python-driver", action="store_true", help="the Python driver even if wrk is here")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_JSON_OUT)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup, args.calls = 1, 1.0, 1.0, 400
    if not args.python_driver and shutil.which("wrk") is None:
        print(
            "# WARNING: wrk not found (apt-get install wrk): the Python driver is used; it takes about a "
            "core itself at these rates, so the 2-worker figures are a floor",
            file=sys.stderr,
        )
        args.python_driver = True
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is needed (apt-get install -y redis-server)")
    redis_port = free_port()
    workdir = tempfile.mkdtemp(prefix="mcpbind-bench-redis-")
    redis = subprocess.Popen(
        [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{redis_port}/0"
    runs: list[Run] = []
    try:
        wait_port(redis_port, redis)
        for r in range(args.rounds):
            order = list(CONFIGS)
            order = order[r % len(order) :] + order[: r % len(order)]
            for config in order:
                with_redis = CONFIGS[config][1]
                server, port, pids = serve(config, url, args)
                try:
                    for era in (MODERN, LEGACY) if r % 2 == 0 else (LEGACY, MODERN):
                        run = measure(
                            config,
                            port,
                            pids,
                            redis.pid if with_redis else None,
                            redis_port if with_redis else None,
                            era,
                            args,
                        )
                        runs.append(run)
                        progress(r, run)
                finally:
                    server.terminate()
                    server.wait(15)
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    text = table(runs, args)
    print(text)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(
        json.dumps(
            {"args": {k: str(v) for k, v in vars(args).items()}, "runs": [asdict(r) for r in runs]}, indent=1
        )
    )
    print(f"# wrote {args.json_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
