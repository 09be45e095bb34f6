"""examples/everything_server.py, plus what the TypeScript interop drivers exercise beyond the
conformance set: small pages (so that listing paginates), a URL-mode elicitation, a slow tool
whose cancellation the server counts (so that a driver can see a cancel arrive), a tool for each
shape of structured result, and a tool, resource, template and prompt with titles, icons and _meta.

    python tests/interop_ts/server.py --transport stdio
    python tests/interop_ts/server.py --transport http --port 3000
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


# Every shape of result a user writes: each tool's outputSchema must compile with the SDKs' validators
# (1.x: ajv for draft-07, which knows no `prefixItems`) and every structuredContent hold against it.


class Tree(msgspec.Struct):
    """A recursive Struct: its schema refers to itself (`#/$defs/Tree` from the root)."""

    name: str
    children: list[Tree] = []


class Forecast(msgspec.Struct):
    days: list[Weather]
    best: Point | None = None
    by_city: dict[str, Conditions] = {}


@server.tool()
async def test_shape_none(label: str) -> None:
    """Returns nothing: no outputSchema, no structuredContent."""


@server.tool()
async def test_shape_dataclass() -> Point:
    return Point(1, 2)


@server.tool()
async def test_shape_typeddict() -> Wind:
    return {"speed_kmh": 3.5, "direction": "S"}


@server.tool()
async def test_shape_optional(present: bool) -> Point | None:
    return Point(0, 0, "origin") if present else None


@server.tool()
async def test_shape_mapping() -> dict[str, int]:
    return {"a": 1, "b": 2}


@server.tool()
async def test_shape_nested() -> Forecast:
    weather = Weather("Oslo", -3.0, Conditions.RAINY, {"speed_kmh": 40.0, "direction": "N"}, [], "windy")
    return Forecast([weather], Point(5, 5), {"Oslo": Conditions.RAINY})


@server.tool()
async def test_shape_tree() -> Tree:
    return Tree("root", [Tree("a", [Tree("a1")]), Tree("b")])


@server.tool()
async def test_shape_enum() -> Conditions:
    return Conditions.RAINY


@server.tool()
async def test_shape_tuple() -> tuple[int, str, bool]:
    return (1, "two", True)


@server.tool()
async def test_shape_literal() -> Literal["yes", "no"]:
    return "yes"


@server.tool()
async def test_shape_datetime() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@server.tool(
    title="Decorated tool",
    icons=[{"src": "data:image/png;base64,iVBORw0KGgo=", "mimeType": "image/png", "sizes": ["16x16"]}],
    meta={"example.com/owner": "interop"},
    annotations={"readOnlyHint": True, "title": "Decorated (annotation)"},
)
async def test_shape_decorated() -> Point:
    return Point(7, 7)


ICON = {"src": "data:image/png;base64,iVBORw0KGgo=", "mimeType": "image/png", "sizes": ["16x16"]}


@server.resource(
    "test://decorated",
    title="Decorated resource",
    mime_type="text/plain",
    meta={"example.com/owner": "interop"},
    icons=[ICON],
    annotations={"audience": ["user"], "priority": 0.5},
    size=9,
)
def decorated_resource() -> str:
    return "decorated"


@server.resource(
    "test://decorated/{part}", title="Decorated template", meta={"example.com/owner": "interop"}, icons=[ICON]
)
def decorated_template(part: str) -> str:
    return f"decorated {part}"


@server.prompt(title="Decorated prompt", meta={"example.com/owner": "interop"}, icons=[ICON])
def test_decorated_prompt(topic: str) -> str:
    """A prompt with a title, icons and _meta."""
    return f"Tell me about {topic}"


if __name__ == "__main__":
    sys.exit(base.main())
