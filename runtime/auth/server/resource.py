"""`ProtectedResource`: the MCP endpoint as an OAuth 2.1 resource server.

    resource = ProtectedResource(
        resource="https://mcp.example.com/mcp",
        authorization_servers=["https://auth.example.com"],
        verifier=JwtVerifier(issuer="https://auth.example.com", audience="https://mcp.example.com/mcp",
                             jwks_uri="https://auth.example.com/jwks"),
        scopes_supported=["files:read", "files:write"],
    )
    app = server.http_app(security=HttpSecurity(auth=resource))

It serves the Protected Resource Metadata (RFC 9728) at the path-based well-known URI of the resource
(`/.well-known/oauth-protected-resource/mcp`) and at the root one, answers a request without a usable
token with 401 and `WWW-Authenticate: Bearer resource_metadata="..."` (and `scope`, when the resource
requires some), verifies the token (`TokenVerifier`) and its DPoP proof when the token is DPoP-bound (RFC
9449), and refuses a caller lacking required scopes with 403 `insufficient_scope` naming the scopes to
ask for. A server mounted under a prefix that does not own the root serves `metadata_app()` there.
Tokens are never logged nor echoed; a refusal says why in `error_description`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from ...protocol.inbound import INVALID_REQUEST, Rejection
from ...transports.http.asgi import Receive, Scope, Send, error_body, respond, serve_document
from .dpop import DPOP_ALGORITHMS, DpopChecker, InvalidProof, NonceRequired
from .principal import Principal
from .verify import InvalidToken, TokenVerifier, VerifierUnavailable

__all__ = ["ProtectedResource", "WELL_KNOWN"]

log = logging.getLogger("mcpbind.auth")

WELL_KNOWN: Final = "/.well-known/oauth-protected-resource"
_UNAUTHORIZED: Final = -32001
"""The JSON-RPC error code in the body of a 401/403 (the status and `WWW-Authenticate` are what count)."""


class ProtectedResource:
    """An MCP endpoint's resource server: metadata, challenges, token and DPoP verification, scopes."""

    def __init__(
        self,
        *,
        resource: str,
        authorization_servers: Sequence[str],
        verifier: TokenVerifier,
        scopes_supported: Sequence[str] | None = None,
        required_scopes: Iterable[str] = (),
        resource_name: str | None = None,
        dpop: DpopChecker | None = None,
        dpop_required: bool = False,
        max_token_bytes: int = 8192,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """`resource`: the endpoint's canonical URI (what clients send as RFC 8707 `resource`, what
        tokens' `aud` names, what DPoP proofs' `htu` must be). `required_scopes`: what every request
        needs. `dpop`: the checker of DPoP proofs (one is made if `dpop_required`); without it a
        DPoP-bound token is refused. `max_token_bytes`: a longer token is refused unread (400).
        `metadata`: more members for the metadata document."""
        parts = urlsplit(resource)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ValueError(f"resource must be an absolute http(s) URI without fragment: {resource!r}")
        self.resource = resource
        self.verifier = verifier
        self.required_scopes = frozenset(required_scopes)
        self.dpop = dpop if dpop is not None or not dpop_required else DpopChecker()
        self.dpop_required = dpop_required
        self.max_token_bytes = max_token_bytes
        origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        self.metadata_path = WELL_KNOWN + path
        """Where the metadata is (RFC 9728 3.1: the well-known prefix, then the resource's path)."""
        self.metadata_url = origin + self.metadata_path
        document: dict[str, Any] = {
            "resource": resource,
            "authorization_servers": list(authorization_servers),
            "bearer_methods_supported": ["header"],
        }
        if scopes_supported is not None:
            document["scopes_supported"] = list(scopes_supported)
        if resource_name is not None:
            document["resource_name"] = resource_name
        if self.dpop is not None:
            document["dpop_signing_alg_values_supported"] = list(self.dpop.algorithms)
            document["dpop_bound_access_tokens_required"] = dpop_required
        document.update(metadata or {})
        self.document_bytes = json.dumps(document, separators=(",", ":")).encode()
        self._paths = frozenset((self.metadata_path, WELL_KNOWN))
        scope = f', scope="{" ".join(sorted(self.required_scopes))}"' if self.required_scopes else ""
        self._challenge = f'Bearer resource_metadata="{self.metadata_url}"{scope}'
        algs = " ".join(self.dpop.algorithms if self.dpop is not None else DPOP_ALGORITHMS)
        self._dpop_challenge = f'DPoP algs="{algs}"' if self.dpop is not None else None

    # -- metadata -----------------------------------------------------------------------------------

    def document(self, path: str) -> bytes | None:
        """The metadata document, at its path-based well-known URI and at the root one (where clients
        look when the path-based one is not found)."""
        return self.document_bytes if path.rstrip("/") in self._paths else None

    def metadata_app(self) -> Any:
        """An ASGI app serving only the metadata, for a server mounted under a prefix: mount it at the
        root of the origin (`/.well-known/...` must be reachable there)."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            # Servers differ on whether `path` includes `root_path` (the mount point): try both.
            path = scope["path"]
            document = self.document(path) or self.document(scope.get("root_path", "") + path)
            if document is None:
                await respond(send, 404, b"Not Found", content_type=b"text/plain")
            else:
                await serve_document(send, scope["method"], document)

        return app

    # -- requests -----------------------------------------------------------------------------------

    async def admit(self, method: str, headers: Mapping[bytes, str]) -> Principal | Rejection:
        """The verified caller of a request, or its refusal."""
        authorization = headers.get(b"authorization")
        if not authorization:
            return self._refuse(401, "Unauthorized: this endpoint needs an access token")
        scheme, _, token = authorization.partition(" ")
        scheme, token = scheme.lower(), token.strip(" ")
        if scheme not in ("bearer", "dpop"):
            return self._refuse(401, "Unauthorized: send the access token as Bearer (or DPoP)")
        if not token or " " in token:
            return self._refuse(400, "the Authorization header is malformed", "invalid_request")
        if len(token) > self.max_token_bytes:
            why = f"the access token is over {self.max_token_bytes} bytes"
            return self._refuse(400, why, "invalid_request")
        try:
            principal = await self.verifier.verify(token)
        except InvalidToken as exc:
            return self._refuse(401, str(exc), "invalid_token")
        except VerifierUnavailable as exc:
            log.warning("token not verified: %s", exc)
            body = error_body(INVALID_REQUEST, "Service unavailable: the token cannot be verified now")
            return Rejection(503, body, ((b"retry-after", b"5"),))
        if not principal.subject and not principal.client_id:
            # Sessions, requestStates and tasks are bound to the caller's identity: a token naming no
            # one (an introspection answer without `sub` or `client_id`, say) would give every such
            # caller the same one, so that one could use another's session. Refused, as an unusable token.
            return self._refuse(401, "the token names no subject or client (sub, client_id)", "invalid_token")
        if principal.jkt is not None or scheme == "dpop":
            refusal = self._check_proof(principal, scheme, method, token, headers.get(b"dpop"))
            if refusal is not None:
                return refusal
        elif self.dpop_required:
            return self._refuse(401, "only DPoP-bound access tokens are accepted here", "invalid_token")
        if self.required_scopes and not principal.scopes.issuperset(self.required_scopes):
            return self.step_up(principal, self.required_scopes)
        return principal

    def _check_proof(
        self, principal: Principal, scheme: str, method: str, token: str, proof: str | None
    ) -> Rejection | None:
        if self.dpop is None:
            return self._refuse(401, "DPoP-bound access tokens are not accepted here", "invalid_token")
        if principal.jkt is None:
            return self._refuse(401, "the DPoP scheme needs a DPoP-bound access token", "invalid_token")
        if scheme != "dpop":
            return self._refuse(401, "a DPoP-bound access token goes with the DPoP scheme", "invalid_token")
        if proof is None:
            return self._refuse_proof("a DPoP-bound access token needs a DPoP proof")
        try:
            self.dpop.check(proof, method=method, url=self.resource, token=token, jkt=principal.jkt)
        except NonceRequired as exc:
            refusal = self._refuse_proof(str(exc), "use_dpop_nonce")
            refusal.headers += ((b"dpop-nonce", exc.nonce.encode()),)
            return refusal
        except InvalidProof as exc:
            return self._refuse_proof(str(exc))
        return None

    def step_up(self, principal: Principal, required: frozenset[str]) -> Rejection:
        """403 `insufficient_scope`: the scope to ask for is what is required with what the caller has,
        so that authorizing again loses nothing (the MCP step-up flow)."""
        wanted = " ".join(sorted(s for s in required | principal.scopes if _scope_token(s)))
        why = f"Forbidden: this needs the scopes {' '.join(sorted(required))}"
        challenge = (
            f'Bearer error="insufficient_scope", scope="{wanted}", '
            f'resource_metadata="{self.metadata_url}", error_description="{_quoted(why)}"'
        )
        body = error_body(_UNAUTHORIZED, why)
        return Rejection(403, body, ((b"www-authenticate", challenge.encode()),))

    def _refuse(self, status: int, why: str, error: str | None = None) -> Rejection:
        if error is None:  # no credential: the bare challenge (RFC 6750 3.1)
            challenge = self._challenge
        else:
            challenge = f'{self._challenge}, error="{error}", error_description="{_quoted(why)}"'
        headers = [(b"www-authenticate", challenge.encode())]
        if self._dpop_challenge is not None:
            headers.append((b"www-authenticate", self._dpop_challenge.encode()))
        code = INVALID_REQUEST if status == 400 else _UNAUTHORIZED
        message = why if error is None else f"{'Bad request' if status == 400 else 'Unauthorized'}: {why}"
        return Rejection(status, error_body(code, message), tuple(headers))

    def _refuse_proof(self, why: str, error: str = "invalid_dpop_proof") -> Rejection:
        assert self._dpop_challenge is not None
        challenge = f'{self._dpop_challenge}, error="{error}", error_description="{_quoted(why)}"'
        headers = ((b"www-authenticate", challenge.encode()), (b"www-authenticate", self._challenge.encode()))
        return Rejection(401, error_body(_UNAUTHORIZED, f"Unauthorized: {why}"), headers)


def _scope_token(scope: str) -> bool:
    """Whether `scope` is a scope token (RFC 6749 3.3: NQCHAR, printable ASCII but `"` and `\\`), so
    that it may go into `scope="..."` whole. Not cut, unlike a description: a client asks again for
    exactly the scopes named, and a list cut short would name a scope that does not exist."""
    return bool(scope) and all("!" <= c <= "~" and c not in '"\\' for c in scope)


def _quoted(text: str) -> str:
    """Text fit for an RFC 9110 quoted-string (RFC 6750 limits error_description to printable ASCII
    without `"` and `\\`): anything else becomes `?`, and it is cut at 200 characters."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text[:200])
