#!/usr/bin/env python3
"""Steady figures: every target of the performance work judged on instructions counted by callgrind.

The wall-clock tables swing with the machine (a virtual machine's CPU speed moves 20-30% within a
second, other processes share the cores), so their ratios come with wide ranges. Instruction counts
under ``valgrind --tool=callgrind`` repeat within about 0.1% whatever the load. This runs the bench's
counting scripts and renders one markdown section, one row per measure: mcpbind's count, the floor's
(or the raw driver's, or raw msgspec's), the ratio the target speaks of and whether it is met.

- codec: ``codec_instructions.py`` (decode+encode per message, vs raw msgspec), target <= 1.5x;
- cold start: ``cold_cost.py`` (spawn to the first ``tools/call`` result, both eras), <= 1.2x the floor;
- 1 MB result: ``big_cost.py --valgrind`` (server instructions per 1 MB call), <= 1.2x the floor;
- clients: ``client_cost.py`` (per call at 16 in flight, every leg), raw driver / mcpbind >= 80%;
- servers, in process (no socket, no timer): ``stdio_inproc.py`` at 1 and 16 in flight (2025-11-25
  session, 2026-07-28 stateless) against the stdio floor (``apps/floor_stdio.py``: an ``asyncio.Protocol``
  answering each read's requests in its callback, their answers in one write), ``uvicorn_cost.py``
  (HTTP through uvicorn's protocol, one request at a time); floor / mcpbind >= 85%;
- servers, real processes: ``http_callgrind.py`` (each server under callgrind, the raw driver outside
  it), HTTP at 16 in flight, and WebSocket (``run_websocket``, and ``run_http`` taking the upgrade) at 1
  and 16 in flight against the WebSocket floor (``apps/floor_ws.py``: RFC 6455 by hand on an
  ``asyncio.Protocol``, and msgspec), floor / mcpbind >= 85%. How many requests a read finds follows
  the timing, so these rows repeat less closely than the in-process ones.

Each HTTP row, in process or not, is judged against the ASGI floor (``apps/floor_asgi.py``) sent the
same requests as its leg: ``floor`` the 2026-07-28 leg's (the call's ``_meta``, three routing headers),
``floor-2025`` the 2025-11-25 leg's (a session; the call without ``_meta``, that era's two headers).

The in-process scripts are run here under callgrind twice, with a small and a large N; the difference
of the totals over the difference of N is one request, start-up cancelled out. Jobs run ``--jobs`` at a
time (the counts do not depend on it). Bytecode is compiled first, as an installed package has it.

    python bench/steady.py [--quick] [--jobs 2] [--only TEXT ...] [--json-out bench/results/steady.json]

Prints the section on stdout (``nox -s bench`` puts it into BENCHMARKS.md). ``--quick`` is a smoke
run (the stdio row at 1 in flight, small N, its four runs at once): it proves the plumbing.
``--only TEXT``: only the jobs whose name holds one of the texts (``--only WebSocket``: the two
WebSocket jobs, 1 and 16 in flight; the names are `plan`'s).
Without valgrind it prints why and a section that says so, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import callgrind  # noqa: E402

TITLE = "Steady figures (instructions under callgrind)"


@dataclass(frozen=True)
class Target:
    """A target of the performance work, as a ratio of two instruction counts."""

    ratio: str  # how the ratio is formed, for the table
    bound: float
    at_least: bool  # the ratio must be >= bound (else <=)
    percent: bool  # shown as a percentage (else as a multiple)

    def of(self, mine: float, base: float) -> float:
        """The ratio for mcpbind's count `mine` against the floor's/raw count `base`."""
        return base / mine if self.at_least else mine / base

    def met(self, ratio: float) -> bool:
        return ratio >= self.bound if self.at_least else ratio <= self.bound

    def show(self, ratio: float) -> str:
        """The ratio to enough places that a miss never reads as the bound itself (1.203x, not 1.20x)."""
        return f"{ratio:.1%}" if self.percent else f"{ratio:.3f}x"

    def wanted(self) -> str:
        sign = ">=" if self.at_least else "<="
        bound = f"{self.bound:.0%}" if self.percent else f"{self.bound:g}x"
        return f"{self.ratio} {sign} {bound}"


TARGETS: dict[str, Target] = {
    "server": Target("floor / mcpbind", 0.85, at_least=True, percent=True),
    "client": Target("raw / mcpbind", 0.80, at_least=True, percent=True),
    "codec": Target("mcpbind / raw", 1.5, at_least=False, percent=False),
    "cold": Target("mcpbind / floor", 1.2, at_least=False, percent=False),
    "big": Target("mcpbind / floor", 1.2, at_least=False, percent=False),
}
"""The targets, by kind of measure: server paths >= 85% of their floor, clients >= 80% of the raw
driver, the codec <= 1.5x raw msgspec, a cold start and a 1 MB result <= 1.2x their floor."""


@dataclass(frozen=True)
class Row:
    """One measure: mcpbind's instructions and its floor's (None: no floor), per `unit`."""

    kind: str  # a key of TARGETS, or "info" (no target)
    measure: str
    unit: str
    mcpbind: float
    base: float | None
    base_name: str = "floor"


def per_unit(small: int, large: int, n_small: int, n_large: int) -> float:
    """Instructions per unit of work from the totals of two runs with `n_small` and `n_large` units."""
    if n_large <= n_small:
        raise ValueError("the large run must do more than the small one")
    return (large - small) / (n_large - n_small)


def count_text(value: float) -> str:
    """An instruction count, short: 1.23M, 45.6k, 789."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def render(rows: list[Row], meta: dict[str, str], failed: Sequence[str] = ()) -> str:
    """The markdown section: a table of `rows`, the measures that `failed` (and why), and what the
    counts do and do not capture."""
    lines = [
        f"## {TITLE}",
        "",
        f"`python bench/steady.py{meta.get('options', '')}` at commit {meta.get('commit', '?')}, "
        f"{meta.get('callgrind', 'callgrind ?')}, {meta.get('duration', '?')}. Instructions of the "
        "mcpbind side and of its floor (the raw driver for clients, raw msgspec for the codec) per unit; "
        "the ratio is the one the target speaks of.",
        "",
        "| measure | per | mcpbind | floor / raw | ratio | target | met |",
        "|---|---|--:|--:|--:|---|:-:|",
    ]
    for row in rows:
        target = TARGETS.get(row.kind)
        base = "—" if row.base is None else f"{count_text(row.base)} ({row.base_name})"
        if target is None or row.base is None:
            ratio, wanted, met = "—", "—", ""
        else:
            value = target.of(row.mcpbind, row.base)
            ratio, wanted, met = target.show(value), target.wanted(), "✓" if target.met(value) else "✗"
        mine = count_text(row.mcpbind)
        lines.append(f"| {row.measure} | {row.unit} | {mine} | {base} | {ratio} | {wanted} | {met} |")
    if failed:
        lines += ["", "Not measured (the run failed):", "", *(f"- {reason}" for reason in failed)]
    lines += [
        "",
        "Instructions are what one process executes in user space, counted by a simulated CPU: they do not "
        "move with the load, which is why the targets are judged here. They are not time. They leave out "
        "cache misses and mispredicted branches (a path through more distinct code runs slower per "
        "instruction: `codec_instructions.py --cache-sim`, `uvicorn_misses.py`), system calls and the "
        "kernel's work (pipe and socket copies, wake-ups, context switches: a server that writes a 1 MB "
        "answer in one write and one that writes it in sixteen count alike here), time spent waiting, and "
        "every other process (the peer at the other end of the pipe or socket is not counted; the "
        "in-process server rows count the harness's driver on both sides, the same work). The server rows "
        "marked in process run in one process, one request at a time or in fixed bursts, and repeat to a "
        "few instructions (the hash seed is fixed); the real-process rows count the server alone, and with "
        "16 in flight how many requests each read finds follows the timing: they repeat less closely.",
        "",
        FLOORS,
    ]
    return "\n".join(lines) + "\n"


