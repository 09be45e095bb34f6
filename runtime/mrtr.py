"""Multi round-trip requests (2026-07-28): the server's sealed `requestState`.

A handler that needs input is re-run on each retry; the answers gathered so far travel in
`requestState`, which the client must echo untouched. The state is attacker-controlled input, so it is
sealed with HMAC-SHA256 under a server secret and binds what the spec asks servers to bind: an expiry,
the method and a digest of the request's salient params (and a principal, where the transport has one).
Anything that fails verification is rejected with -32602, never trusted.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any, Final

import msgspec

from .errors import InvalidParams

__all__ = ["StateSealer", "InvalidState", "params_digest"]

_VERSION: Final = b"m1"


class InvalidState(InvalidParams):
    """A `requestState` that is tampered with, expired, or belongs to another request."""


class _State(msgspec.Struct, array_like=True):
    method: str
    digest: str
    principal: str
    expires: float
    answers: dict[str, Any]


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_State).decode


def params_digest(params: dict[str, Any]) -> str:
    """A digest of a request's params without the members that change between rounds."""
    salient = {k: v for k, v in params.items() if k not in ("_meta", "inputResponses", "requestState")}
    data = msgspec.json.encode(salient, order="sorted")
    import hashlib  # on first use: most servers never seal a state, and every start-up pays imports

    return hashlib.sha256(data).hexdigest()[:32]


class StateSealer:
    def __init__(self, secret: bytes | None = None, ttl: float = 600.0) -> None:
        # A fresh random secret per process is right for one process; several workers behind a load
        # balancer must share one (pass `secret`), or a retry may land where the state cannot be opened.
        self._key = secret or os.urandom(32)  # what secrets.token_bytes returns, without importing random
        self.ttl = ttl

    def _mac(self, body: bytes) -> bytes:
        import hashlib  # on first use (see params_digest)
        import hmac

        return hmac.new(self._key, _VERSION + body, hashlib.sha256).digest()

    def seal(self, method: str, digest: str, answers: dict[str, Any], principal: str = "") -> str:
        body = _encode(_State(method, digest, principal, time.time() + self.ttl, answers))
        token = _VERSION + b"." + base64.urlsafe_b64encode(body).rstrip(b"=") + b"."
        return (token + base64.urlsafe_b64encode(self._mac(body)).rstrip(b"=")).decode()

    def open(self, token: str, method: str, digest: str, principal: str = "") -> dict[str, Any]:
        """The answers sealed in `token`; raises InvalidState unless it is intact, fresh and ours."""
        try:
            version, body64, mac64 = token.encode().split(b".")
            body = base64.urlsafe_b64decode(body64 + b"=" * (-len(body64) % 4))
            mac = base64.urlsafe_b64decode(mac64 + b"=" * (-len(mac64) % 4))
        except (ValueError, UnicodeError):
            raise InvalidState("requestState is malformed") from None
        import hmac

        if version != _VERSION or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidState("requestState failed verification")
        state = _decode(body)
        if state.expires < time.time():
            raise InvalidState("requestState has expired")
        if state.method != method or state.digest != digest or state.principal != principal:
            raise InvalidState("requestState belongs to another request")
        return state.answers
