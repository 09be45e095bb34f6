"""Resource templates against hostile URIs, over stdio in a real subprocess (tests/servers/probe.py,
whose `memo://items/{item}` template echoes the value its handler gets), in both eras: every read gets
one answer and the server goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mcpbind.protocol import revisions

from ..stdio_support import StdioServer


@pytest.fixture(scope="module", params=["2025-11-25", "2026-07-28"])
def server(request: pytest.FixtureRequest) -> Iterator[StdioServer]:
    started = StdioServer(request.param)
    yield started
    started.stop()


def read(server: StdioServer, uri: str) -> dict[str, object]:
    return server.request(server.message("resources/read", {"uri": uri}))


@pytest.mark.parametrize(
    "uri",
    [
        "memo://items/..%2F..%2Fetc%2Fpasswd",
        "memo://items/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "memo://items/%2E%2E",
        "memo://items/..",
        "memo://items/a%2Fb",
        "memo://items/..%5C..%5Cboot.ini",
        "memo://items/a%00b",
    ],
)
def test_a_template_value_that_would_leave_its_segment_is_not_found(server: StdioServer, uri: str) -> None:
    """`{item}` is one path segment: percent-decoded, `..%2F..%2Fetc%2Fpasswd` reached the handler as
    `../../etc/passwd` (a path traversal for any handler that makes a path of it, CWE-22), `%00` as a
    NUL. Now such a URI matches no template there: resource not found, as the era says."""
    answer = read(server, uri)
    code = -32602 if revisions.is_modern(server.revision) else -32002
    assert answer.get("error", {}).get("code") == code, answer  # type: ignore[union-attr]
    server.ping()


@pytest.mark.parametrize(
    ("uri", "item"),
    [
        ("memo://items/a%20b", "a b"),
        ("memo://items/v1..v2", "v1..v2"),
        ("memo://items/.env", ".env"),
        ("memo://items/%C3%A9", "\u00e9"),
        ("memo://items/" + "x" * 100_000, "x" * 100_000),
    ],
)
def test_template_values_that_stay_in_their_segment_are_read(
    server: StdioServer, uri: str, item: str
) -> None:
    answer = read(server, uri)
    (content,) = answer["result"]["contents"]  # type: ignore[index]
    assert json.loads(content["text"]) == {"item": item}, answer
