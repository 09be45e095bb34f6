"""The OAuth client's records: the tokens a grant gave, a client registration at an authorization server."""

from __future__ import annotations

import time
from typing import Any

import msgspec

__all__ = ["Tokens", "ClientInfo", "EXPIRY_MARGIN"]

EXPIRY_MARGIN = 30.0
"""Seconds before `expires_at` when a token is already treated as expired (refreshed first)."""


class Tokens(msgspec.Struct):
    access_token: str
    token_type: str = "Bearer"
    refresh_token: str | None = None
    expires_at: float | None = None
    scope: str | None = None
    issuer: str | None = None
    """The authorization server that issued them (a token is never sent after the server moved)."""

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at - EXPIRY_MARGIN

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Tokens | None:
        try:
            return msgspec.convert(value, cls)
        except msgspec.ValidationError:
            return None


class ClientInfo(msgspec.Struct):
    client_id: str
    client_secret: str | None = None
    auth_method: str | None = None
    """The token endpoint authentication method (None: chosen from the server's metadata)."""
    issuer: str | None = None
    """The authorization server this registration belongs to (None: a pre-registration for any)."""

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ClientInfo | None:
        try:
            return msgspec.convert(value, cls)
        except msgspec.ValidationError:
            return None
