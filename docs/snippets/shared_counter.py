"""A server whose count and status hold across workers: kept in `ctx.shared`, which `run_http(redis=...)`
puts in Redis (in the process's memory without Redis)."""

import os

from mcpbind.server import Context, Server

server = Server("counter", "1.0.0")


@server.tool()
async def hit(ctx: Context) -> int:
    """Count a hit: one count over every worker (`incr` is atomic; a get then a set could lose a step)."""
    return await ctx.shared.incr("hits")


@server.tool()
async def set_status(status: str, ctx: Context) -> str:
    await ctx.shared.set("status", status)
    return "ok"


@server.resource("app://status", mime_type="text/plain")
async def status() -> str:
    """Whichever worker set it."""
    return str(await server.shared.get("status", "idle"))


if __name__ == "__main__":
    server.run_http(
        port=int(os.environ.get("PORT", "8000")),
        workers=int(os.environ.get("WORKERS", "4")),
        redis=os.environ.get("REDIS_URL", "redis://redis:6379/0"),
    )