FLOORS = (
    "Each server row's floor is the cheapest honest way to do its work with no library, on mcpbind's "
    "loop (uvloop): stdio, `apps/floor_stdio.py` (`floor_lines.py`), an `asyncio.Protocol` on "
    "`connect_read_pipe` that splits each read into lines and answers its requests in the read callback "
    "with msgspec (one decode, one encode), their answers in one write, as mcpbind reads and batches; "
    "HTTP, `apps/floor_asgi.py`, a bare ASGI app answering each POST so, on the same uvicorn; WebSocket, "
    "`apps/floor_ws.py`, RFC 6455 by hand on an `asyncio.Protocol`, the answers of one read in one write. "
    "The stdio floor read with asyncio streams (a `readline` and a write and drain per request) until "
    "2026-12-07: its rows of earlier runs are shares of that dearer floor."
)
"""What each server row's floor is, said under the table."""


def unavailable(reason: str) -> str:
    """The section when nothing could be counted."""
    return f"## {TITLE}\n\nNot measured: {reason}.\n"


# --- running -------------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment of every run (the scripts pass it on to what they spawn): bytecode may be
    written (as an installed package has it), and the hash seed is fixed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # One hash seed for every run: with a random one, dicts and sets lay out differently each run and a
    # total moves by some 0.1% (0.5M of a 400M start-up); with it fixed, two runs agree to a few.
    env["PYTHONHASHSEED"] = "0"
    return env


