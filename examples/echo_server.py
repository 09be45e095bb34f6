"""A minimal MCP server: one `echo` tool, over stdio. `python examples/echo_server.py`."""

from mcpbind.server import Context, Server

server = Server("echo", "1.0.0", instructions="Says back what it is given.")


@server.tool()
async def echo(text: str) -> str:
    """Return `text` unchanged."""
    return text


@server.tool()
async def ask_name(ctx: Context) -> str:
    """Ask the user for a name, then greet them."""
    answer = await ctx.elicit("Your name?", {"type": "object", "properties": {"name": {"type": "string"}}})
    return f"hello {answer.content['name'] if answer.content else 'stranger'}"


@server.resource("memo://greeting", mime_type="text/plain")
def greeting() -> str:
    return "hello"


@server.prompt()
def greet(name: str) -> str:
    """Greet someone."""
    return f"Please greet {name}."


if __name__ == "__main__":
    server.run_stdio()
