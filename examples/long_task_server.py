"""A long-running job with progress and logging that asks the user to confirm (elicitation) and the
client's model to summarize (sampling), keeping its runs in a database opened at startup (lifespan).

    python examples/long_task_server.py                                 # stdio
    python examples/long_task_server.py --transport http --port 8000    # Streamable HTTP at /mcp

On 2026-07-28 a tool that asks for input runs again once the input comes: `ctx.carried` keeps what
the first round did, so the work is not repeated.
"""

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

from mcpbind.server import Context, Server


@contextlib.asynccontextmanager
async def database(server: Server) -> AsyncIterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE runs (items INTEGER, total INTEGER, summary TEXT)")
    try:
        yield db
    finally:
        db.close()


server = Server("long-task", "1.0.0", lifespan=database)


@dataclass
class Confirm:
    save: bool


@server.tool()
async def crunch(items: int, ctx: Context) -> str:
    """Add up the squares of 1..items, slowly; save the total if the user agrees, with a summary."""
    if "total" not in ctx.carried:
        total = 0
        for i in range(1, items + 1):
            total += i * i
            await ctx.progress(i, items, f"item {i} of {items}")
            await asyncio.sleep(0.01)
        await ctx.log("info", f"crunched {items} items")
        ctx.carried["total"] = total
    total = ctx.carried["total"]
    answer = await ctx.elicit(f"Save the total {total}?", Confirm)
    if answer.content is None or not answer.content.save:
        return f"Total {total}, not saved."
    prompt = {"role": "user", "content": {"type": "text", "text": f"Summarize in a few words: total {total}"}}
    reply = await ctx.sample([prompt], max_tokens=50)
    summary = getattr(reply.content, "text", "")
    ctx.lifespan_as(sqlite3.Connection).execute("INSERT INTO runs VALUES (?, ?, ?)", (items, total, summary))
    return f"Total {total}, saved: {summary}"


@server.tool(annotations={"readOnlyHint": True})
def history(ctx: Context) -> list[str]:
    """The saved runs, oldest first."""
    rows = ctx.lifespan_as(sqlite3.Connection).execute("SELECT items, total, summary FROM runs")
    return [f"{items} items: {total} ({summary})" for items, total, summary in rows]


if __name__ == "__main__":
    server.run()
