"""The server's request decision, I/O-free: a request in, what to run (`Dispatch`) or the error to answer.

`handshake` opens a session (the session era's `initialize`). Every other request a connection
serves, on every transport and in both eras, passes `decide`: its revision (the session's, or the one
its `_meta` or transport names, `negotiate`) is checked against what the server speaks, its params are
decoded by the revision's method table, and its method is gated by what the server offers. What only
schema.ts says in prose, and so no generated table carries, is data here (`FEATURES`, `SUBSCRIBING`;
caching is the envelope era's, `eras.CACHEABLE`). Refusals are raised as `McpError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec
from msgspec import UNSET

from .. import wire
from ..errors import InvalidParams, McpError, MethodNotFound, clipped, quoted
from ..lazy import resolve_annotations
from ..methods import RequestMethod
from . import eras, revisions
from .jsonrpc import PARSE_ERROR
from .revisions import Revision

if TYPE_CHECKING:
    # For the type checker alone: a `typing.Protocol` class costs a server's start about 0.15M
    # instructions (tests/unit/test_imports.py).
    class Gate(Protocol):
        """What the decision needs of the server: the feature a method needs that it does not offer, and
        whether a call of a tool needs a connection."""

        @property
        def missing_features(self) -> Mapping[str, str]:
            """What `missing_feature` has answered, by method, while what the server offers stays the same
            (emptied when it changes): read first, with no call."""
            ...

        def missing_feature(self, method: str) -> str: ...

        def answers_directly(self, params: Any) -> bool:
            """A `tools/call` with these params can be answered with no connection: its tool takes no
            `Context`, and the request carries nothing to check against earlier ones (input responses,
            request state). Asked only in an era that answers calls directly (`Era.direct_calls`), and
            not when the caller found the tool itself (`answerable_directly`)."""
            ...


__all__ = [
    "FEATURES",
    "SUBSCRIBING",
    "Dispatch",
    "Handshake",
    "answerable_directly",
    "decide",
    "handshake",
    "negotiate",
    "requested_text",
    "requested_version",
    "missing_feature",
    "unparsable",
]

FEATURES: Final[Mapping[str, str]] = {
    "tools": "tools",
    "resources": "resources",
    "prompts": "prompts",
    "completion": "completions",
    "logging": "logging",
}
"""The server capability each method family needs (by the method name's first segment)."""
SUBSCRIBING: Final = frozenset({"resources/subscribe", "resources/unsubscribe"})
"""Methods that need their feature's `subscribe` flag as well."""


class Dispatch(msgspec.Struct, frozen=True, gc=False):
    """A request decided: run `spec`'s handler with `params` (`meta`: their `_meta`, if a dict) in `era`.
    `direct`: the request can be answered with no connection at all (see `Gate.answers_directly`)."""

    revision: Revision
    era: eras.Era
    spec: RequestMethod[Any, Any]
    params: Any
    meta: dict[str, Any] | None
    direct: bool = False


def missing_feature(method: str, offered: Mapping[str, Any]) -> str:
    """The feature `method` belongs to when the server does not offer it (`offered`: the server's
    capabilities), else ""."""
    feature = FEATURES.get(method.split("/", 1)[0])
    if feature is None:
        return ""
    if feature not in offered or (method in SUBSCRIBING and not offered[feature].get("subscribe")):
        return feature
    return ""


class _PeekMeta(msgspec.Struct):
    # Any JSON value: a version that is not text (a number, an object) is refused as what it is, by
    # `negotiate`, not taken for a request that names none.
    version: object = msgspec.field(default=None, name=revisions.META_VERSION)


class _PeekParams(msgspec.Struct):
    meta: _PeekMeta | None = msgspec.field(default=None, name="_meta")


# (Their annotations read here, with no compiling: msgspec would compile each one, at every start.)
resolve_annotations(_PeekMeta)
_peek = msgspec.json.Decoder(resolve_annotations(_PeekParams))


def requested_version(params: msgspec.Raw | None) -> object:
    """The protocol version a request's `_meta` names (None: none; any JSON value else, text or not),
    without decoding the rest of its params."""
    if params is None:
        return None
    try:
        peek = _peek.decode(params)
    except msgspec.ValidationError:
        return None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise unparsable(exc) from None
    return peek.meta.version if peek.meta is not None else None


def requested_text(requested: object) -> str:
    """A version a client named (any JSON value) as -32022's `data.requested` carries it, a string
    in the schema: text clipped, anything else its JSON text, clipped (a megabyte of either is not
    sent back whole). Both servers, this one and the schema-exact one, answer with it."""
    if type(requested) is str:
        return clipped(requested)
    return clipped(msgspec.json.encode(requested).decode())


def negotiate(method: str, requested: object, served: Sequence[str]) -> Revision | None:
    """The revision a request with no session is served in; None for a `ping` that names none (it is
    answered with an empty result) where the server speaks a revision of sessions, which has `ping`
    before `initialize` too. 2026-07-28 has none (its changelog: removed): a server of the stateless
    revisions alone finds no such method, as the schema-exact server says (-32601)."""
    if requested is not None and type(requested) is not str:
        # A version is text: a number or an object names none the server could speak. It is
        # quoted back as its JSON text (clipped), as `requested` is text in the error's data.
        raise McpError(
            "Unsupported protocol version: not text",
            code=revisions.UNSUPPORTED_PROTOCOL_VERSION,
            data={
                "supported": sorted(served, reverse=True),
                "requested": requested_text(requested),
            },
        )
    if requested is None:
        if method == "ping":
            if revisions.sessionless(served):
                raise MethodNotFound(f"Method not found: {quoted(method)}")
            return None
        # (`initialize` suggested only where the server would accept it.)
        first = "send `initialize` first, or " if not revisions.sessionless(served) else ""
        raise InvalidParams(
            "Invalid params: no session, and no protocol version in "
            f"`_meta.{revisions.META_VERSION}`: {first}carry the version in every request (this "
            f"server speaks {', '.join(served)})"
        )
    if requested in served and not revisions.is_modern(requested):
        # A revision of sessions, named where the stateless ones are: the server does speak it, but
        # through `initialize`; what a request of this kind can use are the stateless ones alone.
        raise McpError(
            f"Unsupported protocol version: {requested} is served through initialize (sessions), "
            "not in a request's _meta",
            code=revisions.UNSUPPORTED_PROTOCOL_VERSION,
            data={
                "supported": sorted((r for r in served if revisions.is_modern(r)), reverse=True),
                "requested": requested,  # (one the server serves: no longer than its name)
            },
        )
    if requested not in served or not revisions.is_modern(requested):
        # Every version the server speaks, both eras: a dual-era client falls back to initialize
        # when none of the stateless ones suits it.
        raise McpError(
            "Unsupported protocol version",
            code=revisions.UNSUPPORTED_PROTOCOL_VERSION,
            # (The version the client sent, clipped: a megabyte long, it is not sent back whole.)
            data={"supported": sorted(served, reverse=True), "requested": requested_text(requested)},
        )
    return revisions.revision(requested)


class Handshake(msgspec.Struct, frozen=True):
    """The session an `initialize` request opens."""

    revision: Revision
    client_capabilities: dict[str, Any]
    """As the session's revision has them (what it lacks is dropped)."""
    client_info: dict[str, Any]


def handshake(params: msgspec.Raw | None, served: Sequence[str]) -> Handshake:
    """The session `initialize` opens: the client's revision when the server speaks it, else the
    newest stateful revision the server speaks (the client decides whether it can go on with that)."""
    stateful = [r for r in served if not revisions.is_modern(r)]
    if not stateful:
        raise MethodNotFound(
            f"Method not found: initialize (this server speaks only {', '.join(served)}, "
            "which carry the version in every request)"
        )
    # Protocol versions are dates: the newest is the greatest, in whatever order the server lists them.
    latest = max(stateful)
    newest = revisions.revision(latest)
    try:
        decoded = wire.decoder(newest.type("InitializeRequestParams")).decode(params or b"{}")
    except msgspec.ValidationError as exc:
        raise InvalidParams(f"Invalid params: {exc}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise unparsable(exc) from None
    chosen = decoded.protocol_version if decoded.protocol_version in stateful else latest
    revision = revisions.revision(chosen)
    caps = _session_capabilities(revision, wire.to_builtins(decoded.capabilities))
    return Handshake(revision, caps, wire.to_builtins(decoded.client_info))


def _session_capabilities(revision: Revision, caps: dict[str, Any]) -> dict[str, Any]:
    """A client's capabilities as the negotiated revision has them: read with the newest revision's
    types, they are converted through the session's, which drops what that revision lacks (`tasks`
    before 2025-11-25, `elicitation` before 2025-06-18). URL-mode elicitation came with 2025-11-25,
    but 2025-06-18's `elicitation` is an open object that would keep a `url` member: dropped too."""
    try:
        kept = wire.to_builtins(wire.convert(caps, revision.type("ClientCapabilities")))
    except msgspec.ValidationError:
        return caps  # valid for the newest revision: nothing of the session's depends on the rest
    assert isinstance(kept, dict)
    elicitation = kept.get("elicitation")
    if isinstance(elicitation, dict) and not revision.url_elicitation:
        kept["elicitation"] = {k: v for k, v in elicitation.items() if k not in ("url", "form")}
    return kept


class _Plan(msgspec.Struct, frozen=True, gc=False):
    """What `decide` knows of a method of a revision before reading a request of it."""

    spec: RequestMethod[Any, Any]
    read: Callable[[msgspec.Raw], Any] | None
    """The codec's decoder of its params (None: it has none)."""
    era: eras.Era


_plans: dict[tuple[Revision, str], _Plan] = {}
"""Per revision and method, the plan `_plan` finds once (the decision for a method never changes; only
methods a revision serves are kept, so it holds at most every method of every revision)."""


def _plan(revision: Revision, method: str) -> _Plan:
    spec = revision.served.get(method)
    if spec is None:
        from . import tasks  # loaded by the first method outside the tables (cold start)

        spec = tasks.extension_method(revision, method)  # the tasks extension's (2026-07-28)
        if spec is None or "client_to_server" not in spec.directions:
            raise MethodNotFound(f"Method not found: {quoted(method)}")
    params_type = spec.params_type
    read = None if params_type is None else wire.decoder(params_type).decode
    plan = _plans[revision, method] = _Plan(spec, read, eras.of(revision))
    return plan


def decide(method: str, params: msgspec.Raw | None, decoded: Any, revision: Revision, gate: Gate) -> Dispatch:
    """What to run for a request of `revision`: `params` are its raw params, or None with `decoded`
    set when the transport decoded them with the whole message (as `revision`'s params type). Every
    request that reaches a connection passes here, on every transport; the fast path a transport may
    take before that (`Dispatch.direct`: answered with no connection) is this decision's own rule,
    `answerable_directly`, not a decision of its own."""
    plan = _plans.get((revision, method))
    if plan is None:
        plan = _plan(revision, method)
    spec = plan.spec
    read = plan.read
    if read is None:
        value = None
    elif decoded is not None:
        value = decoded
    elif params is None:
        if spec.params_required:
            raise InvalidParams(f"Invalid params: {method} requires params")
        value = None
    else:
        try:
            value = read(params)
        except msgspec.ValidationError as exc:
            raise InvalidParams(f"Invalid params: {exc}") from None
        except (msgspec.DecodeError, RecursionError) as exc:
            raise unparsable(exc) from None
    meta: dict[str, Any] | None = None
    if value is not None:
        raw_meta = getattr(value, "meta", None)
        meta = raw_meta if isinstance(raw_meta, dict) else None  # this request's own: no copy
    missing = gate.missing_features.get(method)
    if missing is None:
        missing = gate.missing_feature(method)
    if missing:
        raise MethodNotFound(f"Method not found: {quoted(method)} (this server does not offer {missing})")
    era = plan.era
    direct = era.direct_calls and answerable_directly(method, value, gate)
    return Dispatch(revision, era, spec, value, meta, direct)


def answerable_directly(method: str, params: Any, gate: Gate, tool: Any = None) -> bool:
    """The fast path's rule, in an era that answers calls with no connection (`Era.direct_calls`): a
    `tools/call` whose tool the server says needs none (`Gate.answers_directly`). `decide` applies it
    to every request (`Dispatch.direct`); the HTTP classifier applies it, alone, to a stateless call
    it decoded in one pass, before any connection exists to decide the rest (its revision, method and
    params were checked by that decode; a registered tool means the tools feature is offered; `tool`:
    the registration it found, as one that takes no `Context`, which is not judged again)."""
    if tool is None:
        return method == "tools/call" and gate.answers_directly(params)
    # Only what the request carries is left to judge, as `Gate.answers_directly` judges it (UNSET is
    # falsy: only a non-empty state or answers need the multi round-trip path). Inlined, with no call
    # of the gate's: this is every stateless call the HTTP classifier decoded in one pass.
    return method == "tools/call" and not (
        getattr(params, "request_state", UNSET) or getattr(params, "input_responses", UNSET)
    )


def unparsable(exc: Exception) -> McpError:
    """Params that are no JSON after all: the envelope skips over them without checking their strings'
    UTF-8, and decoding them goes deeper into the stack than reading the envelope did (msgspec raises
    RecursionError, not DecodeError, on deep nesting). Bad JSON is a parse error wherever it is found."""
    detail = wire.TOO_DEEP if isinstance(exc, RecursionError) else str(exc)
    return McpError(f"Parse error: {detail}", code=PARSE_ERROR)
