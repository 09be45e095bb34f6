#!/usr/bin/env python3
"""Python function calls (or bytecodes) per call of the client, by function: where its frames go.

Wall clock tracks the Python frames a call makes more than its instructions (``client_cost.py``). This
runs mcpbind's ``Client`` (or, ``--raw``, the raw driver, ``servers.StdioDriver``) in this process
against the stdio floor (``--transport http``: ``Client.http`` or the raw ``HttpDriver`` against the
ASGI floor under uvicorn, a process of its own, not counted), warms up, then makes ``--n`` ``echo``
calls ``--inflight`` at a time under
``sys.setprofile`` (each Python frame entered or resumed, and each C function called, counted) or, with
``--bytecodes``, ``sys.settrace`` (each bytecode executed, by function); prints the totals per call and
the functions above 0.05 per call. The counts do not depend on the machine's load, except the loop's
own (how many answers one read finds).

    python bench/client_calls.py [--era 2025-11-25] [--inflight 16] [--n 1600] [--raw] [--bytecodes]
                                 [--transport stdio|http]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from client_cost import http_floor  # noqa: E402
from servers import MODERN, MODERN_META, HttpDriver, StdioDriver  # noqa: E402

SERVER = [sys.executable, str(BENCH / "apps" / "floor_stdio.py")]

Key = tuple[str, str]


def _where(frame: FrameType) -> Key:
    return frame.f_code.co_filename.rsplit("/", 1)[-1], frame.f_code.co_name


def profiler(
    counts: Counter[Key], where: Callable[[FrameType], Key] = _where
) -> Callable[[FrameType, str, Any], None]:
    """Counts each Python frame entered or resumed (by `where` it runs) and each C function called."""

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            counts[where(frame)] += 1
        elif event == "c_call":
            counts[("C", getattr(arg, "__qualname__", repr(arg)))] += 1

    return profile


def tracer(
    counts: Counter[Key], where: Callable[[FrameType], Key] = _where
) -> Callable[[FrameType, str, Any], Any]:
    """Counts each bytecode executed, by `where` it runs."""

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        key = where(frame)

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "opcode":
                counts[key] += 1
            return local

        return local

    return trace


async def run(args: argparse.Namespace, counts: Counter[Key]) -> None:
    if args.transport == "http":
        with http_floor() as url:
            await measured(args, counts, url)
    else:
        await measured(args, counts, None)


async def measured(args: argparse.Namespace, counts: Counter[Key], url: str | None) -> None:
    echo: Callable[[str], Awaitable[str]]
    close: Callable[[], Awaitable[None]]
    if args.raw and url is not None:
        http = HttpDriver(int(url.rsplit(":", 1)[1].split("/")[0]), args.era)
        await http.initialize()

        async def raw_http_echo(text: str) -> str:
            _, msg = await http.post(http._call("echo", {"text": text}), "echo")
            return str(msg["result"]["content"][0]["text"])

        async def raw_http_close() -> None:
            await http.__aexit__(None, None, None)

        echo, close = raw_http_echo, raw_http_close
    elif args.raw:
        driver = StdioDriver(SERVER)
        await driver.start()
        if args.era != MODERN:
            await driver.initialize()

        async def raw_echo(text: str) -> str:
            params: dict[str, Any] = {"name": "echo", "arguments": {"text": text}}
            if args.era == MODERN:
                params["_meta"] = MODERN_META
            return str((await driver.request("tools/call", params))["content"][0]["text"])

        echo, close = raw_echo, driver.close
    else:
        from mcpbind.client import Client

        client = (
            Client.stdio(SERVER[0], SERVER[1:], mode=args.era)
            if url is None
            else Client.http(url, mode=args.era)
        )
        await client.__aenter__()

        async def client_echo(text: str) -> str:
            result = await client.call_tool("echo", {"text": text})
            return str(result.content[0].text)

        echo, close = client_echo, client.close

    async def load(n: int, inflight: int) -> None:
        calls = iter(range(n))

        async def worker() -> None:
            for i in calls:
                if await echo(f"echo {i}") != f"echo {i}":
                    raise RuntimeError("a wrong answer")

        await asyncio.gather(*(worker() for _ in range(inflight)))

    try:
        await load(400, 16)
        if args.bytecodes:
            sys.settrace(tracer(counts))
        else:
            sys.setprofile(profiler(counts))
        try:
            await load(args.n, args.inflight)
        finally:
            sys.settrace(None)
            sys.setprofile(None)
    finally:
        await close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--era", default="2025-11-25")
    ap.add_argument("--inflight", type=int, default=16)
    ap.add_argument("--n", type=int, default=1600)
    ap.add_argument("--raw", action="store_true", help="the raw driver instead of mcpbind's Client")
    ap.add_argument("--bytecodes", action="store_true", help="bytecodes by function instead of calls")
    ap.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    args = ap.parse_args()
    counts: Counter[Key] = Counter()
    asyncio.run(run(args, counts))
    impl = "raw" if args.raw else "mcpbind"
    label = f"{impl} {args.transport} {args.era}, {args.inflight} in flight"
    report(counts, args.n, label, "call", args.bytecodes)


def report(counts: Counter[Key], n: int, label: str, unit: str, bytecodes: bool) -> None:
    """The totals per `unit` (of `n`), then the functions above 0.05 per `unit`."""
    python = sum(v for k, v in counts.items() if k[0] != "C")
    if bytecodes:
        print(f"{label}: {python / n:.0f} bytecodes per {unit}")
    else:
        c_calls = sum(v for k, v in counts.items() if k[0] == "C")
        frames = f"{python / n:.2f} Python frames entered or resumed"
        print(f"{label}: {frames} and {c_calls / n:.2f} C calls per {unit}")
    for (where, name), count in counts.most_common():
        if count / n < 0.05:
            break
        print(f"{count / n:9.2f}  {where}:{name}")


if __name__ == "__main__":
    main()
