"""examples/everything_server.py, plus what the TypeScript interop drivers exercise beyond the
conformance set: small pages (so that listing paginates), a URL-mode elicitation, and a slow tool
whose cancellation the server counts (so that a driver can see a cancel arrive).

    python tests/interop_ts/server.py --transport stdio
    python tests/interop_ts/server.py --transport http --port 3000
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Literal, TypedDict

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import everything_server as base

from mcpbind.server import Context

server = base.server
# ~40 tools, 4 per page: tools/list takes about ten pages.
server.page_size = 4

# Counted in `server.shared`: with --workers N --redis URL the count is read on any worker, whichever
# worker ran (and saw the cancel of) the call.
CANCELLED = "test_slow-cancelled"


@server.tool()
async def test_slow(ctx: Context) -> str:
    """Waits 30 s unless cancelled first (test_cancelled_count tells how many were)."""
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        await server.shared.incr(CANCELLED)
        raise
    return "slow tool finished"


@server.tool()
async def test_cancelled_count(ctx: Context) -> str:
    """How many test_slow calls were cancelled so far."""
    return f"cancelled={await ctx.shared.get(CANCELLED, 0)}"


@server.tool()
async def test_url_elicitation(ctx: Context) -> str:
    """Asks the user to visit a URL (URL-mode elicitation)."""
    outcome = await ctx.elicit(
        "Please confirm in your browser", {}, url="https://example.invalid/confirm", key="confirm_url"
    )
    return f"URL elicitation: action={outcome.action}"


@server.tool()
async def test_large_text(kib: int) -> str:
    """A text of `kib` KiB (several pipe buffers over stdio), non-ASCII included, its size at the end."""
    line = "mcpbind \u00e9\u2028\U0001f600 " * 32 + "\n"
    body = (line * (kib * 1024 // len(line.encode()) + 1)).encode()[: kib * 1024].decode(errors="ignore")
    return f"{body}|{len(body.encode())}"


# Structured results, each shape a TS user's client validates against the tool's outputSchema (ajv).


class Conditions(Enum):
    SUNNY = "sunny"
    RAINY = "rainy"


class Wind(TypedDict):
    speed_kmh: float
    direction: str


class Weather(msgspec.Struct):
    city: str
    celsius: float
    conditions: Conditions
    wind: Wind
    tags: list[str]
    note: str | None = None


@dataclass
class Point:
    x: int
    y: int
    label: Literal["origin", "other"] = "other"


@server.tool()
async def test_structured_weather(city: str) -> Weather:
    """A Struct result with an enum, a nested TypedDict, a list and an optional member."""
    return Weather(city, 21.5, Conditions.SUNNY, {"speed_kmh": 12.0, "direction": "NW"}, ["mild"])


@server.tool()
async def test_structured_points(count: int) -> list[Point]:
    """A list result (not an object): the structured result is wrapped as {"result": [...]}."""
    return [Point(i, i * 2, "origin" if i == 0 else "other") for i in range(count)]


@server.tool()
async def test_structured_number(a: int, b: int) -> int:
    """A scalar result: structured as {"result": n}."""
    return a + b


@dataclass
class Signup:
    """A typed elicitation form: its requestedSchema is made from these members."""

    name: str
    colour: Conditions
    plan: Literal["free", "pro"] = "free"
    seats: int = 1
    newsletter: bool | None = None
    topics: list[Literal["news", "tips"]] = field(default_factory=list)


@server.tool()
async def test_typed_form(ctx: Context) -> str:
    """Asks for a `Signup` (a dataclass form); the answer comes back as one, checked."""
    outcome = await ctx.elicit("Sign up?", Signup, key="signup")
    return f"{outcome.action}: {outcome.content!r}"


@server.tool()
async def test_ping_client(ctx: Context) -> str:
    """Pings the client (`Context.ping`, session era) and says so."""
    await ctx.ping(timeout=30)
    return "the client answered ping"


if __name__ == "__main__":
    sys.exit(base.main())
