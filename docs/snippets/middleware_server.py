"""Two middleware: one logs how long every call takes, one limits each caller's tool calls."""

import logging
import time
from collections import defaultdict
from typing import Any

from mcpbind.errors import McpError
from mcpbind.server import Server
from mcpbind.server.middleware import Call, Next

log = logging.getLogger("calls")


async def timing(call: Call, call_next: Next) -> Any:
    started = time.perf_counter()
    try:
        return await call_next(call)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1e3
        log.info("%s (%s) took %.1f ms", call.method, call.revision, elapsed_ms)


class RateLimit:
    """At most `calls` tool calls per caller and `period` seconds (a caller: its principal)."""

    def __init__(self, calls: int, period: float) -> None:
        self.calls, self.period = calls, period
        self.seen: defaultdict[str, list[float]] = defaultdict(list)

    async def __call__(self, call: Call, call_next: Next) -> Any:
        if call.method == "tools/call":
            now = time.monotonic()
            recent = [t for t in self.seen[call.principal or "anonymous"] if now - t < self.period]
            if len(recent) >= self.calls:
                raise McpError("rate limit exceeded, try again later", code=-32000)
            self.seen[call.principal or "anonymous"] = [*recent, now]
        return await call_next(call)


limit = RateLimit(calls=3, period=60)
server = Server("limited", "1.0.0", middleware=[timing, limit])  # timing is the outermost


@server.tool()
def echo(text: str) -> str:
    """Say it back."""
    return text


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    server.run()