def run_script(script: str, args: list[str]) -> Any:
    """bench/`script` with `args` and `--json-out`: what it wrote."""
    with tempfile.TemporaryDirectory(prefix="steady-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(BENCH / script), *args, "--json-out", str(out)]
        done = subprocess.run(cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[1:])} exited {done.returncode}:\n{done.stderr[-2000:]}")
        return json.loads(out.read_text())


def inproc_total(script: str, args: list[str]) -> int:
    """Total instructions of bench/`script` `args` run under callgrind."""
    with tempfile.TemporaryDirectory(prefix="steady-") as tmp:
        out = Path(tmp) / "cg"
        program = [str(BENCH / script), *args]
        done = subprocess.run(
            [*callgrind.command(out), sys.executable, *program],
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(program)} exited {done.returncode}:\n{done.stderr[-2000:]}")
        return callgrind.file_total(out)


def inproc(
    script: str, before: list[str], after: list[str], sizes: tuple[int, int], together: bool = False
) -> float:
    """Instructions per request of bench/`script` `before` N `after`, from two runs (N in `sizes`), one
    after the other or, `together`, at once."""
    plain = [sys.executable, str(BENCH / script), *before, str(sizes[0]), *after]
    subprocess.run(plain, cwd=ROOT, env=child_env(), capture_output=True, check=True)  # bytecode
    with ThreadPoolExecutor(max_workers=2 if together else 1) as pool:
        small, large = pool.map(lambda n: inproc_total(script, [*before, str(n), *after]), sizes)
    return per_unit(small, large, *sizes)


Job = Callable[[], list[Row]]
IMPLS = ("mcpbind", "floor")


def codec_job(message: str, number: int) -> Job:
    def job() -> list[Row]:
        rows = run_script("codec_instructions.py", ["--messages", message, "--number", str(number)])
        return [
            Row(
                "codec",
                f"codec: {r['title']}",
                "message",
                r["mcpbind"]["instructions"],
                r["msgspec"]["instructions"],
                "raw msgspec",
            )
            for r in rows
        ]

    return job


def cold_job(era: str) -> Job:
    def job() -> list[Row]:
        got = run_script("cold_cost.py", ["--eras", era])[era]
        name = {"session": "2025-11-25, initialize + call", "envelope": "2026-07-28, the call alone"}[era]
        return [Row("cold", f"cold start stdio ({name})", "start", got["mcpbind"], got["floor"])]

    return job


def client_job(leg: str, n: int, small: int) -> Job:
    def job() -> list[Row]:
        got = run_script("client_cost.py", ["--legs", leg, "--n", str(n), "--small", str(small)])["legs"][leg]
        return [
            Row("client", f"client {leg}, 16 in flight", "call", got["mcpbind"], got["raw"], "raw driver")
        ]

    return job


def big_job(n: int) -> Job:
    def job() -> list[Row]:
        with tempfile.TemporaryDirectory(prefix="steady-big-") as tmp:
            got = run_script("big_cost.py", ["--valgrind", tmp, "--impls", "floor,mcpbind", "--n", str(n)])
        return [Row("big", "1 MB result, stdio server", "call", got["mcpbind"], got["floor"])]

    return job


