"""The headers of the Streamable HTTP client's requests, by era, method and name, made once per shape.

Every request carries `Accept` and `Content-Type`, the transport's own headers, and the session's
`Mcp-Session-Id` and `MCP-Protocol-Version`; on the stateless wire also `Mcp-Method`, `Mcp-Name` and
the `Mcp-Param-*` headers a tool's `x-mcp-header` annotations ask for, mirrored from the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

from ...protocol.headers import Peek, encode_value, render, value_at
from .http11 import FixedHeaders

__all__ = ["HeaderShapes", "Shaped"]

_ACCEPT: Final = "application/json, text/event-stream"
_MAX_SHAPES: Final = 256
"""Sets of request headers kept made (one per method and name; most clients use a few)."""


class Shaped(Protocol):
    """What shapes a transport's requests (`StreamableHttpTransport`)."""

    headers: dict[str, str]
    session_id: str | None
    revision: str | None
    """The revision its requests name in `MCP-Protocol-Version` (None: none yet)."""
    param_headers: dict[str, dict[str, tuple[str, ...]]]
    stateless: bool


class HeaderShapes:
    """One transport's request headers, kept made per shape (at most 256 shapes)."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], dict[str, str]] = {}
        self.routes: dict[tuple[str | None, Any], dict[str, str]] = {}
        """The shapes of the state last seen (`session`, `version`, `base`: the transport's session,
        revision and own headers), by method and name: found with one look-up while that state holds,
        as it does for nearly every request, instead of a key made of the whole state per request.
        Read as they are by the transport's usual request (`StreamableHttpTransport.start_request`)."""
        self.session: str | None = None
        self.version: str | None = None
        self.base: dict[str, str] = {}

    def shaped(
        self, of: Shaped, peek: Peek | None, authorization: Mapping[str, str] | None
    ) -> dict[str, str]:
        """The headers of a request of `of`, with `authorization` (the auth hook's, if any) in
        place. The same for every request of one method and name (with no auth hook and no argument
        mirrored into a header): made once, kept while the session, the revision and `of.headers`
        stay the same. The dict is shared: not to be changed by who sends it."""
        method = source = tool = None
        if peek is not None and of.stateless and peek.method is not None:
            method = peek.method
            params = peek.params
            if params is not None:
                if method == "tools/call":  # (first: nearly every request)
                    source = tool = params.name
                elif method == "resources/read":
                    source = params.uri
                elif method.startswith("tasks/"):
                    source = params.task_id  # the tasks extension's routing header (SEP-2663)
                else:
                    source = params.name
        # (None, not an empty dict made per request, where no tool mirrors arguments: most clients)
        mirrored = of.param_headers.get(tool) if of.param_headers and isinstance(tool, str) else None
        key = None
        if authorization is None and not mirrored and (source is None or isinstance(source, str)):
            if of.session_id == self.session and of.revision == self.version and of.headers == self.base:
                found = self.routes.get((method, source))
                if found is not None:
                    return found
            else:
                self.routes.clear()
                self.session, self.version = of.session_id, of.revision
                self.base = dict(of.headers)  # a copy: headers changed in place are a change
            key = (
                of.session_id,
                of.revision,
                method,
                source,
                *of.headers.items(),
            )
            found = self._made.get(key)
            if found is not None:
                self._route(method, source, found)
                return found
        headers = {"accept": _ACCEPT, "content-type": "application/json", **of.headers}
        if authorization is not None:
            headers.update(authorization)
        if of.session_id is not None:
            headers["mcp-session-id"] = of.session_id
        if of.revision is not None:
            headers["mcp-protocol-version"] = of.revision
        if method is not None:
            headers["mcp-method"] = method
            if isinstance(source, str):
                headers["mcp-name"] = encode_value(source)
            if mirrored:
                assert peek is not None
                arguments = peek.arguments()
                for name, path in mirrored.items():
                    value = render(value_at(arguments, path))
                    if value is not None:
                        headers[f"mcp-param-{name.lower()}"] = encode_value(value)
        if key is not None:
            headers = FixedHeaders(headers)  # kept, shared and never changed: see `HttpClient`
            if len(self._made) >= _MAX_SHAPES:
                self._made.clear()
            self._made[key] = headers
            self._route(method, source, headers)
        return headers

    def _route(self, method: str | None, source: str | None, headers: dict[str, str]) -> None:
        if len(self.routes) >= _MAX_SHAPES:
            self.routes.clear()
        self.routes[method, source] = headers
