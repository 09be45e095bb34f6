"""The `TokenVerifier` interface every way of checking an access token implements, and its errors.

A verifier returns the `Principal` a token stands for, or raises `InvalidToken` (the client gets 401
`invalid_token`) or `VerifierUnavailable` (the authorization server could not be asked: 503, and the
token is not accepted). Messages never contain the token.
"""

from __future__ import annotations

from typing import Protocol

from .principal import Principal

__all__ = ["TokenVerifier", "InvalidToken", "VerifierUnavailable"]


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
