"""`Principal`: who a verified access token stands for, as handlers see it (`Context.principal`).

Pure and light (standard library only): the core reads it, so it never imports the `auth` extra.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Principal", "scopes_of"]

_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller a verified access token names."""

    subject: str
    """The token's `sub` (for a client acting for itself, usually its client id)."""
    client_id: str | None = None
    """The OAuth client the token was issued to (`client_id`, else `azp`)."""
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=lambda: _NO_CLAIMS, repr=False)
    """Every claim of the token (or of the introspection answer), as verified."""
    issuer: str | None = None
    expires_at: float | None = None
    """`exp`, in seconds since the epoch, if the token has one."""
    jkt: str | None = None
    """The JWK thumbprint the token is bound to (`cnf.jkt`, RFC 9449): DPoP proofs must be signed by it."""

    @property
    def identity(self) -> str:
        """What sessions and sealed requestStates are bound to: the same for every token of this caller
        (issuer, subject and client), whatever its scopes or expiry."""
        return f"{self.issuer or ''}\n{self.subject}\n{self.client_id or ''}"

    def has_scopes(self, required: Iterable[str]) -> bool:
        return self.scopes.issuperset(required)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        """The principal of verified claims (a JWT's, or an RFC 7662 introspection answer)."""
        client_id = claims.get("client_id") or claims.get("azp")
        subject = claims.get("sub") or client_id or ""
        exp = claims.get("exp")
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, Mapping) else None
        iss = claims.get("iss")
        return cls(
            subject=str(subject),
            client_id=str(client_id) if client_id is not None else None,
            scopes=scopes_of(claims),
            claims=MappingProxyType(dict(claims)),
            issuer=iss if isinstance(iss, str) else None,
            expires_at=float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
            jkt=jkt if isinstance(jkt, str) else None,
        )


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The scopes granted: `scope` (space-separated, RFC 8693/9068/7662), else `scp` (a list, as some
    authorization servers send)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    if isinstance(scp, str):
        return frozenset(scp.split())
    return frozenset()
