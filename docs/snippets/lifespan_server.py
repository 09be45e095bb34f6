"""A database opened once at startup, closed at shutdown, and reached by every tool (`ctx.lifespan`)."""

import contextlib
import sqlite3
from collections.abc import AsyncIterator

from mcpbind.server import Context, Server


@contextlib.asynccontextmanager
async def open_database(server: Server) -> AsyncIterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")  # a real server opens its own file, or a pool
    db.execute("CREATE TABLE visits (name TEXT)")
    try:
        yield db  # the state every handler sees as ctx.lifespan
    finally:
        db.close()  # runs however serving ends


server = Server("visits", "1.0.0", lifespan=open_database)


@server.tool()
def visit(name: str, ctx: Context) -> int:
    """Record a visit; how many `name` has made."""
    db = ctx.lifespan_as(sqlite3.Connection)  # typed, and checked at run time
    db.execute("INSERT INTO visits VALUES (?)", (name,))
    return int(db.execute("SELECT COUNT(*) FROM visits WHERE name = ?", (name,)).fetchone()[0])


if __name__ == "__main__":
    server.run()
