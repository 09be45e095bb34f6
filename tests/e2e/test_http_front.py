"""The HTTP front every request crosses (`HttpApp.__call__`), under uvicorn: the checks its fast path
must not skip. A Host allowed before lets a request by with no further call, but only when it carries no
Origin; setting `allowed_hosts` forgets what was allowed; a repeated MCP header is still refused first."""

from __future__ import annotations

import httpx

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp

from ..http_support import modern, modern_headers, serve_in_process


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
