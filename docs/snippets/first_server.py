"""A first MCP server: a tool, a templated resource and a prompt (stdio, or `--transport http`)."""

from mcpbind.server import Context, Server

server = Server("first", "1.0.0")


@server.tool()
async def add(a: int, b: int, ctx: Context) -> int:
    """Add two integers."""
    await ctx.log("info", f"adding {a} and {b}")
    return a + b


@server.resource("greeting://{name}", mime_type="text/plain")
def greeting(name: str) -> str:
    """A greeting for `name`."""
    return f"Hello, {name}!"


@server.prompt()
def review(code: str) -> str:
    """Ask the model to review some code."""
    return f"Please review this code:\n\n{code}"


if __name__ == "__main__":
    server.run()  # stdio; `--transport http --port 8000` serves Streamable HTTP at /mcp
