"""ASGI plumbing the HTTP modules share: the callable types, the request's headers, plain responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Final

from ...protocol.fields import TEXT
from ...protocol.inbound import error_body, naming_none

__all__ = [
    "Scope",
    "Message",
    "Receive",
    "Send",
    "SSE_HEADERS",
    "RETRY",
    "JSON_TYPE",
    "request_headers",
    "header",
    "error_body",
    "respond",
    "serve_document",
    "busy",
    "no_answer",
    "shutting_down",
    "disconnected",
    "mounted_path",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SSE_HEADERS: Final = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)
"""The head of an SSE response: a tuple, copied into a list of its own for each response, since ASGI
middleware may add to the list it is given (Starlette's `MutableHeaders` appends in place): one list
shared by every stream would grow by a header on each."""
RETRY: Final = ((b"retry-after", b"1"),)
JSON_TYPE: Final = (b"content-type", b"application/json")


def request_headers(scope: Scope) -> dict[bytes, str]:
    """The request's headers as text, read once per request: what a credential's check reads (the
    classifier reads the few it needs as received: `fields.Headers`)."""
    headers: dict[bytes, str] | None = scope.get("mcpbind.headers")
    if headers is None:
        headers = scope["mcpbind.headers"] = {}
        text = TEXT
        raw = scope["headers"]
        for k, v in raw:  # a loop, not a comprehension: no frame of its own (3.11)
            headers[k] = text[v]  # (a value seen before: one lookup, no decode)
        if len(headers) != len(raw):  # a header is repeated (rare)
            _combine_credentials(headers, raw)
    return headers


_CREDENTIALS: Final = (b"authorization", b"dpop")
"""Headers that carry one credential each: sent twice, neither value may be silently dropped."""


def _combine_credentials(headers: dict[bytes, str], raw: Iterable[tuple[bytes, bytes]]) -> None:
    """A credential header sent more than once becomes its values joined by commas, as RFC 9110 5.3
    combines repeated field lines. The dict keeps only the last value otherwise, so a request with a
    garbage first `Authorization` and a valid second one would pass, and one with two tokens would be
    judged by whichever came last; combined, the value is no single credential and the resource server
    refuses it (RFC 6750 3.1: a request that repeats a parameter is `invalid_request`; RFC 9449 4.3:
    more than one `DPoP` header is an invalid proof)."""
    for name in _CREDENTIALS:
        values = [TEXT[v] for k, v in raw if k == name]
        if len(values) > 1:
            headers[name] = ", ".join(values)


def header(scope: Scope, name: bytes) -> str | None:
    return request_headers(scope).get(name)


async def respond(
    send: Send,
    status: int,
    body: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    content_type: bytes | None = b"application/json",
) -> None:
    if body and content_type is not None:
        head = [(b"content-length", b"%d" % len(body)), (b"content-type", content_type), *headers]
    else:
        head = [(b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


_PUBLIC: Final = (b"access-control-allow-origin", b"*")
_DOCUMENT_METHODS: Final = b"GET, HEAD, OPTIONS"


async def serve_document(send: Send, method: str, document: bytes) -> None:
    """Answer a request for a public document (the RFC 9728 metadata): it to GET and HEAD, a CORS
    preflight's answer to OPTIONS (any origin may read it, browsers' clients included), and 405 naming
    the methods it has to any other."""
    if method in ("GET", "HEAD"):
        await respond(send, 200, document, (_PUBLIC,))
    elif method == "OPTIONS":
        headers = (
            _PUBLIC,
            (b"access-control-allow-methods", _DOCUMENT_METHODS),
            (b"allow", _DOCUMENT_METHODS),
        )
        await respond(send, 204, b"", (*headers, (b"access-control-allow-headers", b"mcp-protocol-version")))
    else:
        await respond(send, 405, b"Method Not Allowed", ((b"allow", _DOCUMENT_METHODS),), b"text/plain")


async def busy(send: Send, rid: Any, why: str, in_force: str | None = None) -> None:
    """Refuse a request at once, without queueing it: the client may try again shortly. `rid`: the
    request's id; where there is none (a GET, a batch), the answer names no request in the form of
    the revision `in_force` (a session's: `inbound.naming_none`)."""
    body = error_body(-32000, f"Server busy: {why}", rid)
    await respond(send, 503, body if rid is not None else naming_none(body, in_force), RETRY)


async def no_answer(send: Send, json_only: bool = False) -> None:
    """The response to a POSTed request that was cancelled before it answered (the spec sends no
    answer to a cancelled request): an SSE stream that ends with no event, or, from a server that
    answers with JSON only (`json_only`), 202 Accepted with no body, the spec's response that carries
    no message. Either is read cleanly by clients (the TypeScript SDK's returns on a 202 before it
    reads a body; an SSE stream may end with no event), where a 200 with an empty JSON body is not."""
    if json_only:
        await send({"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"0")]})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS]})
    await send({"type": "http.response.body", "body": b""})


def shutting_down(rid: Any) -> bytes:
    """The answer to a request still in flight when the ASGI server stops serving and cancels what
    runs (uvicorn: at the end of `timeout_graceful_shutdown`): a JSON-RPC error with its id, so that
    its client learns the request's fate instead of seeing a bare 500 or a reset connection."""
    return error_body(-32000, "Server shutting down", rid)


async def disconnected(receive: Receive) -> None:
    """Return when the client has gone away."""
    while (await receive())["type"] != "http.disconnect":
        pass


def mounted_path(scope: Scope) -> str:
    """The request's path within this application: mounted under a prefix (Starlette's `Mount`,
    FastAPI's `app.mount`), the ASGI `path` is the whole path and `root_path` the prefix, which the
    application leaves out; servers that strip the prefix themselves give the path as it is here."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :] or "/"
    return path
