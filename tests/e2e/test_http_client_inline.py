"""The HTTP client's request path, which POSTs in the caller's task (`write_request`): a JSON answer
all there with its head is delivered before the POST returns; anything longer is read on by a task.

Against tests/servers/hostile_http.py (a raw HTTP/1.1 server, real process on 127.0.0.1): a server
that never answers still lets the request time out on time (the caller is inside the POST, not on
its answer's future); a body that comes after its head is still read; a result that is not ASCII
takes the peer's full reading; and each is followed by a call that works, on the same client.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import RequestTimeout
from mcpbind.transports.http.client import StreamableHttpTransport

from ..schema_check import Recorder
from .test_hostile_client import REVISION, hostile_http, run


def test_a_request_the_server_never_answers_times_out_on_time() -> None:
    async def main() -> None:
        async with hostile_http("silent") as url:
            async with Client.http(url, mode=REVISION, request_timeout=20) as client:
                for timeout in (0.5, 1.0):
                    started = time.monotonic()
                    with pytest.raises(RequestTimeout):
                        await client.request("ping", timeout=timeout)
                    # Far under the transport's read timeout (300 s); generous for a loaded machine.
                    assert time.monotonic() - started < timeout + 5
                assert await client.list_tools() == []

    run(main(), 60)


def test_a_json_body_that_comes_after_its_head_is_read_on_and_delivered() -> None:
    async def main() -> None:
        async with hostile_http("slow-body") as url:
            async with Client.http(url, mode=REVISION) as client:
                for _ in range(3):
                    assert await client.request("ping", result_type=dict[str, Any]) == {}
                assert await client.list_tools() == []

    run(main())


def test_a_result_that_is_not_ascii_is_read_by_the_full_path() -> None:
    async def main() -> None:
        async with hostile_http("non-ascii") as url:
            async with Client.http(url, mode=REVISION) as client:
                result = await client.request("ping", result_type=dict[str, Any])
                assert result == {"_meta": {"x": "é✓"}}

    run(main())


def test_a_wrapping_transport_sees_every_request_and_answer() -> None:
    """A wrapper that hands on what it lacks (`__getattr__`) is not passed by: requests go through its
    `write`, answers through its `read` (the transport's own short paths are its class's)."""

    async def main() -> None:
        async with hostile_http("") as url:
            recorder = Recorder(StreamableHttpTransport(url))
            async with Client(recorder, mode=REVISION) as client:
                assert await client.request("ping", result_type=dict[str, Any]) == {}
                assert await client.list_tools() == []
            methods = [b'"initialize"', b'"ping"', b'"tools/list"']
            assert all(any(m in frame for frame in recorder.sent) for m in methods)
            assert len(recorder.received) >= 3  # the answers of all three

    run(main())
