"""The `TokenVerifier` interface every way of checking an access token implements, and its errors.

A verifier returns the `Principal` a token stands for, or raises `InvalidToken` (the client gets 401
`invalid_token`) or `VerifierUnavailable` (the authorization server could not be asked: 503, and the
token is not accepted). Messages never contain the token.
"""

from __future__ import annotations

import time
from typing import Protocol

from .principal import Principal

__all__ = ["TokenVerifier", "InvalidToken", "VerifierUnavailable", "Remembered"]


class InvalidToken(Exception):
    """The token is not acceptable here; the message says why (sent to the client as
    `error_description`, so it names no secret)."""


class VerifierUnavailable(Exception):
    """The token could not be checked (the authorization server is slow, down, or answers garbage)."""


class TokenVerifier(Protocol):
    """Checks an access token for this resource."""

    async def verify(self, token: str) -> Principal:
        """The principal `token` stands for; raises `InvalidToken` or `VerifierUnavailable`."""
        ...


class Remembered:
    """Tokens verified lately, with their principals: at most `size`, each for at most `ttl` seconds and
    never past its expiry (the oldest is forgotten first). A client sends the same token on every
    request; remembering it spares a signature check or a round trip to the authorization server."""

    __slots__ = ("_entries", "size", "ttl")

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[0] > time.time():
            return entry[1]
        del self._entries[token]
        return None

    def put(self, token: str, principal: Principal) -> None:
        if self.size <= 0 or self.ttl <= 0:
            return
        until = time.time() + self.ttl
        if principal.expires_at is not None:
            until = min(until, principal.expires_at)
        entries = self._entries
        if len(entries) >= self.size:
            del entries[next(iter(entries))]
        entries[token] = (until, principal)

    def clear(self) -> None:
        self._entries.clear()
