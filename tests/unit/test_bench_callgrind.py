"""bench/callgrind.py, the one reader of callgrind's output every counting script of the bench uses:
the totals by event from the `summary:` line (the `totals:` line when there is none), instructions
alone, and the command line it builds."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# The shape of a callgrind 3.19 file: the summary in the head, the totals at the end. The two may differ
# by a few instructions (callgrind_annotate reports the summary, and so does every script).
OUTPUT = (
    "version: 1\ncreator: callgrind-3.19.0\ncmd: python x.py\nevents: Ir\nsummary: 12345\n\n"
    "fn=(1) f\n1 7\n\ntotals: 12350\n"
)
SIMULATED = (
    "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim\n"
    "summary: 1000 300 200 11 22 33 1 2 3 90 9 5 4\n"
)


@functools.cache
def callgrind() -> Any:
    spec = importlib.util.spec_from_file_location("mcpbind_bench_callgrind", BENCH / "callgrind.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mcpbind_bench_callgrind"] = module
    spec.loader.exec_module(module)
    return module


def test_the_total_is_the_summary_line_or_else_the_totals_line() -> None:
    cg = callgrind()
    assert cg.total(OUTPUT) == 12345
    assert cg.total("events: Ir\nfn=x\n1 2\ntotals: 678\n") == 678
    assert cg.total("summary: 42\n") == 42  # (no events line: instructions alone)
    for text in ("events: Ir\n", "events: Ir\nsummary:\n", ""):
        with pytest.raises(ValueError, match="no summary"):
            cg.total(text)


def test_every_event_is_named_and_trailing_zeros_may_be_left_out() -> None:
    cg = callgrind()
    got = cg.totals(SIMULATED)
    assert got["Ir"] == 1000 and got["I1mr"] == 11 and got["D1mw"] == 33 and got["Bim"] == 4
    assert len(got) == 13
    assert cg.totals("events: Ir Bc Bcm\nsummary: 50\n") == {"Ir": 50, "Bc": 0, "Bcm": 0}


def test_a_file_is_read_and_named_when_it_has_no_summary(tmp_path: Path) -> None:
    cg = callgrind()
    good, bad = tmp_path / "good.cg", tmp_path / "bad.cg"
    good.write_text(OUTPUT)
    bad.write_text("events: Ir\n")
    assert cg.file_total(good) == 12345
    assert cg.file_totals(str(good)) == {"Ir": 12345}
    with pytest.raises(ValueError, match=r"bad\.cg: no summary"):
        cg.file_total(bad)


def test_the_command_writes_to_the_file_with_the_options_given(tmp_path: Path) -> None:
    cg = callgrind()
    out = tmp_path / "x.cg"
    assert cg.command(out) == ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    assert cg.command(out, "--dump-instr=no")[2] == "--dump-instr=no"


def test_no_bench_script_reads_callgrind_output_itself() -> None:
    """The summary is read in bench/callgrind.py alone (no other script parses `summary:` or runs
    callgrind_annotate for a total)."""
    for path in BENCH.glob("*.py"):
        if path.name == "callgrind.py":
            continue
        text = path.read_text()
        for marker in ('"summary:', "summary: (", "PROGRAM TOTALS", "Collected :", '"--tool=callgrind"'):
            assert marker not in text, f"{path.name} reads callgrind itself ({marker!r})"
