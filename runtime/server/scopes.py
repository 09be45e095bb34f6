"""Required scopes: what a tool, resource (or template) or prompt needs of the caller's access token.

`RequiredScopes` keeps them by method and name; `check` refuses a call whose caller (`Context.principal`,
set by the HTTP transport from a verified token) lacks one, before the handler runs. Over HTTP the same
table is read before the request is routed, so the refusal is 403 `insufficient_scope` with the scopes
to ask for (`mcpbind.auth.server.resource`); `check` is what is left where no HTTP status can say it (a
batch, say): the JSON-RPC error `INSUFFICIENT_SCOPE`. A call of a scoped feature with no principal at
all (stdio, or HTTP without authorization) is refused the same way: a scope is never granted by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from ..errors import McpError
from ..protocol.request_state import CALLER

if TYPE_CHECKING:
    from .uritemplate import UriTemplate

__all__ = ["RequiredScopes", "InsufficientScope", "INSUFFICIENT_SCOPE"]

INSUFFICIENT_SCOPE: Final = -32003
"""The JSON-RPC error of a call the caller's token has not the scopes for (`data.requiredScopes`)."""

_NONE: Final[frozenset[str]] = frozenset()


class InsufficientScope(McpError):
    code = INSUFFICIENT_SCOPE


class RequiredScopes:
    """Scopes required per `(method, name)`: `tools/call` and `prompts/get` by name, `resources/read` by
    URI or URI template."""

    __slots__ = ("_by_name", "_templates", "active")

    def __init__(self) -> None:
        self._by_name: dict[tuple[str, str], frozenset[str]] = {}
        self._templates: list[tuple[UriTemplate, frozenset[str]]] = []
        self.active = False
        """Something requires scopes (read on every call: a plain attribute, not a method)."""

    def require(self, method: str, name: str, scopes: Iterable[str]) -> None:
        """Set what `method` on `name` requires (no scopes: nothing)."""
        wanted = frozenset(scopes)
        self._by_name.pop((method, name), None)
        self._templates = [(t, s) for t, s in self._templates if t.template != name]
        if wanted:
            if method == "resources/read" and "{" in name:
                from .uritemplate import UriTemplate  # loaded by the first template (cold start)

                self._templates.append((UriTemplate(name), wanted))
            else:
                self._by_name[(method, name)] = wanted
        self.active = bool(self._by_name) or bool(self._templates)

    def declared(self, method: str, name: str) -> frozenset[str]:
        """What was required for exactly `name` (a name, URI or URI template), as `require` was given it."""
        if method == "resources/read" and "{" in name:
            return next((s for t, s in self._templates if t.template == name), _NONE)
        return self._by_name.get((method, name), _NONE)

    def of(self, method: str | None, name: object) -> frozenset[str]:
        """What a call of `method` on `name` requires (nothing for anything not registered with scopes)."""
        if not isinstance(name, str) or method is None:
            return _NONE
        scopes = self._by_name.get((method, name))
        if scopes is not None:
            return scopes
        if method == "resources/read":
            for template, wanted in self._templates:
                if template.match(name) is not None:
                    return wanted
        return _NONE

    def check(self, method: str, name: object, *, exact: bool = False) -> None:
        """Raise `InsufficientScope` unless the caller has every scope `method` on `name` requires
        (`exact`: `name` is a registered name or URI template itself, as a completion's ref names it)."""
        if exact:
            required = self.declared(method, name) if isinstance(name, str) else _NONE
        else:
            required = self.of(method, name)
        if not required:
            return
        caller = CALLER.get()
        if caller is None or not caller.scopes.issuperset(required):
            raise InsufficientScope(
                f"Forbidden: {method} {name} needs the scopes {' '.join(sorted(required))}",
                data={"requiredScopes": sorted(required)},
            )
