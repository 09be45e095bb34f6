"""The id of an error answer to a message whose own id could not be read. JSON-RPC 2.0 says `null`,
and the schemas up to 2025-06-18 require the member; from 2025-11-25 it is optional and no schema
admits null (nor does the TypeScript SDK's client): `"id": null` on a session of 2025-06-18 or
earlier, left out on a later one and where no revision is known yet. Over stdio (a real subprocess)
and HTTP (real uvicorn), single messages and a 2025-03-26 batch."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import BOTH, call, initialize, open_session, serve, serve_in_process
from .test_hostile_core import FULL, raw_server
from .test_stdio import _raw_session

EARLY = ["2024-11-05", "2025-03-26", "2025-06-18"]
LATE = ["2025-11-25"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def has_null_id(revision: str) -> bool:
    return revision in EARLY


@pytest.mark.parametrize("revision", EARLY + LATE)
def test_stdio_refusals_naming_no_request(revision: str) -> None:
    async def main() -> None:
        async with raw_server(revision=revision) as client:
            for line, code in [
                (b"{not json", -32700),
                (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600),
            ]:
                client.write(line)
                answer = await client.expect(lambda m: isinstance(m, dict) and m.get("id") is None)
                assert answer["error"]["code"] == code, answer
                if has_null_id(revision):
                    assert "id" in answer and answer["id"] is None, answer
                else:
                    assert "id" not in answer, answer
            if revision == "2025-03-26":
                client.write(
                    b'[{"jsonrpc":"2.0","id":true,"method":"ping"},{"jsonrpc":"2.0","id":7,"method":"ping"}]'
                )
                answers = await client.expect(lambda m: isinstance(m, list))
                assert {"jsonrpc": "2.0", "id": 7, "result": {}} in answers, answers
                refused = [a for a in answers if a.get("id") is None]
                assert len(refused) == 1 and "id" in refused[0] and refused[0]["error"]["code"] == -32600
            await client.still_serving("after")

    run(main())


@pytest.mark.parametrize("revision", ["2025-06-18", "2025-11-25"])
def test_stdio_an_oversized_lines_refusal(revision: str) -> None:
    """The transport's own refusal (a line over the limit, skipped) in the session's form too."""

    async def main() -> None:
        async with raw_server("--max-line", "1000", revision=revision, server=FULL) as client:
            client.write(b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"p":"' + b"x" * 5000 + b'"}}')
            answer = await client.expect(lambda m: isinstance(m, dict) and m.get("id") is None)
            assert answer["error"]["code"] == -32600 and "exceeds the limit" in answer["error"]["message"]
            assert ("id" in answer) is has_null_id(revision), answer
            await client.still_serving("after")

    run(main())


def test_stdio_before_initialize_leaves_the_id_out() -> None:
    """No revision is in force before `initialize`: the member is left out (what 2025-11-25 on, and
    the TypeScript SDK's client, accept)."""

    (answer,) = run(_raw_session([b"{not json\n"], read=1))
    assert answer["error"]["code"] == -32700 and "id" not in answer, answer


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-06-18", "2025-11-25"])
def test_http_refusals_naming_no_request(revision: str) -> None:
    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, revision)
            for body, code in [
                (b"{not json", -32700),
                (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600),
            ]:
                refused = await http.post(
                    url, content=body, headers={**session.headers(), "content-type": "application/json"}
                )
                assert refused.status_code == 400, refused.text
                answer = refused.json()
                assert answer["error"]["code"] == code, answer
                if has_null_id(revision):
                    assert "id" in answer and answer["id"] is None, answer
                else:
                    assert "id" not in answer, answer
            # No session, no version header: no revision is known.
            refused = await http.post(
                url, content=b"{not json", headers={"accept": BOTH, "content-type": "application/json"}
            )
            assert refused.status_code == 400 and "id" not in refused.json(), refused.text
            ping = await http.post(
                url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=session.headers()
            )
            assert ping.status_code == 200, ping.text

    with serve() as url:
        run(main(url))


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-06-18", "2025-11-25"])
def test_http_refusals_of_a_sessions_requests(revision: str) -> None:
    """404 (a session not found, for POST, GET and DELETE), 409 (a second GET stream) and 400 (a
    Last-Event-ID naming no event): the id is the request's where its body named one, else the form
    of the revision in force (the session's, or the one the request's header names): `"id": null` up
    to 2025-06-18, left out after."""

    def unnamed(answer: dict[str, Any]) -> None:
        if has_null_id(revision):
            assert "id" in answer and answer["id"] is None, answer
        else:
            assert "id" not in answer, answer

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, revision)
            gone = {**session.headers(), "mcp-session-id": "no-such-session"}
            ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
            refused = await http.post(url, json=ping, headers=gone)
            assert refused.status_code == 404 and refused.json()["id"] == 7, refused.text
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            refused = await http.post(url, json=note, headers=gone)
            assert refused.status_code == 404, refused.text
            unnamed(refused.json())
            for method in ("GET", "DELETE"):
                refused = await http.request(method, url, headers=gone)
                assert refused.status_code == 404, (method, refused.text)
                unnamed(refused.json())
            async with http.stream("GET", url, headers=session.headers()) as listening:
                assert listening.status_code == 200
                refused = await http.get(url, headers=session.headers())
                assert refused.status_code == 409, refused.text
                unnamed(refused.json())
            # (400: a Last-Event-ID that names no event of this server)
            refused = await http.get(url, headers=session.headers(**{"last-event-id": "no-such-event"}))
            assert refused.status_code == 400, refused.text
            unnamed(refused.json())

    with serve() as url:
        run(main(url))


