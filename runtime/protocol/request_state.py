"""Multi round-trip requests (2026-07-28): the server's sealed `requestState`.

A handler that needs input is re-run on each retry; the answers gathered so far travel in
`requestState`, which the client must echo untouched. The state is attacker-controlled input and
carries what users answered, so it is sealed: encrypted and authenticated under a server secret
(encrypt-then-MAC: a SHAKE-256 keystream, HMAC-SHA256 over nonce and ciphertext, a key of each derived
from the secret). It binds what the spec asks servers to bind: an expiry, the method, a digest of the
request's salient params, and the authenticated principal (`PRINCIPAL`, which the HTTP transport sets
from `verify_token`), so that one user cannot replay another's state. Anything that fails
verification is rejected with -32602, never trusted.
"""

from __future__ import annotations

import base64
import contextvars
import os
import time
from typing import TYPE_CHECKING, Any, Final

import msgspec

from ..errors import InvalidParams

if TYPE_CHECKING:
    from ..auth.server.principal import Principal

__all__ = ["StateSealer", "InvalidState", "params_digest", "PRINCIPAL", "CALLER"]

_VERSION: Final = b"m2"
_NONCE: Final = 16

PRINCIPAL: contextvars.ContextVar[str] = contextvars.ContextVar("mcpbind_principal", default="")
"""Who the request being served comes from, as text ("" without authentication). A sealed state
opens only for the principal it was sealed for."""

CALLER: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("mcpbind_caller", default=None)
"""The verified principal of the request being served (`Context.principal`), when the HTTP transport
authorized it with a resource server (`mcpbind.auth.server`); None otherwise."""


class InvalidState(InvalidParams):
    """A `requestState` that is tampered with, expired, or belongs to another request."""


class _State(msgspec.Struct, array_like=True):
    method: str
    digest: str
    principal: str
    expires: float
    answers: dict[str, Any]


_encode = msgspec.json.Encoder().encode
_decoder: msgspec.json.Decoder[_State] | None = None
"""Made by the first `open` (most servers never open a state: 0.2% of a stdio server's cold start)."""


def params_digest(params: dict[str, Any]) -> str:
    """A digest of a request's params without the members that change between rounds."""
    salient = {k: v for k, v in params.items() if k not in ("_meta", "inputResponses", "requestState")}
    data = msgspec.json.encode(salient, order="sorted")
    import hashlib  # on first use: most servers never seal a state, and every start-up pays imports

    return hashlib.sha256(data).hexdigest()[:32]


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class StateSealer:
    def __init__(self, secret: bytes | None = None, ttl: float = 600.0) -> None:
        # A fresh random secret per process is right for one process; several workers behind a load
        # balancer must share one (pass `secret`), or a retry may land where the state cannot be opened.
        self._key = secret or os.urandom(32)  # what secrets.token_bytes returns, without importing random
        self._keys: tuple[bytes, bytes] | None = None
        self.ttl = ttl

    def _derived(self) -> tuple[bytes, bytes]:
        """An encryption key and a MAC key, each derived from the secret (never the secret itself)."""
        if self._keys is None:
            import hashlib  # on first use (see params_digest)
            import hmac

            self._keys = (
                hmac.new(self._key, b"mcpbind requestState encryption", hashlib.sha256).digest(),
                hmac.new(self._key, b"mcpbind requestState authentication", hashlib.sha256).digest(),
            )
        return self._keys

    @staticmethod
    def _crypt(key: bytes, nonce: bytes, data: bytes) -> bytes:
        """`data` XORed with a keystream unique to (key, nonce): encrypts, and decrypts. SHAKE-256
        keyed by prefix is a pseudorandom function (it has no length extension), and the nonce is
        random and never reused in practice (128 bits)."""
        import hashlib

        stream = hashlib.shake_256(key + nonce).digest(len(data))
        return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(
            len(data), "little"
        )

    @staticmethod
    def _mac(key: bytes, sealed: bytes) -> bytes:
        import hashlib
        import hmac

        return hmac.new(key, _VERSION + sealed, hashlib.sha256).digest()

    @staticmethod
    def _who(principal: str) -> str:
        """A principal as kept in a state: a digest (it could be long)."""
        if not principal:
            return ""
        import hashlib

        return hashlib.sha256(principal.encode()).hexdigest()[:32]

    def seal(self, method: str, digest: str, answers: dict[str, Any], principal: str = "") -> str:
        enc, auth = self._derived()
        body = _encode(_State(method, digest, self._who(principal), time.time() + self.ttl, answers))
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._crypt(enc, nonce, body)
        return (_VERSION + b"." + _b64(sealed) + b"." + _b64(self._mac(auth, sealed))).decode()

    def open(self, token: str, method: str, digest: str, principal: str = "") -> dict[str, Any]:
        """The answers sealed in `token`; raises InvalidState unless it is intact, fresh and ours, and
        was sealed for this method, these params and this principal."""
        try:
            version, sealed64, mac64 = token.encode().split(b".")
            sealed, mac = _unb64(sealed64), _unb64(mac64)
        except (ValueError, UnicodeError):
            raise InvalidState("requestState is malformed") from None
        import hmac

        enc, auth = self._derived()
        if (
            version != _VERSION
            or len(sealed) < _NONCE
            or not hmac.compare_digest(mac, self._mac(auth, sealed))
        ):
            raise InvalidState("requestState failed verification")
        global _decoder
        if _decoder is None:
            _decoder = msgspec.json.Decoder(_State)
        try:
            state = _decoder.decode(self._crypt(enc, sealed[:_NONCE], sealed[_NONCE:]))
        except msgspec.DecodeError:  # authentic, so ours: a state of another layout (an older release)
            raise InvalidState("requestState failed verification") from None
        if state.expires < time.time():
            raise InvalidState("requestState has expired")
        if state.method != method or state.digest != digest or state.principal != self._who(principal):
            raise InvalidState("requestState belongs to another request")
        return state.answers
