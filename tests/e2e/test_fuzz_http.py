"""Fuzzing the Streamable HTTP server (tests/servers/probe.py under uvicorn, one process for the module)
with hostile bodies: malformed JSON, invalid UTF-8, nesting to 100,000 levels, huge numbers, hostile
envelopes and batches, wrong-typed params for every method of every revision; stateless (2026-07-28)
and within sessions (2025-03-26, the revision with batches, and 2025-11-25).

The property, for every body: an HTTP answer below 500 whose JSON (or SSE events) are JSON-RPC errors
or valid answers, -32700 with 400 where the body is not JSON; the process alive; and the next valid
request answered. (Oversized bodies: test_http.py's test_oversized_bodies_get_413.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpbind.protocol import revisions

from ..conftest import module
from ..hostile import (
    check_response,
    fuzz,
    hostile_params,
    messages,
    nested,
    parse_error_expected,
    requests_of,
)
from ..http_support import BOTH, META_VERSION, MODERN, Session, initialize, messages_of, modern, serve
from ..stdio_support import PROBE

SESSIONS = ["2025-03-26", "2025-11-25"]


class Target:
    """Where bodies go: the stateless endpoint, or one session of a stateful revision."""

    def __init__(self, http: httpx.Client, url: str, revision: str) -> None:
        self.http = http
        self.url = url
        self.revision = revision
        self.session: Session | None = None
        if not revisions.is_modern(revision):
            response = http.post(url, json=initialize(revision), headers={"accept": BOTH})
            assert response.status_code == 200, response.text
            self.session = Session(url, response.headers["mcp-session-id"], revision)
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert http.post(url, json=note, headers=self.session.headers()).status_code == 202

    def headers(self, method: str | None = None, name: str | None = None) -> dict[str, str]:
        base = {"content-type": "application/json"}
        if self.session is not None:
            return {**self.session.headers(), **base}
        headers = {**base, "accept": BOTH, "mcp-protocol-version": self.revision}
        headers["mcp-method"] = method or "tools/call"
        if name is not None:
            headers["mcp-name"] = name
        return headers

    def post(self, body: bytes, **headers: str) -> httpx.Response:
        response = self.http.post(self.url, content=body, headers={**self.headers(), **headers})
        assert response.status_code < 500, (response.status_code, body[:200], response.text[:500])
        for message in messages_of(response):
            if "method" not in message:
                check_response(message)
        return response

    def still_serving(self) -> None:
        params = {"name": "echo", "arguments": {"text": "still here"}}
        message = (
            modern("ok", "tools/call", params, self.revision)
            if self.session is None
            else {"jsonrpc": "2.0", "id": "ok", "method": "tools/call", "params": params}
        )
        response = self.http.post(self.url, json=message, headers=self.headers("tools/call", "echo"))
        assert response.status_code == 200, response.text
        (answer,) = [m for m in messages_of(response) if m.get("id") == "ok"]
        assert answer["result"]["content"][0]["text"] == "still here", answer


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """tests/servers/probe.py under uvicorn, for the whole module."""
    with serve(PROBE) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as client:
        yield client


@pytest.fixture(scope="module")
def targets(server: str, http: httpx.Client) -> dict[str, Target]:
    return {revision: Target(http, server, revision) for revision in [*SESSIONS, MODERN]}


def methods(revision: str) -> list[str]:
    mod = module(revision)
    return sorted({*mod.REQUESTS, *mod.NOTIFICATIONS})


def post_hostile(target: Target, body: bytes) -> None:
    response = target.post(body)
    if parse_error_expected(body):
        assert response.status_code == 400, (body[:200], response.status_code, response.text[:300])
        (error,) = messages_of(response)
        assert error["error"]["code"] == -32700, error  # with no id, or the id it could still read
    target.still_serving()


@pytest.mark.parametrize("revision", [*SESSIONS, MODERN])
def test_hostile_bodies(targets: dict[str, Target], revision: str) -> None:
    target = targets[revision]

    @fuzz(100)
    @given(messages(methods(revision)))
    def check(body: bytes) -> None:
        post_hostile(target, body)

    check()


def test_unclosed_nesting(targets: dict[str, Target]) -> None:
    @fuzz(30)
    @given(nested(), st.sampled_from([*SESSIONS, MODERN]))
    def check(body: bytes, revision: str) -> None:
        post_hostile(targets[revision], body)

    check()


@pytest.mark.parametrize("depth", [1000, 10_000, 100_000])
@pytest.mark.parametrize("where", ["params", "id", "arguments", "top", "batch"])
def test_deep_nesting(targets: dict[str, Target], where: str, depth: int) -> None:
    """Nesting far past any stack, in each place of a request: a 4xx with a JSON-RPC error (never a
    500), stateless and in a session with batches; serving goes on."""
    deep = "[" * depth + "]" * depth
    for revision in ("2025-03-26", MODERN):
        target = targets[revision]
        meta = f',"_meta":{{"{META_VERSION}":"{MODERN}"}}' if revision == MODERN else ""
        body = {
            "params": '{"jsonrpc":"2.0","id":"d","method":"tools/call","params":{"name":'
            + deep
            + meta
            + "}}",
            "id": '{"jsonrpc":"2.0","id":' + deep + ',"method":"tools/list","params":{"x":1' + meta + "}}",
            "arguments": '{"jsonrpc":"2.0","id":"d","method":"tools/call","params":{"name":"echo",'
            '"arguments":{"text":' + deep + "}" + meta + "}}",
            "top": deep,
            "batch": "[" + deep + "]",
        }[where]
        response = target.post(body.encode(), **target.headers("tools/call", "echo"))
        errors = [m for m in messages_of(response) if "error" in m]
        assert errors and errors[0]["error"]["code"] in (-32700, -32600, -32602), (where, response.text[:300])
        target.still_serving()


@pytest.mark.parametrize("revision", list(revisions.ALL))
def test_wrong_typed_params_of_every_method(server: str, http: httpx.Client, revision: str) -> None:
    """Every request and notification of every revision, its params a valid instance with one member
    made hostile: a request gets one answer (a result or an error), a notification 202 or an error,
    never a 500, and the server goes on."""
    target = Target(http, server, revision)

    @fuzz(50)
    @given(hostile_params(revision))
    def check(case: tuple[str, bytes]) -> None:
        name, params = case
        is_request = name in requests_of(revision)
        head = b'{"jsonrpc":"2.0",' + (b'"id":"w",' if is_request else b"")
        body = head + b'"method":' + json.dumps(name).encode() + b',"params":' + params + b"}"
        try:
            tool = json.loads(params).get("name")
        except (ValueError, AttributeError, RecursionError):
            tool = None
        response = target.post(
            body,
            **target.headers(
                name, tool if isinstance(tool, str) and tool.isascii() and tool.isprintable() else None
            ),
        )
        answers = messages_of(response)
        if is_request:
            assert len([m for m in answers if "method" not in m]) == 1, (response.status_code, answers)
        else:
            assert response.status_code == 202 or answers, response
        target.still_serving()

    check()


@pytest.mark.parametrize("rid", ["[]", '{"a":1}', "true", "[1]"])
@pytest.mark.parametrize("problem", ["header", "version"])
def test_an_invalid_id_is_never_echoed(targets: dict[str, Target], rid: str, problem: str) -> None:
    """A stateless request refused before it is read whole (its headers disagree with the body, its
    version is unknown) is answered without an id that JSON-RPC does not allow: an id is a string or
    a number, and one that is neither cannot be echoed."""
    target = targets[MODERN]
    version = "1999-01-01" if problem == "version" else MODERN
    body = (
        '{"jsonrpc":"2.0","id":'
        + rid
        + ',"method":"tools/list","params":{"_meta":{"'
        + META_VERSION
        + '":"'
        + version
        + '"}}}'
    )
    method = "tools/call" if problem == "header" else "tools/list"
    headers = {**target.headers(method), "mcp-protocol-version": version}
    response = target.post(body.encode(), **headers)
    assert response.status_code == 400, response.text
    (answer,) = messages_of(response)
    check_response(answer)  # fails on an id that is no string or number
    target.still_serving()
