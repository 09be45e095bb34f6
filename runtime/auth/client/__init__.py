"""The OAuth 2.1 client for MCP servers: discovery, registration, grants, DPoP, token storage.

    from mcpbind.auth.client import OAuthClientProvider, LoopbackBrowser
    provider = OAuthClientProvider(url, redirect=LoopbackBrowser())
    async with Client.http(url, auth=provider) as client: ...

Needs the `mcpbind[auth]` extra (joserfc, httpx).
"""

from __future__ import annotations

from .errors import OAuthError, TokenEndpointError
from .grants import ClientCredentials, EnterpriseManaged, JwtBearer, PrivateKey
from .provider import Grant, OAuthClientProvider
from .redirect import FollowRedirect, LoopbackBrowser, UserRedirect
from .store import FileTokenStore, MemoryTokenStore, TokenStore
from .tokens import ClientInfo, Tokens

__all__ = [
    "OAuthClientProvider",
    "Grant",
    "ClientCredentials",
    "JwtBearer",
    "EnterpriseManaged",
    "PrivateKey",
    "UserRedirect",
    "LoopbackBrowser",
    "FollowRedirect",
    "TokenStore",
    "MemoryTokenStore",
    "FileTokenStore",
    "ClientInfo",
    "Tokens",
    "OAuthError",
    "TokenEndpointError",
    "cli_provider",
]


def cli_provider(url: str, *, token_file: str | None = None) -> OAuthClientProvider:
    """The provider `mcpbind inspect/call` use for a URL that needs OAuth: the system browser with a
    loopback redirect, tokens and registrations kept in a 0600 file (default
    $XDG_STATE_HOME/mcpbind/oauth.json)."""
    return OAuthClientProvider(
        url, redirect=LoopbackBrowser(), store=FileTokenStore(token_file), client_name="mcpbind CLI"
    )
