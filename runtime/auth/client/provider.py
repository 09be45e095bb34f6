"""`OAuthClientProvider`: the client transport's authorization hook, running the flows on a 401 or 403.

Each request gets the current token (`Authorization: Bearer`, or `DPoP` with a fresh proof). On a 401
the provider discovers (protected resource metadata, then authorization server metadata), registers
if it must, runs the grant (authorization code with PKCE, or the configured grant without a user),
and the transport sends the request again. A 403 `insufficient_scope` re-authorizes with the union of
the scopes asked for before and the challenged ones (step-up), unless that union was asked for already
(the server would refuse again: the request fails instead of looping). A `use_dpop_nonce` challenge
only retries the request with the server's nonce. Flows are serialised: concurrent requests refused
together wait for one flow, then retry with its token. Once the transport tells it the negotiated
revision (`use_revision`), flows follow that revision's text where the texts differ (`revisions`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from . import discovery, flow, registration
from .challenge import Challenge, find, parse
from .discovery import ResourceMetadata, ServerMetadata
from .dpop import DPoPKey, proof_nonce
from .errors import OAuthError, TokenEndpointError
from .grants import GrantContext
from .redirect import UserRedirect
from .revisions import Rules, rules
from .store import MemoryTokenStore, TokenStore
from .tokens import ClientInfo, Tokens
from .web import DEFAULT_TIMEOUT, AuthHttp

__all__ = ["OAuthClientProvider", "Grant"]

log = logging.getLogger("mcpbind.auth")


class Grant(Protocol):
    """A grant that needs no user (`ClientCredentials`, `JwtBearer`, `EnterpriseManaged`)."""

    def obtain(self, ctx: GrantContext) -> Awaitable[Tokens]: ...


def canonical(url: str) -> str:
    """The server's canonical URI (RFC 8707 / the spec's "Canonical Server URI"): scheme and host lower
    case, no fragment, no query, no trailing slash."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


