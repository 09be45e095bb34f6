"""`nox -s bench -- ...`: each bench script is given the options it takes (the noxfile's
`BENCH_OPTIONS`, checked against each script's own parser), BENCHMARKS.md gets bench/steady.py's
section out of what the session captured, and bench/curves.py's payload curve stops
the HTTP server it started when its port never opens."""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


@functools.cache
def _noxfile() -> Any:
    """The noxfile, loaded once (each load registers its sessions again)."""
    pytest.importorskip("nox")
    spec = importlib.util.spec_from_file_location("mcpbind_noxfile", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["codec", "servers", "clients", "steady"])
def test_each_script_takes_the_options_it_is_given(script: str) -> None:
    noxfile = _noxfile()
    assert set(noxfile.BENCH_OPTIONS) == {"codec", "servers", "clients", "steady"}
    shown = subprocess.run(
        [sys.executable, str(BENCH / f"{script}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    ).stdout
    for option in noxfile.BENCH_OPTIONS[script]:
        assert option in shown, (script, option)


def test_the_steady_section_is_taken_from_the_captured_output() -> None:
    noxfile = _noxfile()
    captured = (
        "steady figures skipped: no valgrind\n## Steady figures (instructions under callgrind)\n\nrow\n"
    )
    assert noxfile.steady_section(captured) == "\n## Steady figures (instructions under callgrind)\n\nrow\n"
    assert noxfile.steady_section("nothing here\n") == ""


def test_the_options_are_split_by_script() -> None:
    noxfile = _noxfile()
    given = ["--seconds", "2", "--quick", "--legs=stdio-2025", "--rounds", "3", "--measures", "stdio"]
    assert noxfile.bench_options("codec", given) == ["--quick", "--rounds", "3"]
    assert noxfile.bench_options("servers", given) == [
        "--seconds",
        "2",
        "--quick",
        "--rounds",
        "3",
        "--measures",
        "stdio",
    ]
    assert noxfile.bench_options("clients", given) == [
        "--seconds",
        "2",
        "--quick",
        "--legs=stdio-2025",
        "--rounds",
        "3",
    ]
    with pytest.raises(ValueError, match="no option"):
        noxfile.bench_options("codec", ["--frobnicate"])
    with pytest.raises(ValueError, match="needs a value"):
        noxfile.bench_options("codec", ["--quick", "--seconds"])


PAYLOAD = """
import argparse, asyncio, functools, json, sys
sys.path.insert(0, sys.argv[1])
import curves, servers

started = []
spawn = curves._spawn


async def spawned(cmd, pin=None):
    proc = await spawn(cmd, pin)
    started.append(proc)
    return proc


curves._spawn = spawned
curves._wait_port = functools.partial(servers._wait_port, timeout=0.5)


class Commands:
    def http(self, impl, port, *args, **kwargs):
        return [sys.executable, "-c", "import time; time.sleep(120)"]  # never listens


async def main():
    cfg = argparse.Namespace(sizes=[10], quick=True)
    try:
        await curves._payload_points(Commands(), "mcpbind", cfg, True, servers.Pin(False))
    except RuntimeError as exc:
        failure = str(exc)
    returncode = started[0].returncode
    if returncode is None:  # left running: stopped here, not by the test's end
        started[0].kill()
        await started[0].wait()
    return {"failure": failure, "returncode": returncode}


print(json.dumps(asyncio.run(main())))
"""


def test_a_payload_servers_port_that_never_opens_stops_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PAYLOAD, str(BENCH)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "did not listen" in seen["failure"], seen
    assert seen["returncode"] is not None, seen  # stopped, not left running
