"""`RedisSessionStore`: stateful sessions (negotiated state, principal) kept in Redis, shared by every worker,
expiring after the idle timeout. One round trip per request: `GETEX` reads a session and renews its life."""

from __future__ import annotations

import logging

import msgspec

from ..sessions import SessionState
from .connection import RedisConnection

__all__ = ["RedisSessionStore"]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(SessionState).decode

log = logging.getLogger("mcpbind.redis")


class RedisSessionStore:
    """A `SessionStore` in Redis: one key per session (`<prefix>session:<id>`), a JSON `SessionState`,
    expiring `ttl` seconds after the session's last request (its idle timeout, shared by all workers)."""

    shared = True
    """Other workers change these sessions: the app reads the store on every request."""

    def __init__(self, connection: RedisConnection, *, ttl: float = 3600.0) -> None:
        self.connection = connection
        self.ttl = max(1, int(ttl))

    async def load(self, session_id: str) -> SessionState | None:
        key = self.connection.key("session", session_id)
        data = await self.connection.command("GETEX", key, "EX", self.ttl)
        if data is None:
            return None
        try:
            return _decode(data)
        except msgspec.DecodeError as exc:
            # A record no worker can read (written by hand, by another program, cut short): the
            # session is unknown (404, and the client opens a new one) rather than failing each of its
            # requests until it expires. Deleted, so this is logged once.
            log.warning("session %s: its record in Redis could not be read (%s); deleted", session_id, exc)
            await self.delete(session_id)
            return None

    async def save(self, session_id: str, state: SessionState) -> None:
        key = self.connection.key("session", session_id)
        data = _encode(state)
        await self.connection.run(lambda client: client.set(key, data, ex=self.ttl))

    async def delete(self, session_id: str) -> None:
        key = self.connection.key("session", session_id)
        await self.connection.run(lambda client: client.delete(key))
