"""Callgrind's command line and output, in one place for every counting script of the bench.

Each of them runs a process under ``valgrind --tool=callgrind`` and takes its totals from the output
file: the ``events:`` line names the events counted (``Ir``, instructions executed, and with
``--cache-sim=yes --branch-sim=yes`` the cache and branch events after it) and the ``summary:`` line
holds the total of each, in that order (a file without one has a ``totals:`` line instead).
"""

from __future__ import annotations

import re
from pathlib import Path


def command(out: Path | str, *options: str) -> list[str]:
    """``valgrind --tool=callgrind`` with `options`, writing its counts to `out`: the program follows."""
    return ["valgrind", "--tool=callgrind", *options, f"--callgrind-out-file={out}"]


def totals(text: str) -> dict[str, int]:
    """Every event's total in a callgrind output file's `text`, by event name (``Ir`` first)."""
    found = re.search(r"^summary:(.*)$", text, re.M) or re.search(r"^totals:(.*)$", text, re.M)
    if found is None or not found.group(1).split():
        raise ValueError("no summary in callgrind's output")
    events = re.search(r"^events:(.*)$", text, re.M)
    names = events.group(1).split() if events is not None else ["Ir"]
    values = [int(value) for value in found.group(1).split()]
    values += [0] * (len(names) - len(values))  # (a cost line may leave its trailing zeros out)
    return dict(zip(names, values, strict=False))


def total(text: str) -> int:
    """The instructions executed (``Ir``) in a callgrind output file's `text`."""
    return totals(text)["Ir"]


def file_totals(path: Path | str) -> dict[str, int]:
    """`totals` of the callgrind output file at `path`."""
    try:
        return totals(Path(path).read_text(errors="replace"))
    except ValueError:
        raise ValueError(f"{path}: no summary in callgrind's output") from None


def file_total(path: Path | str) -> int:
    """`total` of the callgrind output file at `path`."""
    return file_totals(path)["Ir"]
