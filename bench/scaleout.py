"""Scale-out benchmark: calls/s of mcpbind's HTTP server on 1 and 2 workers (`run_http(workers=, redis=)`),
both eras, and what the Redis session store costs per request against memory (stateful era).

Each configuration is a fresh server process (bench/apps/mcpbind_server.py) driven by the raw driver of
`servers.py` (one keep-alive connection per request in flight, `echo` tool calls); a real redis-server
is started on a free loopback port. Configurations alternate over the rounds (the machine is shared and
noisy): the ratios are of medians.

    python bench/scaleout.py [--rounds 3] [--calls 4000] [--inflight 16] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import LEGACY, MODERN, HttpDriver, load

APP = str(Path(__file__).resolve().parent / "apps" / "mcpbind_server.py")
CONFIGS = {
    "1 worker, memory": ("1", False),
    "1 worker, Redis": ("1", True),
    "2 workers, Redis": ("2", True),
}


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


async def measure(port: int, era: str, calls: int, inflight: int) -> tuple[float, float]:
    """(calls/s with `inflight` in flight, median ms of one call alone)."""
    async with HttpDriver(port, era) as driver:
        await driver.initialize()
        await load(driver.echo, max(200, calls // 10), inflight)  # warm up every worker and connection
        loaded = await load(driver.echo, calls, inflight)
        alone = await load(driver.echo, max(200, calls // 10), 1)
    return loaded["calls_per_s"], statistics.median(alone["latencies_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="1 round of 400 calls (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.calls = 1, 400
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
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        wait_port(redis_port, redis)
        for r in range(args.rounds):
            order = list(CONFIGS.items())
            order = order[r % len(order) :] + order[: r % len(order)]
            for name, (workers, with_redis) in order:
                port = free_port()
                cmd = [sys.executable, APP, "--http", str(port), "--workers", workers]
                server = subprocess.Popen([*cmd, *(["--redis", url] if with_redis else [])])
                try:
                    wait_port(port, server)
                    time.sleep(0.5)  # every worker up (they share the port)
                    for era in (LEGACY, MODERN):
                        got = asyncio.run(measure(port, era, args.calls, args.inflight))
                        results.setdefault((name, era), []).append(got)
                        print(f"round {r + 1} {name:18s} {era}: {got[0]:8.0f} calls/s, {got[1]:.3f} ms alone")
                finally:
                    server.terminate()
                    server.wait(15)
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    med: dict[tuple[str, str], tuple[float, float]] = {
        key: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        for key, values in results.items()
    }
    print(f"\n| configuration | era | calls/s ({args.inflight} in flight) | ms per call alone |")
    print("|---|---|--:|--:|")
    for (name, era), (cps, ms) in med.items():
        print(f"| {name} | {era} | {cps:.0f} | {ms:.3f} |")
    for era in (LEGACY, MODERN):
        two, one = med[("2 workers, Redis", era)][0], med[("1 worker, memory", era)][0]
        print(f"{era}: 2 workers / 1 worker = {two / one:.2f}x")
    mem, red = med[("1 worker, memory", LEGACY)], med[("1 worker, Redis", LEGACY)]
    print(
        f"{LEGACY}, one worker: Redis store / memory = {red[0] / mem[0]:.2f}x calls/s; "
        f"+{(red[1] - mem[1]) * 1000:.0f} us per call alone"
    )


if __name__ == "__main__":
    main()
