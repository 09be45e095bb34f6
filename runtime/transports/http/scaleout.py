"""`Server.run_http(workers=N, redis=URL)`: what serving on several workers needs checked first (Redis for
stateful revisions and for tasks, Redis reachable), then one process or several forked workers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ...protocol import revisions
from ...server.tasks import MemoryTaskStore

if TYPE_CHECKING:
    from ...server import Server
    from ..websocket.core import WebSocketOptions

__all__ = ["check_workers", "serve_scaled"]


def check_workers(server: Server, workers: int, redis: str | None) -> None:
    """ValueError when `workers` cannot serve `server` correctly without Redis."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    stateful = [r for r in server.revisions if not revisions.revision(r).stateless]
    if workers > 1 and redis is None and stateful:
        raise ValueError(
            f"{workers} workers cannot share the sessions of stateful revisions ({', '.join(stateful)}) "
            "without a shared store: pass redis='redis://host:6379/0' (pip install 'mcpbind[redis]'), "
            "or serve stateless revisions alone (Server(revisions_served=['2026-07-28']))"
        )
    tasks = server.tasks
    if workers > 1 and redis is None and tasks is not None and isinstance(tasks.store, MemoryTaskStore):
        raise ValueError(
            f"{workers} workers cannot share tasks kept in each worker's memory (a task polled on another "
            "worker than the one that made it would be unknown there): pass redis='redis://host:6379/0', "
            "or give the server a shared store (Server(task_store=...))"
        )


def serve_scaled(
    server: Server,
    host: str,
    port: int,
    path: str,
    json_response: bool,
    security: Any,
    workers: int,
    redis: str | None,
    uvicorn_options: dict[str, Any],
    websocket: WebSocketOptions | None = None,
) -> None:
    """Serve on `workers` processes, over Redis when `redis` is a URL."""
    import uvicorn

    from .workers import serve_workers

    check_workers(server, workers, redis)
    if redis is not None:
        from .redis import RedisConnection, redis_app

        # A clear error now, before any worker starts; several workers starting together start from the
        # registry the code makes, not from changes an earlier run made while serving.
        asyncio.run(_check(RedisConnection(redis), fresh=workers > 1))

        def make_app() -> Any:
            return redis_app(
                server, redis, path=path, security=security, json_response=json_response, websocket=websocket
            )

    else:

        def make_app() -> Any:
            return server.http_app(
                path=path, security=security, json_response=json_response, websocket=websocket
            )

    if workers == 1:
        uvicorn.run(make_app(), host=host, port=port, **uvicorn_options)
    else:
        serve_workers(make_app, host, port, workers, uvicorn_options)


async def _check(connection: Any, fresh: bool) -> None:
    from .redis import forget_registrations

    try:
        await connection.check()
        if fresh:
            await forget_registrations(connection)
    finally:
        await connection.close()
