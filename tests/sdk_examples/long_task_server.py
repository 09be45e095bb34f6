"""The long task with the official SDK: progress, logging, elicitation, sampling, a database at startup."""

import argparse
import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import SamplingMessage, TextContent
from pydantic import BaseModel


@contextlib.asynccontextmanager
async def database(server: MCPServer) -> AsyncIterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE runs (items INTEGER, total INTEGER, summary TEXT)")
    try:
        yield db
    finally:
        db.close()


mcp = MCPServer("long-task", version="1.0.0", lifespan=database)


class Confirm(BaseModel):
    save: bool


@mcp.tool()
async def crunch(items: int, ctx: Context) -> str:
    """Add up the squares of 1..items, slowly; save the total if the user agrees, with a summary."""
    total = 0
    for i in range(1, items + 1):
        total += i * i
        await ctx.report_progress(i, items, f"item {i} of {items}")
        await asyncio.sleep(0.01)
    await ctx.info(f"crunched {items} items")
    answer = await ctx.elicit(f"Save the total {total}?", Confirm)
    if answer.action != "accept" or not answer.data.save:
        return f"Total {total}, not saved."
    prompt = SamplingMessage(
        role="user", content=TextContent(text=f"Summarize in a few words: total {total}")
    )
    reply = await ctx.session.create_message([prompt], max_tokens=50)
    summary = getattr(reply.content, "text", "")
    db = ctx.request_context.lifespan_context
    db.execute("INSERT INTO runs VALUES (?, ?, ?)", (items, total, summary))
    return f"Total {total}, saved: {summary}"


@mcp.tool()
async def history(ctx: Context) -> list[str]:
    """The saved runs, oldest first."""
    rows = ctx.request_context.lifespan_context.execute("SELECT items, total, summary FROM runs")
    return [f"{items} items: {total} ({summary})" for items, total, summary in rows]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.transport == "http":
        mcp.run("streamable-http", port=args.port)
    else:
        mcp.run()
