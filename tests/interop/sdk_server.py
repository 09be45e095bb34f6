"""A small stdio server written with the official Python SDK (`mcp` 2.x, `MCPServer`), for interop tests.

`python tests/interop/sdk_server.py` serves both protocol eras on one stdio connection: the SDK picks
the era from the client's first request (`initialize` opens a handshake session; a request carrying
the 2026-07-28 `_meta` envelope, such as `server/discover`, opens a stateless one).
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

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


if __name__ == "__main__":
    server.run("stdio")
