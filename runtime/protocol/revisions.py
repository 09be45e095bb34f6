"""The protocol revisions mcpbind speaks, as typed `Revision` objects built from their generated modules.

A generated module is imported the first time its revision is used (the newest is 20 ms to import, and
a server that only ever speaks an older one never pays for it). Everything the runtime reads off a
revision (flags, method tables, error codes, schema types) is read here, once, and typed.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from ..generated import DRAFT as _DRAFT_VERSION
from ..generated import LATEST, REVISIONS, STATELESS
from ..methods import NotificationMethod, RequestMethod

__all__ = [
    "ALL",
    "DRAFT",
    "KNOWN",
    "STATEFUL",
    "MODERN",
    "LATEST",
    "Revision",
    "revision",
    "module",
    "is_modern",
    "sessionless",
    "resolve",
    "META_VERSION",
    "META_CAPABILITIES",
    "META_CLIENT",
    "META_LOG_LEVEL",
    "META_SERVER",
    "META_SUBSCRIPTION",
]

ALL: Final[tuple[str, ...]] = tuple(r for r in REVISIONS if r != "draft")
"""The released revisions, oldest first: what servers serve and clients offer unless told otherwise."""
MODERN: Final[tuple[str, ...]] = tuple(r for r in ALL if r in STATELESS)
STATEFUL: Final[tuple[str, ...]] = tuple(r for r in ALL if r not in MODERN)
DRAFT: Final[str | None] = _DRAFT_VERSION if _DRAFT_VERSION not in ALL else None
"""The protocol version of the upstream draft when it differs from every released revision: spoken
only by a server or client that names "draft" (`Server(revisions_served=[..., "draft"])`,
`Client(mode="draft")`)."""
KNOWN: Final[tuple[str, ...]] = ALL + ((DRAFT,) if DRAFT is not None else ())
"""Every protocol version mcpbind can speak: the released ones and the draft's."""
_STATELESS_KNOWN: Final = frozenset(v for v in KNOWN if v in STATELESS)

# The `_meta` keys of the stateless revisions (the schema names them in prose only, so the generated
# modules cannot export them).
META_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
"""The `_meta` key that carries the protocol version in every request of a stateless revision."""
META_CAPABILITIES: Final = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT: Final = "io.modelcontextprotocol/clientInfo"
META_LOG_LEVEL: Final = "io.modelcontextprotocol/logLevel"
META_SERVER: Final = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION: Final = "io.modelcontextprotocol/subscriptionId"

# The error codes the stateless revisions add. They are defined by the generated module of the newest
# stateless revision and read from it on first use (module `__getattr__`), so that importing the
# runtime does not import that module; read them as `revisions.NAME` where they are needed.
_STATELESS_ERRORS: Final = frozenset(
    {"HEADER_MISMATCH", "MISSING_REQUIRED_CLIENT_CAPABILITY", "UNSUPPORTED_PROTOCOL_VERSION"}
)
if TYPE_CHECKING:
    HEADER_MISMATCH: int
    MISSING_REQUIRED_CLIENT_CAPABILITY: int
    UNSUPPORTED_PROTOCOL_VERSION: int


def __getattr__(name: str) -> int:
    if name in _STATELESS_ERRORS:
        return revision(MODERN[-1]).errors[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Revision:
    """One protocol revision: what the runtime needs of its generated module, typed."""

    __slots__ = (
        "batches",
        "errors",
        "module",
        "name",
        "notifications",
        "null_ids",
        "primes_streams",
        "requests",
        "served",
        "stateless",
        "url_elicitation",
    )

    def __init__(self, name: str, mod: ModuleType) -> None:
        self.name: Final[str] = name
        self.module: Final[ModuleType] = mod
        self.stateless: Final[bool] = bool(mod.STATELESS)
        """No initialize handshake: every request carries its version and capabilities in `_meta`."""
        self.batches: Final[bool] = bool(mod.BATCHES)
        """JSON-RPC batches are part of the revision (2025-03-26 only)."""
        self.null_ids: Final[bool] = name <= "2025-06-18"
        """An error response names an unreadable request's id as `null` (`jsonrpc.null_id`): the
        schemas up to 2025-06-18 require the member; later ones leave it out and admit no null."""
        self.url_elicitation: Final[bool] = bool(mod.URL_ELICITATION)
        """URL-mode elicitation exists (2025-11-25 on)."""
        self.primes_streams: Final[bool] = name >= "2025-11-25"
        """An SSE stream that may be resumed opens with an event of an id and no data (priming), which the
        transport's prose added in 2025-11-25: the schema has no trace of it, hence the date (revisions'
        names sort by date)."""
        requests: Mapping[str, RequestMethod[Any, Any]] = mod.REQUESTS
        if mod.STATELESS:  # (the extension's module loaded by the revisions it extends alone)
            from .task_subscriptions import with_task_subscriptions

            requests = with_task_subscriptions(mod)
        self.requests: Final[Mapping[str, RequestMethod[Any, Any]]] = requests
        """The revision's requests, the tasks extension's `subscriptions/listen` member included."""
        self.served: Final[Mapping[str, RequestMethod[Any, Any]]] = {
            method: spec for method, spec in self.requests.items() if "client_to_server" in spec.directions
        }
        """The requests a client may send, by method: what a server can be asked (`dispatch.decide`)."""
        self.notifications: Final[Mapping[str, NotificationMethod[Any]]] = mod.NOTIFICATIONS
        self.errors: Final[Mapping[str, int]] = mod.ERROR_CODES

    def type(self, name: str) -> Any:
        """The schema type `name` of this revision (AttributeError when the revision has none)."""
        return getattr(self.module, name)

    def has(self, name: str) -> bool:
        """The revision's schema defines `name`."""
        return hasattr(self.module, name)

    def __repr__(self) -> str:
        return f"Revision({self.name!r})"


_BUILT: dict[str, Revision] = {}


def revision(name: str) -> Revision:
    """The revision `name` ('draft' resolves to its target); ValueError when mcpbind has no such revision."""
    try:
        return _BUILT[name]
    except KeyError:
        pass
    try:
        path = REVISIONS["draft" if name == DRAFT and DRAFT is not None else name]
    except KeyError:
        raise ValueError(f"unknown MCP revision {name!r}; known: {', '.join(ALL)}") from None
    mod = importlib.import_module(path)
    built = _BUILT[name] = Revision(mod.PROTOCOL_VERSION, mod)
    return built


def module(name: str) -> ModuleType:
    """The generated module of `name` ('draft' resolves to its target)."""
    return revision(name).module


def is_modern(name: str) -> bool:
    """`name` is a stateless protocol version (the draft's included)."""
    return name in _STATELESS_KNOWN


def sessionless(served: Iterable[str]) -> bool:
    """A server speaking `served` has no session revision: no `initialize`, and no GET, DELETE or
    `Mcp-Session-Id` (2026-07-28, "Backward Compatibility")."""
    return all(name in _STATELESS_KNOWN for name in served)


def resolve(name: str) -> str:
    """The protocol version `name` stands for: "draft" is the draft's (or the released revision it is
    still identical to); ValueError for a version mcpbind does not know."""
    draft: str | None = _DRAFT_VERSION
    if name == "draft" and draft is not None:
        return draft
    if name not in KNOWN:
        raise ValueError(f"unknown MCP revision {name!r}; known: {', '.join(ALL)} and 'draft'")
    return name
