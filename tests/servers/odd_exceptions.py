"""A stdio server whose tools and middleware raise what handlers should not (a BaseException of a
library's own, GeneratorExit, a CancelledError nothing asked for) or return garbage, for
tests/e2e/test_hostile_handlers.py. The middleware acts on the called tool's name (`mw_*`)."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from typing import Any

from mcpbind.server import Server
from mcpbind.server.middleware import Call, Next


class Odd(BaseException):
    """A BaseException that is neither the process's end nor a cancellation (as some libraries raise)."""


RAISED: dict[str, BaseException] = {
    "odd": Odd("odd"),
    "generator_exit": GeneratorExit(),
    "self_cancelled": asyncio.CancelledError(),
}


async def misbehave(call: Call, call_next: Next) -> Any:
    name = getattr(call.params, "name", "")
    if name.startswith("mw_"):
        raise RAISED[name[3:]]
    return await call_next(call)


server = Server("odd", "1.0.0", middleware=[misbehave])
gate = asyncio.Event()


@server.tool()
async def ok() -> str:
    return "ok"


@server.tool()
async def raises(kind: str) -> str:
    raise RAISED[kind]


@server.tool()
async def raises_after_wait(kind: str) -> str:
    await asyncio.sleep(0)
    raise RAISED[kind]


@server.tool()
async def recursive() -> Any:
    looped: list[Any] = []
    looped.append(looped)
    return looped


@server.tool(output_schema={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
async def declared(kind: str) -> Any:
    """An output schema declared, not made from the return annotation: `kind` picks what it returns."""
    return {"fits": {"n": 1, "more": "x"}, "wrong": {"n": "x"}, "list": [1], "text": "one"}[kind]


@server.tool()
async def wait() -> str:
    await gate.wait()
    return "released"


class Opaque:
    """An object with no text of its own (its `str` would be `<Opaque object at 0x...>`)."""


@server.resource("odd://opaque")
def opaque() -> Any:
    return Opaque()


@server.resource("odd://generator")
def generator() -> Any:
    return (n for n in range(3))  # (its str: `<generator object ... at 0x...>`)


@server.resource("odd://holding")
def holding() -> Any:
    return {"inside": Opaque()}  # (its str: the dict's repr, holding `<Opaque object at 0x...>`)


@server.resource("odd://path")
def path() -> Any:
    return PurePosixPath("/srv/data")  # (no JSON form, and a text of its own: sent as that text)


@server.resource("odd://number")
def number() -> Any:
    return 42  # (a value with a text of its own: sent as "42")


if __name__ == "__main__":
    server.run_stdio()
