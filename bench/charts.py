#!/usr/bin/env python3
"""Charts of the benchmark curves (``curves.py``'s summary) as SVG files, drawn with matplotlib (the
``bench`` extra only; nothing else imports it).

    python bench/charts.py [bench/results/curves.json] [--out bench/charts]

One chart per curve: stdio calls/s and p99 against requests in flight, ms per call and MB/s against the
size of a text result (stdio and HTTP), tools/list ms against the number of tools. Log scales where the
x axis spans decades, one line per implementation in fixed colours.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "charts"
NAMES = {"mcpbind": "mcpbind", "sdk": "Python SDK", "node": "TypeScript SDK (Node)", "floor": "floor"}
STYLE = {
    "mcpbind": {"color": "#1f77b4", "marker": "o"},
    "sdk": {"color": "#d62728", "marker": "s"},
    "node": {"color": "#2ca02c", "marker": "^"},
    "floor": {"color": "#7f7f7f", "marker": "x", "linestyle": "--"},
}
CHARTS = (
    # file, curve, metric, title, x label, y label, log y
    (
        "inflight_calls",
        "inflight_stdio",
        "calls_per_s",
        "stdio: calls/s",
        "requests in flight",
        "calls/s",
        True,
    ),
    ("inflight_p99", "inflight_stdio", "p99_ms", "stdio: p99 latency", "requests in flight", "ms", True),
    ("payload_stdio", "payload_stdio", "ms", "stdio: one text result", "result bytes", "ms per call", True),
    (
        "payload_http",
        "payload_http",
        "ms",
        "HTTP stateless JSON: one text result",
        "result bytes",
        "ms",
        True,
    ),
    ("payload_rate", "payload_stdio", "mb_per_s", "stdio: result throughput", "result bytes", "MB/s", True),
    ("tools_list", "tools_list", "ms", "tools/list over stdio", "tools", "ms", True),
)


def draw(summary: dict[str, Any], out: Path) -> list[Path]:
    """Write one SVG per chart whose curve is in ``summary``; the paths written."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    # Stable SVGs: the same figures give the same file (no dates, no random ids).
    plt.rcParams.update({"svg.hashsalt": "mcpbind-bench", "svg.fonttype": "none"})
    written = []
    for name, curve, metric, title, xlabel, ylabel, logy in CHARTS:
        data = summary.get(curve)
        if not data:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        ticks: set[float] = set()
        for impl in NAMES:
            points = data.get(impl)
            if not points:
                continue
            xs = sorted(points, key=float)
            ys = [points[x].get(metric) for x in xs]
            pairs = [(float(x), y) for x, y in zip(xs, ys, strict=True) if y]
            ticks.update(x for x, _ in pairs)
            if pairs:
                ax.plot(*zip(*pairs, strict=True), label=NAMES[impl], **STYLE[impl])
        ax.set_xscale("log", base=2 if curve.startswith("inflight") else 10)
        ax.set_xticks(sorted(ticks), [_label(x, curve) for x in sorted(ticks)])
        ax.minorticks_off()
        if logy:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        path = out / f"{name}.svg"
        fig.savefig(path, metadata={"Date": None, "Creator": None})
        plt.close(fig)
        written.append(path)
    return written


def _label(x: float, curve: str) -> str:
    if curve.startswith("payload"):
        for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
            if x >= size:
                return f"{x / size:g} {unit}"
    return f"{x:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("curves", nargs="?", type=Path, default=BENCH_DIR / "results" / "curves.json")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    for path in draw(json.loads(args.curves.read_text())["summary"], args.out):
        print(path)


if __name__ == "__main__":
    main()
