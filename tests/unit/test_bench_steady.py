"""bench/steady.py's pure parts: instructions per unit from two runs, each target judged on its ratio,
the section rendered (a row without a floor has no target) and the section without valgrind."""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


@functools.cache
def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def steady() -> Any:
    return _load("mcpbind_bench_steady", BENCH / "steady.py")


def test_per_unit_is_the_difference_over_the_difference_of_n() -> None:
    assert steady().per_unit(1_000_000, 1_600_000, 100, 400) == 2000
    with pytest.raises(ValueError):
        steady().per_unit(1, 2, 100, 100)


@pytest.mark.parametrize(
    ("kind", "mine", "base", "met"),
    [
        ("server", 100, 85, True),  # floor / mcpbind = 85%: met at the bound
        ("server", 100, 84, False),
        ("client", 100, 80, True),
        ("client", 100, 79, False),
        ("codec", 150, 100, True),  # mcpbind / raw = 1.5x
        ("codec", 151, 100, False),
        ("cold", 120, 100, True),
        ("cold", 121, 100, False),
        ("big", 90, 100, True),  # below the floor
        ("big", 130, 100, False),
    ],
)
def test_each_target_is_judged_on_its_ratio(kind: str, mine: int, base: int, met: bool) -> None:
    target = steady().TARGETS[kind]
    assert target.met(target.of(mine, base)) is met


def test_a_ratio_just_past_its_bound_does_not_read_as_the_bound() -> None:
    cold = steady().TARGETS["cold"]
    value = cold.of(341_530_000, 284_080_000)
    assert (cold.show(value), cold.met(value)) == ("1.202x", False)
    client = steady().TARGETS["client"]
    value = client.of(72_500, 57_950)
    assert (client.show(value), client.met(value)) == ("79.9%", False)


def test_the_section_has_a_row_per_measure_with_its_ratio_and_verdict() -> None:
    s = steady()
    rows = [
        s.Row("server", "stdio, 1 in flight", "request", 66_300, 54_600),
        s.Row("codec", "codec: result", "message", 22_400, 16_300, "raw msgspec"),
        s.Row("cold", "cold start", "start", 240_000_000, 190_000_000),
        s.Row("info", "WebSocket server", "call", 80_000, None),
    ]
    meta = {"commit": "`abc`", "callgrind": "callgrind of valgrind-3.19.0", "duration": "9 min 58 s"}
    text = s.render(rows, meta)
    lines = text.splitlines()
    assert lines[0] == "## Steady figures (instructions under callgrind)"
    assert "`abc`" in text and "valgrind-3.19.0" in text and "9 min 58 s" in text
    table = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert table == [
        "| stdio, 1 in flight | request | 66.3k | 54.6k (floor) | 82.4% | floor / mcpbind >= 85% | ✗ |",
        "| codec: result | message | 22.4k | 16.3k (raw msgspec) | 1.374x | mcpbind / raw <= 1.5x | ✓ |",
        "| cold start | start | 240.00M | 190.00M (floor) | 1.263x | mcpbind / floor <= 1.2x | ✗ |",
        "| WebSocket server | call | 80.0k | — | — | — |  |",
    ]
    for words in ("cache misses", "system calls", "kernel", "other process"):
        assert words in text


def test_a_failed_measure_is_named_in_the_section_and_the_others_stand() -> None:
    s = steady()

    def fails() -> list[Any]:
        raise RuntimeError("bench/x.py failed:\nTimeoutError: the upgrade took too long")

    rows, failed = s.run(
        [("ok", lambda: [s.Row("codec", "codec: result", "message", 2, 1)]), ("x", fails)], 2
    )
    assert [row.measure for row in rows] == ["codec: result"]
    assert failed == ["x: TimeoutError: the upgrade took too long"]
    text = s.render(rows, {}, failed)
    assert "Not measured (the run failed):\n\n- x: TimeoutError: the upgrade took too long\n" in text


