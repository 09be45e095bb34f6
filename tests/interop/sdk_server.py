"""A small server written with the official Python SDK (`mcp` 2.x, `MCPServer`), for interop tests.

`python tests/interop/sdk_server.py` serves both protocol eras on one stdio connection: the SDK picks
the era from the client's first request (`initialize` opens a handshake session; a request carrying
the 2026-07-28 `_meta` envelope, such as `server/discover`, opens a stateless one).

`python tests/interop/sdk_server.py --http PORT [--json]` serves the same tools, resources and prompts
over the SDK's Streamable HTTP server (uvicorn, 127.0.0.1, path /mcp), both eras on one endpoint:
`initialize` opens a stateful session, a request with a 2026-07-28 `MCP-Protocol-Version` is served on
its own. Without `--json` a stateful session answers every request with an SSE stream, and a 2026-07-28
request with JSON unless its handler sends notifications first (`progress`), which makes it a stream;
with `--json` every answer is a JSON body and notifications tied to a request are dropped (mcp 2.3.0).
"""

from __future__ import annotations

import argparse
import time
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

server = MCPServer("sdk-interop", version="1.2.3", instructions="An official-SDK server for interop tests.")


class Sum(BaseModel):
    total: int
    terms: list[int]


@server.tool()
def echo(text: str) -> str:
    """Say `text` back."""
    return text


@server.tool()
def add(a: int, b: int = 0) -> Sum:
    """Add two integers (structured output)."""
    return Sum(total=a + b, terms=[a, b])


@server.tool()
def fail(message: str) -> str:
    """Fail with `message` (a tool error, not a protocol error)."""
    raise ToolError(message)


@server.tool()
async def progress(steps: int, ctx: Context) -> str:
    """Report `steps` progress notifications, then answer."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
    return "progressed"


@server.tool()
def locate(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})]) -> str:
    """Name the region asked for (2026-07-28 HTTP: `region` is mirrored in an `Mcp-Param-Region` header)."""
    return f"region {region}"


@server.resource("memo://hello", name="hello", mime_type="text/plain", description="A greeting.")
def hello() -> str:
    return "hello from the sdk"


@server.resource("memo://items/{item}", name="item", mime_type="application/json")
def item(item: str) -> str:
    return '{"item": "' + item + '"}'


@server.prompt()
def greet(name: str, style: str = "plain") -> str:
    """Greet someone."""
    return f"Greet {name} in a {style} way."


@server.prompt(name="=?base64?aGk=?=")
def sentinel() -> str:
    """A prompt whose name looks like a Base64-wrapped header value (an `Mcp-Name` must wrap it)."""
    return "Not base64."


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--http", type=int, default=None, metavar="PORT", help="serve Streamable HTTP on PORT"
    )
    parser.add_argument("--json", action="store_true", help="HTTP: answer with JSON bodies, not SSE streams")
    parser.add_argument("--slow-start", type=float, default=0.0, metavar="S", help="wait S seconds first")
    args = parser.parse_args()
    time.sleep(args.slow_start)  # a server slower to start than its client's probe timeout
    if args.http is None:
        server.run("stdio")
    else:
        server.run(
            "streamable-http",
            host="127.0.0.1",
            port=args.http,
            json_response=args.json,
            session_idle_timeout=120,
        )
