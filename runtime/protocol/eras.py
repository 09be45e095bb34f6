"""The two eras of MCP, as one `Era` interface: everything a server does differently in each, in one place.

The session era (2024-11-05 to 2025-11-25) negotiates once, with `initialize`: the client's capabilities
and log level belong to the session, the server asks the client with requests of its own, results go
out as handlers made them. The envelope era (2026-07-28 on) carries all of that in every request's
`_meta`: the server asks with an `InputRequiredResult` and a retried request, and stamps its results
(`resultType`, `_meta` naming the server, `ttlMs`/`cacheScope` where the schema says results may be
cached). Adding an era-specific behaviour means adding it here; the server asks the era, never its
revision's name. Eras are singletons: consulting one allocates nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Protocol

from msgspec import UNSET

from ..errors import RESOURCE_NOT_FOUND, InvalidParams, McpError, clipped, quoted
from . import revisions
from .jsonrpc import INTERNAL_ERROR
from .revisions import Revision

if TYPE_CHECKING:
    # For the type checker alone: a `typing.Protocol` class costs a server's start about 0.15M
    # instructions (tests/unit/test_imports.py).
    class ResultStamp(Protocol):
        """What an era needs of the server to stamp a result: its info and its list caching."""

        @property
        def info(self) -> dict[str, Any]: ...

        list_ttl_ms: int

        def server_meta(self, result_type: Any) -> Any:
            """`{serverInfo: info}` as the `_meta` of `result_type` (the same object every time)."""
            ...


__all__ = ["Era", "SessionEra", "EnvelopeEra", "SESSION", "ENVELOPE", "of", "CACHEABLE"]

CACHEABLE: Final = frozenset(
    {
        "server/discover",
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
        "resources/read",
    }
)
"""Methods whose complete results the envelope era marks cacheable (`ttlMs`, `cacheScope`), as
schema.ts says in prose (no generated table can carry it)."""


class Era:
    """What differs between the eras. Flags are plain attributes, read on every request."""

    name: str
    stateless: bool
    """Every request stands alone: version, capabilities and log level travel in its `_meta`."""
    asks_inline: bool
    """The server asks the client (sampling, elicitation, roots) with a request of its own and
    awaits the answer; otherwise it answers `InputRequiredResult` and the client retries."""
    stamps_results: bool
    """Results get `resultType`, the server's `_meta` and caching members before they are sent."""
    direct_calls: bool
    """A call of a tool that needs no `Context` may be answered with no connection at all: nothing
    of the client's (a session, a request of ours awaiting its answer) can concern it."""

    def __init__(self) -> None:
        # The flags copied from the class onto the instance: Python 3.11 specializes the read of an
        # instance's attribute, not the read of its class's through it (three times as slow), and
        # they are read several times a request.
        for flag in ("name", "stateless", "asks_inline", "stamps_results", "direct_calls"):
            setattr(self, flag, getattr(type(self), flag))

    def client_capabilities(self, session: dict[str, Any], meta: dict[str, Any] | None) -> Any:
        """The capabilities the client offers for this request: the session's, or the request's own."""
        raise NotImplementedError

    def log_level(self, session: str | None, meta: dict[str, Any]) -> str | None:
        """The lowest level the client wants logged for this request; None: no log messages."""
        raise NotImplementedError

    def client_info(self, session: dict[str, Any], meta: dict[str, Any]) -> Any:
        """Who the client says it is (its `Implementation`): the session's, or the request's own."""
        raise NotImplementedError

    def missing_capability(self, message: str, required: dict[str, Any]) -> McpError:
        """The error for a request the client's capabilities do not allow (`required`: what is missing)."""
        raise NotImplementedError

    def resource_not_found(self, uri: str) -> McpError:
        raise NotImplementedError

    def shape(
        self, method: str, result: dict[str, Any], result_type: Any, server: ResultStamp
    ) -> dict[str, Any]:
        """A handler's dict result as the era sends it (only called where `stamps_results`)."""
        return result

    def stamp(self, result: Any, server: ResultStamp) -> None:
        """Stamp a result a handler built as its type (only called where `stamps_results`)."""

    def cache_resource(self, result: dict[str, Any], ttl_ms: int, cache_scope: str) -> None:
        """Add a resource's own caching members to its `resources/read` result, where the era has them."""

    def input_required(self, requests: dict[str, Any], state: str) -> dict[str, Any]:
        """The result asking the client for `requests` (only where not `asks_inline`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name} era>"


class SessionEra(Era):
    """2024-11-05 to 2025-11-25: the `initialize` handshake sets what holds for the whole session."""

    name = "session"
    stateless = False
    asks_inline = True
    stamps_results = False
    direct_calls = False

    def client_capabilities(self, session: dict[str, Any], meta: dict[str, Any] | None) -> Any:
        return session

    def log_level(self, session: str | None, meta: dict[str, Any]) -> str | None:
        return session or "debug"  # no logging/setLevel yet: everything is sent

    def client_info(self, session: dict[str, Any], meta: dict[str, Any]) -> Any:
        return session

    def missing_capability(self, message: str, required: dict[str, Any]) -> McpError:
        return McpError(message, code=INTERNAL_ERROR)

    def resource_not_found(self, uri: str) -> McpError:
        return McpError(f"Resource not found: {quoted(uri)}", code=RESOURCE_NOT_FOUND, data=_uri_data(uri))


class EnvelopeEra(Era):
    """2026-07-28 on: every request carries its version, capabilities and log level in `_meta`."""

    name = "envelope"
    stateless = True
    asks_inline = False
    stamps_results = True
    direct_calls = True

    def client_capabilities(self, session: dict[str, Any], meta: dict[str, Any] | None) -> Any:
        return (meta or {}).get(revisions.META_CAPABILITIES) or {}

    def log_level(self, session: str | None, meta: dict[str, Any]) -> str | None:
        level = meta.get(revisions.META_LOG_LEVEL)
        return level if level is None else str(level)  # no level in the request: no log messages

    def client_info(self, session: dict[str, Any], meta: dict[str, Any]) -> Any:
        return meta.get(revisions.META_CLIENT) or {}

    def missing_capability(self, message: str, required: dict[str, Any]) -> McpError:
        code = revisions.MISSING_REQUIRED_CLIENT_CAPABILITY
        return McpError(message, code=code, data={"requiredCapabilities": required})

    def resource_not_found(self, uri: str) -> McpError:
        return InvalidParams(f"Resource not found: {quoted(uri)}", data=_uri_data(uri))

    def shape(
        self, method: str, result: dict[str, Any], result_type: Any, server: ResultStamp
    ) -> dict[str, Any]:
        out = dict(result)
        meta = result.get("_meta")
        if not meta:
            out["_meta"] = server.server_meta(result_type)
        elif revisions.META_SERVER not in meta:
            out["_meta"] = {**meta, revisions.META_SERVER: server.info}
        out.setdefault("resultType", "complete")
        if out["resultType"] == "complete" and method in CACHEABLE:
            out.setdefault("ttlMs", server.list_ttl_ms)
            out.setdefault("cacheScope", "public")
        return out

    def stamp(self, result: Any, server: ResultStamp) -> None:
        if getattr(result, "meta", None) is UNSET:  # a typed result (its resultType is set)
            result.meta = server.server_meta(type(result))

    def cache_resource(self, result: dict[str, Any], ttl_ms: int, cache_scope: str) -> None:
        result["ttlMs"], result["cacheScope"] = ttl_ms, cache_scope

    def input_required(self, requests: dict[str, Any], state: str) -> dict[str, Any]:
        return {"resultType": "input_required", "inputRequests": requests, "requestState": state}


SESSION: Final = SessionEra()
ENVELOPE: Final = EnvelopeEra()


def of(revision: Revision) -> Era:
    """The era `revision` belongs to."""
    return ENVELOPE if revision.stateless else SESSION


def _uri_data(uri: str) -> dict[str, str]:
    """A resource-not-found error's `data`: the URI asked for, clipped as the message quotes it (a
    URI of a usual size whole; one a megabyte long is not sent back)."""
    return {"uri": clipped(uri)}