def test_without_valgrind_the_section_says_why() -> None:
    env = {**os.environ, "PATH": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, str(BENCH / "steady.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
        env=env,
    )
    assert done.stdout.startswith("## Steady figures (instructions under callgrind)\n\nNot measured:")
    assert "valgrind" in done.stderr


@pytest.mark.parametrize(
    ("changed", "name"),
    [
        ([], "abc"),
        (["BENCHMARKS.md"], "abc"),  # what nox -s bench wrote before the steady run: not the code
        (["bench/charts/stdio_inflight.svg", "BENCHMARKS.md"], "abc"),
        (["bench/steady.py"], "abc+dirty"),
        (["BENCHMARKS.md", "runtime/server/app.py"], "abc+dirty"),
        (["bench/charts.py"], "abc+dirty"),  # a script beside the folder is code
        (["docs/BENCHMARKS.md"], "abc+dirty"),
    ],
)
def test_the_commit_is_dirty_only_for_changes_beside_the_benchmarks_own_outputs(
    changed: list[str], name: str
) -> None:
    assert steady().commit_name("abc", changed) == name


def test_the_changed_files_are_the_tracked_ones_staged_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "bench@example.invalid")
    git("config", "user.name", "bench")
    (tmp_path / "bench" / "charts").mkdir(parents=True)
    for name in ("BENCHMARKS.md", "bench/charts/a.svg", "code.py", "old.py"):
        (tmp_path / name).write_text("1\n")
    git("add", ".")
    git("commit", "-q", "-m", "start")
    s = steady()
    monkeypatch.setattr(s, "ROOT", tmp_path)
    assert s.changed_files() == []
    (tmp_path / "BENCHMARKS.md").write_text("2\n")
    (tmp_path / "bench/charts/a.svg").write_text("2\n")
    (tmp_path / "untracked.py").write_text("1\n")
    assert sorted(s.changed_files()) == ["BENCHMARKS.md", "bench/charts/a.svg"]
    assert s.commit_name("abc", s.changed_files()) == "abc"
    git("mv", "old.py", "new.py")  # staged, a rename: both names
    assert sorted(s.changed_files()) == ["BENCHMARKS.md", "bench/charts/a.svg", "new.py", "old.py"]
    assert s.commit_name("abc", s.changed_files()) == "abc+dirty"


@pytest.mark.parametrize("inflight", [1, 16])
def test_the_websocket_rows_are_real_servers_against_the_websocket_floor(
    inflight: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = steady()
    asked: list[tuple[str, list[str]]] = []

    def run_script(script: str, args: list[str]) -> Any:
        asked.append((script, args))
        return {"inflight": inflight, "legs": {"ws-floor": 100.0, "ws": 80.0, "ws-uvicorn": 125.0}}

    monkeypatch.setattr(s, "run_script", run_script)
    rows = dict(s.plan(False))[f"WebSocket, {inflight} in flight"]()
    script, args = asked[0]
    assert script == "http_callgrind.py" and args[:2] == ["--inflight", str(inflight)]
    assert args[-3:] == ["ws-floor", "ws", "ws-uvicorn"]
    assert [(r.kind, r.mcpbind, r.base) for r in rows] == [("server", 80.0, 100.0), ("server", 125.0, 100.0)]
    assert all(r.measure.endswith(f"real process), {inflight} in flight") for r in rows)
    assert "run_websocket" in rows[0].measure and "run_http" in rows[1].measure
    assert not [name for name, _ in s.plan(False) if "in process" in name and "WebSocket" in name]


def test_each_http_row_is_judged_against_the_floor_sent_its_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    s = steady()
    asked: list[tuple[str, list[str]]] = []

    def run_script(script: str, args: list[str]) -> Any:
        asked.append((script, args))
        legs = {"floor": 100.0, "floor-2025": 90.0, "2026-json": 110.0, "2025-json": 105.0}
        return {"inflight": 16, "legs": legs}

    monkeypatch.setattr(s, "run_script", run_script)
    rows = dict(s.plan(False))["HTTP, 16 in flight"]()
    script, args = asked[0]
    assert script == "http_callgrind.py" and args[:2] == ["--inflight", "16"]
    assert args[-4:] == ["floor", "floor-2025", "2026-json", "2025-json"]  # one run, the floors first
    assert [(r.mcpbind, r.base) for r in rows] == [(110.0, 100.0), (105.0, 90.0)]
    assert "2026-json" in rows[0].measure and "2025-json" in rows[1].measure

    measured: list[str] = []

    def inproc(script: str, before: list[str], after: list[str], sizes: tuple[int, int]) -> float:
        measured.append(before[0])
        return {"floor": 100.0, "floor-2025": 90.0, "2026-json": 110.0, "2025-json": 105.0}[before[0]]

    monkeypatch.setattr(s, "inproc", inproc)
    rows = dict(s.plan(False))["HTTP, in process"]()
    assert measured == ["floor", "2026-json", "floor-2025", "2025-json"]
    assert [(r.mcpbind, r.base) for r in rows] == [(110.0, 100.0), (105.0, 90.0)]


def test_only_keeps_the_jobs_whose_name_holds_a_text() -> None:
    s = steady()
    jobs = s.plan(False)
    assert [name for name, _ in s.chosen(jobs, ["WebSocket"])] == [
        "WebSocket, 1 in flight",
        "WebSocket, 16 in flight",
    ]
    assert s.chosen(jobs, []) == jobs
