"""HTTP classification, pure: a request's method, headers and body -> the `Route` to take, or a `Rejection`.

Every decision about an HTTP request that needs no state is made here, in one place, with no I/O and no
event loop: Accept and Content-Type, MCP headers sent twice, the body's JSON (its UTF-8, its depth, its
shape), version headers, `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` against the body on the stateless wire,
batches, and `Last-Event-ID`. What needs state (sessions, limits of requests in flight, the principal)
is left to the transport, which acts on the Route. What it needs of the server (the revisions it speaks,
its tools' header paths, its one-pass decoders) it asks through `ServerView`, lookups only.

A request is classified in steps, because the transport checks who sends it (Host, Origin, the token)
after `screen` (MCP headers sent twice, before anything else) and reads the body after `head` (method and
headers: a Route, a Rejection, or None when a POST's body is to be read); `post` then reads the body.
`classify` takes all the steps, for a body already at hand.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec
from msgspec import UNSET

from .. import wire
from ..errors import clipped, quoted
from . import dispatch, eras, jsonrpc, revisions, tasks
from .fields import TEXT, Headers, text_of
from .headers import Peek, PeekParams
from .headers import peek as peek_message
from .media import ACCEPT_CACHE, accepts, json_body_refusal
from .mirrored import header_mismatch, name_mismatch

if TYPE_CHECKING:
    # For the type checker alone, as `dispatch.Gate` it extends.
    class ServerView(dispatch.Gate, Protocol):
        """What the classifier asks of the server it classifies for: lookups, nothing that waits (and
        what the core's decision asks of it, `dispatch.Gate`)."""

        @property
        def revisions(self) -> Collection[str]:
            """The revisions the server speaks."""
            ...

        def decode_whole(self, body: bytes, version: str, headers: Headers) -> Peek | None:
            """The stateless request decoded in one pass into the params type its headers name, or None
            (not such a request): raises msgspec.DecodeError when the body is no JSON."""
            ...

        def param_paths(self, tool: Any) -> Mapping[str, tuple[str, ...]]:
            """The argument paths the `Mcp-Param-*` headers of a call of `tool` mirror."""
            ...

        def decide_session(self, body: bytes, version: str) -> tuple[Any, str, dispatch.Dispatch] | None:
            """A session's request (id, method, decision) read in one pass for the session revision
            `version`, or None: the general route reads the body again (and says what is wrong)."""
            ...


__all__ = [
    "Rejection",
    "Route",
    "Listen",
    "Resume",
    "UnknownEvent",
    "UnreadableAnswer",
    "Delete",
    "Initialize",
    "SessionMessage",
    "Batch",
    "Stateless",
    "screen",
    "head",
    "post",
    "classify",
    "accepts",
    "duplicated",
    "joined",
    "event_id",
    "error_body",
    "revised",
    "too_large",
    "has_batches",
    "error_status",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
]

INVALID_REQUEST: Final = jsonrpc.INVALID_REQUEST
METHOD_NOT_FOUND: Final = jsonrpc.METHOD_NOT_FOUND


@cache
def error_status() -> Mapping[int, int]:
    """On the stateless wire an error answer carries its HTTP status (2026-07-28 server validation)."""
    # Built on first need: the stateless codes come from the generated module `revisions` loads then.
    return {
        jsonrpc.INVALID_REQUEST: 400,
        jsonrpc.INVALID_PARAMS: 400,
        revisions.HEADER_MISMATCH: 400,
        revisions.MISSING_REQUIRED_CLIENT_CAPABILITY: 400,
        revisions.UNSUPPORTED_PROTOCOL_VERSION: 400,
        jsonrpc.METHOD_NOT_FOUND: 404,
    }


def error_body(code: int, message: str, rid: Any = None, data: Any = msgspec.UNSET) -> bytes:
    """An error answer; `rid` as read off the body, echoed only if it is a valid request id."""
    return jsonrpc.encode_error(rid if jsonrpc.valid_id(rid) else None, code, message, data)


def revised(body: bytes, headers: Headers) -> bytes:
    """A refusal's `body` in the form the revision the request is of asks for where it names no
    request: `"id": null` up to 2025-06-18 (`jsonrpc.null_id`), the member left out otherwise and
    where no revision is known. A session's request that names none is of 2025-03-26, as the
    transport's prose has a server assume."""
    raw = headers.get(b"mcp-protocol-version")
    if raw is None:
        version = "2025-03-26" if b"mcp-session-id" in headers else None
    else:
        version = raw.decode("latin-1")
    return naming_none(body, version)


class Rejection(msgspec.Struct):
    """The request is refused: its HTTP status, its JSON-RPC error body, and headers to add."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


class Route(msgspec.Struct):
    """Where an accepted request goes; each kind says what the transport needs to act on it.

    Routes and rejections are msgspec Structs, not dataclasses: every request makes one, and a
    Struct is made in C."""


class Listen(Route):
    """GET: the session's stream for messages that belong to no request."""

    session_id: str
    version: str | None = None
    """Its `MCP-Protocol-Version` (as for every route of a session: checked against the session's
    revision once the session is found, `version_refusal`)."""


class Resume(Route):
    """GET with `Last-Event-ID`: the events of `stream` after `after`, then the rest of it."""

    session_id: str
    stream: str
    after: int
    version: str | None = None


class UnknownEvent(Route):
    """GET with a `Last-Event-ID` that names no event of this server: refused with 400 once the
    session is found. The session is looked up first: a session that ended is 404 whatever else the
    request carries (the transport's MUST), and 404 is what tells the client to initialize again."""

    session_id: str
    refusal: Rejection
    version: str | None = None


class Delete(Route):
    """DELETE: end the session named (None: no `Mcp-Session-Id` was sent)."""

    session_id: str | None
    version: str | None = None


class Initialize(Route):
    """POST of `initialize` on a session revision: a session is opened. `id`: the request's (what a
    refusal to open one names)."""

    body: bytes
    id: Any = None


class SessionMessage(Route):
    """POST of a message of the session `session_id`; `request` is the body already parsed, when it
    is a request (it is fed to the session's connection as it is, not parsed again)."""

    session_id: str
    version: str | None
    body: bytes
    peek: Peek
    request: jsonrpc.Request | None
    decided: dispatch.Dispatch | None = None
    """The request read in one pass and decided (`ServerView.decide_session`) for the revision its
    header names, taken by a session of that revision (`request` then has no params)."""


class UnreadableAnswer(Route):
    """POST on a session of a body that is no JSON, yet reads (`salvage`) as an answer to request `id`:
    refused with `refusal` (400) as any such body, and, if the session awaits that answer, the request
    fails at once, as over stdio, rather than at its timeout."""

    session_id: str
    id: jsonrpc.RequestId
    body: bytes
    refusal: Rejection


class Batch(Route):
    """POST of a JSON-RPC batch on a session (whether its revision has batches is the session's)."""

    session_id: str
    body: bytes
    version: str | None = None


class Stateless(Route):
    """POST of a message on the stateless wire, its headers checked against its body.

    `version` is the revision requested; `peek.typed` the params decoded in one pass, or None;
    `request` the body parsed as a request, or None; `revision` the revision the request is served
    under once its body says it too (None: the handler refuses it). `direct`: by the core's rule
    (`dispatch.answerable_directly`, the one `dispatch.decide` applies), the call can be answered
    with no connection at all; else the request goes to a connection, which decides it there."""

    version: str
    body: bytes
    peek: Peek
    request: jsonrpc.Request | None
    revision: str | None
    direct: bool


# -- headers ------------------------------------------------------------------------------------------

_SINGLE: Final = (
    b"mcp-method",
    b"mcp-name",
    b"mcp-session-id",
    b"mcp-protocol-version",
    b"last-event-id",
    # Checked against what is allowed, of which only the last line would be: RFC 9112 3.2, more
    # than one Host is a 400; RFC 6454 7.3, a user agent sends no more than one Origin; Content-Type
    # is no list (RFC 9110 8.3), and a proxy reading its first line would see another body type.
    b"host",
    b"origin",
    b"content-type",
)
_LISTS: Final = (b"accept",)
"""List-based fields the classifier reads, which a client may send as several lines (RFC 9110 5.3)."""


VERSION_HEADER: Final = b"mcp-protocol-version"
"""The version header (HTTP): its repeat is refused with the request's id (`joined`)."""


def duplicated(raw: Sequence[tuple[bytes, bytes]], later: bytes = b"") -> str | None:
    """An MCP header (or Host, Origin, Content-Type) the request carries more than once (which of two
    values is meant? refused); `later`, a header whose repeat is refused later, is not looked for."""
    seen: set[bytes] = set()
    for name, _ in raw:
        if name in seen and name != later and (name in _SINGLE or name.startswith(b"mcp-param-")):
            return name.decode("latin-1")
        seen.add(name)
    return None


def joined(headers: Headers, raw: Sequence[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """`headers` (`raw` read into a mapping, the last value of a repeated name kept) with each
    list-based field sent as several lines (`Accept: application/json` and `Accept:
    text/event-stream`) read as one, its values joined with commas, as RFC 9110 5.3 lets a recipient."""
    out = dict(headers)
    for name in _LISTS:
        values = [value for key, value in raw if key == name]
        if len(values) > 1:
            out[name] = b", ".join(values)
    # MCP-Protocol-Version is no list: its lines joined likewise (the value RFC 9110 5.3 says they
    # stand for) name no version, and are refused with the body's request id, as any version header
    # the server cannot read (`screen` leaves them to this, for HTTP).
    values = [value for key, value in raw if key == VERSION_HEADER]
    if len(values) > 1:
        out[VERSION_HEADER] = b", ".join(values)
    return out


def event_id(last_event_id: str) -> tuple[str, int] | None:
    """A `Last-Event-ID` of this server's split into stream and sequence number; None for any other."""
    stream, _, seq = last_event_id.rpartition("-")
    if not stream or not (seq.isascii() and seq.isdigit()):  # isdigit alone takes "²", int() does not
        return None
    if len(seq) > _SEQ_DIGITS:  # more than any stream counts to (and past 4300 digits int() raises)
        return None
    return stream, int(seq)


_SEQ_DIGITS: Final = 19
"""Digits of the largest sequence number an event id of this server carries (a signed 64-bit one)."""


@cache
def has_batches(revision: str) -> bool:
    """The revision has JSON-RPC batches (2025-03-26 alone): its schema defines a batch request."""
    return revisions.revision(revision).batches


_NOT_ACCEPTABLE: Final = Rejection(
    406,
    error_body(INVALID_REQUEST, "Not Acceptable: Accept must list application/json and text/event-stream"),
)
_NOT_ACCEPTABLE_GET: Final = Rejection(
    406, error_body(INVALID_REQUEST, "Not Acceptable: Accept must list text/event-stream")
)
_UNSUPPORTED_MEDIA: Final = Rejection(
    415, error_body(INVALID_REQUEST, "Unsupported Media Type: send application/json")
)
_GET_NEEDS_SESSION: Final = Rejection(405, b"", ((b"allow", b"POST"),))
_METHOD_NOT_ALLOWED: Final = Rejection(405, b"", ((b"allow", b"GET, POST, DELETE"),))
_ONLY_POST: Final = Rejection(405, b"", ((b"allow", b"POST"),))
"""Anything but POST, to a server of no session revision."""
_BAD_EVENT_ID: Final = Rejection(
    400, error_body(INVALID_REQUEST, "Bad Request: Last-Event-ID names no event of this server")
)


def too_large(max_body: int) -> Rejection:
    """The refusal of a body over `max_body` bytes."""
    return Rejection(413, error_body(INVALID_REQUEST, f"Payload Too Large: over {max_body} bytes"))


def screen(headers: Headers, raw: Sequence[tuple[bytes, bytes]], later: bytes = b"") -> Rejection | None:
    """The first check of every request, before any other (Host, Origin and the token included): an
    MCP header (or Host, Origin, Content-Type) sent twice. `headers` are `raw`, the headers as received, read
    once into a mapping. `later`: a header whose repeat is left to a later check (HTTP: the version
    header, refused with the body's request id; see `joined`)."""
    if len(headers) != len(raw):  # some header is repeated (rare: only then, a search)
        twice = duplicated(raw, later)
        if twice is not None:
            why = f"Bad Request: the {twice} header is sent more than once"
            return Rejection(400, error_body(INVALID_REQUEST, why))
    return None


def head(
    method: str, headers: Headers, max_body: int, served: Collection[str] = revisions.ALL
) -> Route | Rejection | None:
    """A request by its method and headers: a GET's or DELETE's Route, a Rejection, or None for a
    POST whose body is to be read next (then `post`). `served`: the revisions the server speaks; with
    none of the session era, only POST is allowed: GET and DELETE are for sessions (2026-07-28,
    "Backward Compatibility": respond with 405 Method Not Allowed)."""
    if method != "POST" and revisions.sessionless(served):
        return _ONLY_POST
    if method == "POST":
        accept = headers.get(b"accept") or b""
        if (ACCEPT_CACHE.get(accept) or accepts(accept)) != (True, True):
            return _NOT_ACCEPTABLE
        content_type = headers.get(b"content-type")
        if content_type != b"application/json":
            media = "" if content_type is None else TEXT[content_type]
            if media.split(";")[0].strip().lower() != "application/json":
                return _UNSUPPORTED_MEDIA
            why = json_body_refusal(media)  # (a charset that is not UTF-8, say)
            if why is not None:
                return Rejection(415, error_body(INVALID_REQUEST, f"Unsupported Media Type: {why}"))
        length = headers.get(b"content-length")
        # (`bytes.isdigit` is ASCII digits alone; a value with spaces around it, which no ASGI server
        # gives, is left to the body's own limit.)
        if length is not None and length.isdigit() and int(length) > max_body:
            return too_large(max_body)
        return None
    if method == "GET":
        if not accepts(headers.get(b"accept") or b"")[1]:
            return _NOT_ACCEPTABLE_GET
        session_id = text_of(headers, b"mcp-session-id")
        if session_id is None:
            return _GET_NEEDS_SESSION
        version = text_of(headers, VERSION_HEADER)
        last = text_of(headers, b"last-event-id")
        if last is None:
            return Listen(session_id, version)
        named = event_id(last)
        if named is None:
            return UnknownEvent(session_id, _BAD_EVENT_ID, version)
        return Resume(session_id, named[0], named[1], version)
    if method == "DELETE":
        return Delete(text_of(headers, b"mcp-session-id"), text_of(headers, VERSION_HEADER))
    return _METHOD_NOT_ALLOWED


# -- the body of a POST -----------------------------------------------------------------------------------

_peek_params = msgspec.json.Decoder(PeekParams).decode
_STATELESS_VERSIONS: Final = frozenset(v for v in revisions.KNOWN if revisions.is_modern(v))
"""`revisions.is_modern`, as a set to test a header against with no call (None is in no set)."""
_NO_SESSION: Final = Rejection(
    400, error_body(INVALID_REQUEST, "Bad Request: no Mcp-Session-Id (send initialize first)")
)
_NO_BATCHES: Final = Rejection(
    400, error_body(INVALID_REQUEST, "Invalid request: this protocol revision has no JSON-RPC batches")
)
_NO_RESPONSES: Final = Rejection(
    400, error_body(INVALID_REQUEST, "Invalid request: clients send no responses here")
)


def post(headers: Headers, body: bytes | None, view: ServerView, max_body: int) -> Route | Rejection:
    """A POST by its headers and its whole body (None when it was over `max_body`). An empty body is
    no JSON, however it came (`Content-Length: 0`, a chunked body of no chunk, no length at all)."""
    if body is None:
        return too_large(max_body)
    raw = headers.get(b"mcp-protocol-version")
    version = None if raw is None else TEXT[raw]
    raw = headers.get(b"mcp-session-id")
    session_id = None if raw is None else TEXT[raw]
    request: jsonrpc.Request | None = None
    peek: Peek | list[Any] | None = None
    malformed: jsonrpc.Malformed | None = None
    single = body[:1] == b"{"
    try:
        # Only the stateless wire's headers (`Mcp-Method`) name the type to decode a body into at once.
        if single and version is not None:
            if b"mcp-method" in headers:
                peek = view.decode_whole(body, version, headers)
                if peek is not None:
                    # Decoded in one pass: a request of a stateless revision the server speaks. (What
                    # is left reads no more of the body: nothing from here raises a DecodeError.)
                    if peek.lean:
                        # Decoded lean (no `_meta`) for a direct answer by the one-pass decoder its
                        # headers chose: a call whose method and `_meta` version are the headers', of
                        # a revision the server speaks. Only names are left to check; then the core's
                        # rule says whether it is a direct answer (the stateless wire is the envelope
                        # era's). The usual call names the tool its `Mcp-Name` named, one that mirrors
                        # no argument (its paths found by its first call): nothing to check, and no
                        # call to say so. (Here, not in `_stateless`: the usual POST, one frame less.)
                        tool = peek.tool
                        paths = tool.param_paths
                        if paths is None or paths or tool.name != peek.typed.name:
                            problem = name_mismatch(headers, peek, view.param_paths)
                            if problem is not None:
                                return _header_mismatch(problem, peek.id)
                        # (A lean peek is a call's: its method is `tools/call`.)
                        direct = eras.ENVELOPE.direct_calls and dispatch.answerable_directly(
                            "tools/call", peek.typed, view, tool
                        )
                        if not direct:
                            # Decoded for the direct answer only: the general route reads the body.
                            peek.typed = None
                        return Stateless(version, body, peek, None, version, direct)
                    return _stateless(headers, body, peek, version, None, view)
            elif session_id is not None:
                # A session's request, decided in one pass for the revision its header names: the
                # session takes the decision when that is its revision (`SessionMessage.decided`).
                found = view.decide_session(body, version)
                if found is not None:  # (a session revision's request, never `initialize`)
                    rid, method, decided = found
                    request = jsonrpc.Request(rid, method, None)  # (its params: the decision's)
                    params = decided.params
                    if params is None:
                        return SessionMessage(session_id, version, body, Peek(method, rid), request, decided)
                    # (`routed_params`, inlined: this is every request of a session but a few)
                    if method == "tools/call":  # (its name required, no uri to look for in vain)
                        routed = PeekParams(params.name)
                    else:
                        name = getattr(params, "name", None)
                        uri = getattr(params, "uri", None)
                        routed = PeekParams(None if name is UNSET else name, None if uri is UNSET else uri)
                    peek = Peek(method, rid, routed)
                    return SessionMessage(session_id, version, body, peek, request, decided)
        if peek is None and single:
            # The common case, one request: its envelope is read once, its params left raw for the
            # handler, and only what routing and the headers need is peeked at. Anything else (a
            # notification, a response, a malformed message) is peeked at as a whole below, and
            # its route names what is wrong with it.
            message = jsonrpc.parse(body)[0]
            if type(message) is jsonrpc.Request:  # (the usual message first: one test, not two)
                try:
                    params = _peek_params(message.params) if message.params is not None else None
                except msgspec.ValidationError as exc:  # (params or `_meta` no object, say)
                    why = "Invalid request: " + str(exc).replace("`$", "`$.params", 1)
                    return Rejection(400, jsonrpc.encode_error(message.id, INVALID_REQUEST, why))
                except msgspec.DecodeError:
                    pass
                else:
                    request = message
                    peek = Peek(message.method, message.id, params)
            elif isinstance(message, jsonrpc.Malformed) and message.reason == jsonrpc.PARSE_FAILURE:
                # No JSON (bad UTF-8 anywhere, params left raw included; nesting too deep): the
                # parser's own answer, which the peek below, reading less, could not give.
                assert message.reply is not None
                return _unreadable(session_id, body, Rejection(400, message.reply))
            elif isinstance(message, jsonrpc.Malformed):
                malformed = message
        if peek is None:
            peek = peek_message(body)
            refused = None if malformed is None else malformed.reply
            if (
                refused is not None
                and isinstance(peek, Peek)
                and (peek.method is not None or peek.id is None)
            ):
                # A request or notification whose envelope is wrong (an id that is null, say), or a
                # message that is none of the three and names no request (`{}`): refused as over
                # stdio, not accepted with 202. (A broken answer goes on to the request it names.)
                return Rejection(400, refused)
    except msgspec.DecodeError as exc:
        # The wrong shape may have been seen before the end of a text that is no JSON at all.
        reply = None
        if isinstance(exc, msgspec.ValidationError):
            # The envelope's own refusal names the request's id when it could read one (`"params":
            # "x"`: the peek fails on the params, the envelope read them as no object).
            reply = (malformed.reply if malformed is not None else None) or jsonrpc.refusal(body, exc)
        why = f"Parse error: {wire.decode_failure(exc, body)}"
        refusal = Rejection(400, reply or error_body(jsonrpc.PARSE_ERROR, why))
        return _unreadable(session_id, body, refusal)
    except RecursionError:
        # msgspec's decoders stop at a fixed depth with RecursionError, not DecodeError.
        refusal = Rejection(400, error_body(jsonrpc.PARSE_ERROR, "Parse error: nested too deeply"))
        return _unreadable(session_id, body, refusal)
    if session_id is not None and revisions.sessionless(view.revisions):
        # A server of no session revision ignores the header (2026-07-28, "Backward Compatibility"):
        # the message is answered as one with no session, never with 404 for a session it has none of.
        session_id = None
    if isinstance(peek, list):
        return _NO_BATCHES if session_id is None else Batch(session_id, body, version)
    # A body decoded in one pass (`ServerView.decode_whole`) is of a stateless revision the server speaks.
    modern = (
        peek.typed is not None
        or version in _STATELESS_VERSIONS
        or (
            version is None
            and peek.params is not None
            and peek.params.meta is not None
            and revisions.is_modern(str(peek.params.meta.version))
        )
    )
    if modern:
        return _stateless(headers, body, peek, version, request, view)
    if peek.method == "initialize" and peek.id is not None and session_id is None:
        # (With a session's id, it is that session's message: its session refuses it, as it is
        # initialized already; or it is not found, 404.)
        return Initialize(body, peek.id)
    if session_id is not None:
        return SessionMessage(session_id, version, body, peek, request)
    return _sessionless(peek, version, view)


def _sessionless(peek: Peek, version: str | None, view: ServerView) -> Rejection:
    """A request of neither era: no session, and no stateless revision named. Its version header
    against its `_meta` first (2026-07-28: they must match, 400 HeaderMismatch), then a version the
    server does not speak (400 UnsupportedProtocolVersion, naming the ones it does), then what is
    missing: a session, or, where the server speaks no revision that has sessions, the header."""
    body_version = (
        peek.params.meta.version if peek.params is not None and peek.params.meta is not None else None
    )
    if version is not None and "," in version:
        # Sent on several lines (`joined`), or naming several versions: no version the server can read,
        # refused as 2026-07-28 refuses a header it cannot read, with the id a dual-era client matches.
        problem = f"MCP-Protocol-Version is sent more than once or names several versions ({quoted(version)})"
        return Rejection(400, error_body(revisions.HEADER_MISMATCH, f"Header mismatch: {problem}", peek.id))
    if version is not None and body_version is not None and body_version != version:
        problem = f"MCP-Protocol-Version {quoted(version)} but _meta says {quoted(body_version)}"
        return Rejection(400, error_body(revisions.HEADER_MISMATCH, f"Header mismatch: {problem}", peek.id))
    if version is not None and version not in view.revisions:
        return _unsupported(version, peek.id, view)
    if revisions.sessionless(view.revisions):
        why = "Header mismatch: MCP-Protocol-Version is required"
        return Rejection(400, error_body(revisions.HEADER_MISMATCH, why, peek.id))
    return _NO_SESSION


def version_refusal(version: str, negotiated: str, served: Collection[str], rid: Any = None) -> bytes:
    """The refusal (400) of a session's request whose `MCP-Protocol-Version` is not the revision the
    session negotiated (2025-06-18 on: a version that is invalid or unsupported is 400): one the
    server does not serve, several (the header sent twice: `joined`), or another it serves, which
    would have the request read for one revision and answered for another. `rid`: the request's id,
    when its body was read (as the stateless route refuses a version header)."""
    if "," in version:
        why = f"MCP-Protocol-Version is sent more than once or names several versions ({quoted(version)})"
    elif version not in served:
        why = f"Unsupported MCP-Protocol-Version {quoted(version)} (this server speaks {', '.join(served)})"
    else:
        why = f"MCP-Protocol-Version {version} is not this session's: it negotiated {negotiated}"
    # (The session's revision is in force, whatever the header says: its form of an unknown id.)
    return naming_none(error_body(INVALID_REQUEST, f"Bad Request: {why}", rid), negotiated)


def session_refusal(message: str, in_force: str | None, rid: Any = None) -> bytes:
    """The refusal (404, 409, 400) of a request naming a session: `rid`, the request's id when its
    body was read and it is a valid one, else the form of an unknown id of the revision `in_force`
    (the session's; for a session not found, the one the request's header names, 2025-03-26 where it
    names none, as `revised` takes it)."""
    return naming_none(error_body(INVALID_REQUEST, message, rid), in_force)


def naming_none(body: bytes, in_force: str | None) -> bytes:
    """An error answer `body` (`error_body`'s) in the form the revision `in_force` gives an answer
    that names no request: `"id": null` up to 2025-06-18 (`jsonrpc.null_id`), the member left out
    otherwise and where no revision is known. A body that names its request is left as it is."""
    return jsonrpc.null_id(body) if _null_ids(in_force) else body


def sent_revision(version: str | None) -> str:
    """The revision a request naming a session is of: its `MCP-Protocol-Version`, else 2025-03-26
    (the transport's prose has a server assume it where the header is missing)."""
    return "2025-03-26" if version is None else version


def _null_ids(version: str | None) -> bool:
    """`version` is a revision whose error answers name an unknown id as null (`jsonrpc.null_id`)."""
    return version is not None and version in revisions.KNOWN and revisions.revision(version).null_ids


def _unreadable(session_id: str | None, body: bytes, refusal: Rejection) -> Route | Rejection:
    """A body that could not be read: refused, and on a session, an answer whose id can be read is
    also taken to the request it answers (`UnreadableAnswer`)."""
    if session_id is None:
        return refusal
    import re

    from .salvage import EDGE, salvage  # (an error path's)

    found = salvage(body)
    # A request cut off before its members' end reads as no request: `"method"` anywhere in its
    # first bytes is taken as one (a request of the client's never fails one of ours).
    if found.id is None or found.request or re.search(rb'"method"\s*:', body[:EDGE]):
        return refusal
    return UnreadableAnswer(session_id, found.id, body, refusal)


def _stateless(
    headers: Headers,
    body: bytes,
    peek: Peek,
    version: str | None,
    request: jsonrpc.Request | None,
    view: ServerView,
) -> Route | Rejection:
    """A message on the stateless wire: its headers against its body, its revision and method."""
    if peek.method is None:
        return _NO_RESPONSES
    if peek.typed is not None and version is not None:
        # Taken by the one-pass decoder its headers chose, likewise: only names are left.
        problem = name_mismatch(headers, peek, view.param_paths)
    elif version is not None and version not in view.revisions:
        # The version is judged first: a server that does not speak it answers with the revisions
        # it does, not with what the headers of a revision it cannot read would lack.
        return _unsupported(version, peek.id, view)
    else:
        problem = header_mismatch(headers, peek, version, view.param_paths)
    if problem is not None:
        return _header_mismatch(problem, peek.id)
    body_version = peek.params.meta.version if peek.params and peek.params.meta else None
    requested = version or str(body_version or "")
    if peek.typed is None:
        if requested not in view.revisions or not revisions.is_modern(requested):
            return _unsupported(requested, peek.id, view)
        module = revisions.module(requested)
        table = module.REQUESTS if peek.id is not None else module.NOTIFICATIONS
        spec = table.get(peek.method)
        if spec is None and peek.id is not None:
            spec = tasks.EXTENSION_REQUESTS.get(peek.method)
        if spec is None:
            why = f"Method not found: {quoted(peek.method or '')}"
            return Rejection(404, error_body(METHOD_NOT_FOUND, why, peek.id))
    # The revision is known once the body says it too (a request without it is refused by the
    # handler, as on every other route); a one-pass decode has checked that already.
    revision = requested if peek.typed is not None or body_version == requested else None
    return Stateless(requested, body, peek, request, revision, False)


def _header_mismatch(problem: str, rid: Any) -> Rejection:
    """A stateless request whose `Mcp-*` headers say other than its body."""
    return Rejection(400, error_body(revisions.HEADER_MISMATCH, f"Header mismatch: {problem}", rid))


def _unsupported(requested: str, rid: Any, view: ServerView) -> Rejection:
    """A protocol version the server does not speak (or, on the stateless wire, no stateless one)."""
    data = {"supported": sorted(view.revisions, reverse=True), "requested": clipped(requested)}
    code = revisions.UNSUPPORTED_PROTOCOL_VERSION
    return Rejection(400, error_body(code, "Unsupported protocol version", rid, data))


def classify(
    method: str,
    headers: Mapping[bytes, str | bytes],
    body: bytes,
    view: ServerView,
    *,
    raw: Sequence[tuple[bytes, bytes]] | None = None,
    max_body: int = 4 * 1024 * 1024,
) -> Route | Rejection:
    """`screen`, `head`, then (for a POST) `post`, for a request whose body is at hand; `headers` by
    lower-case name, each value as text or as received. `raw`: the headers as received, where repeats
    show (by default `headers`, which can have none)."""
    read = {k: v if isinstance(v, bytes) else v.encode("latin-1") for k, v in headers.items()}
    if raw is None:
        raw = list(read.items())
    twice = screen(read, raw, VERSION_HEADER)
    if twice is not None:
        return twice
    if len(read) != len(raw):
        read = joined(read, raw)
    route = head(method, read, max_body, view.revisions)
    if route is not None:
        return route
    return post(read, body if len(body) <= max_body else None, view, max_body)