class OAuthClientProvider:
    """OAuth 2.1 for one MCP server: pass it as `Client.http(url, auth=provider)`.

    `redirect` sends the user to the authorization server (authorization code grant); `grant` replaces
    that grant with one that needs no user. Registration, in order: `clients` (issuer -> ClientInfo;
    "*" for any server) or `client_id`/`client_secret` (for any server), then `client_metadata_url`
    (a Client ID Metadata Document) where the server supports it, then dynamic registration as
    `client_name`. `scopes` are asked for when neither the challenge nor the metadata names any.
    `dpop`: True always, False never, None when the authorization server advertises ES256 proofs.
    `offline_access`: ask for it (and a refresh token) where the server lists it. `timeout` bounds each
    call to an authorization server; `store` keeps tokens and registrations (memory by default).
    """

    def __init__(
        self,
        server_url: str,
        *,
        redirect: UserRedirect | None = None,
        grant: Grant | None = None,
        client_name: str = "mcpbind",
        client_metadata_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        clients: Mapping[str, ClientInfo] | None = None,
        scopes: Sequence[str] | None = None,
        store: TokenStore | None = None,
        dpop: bool | None = None,
        offline_access: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        http: AuthHttp | None = None,
    ) -> None:
        self.server_url = server_url
        self.resource = canonical(server_url)
        self.redirect = redirect
        self.grant = grant
        self.client_name = client_name
        self.client_metadata_url = client_metadata_url
        self.clients = dict(clients or {})
        if client_id is not None:
            self.clients.setdefault("*", ClientInfo(client_id, client_secret))
        self.scopes = list(scopes or [])
        self.store: TokenStore = store or MemoryTokenStore()
        self.use_dpop = dpop
        self.offline_access = offline_access
        self.http = http or AuthHttp(timeout=timeout)
        self._lock = asyncio.Lock()
        self._tokens: Tokens | None = None
        self._loaded = False
        self._prm: ResourceMetadata | None = None
        self._metadata: ServerMetadata | None = None
        self._client: ClientInfo | None = None
        self._dpop: DPoPKey | None = DPoPKey() if dpop else None
        self._asked: set[str] = set()
        self._refreshed = False
        """Whether the last flow was only a refresh (a refused refreshed token earns a full flow)."""
        self.revision: str | None = None
        """The negotiated revision (None: not yet known, the newest text is followed)."""
        self._rules: Rules = rules(None)

    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    # -- the transport's hook (mcpbind.transports.http.auth.HttpAuth) ------------------------------------

    def use_revision(self, revision: str | None) -> None:
        """The revision the client negotiated (the transport tells, `RevisionAware`): later flows
        follow its authorization text where the revisions' texts differ."""
        self.revision = revision
        self._rules = rules(revision)

    async def headers(self, method: str, url: str) -> Mapping[str, str]:
        tokens = self._tokens
        if tokens is None and not self._loaded:
            tokens = await self._load()
        if tokens is None:
            return {}
        if tokens.expired and tokens.refresh_token and self._metadata is not None:
            async with self._lock:
                if self._tokens is tokens:
                    await self._refresh()
            tokens = self._tokens
            if tokens is None:
                return {}
        if tokens.token_type == "DPoP" and self._dpop is not None:
            return {
                "authorization": f"DPoP {tokens.access_token}",
                "dpop": self._dpop.proof(method, url, tokens.access_token),
            }
        return {"authorization": f"Bearer {tokens.access_token}"}

    async def on_response(
        self,
        method: str,
        url: str,
        sent: Mapping[str, str],
        status: int,
        headers: Mapping[str, str],
        attempt: int,
    ) -> bool:
        nonce = headers.get("dpop-nonce")
        if nonce and self._dpop is not None:
            self._dpop.remember_nonce(url, nonce)
        if status not in (401, 403):
            return False
        challenges = parse(headers.get("www-authenticate", ""))
        challenge = find(challenges, "DPoP", "Bearer") or Challenge("Bearer")
        error = challenge.params.get("error")
        if error == "use_dpop_nonce":
            # RFC 9449 9: the same request again with the server's nonce, unless it already carried
            # that one (the server refuses it: asking again would loop).
            return bool(nonce) and self._dpop is not None and proof_nonce(sent.get("dpop", "")) != nonce
        if status == 403 and error != "insufficient_scope":
            return False  # forbidden for another reason: no token would change that
        async with self._lock:
            if sent.get("authorization") != self._authorization():
                return True  # another request's flow already replaced the token it was sent with
            refresh = True
            if status == 401 and attempt > 0 and sent.get("authorization"):
                # The token this request was just given was refused at once. After a refresh, the
                # user is asked again; after a full flow, another would most likely end the same
                # way, so the request fails instead of looping.
                if not self._refreshed:
                    raise OAuthError(f"{self.server_url} refused the token it was just issued (HTTP 401)")
                refresh = False
            await self._authorize(challenge, step_up=status == 403, refresh=refresh)
            return True

    # -- the flows ---------------------------------------------------------------------------------------

    def _authorization(self) -> str | None:
        tokens = self._tokens
        if tokens is None:
            return None
        return f"{'DPoP' if tokens.token_type == 'DPoP' and self._dpop else 'Bearer'} {tokens.access_token}"

    def _tokens_key(self) -> str:
        return f"tokens|{self.resource}"

    async def _load(self) -> Tokens | None:
        self._loaded = True
        stored = await self.store.load(self._tokens_key())
        self._tokens = Tokens.from_dict(stored) if stored is not None else None
        return self._tokens

    async def _keep(self, tokens: Tokens) -> None:
        self._tokens = tokens
        if tokens.token_type != "DPoP":  # bound to a key that dies with this process: not worth keeping
            await self.store.save(self._tokens_key(), tokens.to_dict())

    async def _discover(self, challenge: Challenge) -> None:
        rule = self._rules
        prm = await discovery.protected_resource(
            self.http,
            self.server_url,
            challenge.params.get("resource_metadata"),
            well_known=rule.well_known_prm,
        )
        self._prm = prm
        issuer = prm.authorization_servers[0] if prm is not None else _origin(self.server_url)
        if self._metadata is None or self._metadata.issuer != issuer:
            version = (
                {"mcp-protocol-version": self.revision}
                if rule.protocol_version_header and self.revision
                else None
            )
            metadata = await discovery.authorization_server(
                self.http, issuer, openid=rule.openid_discovery, headers=version
            )
            if metadata is None:
                if prm is not None:
                    raise OAuthError(f"no metadata found for the authorization server {issuer}")
                metadata = discovery.legacy_server(self.server_url)  # 2025-03-26: default endpoints
            if self._metadata is not None:
                log.info("the authorization server moved from %s to %s", self._metadata.issuer, issuer)
                self._client = None
                self._asked.clear()
            self._metadata = metadata
        if self._tokens is not None and self._tokens.issuer not in (None, self._metadata.issuer):
            self._tokens = None  # issued by an authorization server this resource no longer trusts
        if self._dpop is None and self.use_dpop is None:
            if "ES256" in (self._metadata.dpop_signing_alg_values_supported or []):
                self._dpop = DPoPKey()

    def _resource_indicator(self) -> str:
        if self._prm is not None and self._prm.resource:
            return self._prm.resource
        return self.resource

    def _scope(self, challenge: Challenge, step_up: bool) -> str | None:
        assert self._metadata is not None
        wanted = challenge.scope
        if wanted is None:
            wanted = (self._prm.scopes_supported if self._prm else None) or self.scopes or None
        if wanted is None:
            return None
        scopes = list(dict.fromkeys([*(self._asked if step_up else ()), *wanted]))
        if step_up and set(scopes) <= self._asked:
            raise OAuthError(
                f"the server still refuses with insufficient_scope for {' '.join(wanted)}, which was"
                " granted already: giving up rather than asking again"
            )
        supported = self._metadata.scopes_supported or []
        if (
            self.offline_access
            and self._rules.offline_access
            and self.grant is None
            and "offline_access" in supported
        ):
            if "offline_access" not in scopes:
                scopes.append("offline_access")
        self._asked = set(scopes)
        return " ".join(scopes)

    async def _authorize(self, challenge: Challenge, *, step_up: bool, refresh: bool = True) -> None:
        await self._discover(challenge)
        assert self._metadata is not None
        self._refreshed = False
        if refresh and not step_up and self._tokens is not None and self._tokens.refresh_token:
            if await self._refresh():
                self._refreshed = True
                return
        scope = self._scope(challenge, step_up)
        resource = self._resource_indicator()
        if self.grant is not None:
            ctx = GrantContext(self.http, self._metadata, resource, scope, self._dpop)
            await self._keep(await self.grant.obtain(ctx))
            return
        if self.redirect is None:
            raise OAuthError(
                f"{self.server_url} needs the user's authorization, and no redirect handler is configured"
            )
        client = await self._registration(scope)
        tokens = await flow.authorize(
            self.http,
            self._metadata,
            client,
            self.redirect,
            resource=resource,
            scope=scope,
            dpop=self._dpop,
            pkce_must_be_listed=self._rules.pkce_must_be_listed,
        )
        await self._keep(tokens)

    async def _registration(self, scope: str | None) -> ClientInfo:
        assert self._metadata is not None
        issuer = self._metadata.issuer
        if self._client is not None and self._client.issuer == issuer:
            return self._client
        if issuer not in self.clients and "*" in self.clients:
            await self._bind_preregistration(issuer)
        key = f"client|{issuer}"
        stored = None if issuer in self.clients or "*" in self.clients else await self.store.load(key)
        client = ClientInfo.from_dict(stored) if stored is not None else None
        if client is None or client.issuer != issuer:
            assert self.redirect is not None
            grant_types = ["authorization_code", "refresh_token"]
            client = await registration.register(
                self.http,
                self._metadata,
                preregistered=self.clients,
                metadata_url=self.client_metadata_url if self._rules.client_id_metadata_documents else None,
                client_name=self.client_name,
                redirect_uri=await self.redirect.redirect_uri(),
                grant_types=grant_types,
                scope=scope,
            )
            await self.store.save(key, client.to_dict())
        self._client = client
        return client

    async def _bind_preregistration(self, issuer: str) -> None:
        """A client id configured without its authorization server belongs to the first one it is
        used with (remembered in the store): when the resource later names another, the
        credentials are not shown to it (the spec: surface an error, do not try them)."""
        key = f"preregistered|{self.resource}"
        bound = await self.store.load(key)
        if bound is None:
            await self.store.save(key, {"issuer": issuer})
        elif bound.get("issuer") != issuer:
            raise OAuthError(
                f"the configured client id was used with the authorization server {bound.get('issuer')},"
                f" and {self.server_url} now names {issuer}: not presenting it there (configure"
                " `clients={issuer: ClientInfo(...)}` for the new server)"
            )

    async def _refresh(self) -> bool:
        """Refresh the tokens; False (tokens dropped) when the server refuses the refresh token."""
        tokens, metadata = self._tokens, self._metadata
        if tokens is None or not tokens.refresh_token or metadata is None:
            return False
        client = self._client or (await self._registration(None) if self.redirect else None)
        try:
            fresh = await flow.refresh(
                self.http, metadata, client, tokens, resource=self._resource_indicator(), dpop=self._dpop
            )
        except TokenEndpointError as exc:
            log.info("the refresh token was refused (%s): authorizing again", exc.error)
            self._tokens = None
            await self.store.delete(self._tokens_key())
            return False
        await self._keep(fresh)
        return True

    async def aclose(self) -> None:
        """Close the HTTP client to authorization servers (the provider's own, not one passed in)."""
        await self.http.close()

    async def __aenter__(self) -> OAuthClientProvider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