HELD: list[float] = []
"""A `held` call runs (the server runs in a thread of this process)."""


def _busy_server() -> Server:
    """test_hostile_http's server (`drip` streams its progress), with a call that says it runs."""
    from .test_hostile_http import _server

    server = _server()

    @server.tool()
    async def held(seconds: float, ctx: Context) -> str:  # (a Context: the general lane, counted)
        HELD.append(seconds)
        await asyncio.sleep(seconds)
        return "held"

    return server


async def _first_event_id(response: httpx.Response) -> str:
    """The id of an SSE response's first event that carries data."""
    event_id = None
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:") and line[5:].strip() and event_id is not None:
            return event_id
    raise AssertionError("no event with an id and data")


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-06-18", "2025-11-25"])
def test_http_a_busy_sessions_refusals(revision: str) -> None:
    """503 for a session's GET, resumption (`Last-Event-ID`) and batch while its requests fill its
    bound (`max_streams_per_session`): no request is named, so the id takes the form of the session's
    revision; an `initialize` refused for too many sessions names its own id."""

    def unnamed(refused: httpx.Response) -> None:
        assert refused.status_code == 503 and refused.headers.get("retry-after"), refused.text
        answer = refused.json()
        assert answer["error"]["code"] == -32000, answer
        if has_null_id(revision):
            assert "id" in answer and answer["id"] is None, answer
        else:
            assert "id" not in answer, answer

    security = HttpSecurity(max_streams_per_session=2, max_sessions=1)
    app = HttpApp(_busy_server(), security=security, keepalive=0.05)

    async def holding(count: int) -> None:
        for _ in range(400):  # until `count` calls hold their places (bounded)
            if len(HELD) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the calls never started")

    async def main(url: str) -> None:
        HELD.clear()
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, revision)
            listen = session.headers(accept="text/event-stream")
            drip = call(2, "drip", {"seconds": 30}, _meta={"progressToken": "d"})
            async with http.stream("POST", url, json=drip, headers=session.headers()) as response:
                event_id = await _first_event_id(response)  # then left: the stream is kept
            held: list[asyncio.Future[httpx.Response]] = []

            async def hold(rid: int) -> None:
                """A `held` call that runs (one refused, busy, is sent again: the place of a POST
                its client left is counted until the server sees it go)."""
                for _ in range(400):  # (bounded)
                    started = len(HELD)
                    post = asyncio.ensure_future(
                        http.post(url, json=call(rid, "held", {"seconds": 30}), headers=session.headers())
                    )
                    while not post.done() and len(HELD) == started:
                        await asyncio.sleep(0.02)
                    if len(HELD) > started:
                        held.append(post)
                        return
                    await asyncio.sleep(0.05)
                raise AssertionError("the call was never admitted")

            # Its places taken by the GET stream and a held call: the drip's stream cannot be resumed.
            async with http.stream("GET", url, headers=listen) as listening:
                assert listening.status_code == 200
                await hold(3)
                unnamed(await http.get(url, headers={**listen, "last-event-id": event_id}))
            # Taken by two held calls: the GET stream is refused, and a batch.
            await hold(4)
            for _ in range(200):  # until the GET stream's end is seen (bounded)
                async with http.stream("GET", url, headers=listen) as refused:
                    if refused.status_code == 503:
                        await refused.aread()
                        break
                await asyncio.sleep(0.05)
            unnamed(refused)
            if revision == "2025-03-26":
                batch = [call(5, "nap", {"seconds": 0})]
                unnamed(await http.post(url, json=batch, headers=session.headers()))
            refused = await http.post(url, json=initialize(revision, 9), headers={"accept": BOTH})
            assert refused.status_code == 503 and refused.json()["id"] == 9, refused.text
            for call_ in held:
                call_.cancel()

    with serve_in_process(app) as url:
        run(main(url))
