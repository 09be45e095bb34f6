"""Registrations made while serving, carried to every worker: a tool, prompt or resource removed or
registered on one worker is removed or registered again on the others (`Server.withdraw`/`restore`).

Functions cannot travel, so what travels is a name: a removal takes the name out of what each worker
serves (keeping it), and a registration by a name puts back what that worker had under it. A tool that
only one worker ever had (registered while serving, never before `run_http`) stays that worker's alone.
The latest change of each name is kept in a hash (`registry`), so that a worker starting later (one
replacing a worker that died) serves the same lists; `run_http(workers=N)` forgets it when it starts
the workers (`forget`): a deployment starts from the registry its code makes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .connection import RedisConnection

if TYPE_CHECKING:
    from ....server import Server

__all__ = ["CHANGES", "RegistrySync", "forget"]

CHANGES = ("add", "remove")
"""The relay's kinds of change this module carries (value: "<kind>:<name>")."""


async def forget(connection: RedisConnection) -> None:
    """Drop the changes kept for workers that start later (`StoreUnavailable` when Redis is away)."""
    key = connection.key("registry")
    await connection.run(lambda client: client.delete(key))


class RegistrySync:
    """One worker's side: record its own changes, apply the others'."""

    def __init__(self, connection: RedisConnection, server: Server) -> None:
        self.key = connection.key("registry")
        self.connection = connection
        self.server = server

    def apply(self, change: str, value: str) -> str:
        """Apply another worker's `change` of `value` ("<kind>:<name>") here; the kind of list it changes."""
        kind, _, name = value.partition(":")
        if change == "remove":
            self.server.withdraw(kind, name)
        else:
            self.server.restore(kind, name)
        return kind

    async def catch_up(self) -> set[str]:
        """Apply what the other workers changed (kept in Redis): when this worker starts, or subscribes again
        after Redis was away. The kinds of list that changed here."""
        kept = await self.connection.run(lambda client: client.hgetall(self.key))
        changed: set[str] = set()
        for field, kept_change in kept.items():
            value, state = _text(field), _text(kept_change)
            kind, _, name = value.partition(":")
            here = self.server.registered(kind, name)
            if (state == "remove" and here) or (state == "add" and not here):
                self.apply(state, value)
                if self.server.registered(kind, name) != here:
                    changed.add(kind)
        return changed

    def record(self, pipe: Any, change: str, value: str) -> None:
        """Add keeping this worker's `change` of `value` to `pipe` (a transaction that publishes it too)."""
        pipe.hset(self.key, value, change)


def _text(data: bytes | str) -> str:
    return data.decode() if isinstance(data, bytes) else data