def stdio_job(inflight: int, stateless: bool, sizes: tuple[int, int], together: bool = False) -> Job:
    """The stdio row; `together`: the four runs at once (the quick run's, to be done sooner)."""

    def job() -> list[Row]:
        extra = ["--inflight", str(inflight), *(["--stateless"] if stateless else [])]
        with ThreadPoolExecutor(max_workers=2 if together else 1) as pool:
            mine, floor = pool.map(
                lambda impl: inproc("stdio_inproc.py", [impl], extra, sizes, together), IMPLS
            )
        era = "2026-07-28 stateless" if stateless else "2025-11-25 session"
        return [
            Row("server", f"stdio server {era} (in process), {inflight} in flight", "request", mine, floor)
        ]

    return job


def http_job(legs: list[str], sizes: tuple[int, int]) -> Job:
    """`uvicorn_cost.py`'s legs, each against the floor sent the same requests (its era's: `floor` the
    2026-07-28 one's, `floor-2025` the 2025-11-25 one's)."""

    def job() -> list[Row]:
        rows = []
        for leg in legs:
            floor = inproc(
                "uvicorn_cost.py", ["floor-2025" if leg.startswith("2025") else "floor"], [], sizes
            )
            mine = inproc("uvicorn_cost.py", [leg], [], sizes)
            rows.append(
                Row("server", f"HTTP server {leg} (uvicorn, in process), 1 in flight", "request", mine, floor)
            )
        return rows

    return job


def real_job(floors: dict[str, str], inflight: int, sizes: tuple[int, int], names: dict[str, str]) -> Job:
    """`http_callgrind.py`'s real servers (sockets, uvicorn or websockets), all in one run: each leg of
    `floors` against its floor there (the one sent the same requests), the floors first."""

    def job() -> list[Row]:
        legs = [*dict.fromkeys(floors.values()), *floors]
        args = ["--inflight", str(inflight), "--n", *map(str, sizes), *legs]
        got = run_script("http_callgrind.py", args)["legs"]
        return [Row("server", names[leg], "call", got[leg], got[floor]) for leg, floor in floors.items()]

    return job


def chosen(jobs: list[tuple[str, Job]], only: Sequence[str]) -> list[tuple[str, Job]]:
    """The jobs whose name holds one of `only` (all of them when it is empty)."""
    return [(name, job) for name, job in jobs if not only or any(text in name for text in only)]


def plan(quick: bool) -> list[tuple[str, Job]]:
    """The jobs of a run, longest first (they are handed out in this order)."""
    if quick:
        return [("stdio", stdio_job(1, False, (16, 64), together=True))]
    sizes = (64, 320)  # multiples of 16: whole bursts
    real = (100, 400)
    http16 = {
        leg: f"HTTP server {leg} (uvicorn, real process), 16 in flight" for leg in ("2026-json", "2025-json")
    }
    ws = {"ws": "run_websocket", "ws-uvicorn": "run_http upgrade"}

    def websocket(k: int) -> tuple[str, Job]:
        names = {
            leg: f"WebSocket server 2025-11-25 ({how}, real process), {k} in flight"
            for leg, how in ws.items()
        }
        return f"WebSocket, {k} in flight", real_job(dict.fromkeys(ws, "ws-floor"), k, real, names)

    return [
        *(
            (f"client {leg}", client_job(leg, 300, 100))
            for leg in ("stdio-2025", "stdio-2026", "http-2025", "http-2026")
        ),
        ("HTTP, 16 in flight", real_job({"2026-json": "floor", "2025-json": "floor-2025"}, 16, real, http16)),
        ("1 MB result", big_job(16)),
        websocket(1),
        ("HTTP, in process", http_job(["2026-json", "2025-json"], sizes)),
        websocket(16),  # (not beside the other: six or eight servers under callgrind at a time are enough)
        *((f"stdio {k}{' stateless' * s}", stdio_job(k, s, sizes)) for s in (False, True) for k in (1, 16)),
        ("cold start, session", cold_job("session")),
        ("cold start, envelope", cold_job("envelope")),
        *(
            (f"codec {m}", codec_job(m, 1000))
            for m in ("call_tool_request", "call_tool_result", "list_tools_result", "input_required_result")
        ),
    ]


