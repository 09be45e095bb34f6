"""The server and client benchmarks' procedure (`bench/servers.py`, `bench/curves.py`): legs sampled by
time, ratios taken within a round and reported with their range, the in-flight curve's points being the
table's stdio runs, and the driver and the server pinned to a CPU each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Run in a fresh interpreter: the benchmark is a script directory, not a package (it puts itself on
# sys.path and imports its siblings).
PRELUDE = """
import asyncio, json, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
import clients, curves, servers
"""


def probe(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code, str(BENCH)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# One leg's record as `servers.leg_stdio` makes it: calls/s and latencies per level, and its round.
RECORD = """
def record(r, c1, c16):
    level = lambda rate: {"n": 100, "inflight": 1, "wall_s": 1.0, "calls_per_s": rate,
                          "latencies_ms": [1.0] * 98 + [5.0, 9.0]}
    return {"round": r, "warmup_n": 10, "c1": level(c1), "c16": level(c16), "machine": None}
"""


def test_ratios_are_taken_within_a_round_and_shown_with_their_range() -> None:
    got = probe(
        RECORD
        + """
raw = {"stdio": {
    "mcpbind": [record(0, 800, 900), record(1, 1000, 900), record(2, 2000, 900), record(3, 500, 900)],
    # the floor's round 1 is slow as mcpbind's is not: ratios pair rounds, not medians
    "floor": [record(0, 1000, 1000), record(1, 1000, 1000), record(2, 2000, 1000)],
    "sdk": [record(2, 200, 100)],
}}
ratios = servers.round_ratios(raw)
rows = servers.summarize(raw)
print(json.dumps({"ratios": ratios, "table": servers.table(rows, ratios)}))
"""
    )
    c1 = got["ratios"]["stdio calls/s, 1 in flight"]
    assert c1["floor"] == [0.8, 1.0, 1.0]  # mcpbind's round 3 has no floor beside it: left out
    assert c1["sdk"] == [10.0]
    row = next(line for line in got["table"].splitlines() if line.startswith("| stdio calls/s, 1 in"))
    assert "| 100% (80-100) |" in row  # the median of the rounds' shares, then their range
    assert "| 10.00x |" in row  # one round: no range
    assert "✓" in row  # judged on the medians of per-round ratios: 10x SDK, 100% of the floor


def test_the_client_table_takes_its_ratios_within_a_round_too() -> None:
    got = probe(
        RECORD
        + """
raw = {"stdio-2025": {
    "mcpbind": [record(0, 900, 4000), record(1, 800, 4000), record(2, 1000, 4000)],
    "raw": [record(0, 1000, 5000), record(1, 1000, 5000), record(2, 1000, 5000)],
    "sdk": [record(0, 400, 1000), record(1, 100, 1000)],
}}
ratios = clients.round_ratios(raw)
pooled = {}
print(json.dumps({"ratios": ratios, "table": clients.table(clients.summarize(raw, pooled), ratios)}))
"""
    )
    assert got["ratios"]["stdio 2025-11-25 calls/s, 1 in flight"] == {
        "sdk": [2.25, 8.0],
        "raw": [0.9, 0.8, 1.0],
    }
    row = next(line for line in got["table"].splitlines() if "calls/s, 1 in flight" in line)
    assert "| 5.12x (2.25-8.00) | 90% (80-100) | ✓ >= 4x SDK |" in row


def test_the_curve_points_at_1_and_16_are_the_table_rows() -> None:
    got = probe(
        RECORD
        + """
runs = [record(0, 800, 9000), record(1, 1100, 8000), record(2, 1000, 9500)]
rows = servers.summarize({"stdio": {"mcpbind": runs}})
curve = curves.summarize({"inflight_stdio": curves.from_table({"mcpbind": runs})})
print(json.dumps({"rows": rows, "curve": curve["inflight_stdio"]["mcpbind"]}))
"""
    )
    for level in ("1", "16"):
        point = got["curve"][level]
        assert point["calls_per_s"] == got["rows"][f"stdio calls/s, {level} in flight"]["mcpbind"]
        assert point["p99_ms"] == got["rows"][f"stdio p99 ms, {level} in flight"]["mcpbind"] == 5.0


def test_a_leg_samples_by_time_and_makes_at_least_its_least_calls() -> None:
    got = probe(
        """
async def call():
    await asyncio.sleep(0.002)
    return 2.0

async def main():
    timed = await servers.load_for(call, 0.3, 4)
    least = await servers.load_for(call, 0.0, 4, least=50)
    return {"timed": timed["wall_s"], "timed_n": timed["n"], "least_n": least["n"],
            "latencies": len(least["latencies_ms"])}

print(json.dumps(asyncio.run(main())))
"""
    )
    assert 0.3 <= got["timed"] < 3 and got["timed_n"] >= 4
    assert 50 <= got["least_n"] <= 53 and got["latencies"] == got["least_n"]  # each worker ends its call


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="pinning needs two CPUs")
def test_the_driver_and_the_server_run_on_a_cpu_each() -> None:
    got = probe(
        """
show = [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"]
before = sorted(os.sched_getaffinity(0))
with servers.Pin() as pin:
    driver = sorted(os.sched_getaffinity(0))
    spawned = subprocess.run(show, capture_output=True, text=True, **pin.spawn_options())
    wrapped = subprocess.run(pin.command(show), capture_output=True, text=True)
    client = subprocess.run(show, capture_output=True, text=True, **pin.spawn_options(side=0))
    record = pin.record(os.getpid())
after = sorted(os.sched_getaffinity(0))
servers.PIN = False
with servers.Pin() as off:
    unpinned = [off.record(None), off.command(["x"]), off.spawn_options()]
print(json.dumps({"before": before, "driver": driver, "after": after, "record": record,
                  "outputs": [json.loads(p.stdout) for p in (spawned, wrapped, client)],
                  "cpus": [sorted(c) for c in pin.cpus], "unpinned": unpinned}))
"""
    )
    driver_cpu, server_cpu = got["cpus"]
    assert driver_cpu != server_cpu and got["driver"] == driver_cpu and got["after"] == got["before"]
    spawned, wrapped, client = got["outputs"]
    assert spawned == wrapped == server_cpu and client == driver_cpu
    assert got["record"] == {"driver": driver_cpu, "server": driver_cpu}  # read back: this process
    assert got["unpinned"] == [None, ["x"], {}]
