"""The errors of the OAuth client: every failure of discovery, registration or a grant is an OAuthError."""

from __future__ import annotations

from collections.abc import Mapping

from ...transports.http.auth import AuthorizationFailed

__all__ = ["OAuthError", "TokenEndpointError"]


class OAuthError(AuthorizationFailed):
    """Authorization could not proceed: the message says which step refused what, and why."""


class TokenEndpointError(OAuthError):
    """An OAuth error answer (RFC 6749 5.2) from a token endpoint."""

    def __init__(
        self, url: str, status: int, error: str, description: str, headers: Mapping[str, str]
    ) -> None:
        self.url = url
        self.status = status
        self.error = error
        self.description = description
        self.headers = dict(headers)
        detail = f": {description}" if description else ""
        super().__init__(f"the token endpoint {url} answered HTTP {status} {error}{detail}")
