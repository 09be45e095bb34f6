"""Redis-backed serving (`pip install 'mcpbind[redis]'`): sessions, resumable streams and notifications shared
by every worker, so that any worker serves any request of any client.

    app = redis_app(server, "redis://127.0.0.1:6379/0")      # an ASGI app, one per worker
    server.run_http(workers=4, redis="redis://127.0.0.1:6379/0")

Modules, one job each: `connection` (the pool and key prefix every store shares; add a store by taking a
`RedisConnection`), `pipe` (a request's own command, pipelined on one connection), `sessions`, `events`
(replay for `Last-Event-ID`), `tasks` (task records), `shared` (`server.shared`, handlers' own values),
`bus` (changes between workers, task cancels and input included), `registrations` (tools, prompts and
resources registered or removed while serving, on every worker), `app` (the lifespan). Nothing in mcpbind
imports this package unless asked to serve over Redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....server.shared import MemoryState
from ....server.tasks import MemoryTaskStore
from ..app import HttpApp
from ..security import HttpSecurity
from .app import RedisApp
from .bus import RedisBus
from .connection import RedisConnection, StoreUnavailable
from .events import RedisEventStore, redis_event_stores
from .registrations import forget as forget_registrations
from .sessions import RedisSessionStore
from .shared import RedisState
from .tasks import RedisTaskStore

if TYPE_CHECKING:
    from ....server import Server
    from ...websocket.core import WebSocketOptions

__all__ = [
    "RedisApp",
    "RedisBus",
    "RedisConnection",
    "RedisEventStore",
    "RedisSessionStore",
    "RedisState",
    "RedisTaskStore",
    "StoreUnavailable",
    "redis_app",
    "forget_registrations",
    "redis_event_stores",
]


def redis_app(
    server: Server,
    redis: str | RedisConnection,
    *,
    path: str = "/mcp",
    security: HttpSecurity | None = None,
    json_response: bool = False,
    keepalive: float = 15.0,
    websocket: WebSocketOptions | None = None,
) -> RedisApp:
    """An ASGI app serving `server` with its sessions, SSE events and notifications in Redis (`redis`: a
    URL, or a `RedisConnection` for a key prefix or timeouts). Sessions and kept events expire after the
    sessions' idle timeout (`security.session_idle_timeout`); events are bounded by `max_replay_bytes`.
    A server with task tools keeps its tasks in Redis too (unless it was given a store of its own), so
    that any worker polls, fetches or cancels a task that another runs. `server.shared` (`ctx.shared`)
    moves to Redis too, unless the server was given a store of its own."""
    connection = redis if isinstance(redis, RedisConnection) else RedisConnection(redis)
    if isinstance(server.shared, MemoryState):
        server.shared = RedisState(connection)
    tasks = server.tasks
    if tasks is not None and isinstance(tasks.store, MemoryTaskStore):
        tasks.store = RedisTaskStore(connection)
    security = security or HttpSecurity()
    ttl = security.session_idle_timeout
    app = HttpApp(
        server,
        path=path,
        security=security,
        json_response=json_response,
        keepalive=keepalive,
        session_store=RedisSessionStore(connection, ttl=ttl),
        event_store=redis_event_stores(connection, max_bytes=security.max_replay_bytes, ttl=ttl),
        websocket=websocket,
    )
    return RedisApp(app, connection)
