"""What a handler's `Context` sends: the same bytes whichever way they are built."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpbind.protocol import revisions
from mcpbind.server import Connection, Context, Server

from ..conftest import REVISIONS
from ..peer_support import RecordingTransport

_PROGRESS: list[tuple[Any, Any, Any, Any]] = [
    ("tok", 1, None, None),
    (7, 0.5, 1.0, None),
    (7.5, 2, 10, "two of ten"),
    ("tok", True, None, None),  # a bool is not a number on the wire: converted, and refused
    ("tok", 1, "ten", None),
    ("tok", 1, None, 42),
    (None, 1, None, None),  # no token: nothing is sent
]


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize(("token", "progress", "total", "message"), _PROGRESS)
def test_progress_sends_what_converting_its_params_sends(
    revision: str, token: Any, progress: Any, total: Any, message: Any
) -> None:
    """`Context.progress` builds plain values straight into the params type; the notification is
    byte for byte the one converting the params as a dict gives, and what conversion refuses is
    refused the same way."""

    async def main() -> None:
        wire = RecordingTransport()
        conn = Connection(Server("ctx", "1.0.0"), wire)
        meta = {} if token is None else {"progressToken": token}
        ctx = Context(conn, 1, revision, meta, {})
        outcomes: list[Any] = []
        for send in (
            lambda: ctx.progress(progress, total, message),
            lambda: conn.notify(
                "notifications/progress",
                {
                    k: v
                    for k, v in {
                        "progressToken": token,
                        "progress": progress,
                        "total": total,
                        "message": message,
                    }.items()
                    if v is not None
                },
                revisions.module(revision),
            ),
        ):
            wire.out.clear()
            try:
                await send()
            except Exception as exc:
                outcomes.append(type(exc))
            else:
                outcomes.append(list(wire.out))
        if token is None:
            assert outcomes[0] == []
        else:
            assert outcomes[0] == outcomes[1]

    asyncio.run(main())