ORDER = ("server", "info", "client", "codec", "cold", "big")
SERVERS = (
    "stdio",
    "HTTP server 2026-json (uvicorn, in",
    "HTTP server 2025-json (uvicorn, in",
    "HTTP",
    "WebSocket",
)
"""The order of the rows: by kind, the servers by transport, in process before real processes."""


def row_order(row: Row) -> tuple[int, int]:
    place = next((i for i, prefix in enumerate(SERVERS) if row.measure.startswith(prefix)), len(SERVERS))
    return ORDER.index(row.kind), place if row.kind == "server" else 0


def attempt(name: str, job: Job) -> list[Row] | str:
    """The job's rows, or why it gave none (one job failing leaves the others' rows standing)."""
    try:
        return job()
    except Exception as exc:  # reported in the section and on stderr
        print(f"steady: {name} failed: {exc}", file=sys.stderr, flush=True)
        last = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
        return f"{name}: {last[0]}"


def run(jobs: list[tuple[str, Job]], workers: int) -> tuple[list[Row], list[str]]:
    """The rows of every job, in the section's order, and the failures."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda named: attempt(*named), jobs))
    rows = [row for got in done if not isinstance(got, str) for row in got]
    failed = [got for got in done if isinstance(got, str)]
    return sorted(rows, key=row_order), failed  # stable: plan order within a place


OUTPUTS = ("BENCHMARKS.md", "bench/charts/")
"""What `nox -s bench` itself writes into the tree, a file or (ending in ``/``) a folder: its wall-clock
legs have drawn the charts by the time this script runs, and BENCHMARKS.md may differ from a run before.
A difference there is none in the code measured."""


def commit_name(sha: str, changed: Sequence[str]) -> str:
    """The commit measured: `sha`, with ``+dirty`` when a tracked file other than the benchmark's own
    outputs (`OUTPUTS`) differs from it (`changed`: the paths that do, from the repository's root)."""
    return sha if all(is_output(path) for path in changed) else f"{sha}+dirty"


def is_output(path: str) -> bool:
    """Whether `path` (from the repository's root) is one of the benchmark's `OUTPUTS`."""
    return any(path == out or (out.endswith("/") and path.startswith(out)) for out in OUTPUTS)


def changed_files() -> list[str]:
    """The tracked files that differ from HEAD, staged or not (untracked ones do not count)."""
    done = subprocess.run(
        ["git", "diff", "HEAD", "--name-only", "--no-renames", "-z"], cwd=ROOT, capture_output=True, text=True
    )
    return [path for path in done.stdout.split("\0") if path]


def describe() -> dict[str, str]:
    """The commit (`commit_name`: ``+dirty`` when code differs from it) and callgrind's version."""
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    commit = commit_name(head.stdout.strip(), changed_files()) if head.stdout.strip() else "?"
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    return {"commit": f"`{commit}`", "callgrind": f"callgrind of {version}"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smoke run: rough figures, about a minute")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    ap.add_argument("--json-out", type=Path, default=BENCH / "results" / "steady.json")
    ap.add_argument(
        "--only", nargs="+", default=[], metavar="TEXT", help="only the jobs whose name holds one of these"
    )
    args = ap.parse_args(argv)
    jobs = chosen(plan(args.quick), args.only)
    if not jobs:
        ap.error(f"no job's name holds any of {args.only}: {[name for name, _ in plan(args.quick)]}")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("steady figures skipped: valgrind (callgrind) is not installed", file=sys.stderr)
        print(unavailable("valgrind is not installed"))
        return 0
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "runtime", "generated", "codegen", "bench"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        check=False,
    )
    described = describe()  # the commit measured: the one checked out when the run starts
    rows, failed = run(jobs, args.jobs)
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    meta = {
        **described,
        "duration": f"{minutes} min {seconds:02d} s with {args.jobs} runs at a time",
        "options": (" --quick" if args.quick else "") + "".join(f" --only {text!r}" for text in args.only),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    record = {"meta": meta, "rows": [asdict(r) for r in rows], "failed": failed}
    args.json_out.write_text(json.dumps(record, indent=1) + "\n")
    print(render(rows, meta, failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
