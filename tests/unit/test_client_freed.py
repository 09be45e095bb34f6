"""A `Client` dropped without being closed is freed at once, not by the cycle collector: the hooks its
peer and its requests hold (answering the server, its notifications, telling it of a cancellation)
hold the client weakly, and do nothing once it is gone."""

from __future__ import annotations

import asyncio
import gc
import weakref

from mcpbind.client import Client


def test_a_dropped_client_is_freed_without_the_collector() -> None:
    enabled = gc.isenabled()
    gc.disable()
    try:
        client = Client.http("http://127.0.0.1:9/mcp")
        ref = weakref.ref(client)
        on_cancel = client._on_cancel
        peer = client.peer
        del client
        assert ref() is None
        # Its hooks outlive it harmlessly.
        assert asyncio.run(on_cancel(1)) is None  # type: ignore[func-returns-value]
        assert peer is not None
    finally:
        if enabled:
            gc.enable()
