"""The HTTP front every request crosses (`HttpApp.__call__`), under uvicorn: the checks its fast path
must not skip. A Host allowed before lets a request by with no further call, but only when it carries no
Origin; setting `allowed_hosts` forgets what was allowed; a repeated MCP header is still refused first."""

from __future__ import annotations

import json

import httpx

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp

from ..http_support import BOTH, call, initialize, modern, modern_headers, serve_in_process

LEGACY = "2025-11-25"


def _app() -> HttpApp:
    server = Server("front", "1.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return server.http_app()


def test_a_host_allowed_before_still_has_its_origin_checked_and_forgets_when_the_list_changes() -> None:
    app = _app()
    message = modern(1, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    headers = modern_headers(message)
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        for _ in range(2):  # worked out, then taken from the verdicts kept
            ok = http.post(url, json=message, headers=headers)
            assert ok.status_code == 200, ok.text
            assert ok.json()["result"]["structuredContent"] == {"result": 3}
        evil = http.post(url, json=message, headers={**headers, "origin": "https://evil.example"})
        assert evil.status_code == 403 and "origin" in evil.json()["error"]["message"], evil.text
        local = http.post(url, json=message, headers={**headers, "origin": "http://localhost:3000"})
        assert local.status_code == 200, local.text
        app.security.allowed_hosts = ("mcp.example",)
        refused = http.post(url, json=message, headers=headers)
        assert refused.status_code == 403 and "host" in refused.json()["error"]["message"], refused.text
        moved = http.post(url, json=message, headers={**headers, "host": "mcp.example:443"})
        assert moved.status_code == 200, moved.text


def test_a_repeated_mcp_header_is_refused_before_the_host_is_looked_at() -> None:
    app = _app()
    message = modern(2, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    pairs = [*modern_headers(message).items(), ("mcp-name", "add")]
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        twice = http.post(url, json=message, headers=pairs)
        assert twice.status_code == 400 and "mcp-name" in twice.json()["error"]["message"], twice.text
        evil = http.post(url, json=message, headers=[*pairs, ("host", "evil.example")])
        assert evil.status_code == 400, evil.text  # (the first check: before Host and Origin)


# The usual POST (Content-Type exactly application/json, an Accept worked out before to take both media
# types, a length within bounds) goes on to its body with no call to `inbound.head`; every other POST is
# `head`'s. The first request of each Accept below is `head`'s (its verdict not kept yet), the second
# may take the short way: both must be answered alike, and as the classifier decides.
_ACCEPTS = (
    "application/json, text/event-stream",
    "*/*",
    "application/json",
    "text/event-stream",
    "application/json;q=0, text/event-stream",
    "application/*, text/*",
    "",
    None,  # (httpx then sends */*)
)
_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/json; charset=latin-1",
    "text/plain",
    "application/jsonx",
    None,
)


def _variations() -> list[tuple[str | None, str | None]]:
    return [(a, "application/json") for a in _ACCEPTS] + [(_ACCEPTS[0], t) for t in _TYPES]


def _answered_alike_and_as_classified(
    app: HttpApp, url: str, http: httpx.Client, body: bytes, base: dict[str, str]
) -> None:
    from mcpbind.protocol import inbound
    from mcpbind.protocol.media import ACCEPT_CACHE

    for accept, content_type in _variations():
        headers = dict(base)
        if accept is not None:
            headers["accept"] = accept
        if content_type is not None:
            headers["content-type"] = content_type
        ACCEPT_CACHE.clear()  # the first one worked out by `head`, the second maybe not
        answers = [http.post(url, content=body, headers=headers) for _ in range(2)]
        first, second = answers
        assert (first.status_code, first.content) == (second.status_code, second.content), headers
        sent = {k.lower().encode(): v for k, v in first.request.headers.items()}  # (as sent)
        route = inbound.classify("POST", sent, body, app.stateless, max_body=app.security.max_body)
        if isinstance(route, inbound.Rejection):
            assert (first.status_code, first.content) == (route.status, route.body), headers
        else:
            assert first.status_code == 200 and b'"result"' in first.content, (headers, first.text)


def test_the_usual_post_is_answered_as_the_classifier_decides_with_or_without_its_short_way() -> None:
    app = _app()
    message = modern(3, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    body = json.dumps(message).encode()
    base = {k: v for k, v in modern_headers(message).items() if k != "accept"}
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        _answered_alike_and_as_classified(app, url, http, body, base)


def test_a_session_post_is_answered_as_the_classifier_decides_with_or_without_its_short_way() -> None:
    app = _app()
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        opened = http.post(url, json=initialize(LEGACY), headers={"accept": BOTH})
        assert opened.status_code == 200, opened.text
        base = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": LEGACY}
        done = http.post(
            url,
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            headers={**base, "accept": BOTH},
        )
        assert done.status_code == 202, done.text
        body = json.dumps(call(4, "add", {"a": 1, "b": 2})).encode()
        _answered_alike_and_as_classified(app, url, http, body, base)


def test_a_post_over_the_body_limit_is_refused_by_its_length_before_its_body_either_way() -> None:
    app = _app()
    app.security.max_body = 64
    message = modern(5, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    body = json.dumps(message).encode()
    assert len(body) > 64
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        for _ in range(2):  # Accept worked out, then kept: 413 both times
            refused = http.post(
                url, content=body, headers={**modern_headers(message), "content-type": "application/json"}
            )
            assert refused.status_code == 413 and b"Payload Too Large" in refused.content, refused.text
