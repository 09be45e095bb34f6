"""A server whose lifespan fails at startup (its database is unreachable): for the tests that startup
failures are clear errors. `python tests/servers/failing_lifespan.py [--transport http --port N]`"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcpbind.server import Server


@contextlib.asynccontextmanager
async def lifespan(server: Server) -> AsyncIterator[None]:
    raise ConnectionRefusedError("database at db.invalid:5432 refused the connection")
    yield


server = Server("failing", lifespan=lifespan)


@server.tool()
def never() -> str:
    return "never served"


if __name__ == "__main__":
    server.run()
