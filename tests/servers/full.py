"""A server exercising every feature the runtime offers; the end-to-end tests drive it over stdio.

`python tests/servers/full.py [--max-line N] [--revisions R,R...]`
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import msgspec

from mcpbind.server import Context, Server, ToolError

server = Server("full", "2.0.0", title="Full test server", instructions="Everything, for tests.", page_size=3)


class Sum(msgspec.Struct):
    total: int
    terms: list[int]


@server.tool()
async def echo(text: str) -> str:
    """Say `text` back."""
    return text


@server.tool(annotations={"readOnlyHint": True})
def add(a: int, b: int = 0) -> Sum:
    """Add two integers (structured output)."""
    return Sum(a + b, [a, b])


@server.tool()
async def fail(message: str) -> str:
    raise ToolError(message)


@server.tool()
async def crash() -> str:
    raise RuntimeError("internal detail that is fine to show the model")


async def counted_sleep(seconds: float) -> None:
    """Sleep; a cancelled sleep counts in `server_state["cancelled"]` (what `cancelled_count` reads)."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        server_state["cancelled"] += 1
        raise


@server.tool()
async def slow(seconds: float, ctx: Context, tag: str = "") -> str:
    server_state["started"].add(tag)  # (`started`: a client that leaves knows it reached the tool)
    await counted_sleep(seconds)
    return "done"


@server.tool()
async def started(tag: str) -> bool:
    return tag in server_state["started"]


@server.tool()
async def cancelled_count() -> int:
    return server_state["cancelled"]


@server.tool()
async def progress(steps: int, ctx: Context) -> str:
    for i in range(steps):
        await ctx.progress(i + 1, steps, f"step {i + 1}")
    return "progressed"


@server.tool()
async def shout(ctx: Context) -> str:
    await ctx.log("debug", "quiet")
    await ctx.log("warning", {"loud": True}, logger="full")
    return "logged"


@server.tool()
async def ask(ctx: Context) -> str:
    first = await ctx.elicit("Name?", {"type": "object", "properties": {"name": {"type": "string"}}})
    second = await ctx.elicit("Age?", {"type": "object", "properties": {"age": {"type": "integer"}}})
    name = (first.content or {}).get("name")
    age = (second.content or {}).get("age")
    return f"{first.action}:{name}:{second.action}:{age}"


@server.tool()
async def survey(ctx: Context) -> str:
    """Three questions at once: on stateless revisions one InputRequiredResult carries all three."""
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    answers = await asyncio.gather(
        ctx.elicit("Colour?", schema, key="colour"),
        ctx.elicit("Animal?", schema, key="animal"),
        ctx.elicit("Number?", schema, key="number"),
    )
    return ",".join(str((a.content or {}).get("answer")) for a in answers)


@server.tool()
async def visit(ctx: Context) -> str:
    """URL-mode elicitation, then the notice that it completed."""
    answer = await ctx.elicit("Sign in", {}, url="https://example.com/login", key="login")
    await ctx.complete_elicitation("login")
    return answer.action


@server.tool()
async def poll(ctx: Context) -> str:
    """Send progress, close the HTTP connection (the client is told to poll), then answer."""
    await ctx.progress(1, 2, "before")
    ctx.close_sse_stream(retry_ms=100)
    await asyncio.sleep(0.3)
    await ctx.progress(2, 2, "after")
    return "polled"


@server.tool(
    input_schema={
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "count": {"type": "integer"}},
        "required": ["region"],
    }
)
async def locate(region: str, count: int = 1) -> str:
    """Its `region` is mirrored into an `Mcp-Param-Region` header on the stateless HTTP wire."""
    return f"{region} x{count}"


@server.tool()
async def add_prompt(name: str) -> str:
    server.prompt(name=name)(greet)
    return "added"


@server.tool()
async def add_resource(uri: str) -> str:
    server.resource(uri)(hello)
    return "added"


@server.tool()
async def think(ctx: Context) -> str:
    answer = await ctx.sample([{"role": "user", "content": {"type": "text", "text": "2+2?"}}], max_tokens=10)
    return f"model said {answer.content.text}"


@server.tool()
async def where(ctx: Context) -> list[str]:
    return [root.uri for root in await ctx.list_roots()]


@server.tool()
async def touch(uri: str) -> str:
    await server.notify_resource_updated(uri)
    return "touched"


@server.tool()
async def add_tool(name: str) -> str:
    server.tool(name=name)(echo)
    return "added"


for i in range(5):
    server.tool(name=f"filler_{i}", description=f"Filler {i}")(echo)


@server.resource("memo://hello", mime_type="text/plain", ttl_ms=60_000, cache_scope="public")
def hello() -> str:
    return "hello world"


@server.resource("memo://bytes", mime_type="application/octet-stream")
def raw() -> bytes:
    return b"\x00\x01\x02"


@server.resource("memo://items/{item}", mime_type="application/json")
def item(item: str) -> str:
    return msgspec.json.encode({"item": item}).decode()


@server.prompt()
def greet(name: str, style: str = "plain") -> str:
    """Greet someone."""
    return f"Greet {name} in a {style} way."


@server.completion("prompt", "greet")
def complete_greet(argument: str, value: str, context: dict[str, Any]) -> list[str]:
    names = ["alice", "albert", "bob"] if argument == "name" else ["plain", "poetic"]
    return [n for n in names if n.startswith(value)]


server_state: dict[str, Any] = {"cancelled": 0, "started": set()}

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-line", type=int, default=None)
    parser.add_argument("--revisions", default=None)
    parser.add_argument(
        "--ignore-probe", action="store_true", help="never answer server/discover (old servers)"
    )
    parser.add_argument("--list-ttl", type=int, default=0, help="ttlMs of list results (stateless revisions)")
    parser.add_argument(
        "--http", type=int, default=None, metavar="PORT", help="serve Streamable HTTP on PORT"
    )
    parser.add_argument("--workers", type=int, default=1, help="HTTP: processes serving the port")
    parser.add_argument("--redis", default=None, help="HTTP: the Redis URL the workers share")
    args = parser.parse_args()
    server.list_ttl_ms = args.list_ttl
    if args.ignore_probe:
        from mcpbind.server.session import Connection

        answer = Connection.on_request

        async def silent(self: Any, event: Any) -> bytes | None:
            if event.method == "server/discover":
                return None
            return await answer(self, event)

        Connection.on_request = silent  # type: ignore[method-assign]
    if args.revisions:
        server.revisions = tuple(args.revisions.split(","))
    if args.http is not None:
        server.run_http(port=args.http, workers=args.workers, redis=args.redis, log_level="warning")
    else:
        asyncio.run(server.serve_stdio(max_line=args.max_line))
