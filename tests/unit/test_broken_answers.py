"""An answer that is no valid response (neither `result` nor `error`, a wrong `jsonrpc`, an `error`
that is no error object, text cut short) fails the request it names at once, on either side: the base
`Endpoint` salvages its id, so a server's own request (sampling, say) fails as the client's does,
rather than waiting out its timeout while the server answered the broken message with -32600."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest

from mcpbind.aio.peer import Peer
from mcpbind.client.endpoint import ClientEndpoint
from mcpbind.errors import McpError
from mcpbind.protocol import jsonrpc
from mcpbind.protocol.endpoint import Endpoint, Failed, IncomingNotification, IncomingRequest, Reply

BROKEN = [
    (b'{"jsonrpc":"2.0","id":1}', jsonrpc.INVALID_REQUEST, "neither"),
    (b'{"jsonrpc":"1.0","id":1,"result":{}}', jsonrpc.INVALID_REQUEST, "jsonrpc"),
    (b'{"jsonrpc":"2.0","id":1,"error":"boom"}', jsonrpc.PARSE_ERROR, "invalid `error`"),
    (b'{"jsonrpc":"2.0","id":1,"result":{}', jsonrpc.PARSE_ERROR, "Parse error"),
    (b'{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}', -32600, "both"),
]


@pytest.mark.parametrize("endpoint_type", [Endpoint, ClientEndpoint])
@pytest.mark.parametrize(("line", "code", "why"), BROKEN)
def test_a_broken_answer_fails_its_pending_request_on_either_side(
    endpoint_type: type[Endpoint], line: bytes, code: int, why: str
) -> None:
    endpoint = endpoint_type()
    rid, _ = endpoint.request("sampling/createMessage", None, lambda raw: raw)
    (event,) = endpoint.receive(line)
    assert isinstance(event, Failed) and event.id == rid
    assert isinstance(event.error, McpError) and event.error.code == code
    assert why in event.error.message
    assert not endpoint.awaits(rid)
    # The same through `events`, as a peer that parsed the line itself gives it.
    rid, _ = endpoint.request("sampling/createMessage", None, lambda raw: raw)
    message = jsonrpc.parse_single(line.replace(b'"id":1', b'"id":%d' % rid))
    assert message is not None
    (event,) = endpoint.events(message, line.replace(b'"id":1', b'"id":%d' % rid))
    assert isinstance(event, Failed) and event.id == rid and event.error.code == code


def test_a_message_without_method_naming_no_pending_request_is_still_refused() -> None:
    """Nothing of ours waits for id 7: the message may be a request without its method, answered -32600."""
    endpoint = Endpoint()
    (event,) = endpoint.receive(b'{"jsonrpc":"2.0","id":7}')
    assert isinstance(event, Reply) and b'"id":7' in event.data and b"-32600" in event.data


class Lines:
    """A message transport reading lines handed to it; keeps what the peer writes."""

    def __init__(self) -> None:
        self.lines: deque[bytes | None] = deque()
        self.more = asyncio.Event()
        self.out: list[bytes] = []

    def give(self, line: bytes | None) -> None:
        self.lines.append(line)
        self.more.set()

    async def read(self) -> bytes | None:
        while not self.lines:
            self.more.clear()
            await self.more.wait()
        return self.lines.popleft()

    async def write(self, data: bytes) -> None:
        self.out.append(data)

    async def close(self) -> None:
        return None


async def _nothing(message: IncomingRequest | IncomingNotification) -> None:
    return None


def test_the_servers_own_request_fails_at_once_on_an_answer_with_neither_result_nor_error() -> None:
    """Through `Peer.run` (the server's read loop, which parses each line itself): the request fails
    with -32600 well before its 60 s timeout, nothing is sent back for the broken answer, and the next
    request of ours is answered as usual."""

    async def main() -> None:
        transport = Lines()
        peer = Peer(transport, on_request=_nothing, on_notification=_nothing)  # type: ignore[arg-type]
        reader = asyncio.create_task(peer.run())
        asking = asyncio.create_task(peer.request("sampling/createMessage", {}, lambda raw: raw, timeout=60))
        while not transport.out:
            await asyncio.sleep(0)
        transport.give(b'{"jsonrpc":"2.0","id":1}')
        with pytest.raises(McpError, match=r"invalid.*neither") as failed:
            await asyncio.wait_for(asking, 30)
        assert failed.value.code == jsonrpc.INVALID_REQUEST
        assert len(transport.out) == 1  # our request only: no -32600 went back
        asking = asyncio.create_task(peer.request("ping", None, lambda raw: raw, timeout=60))
        while len(transport.out) < 2:
            await asyncio.sleep(0)
        transport.give(b'{"jsonrpc":"2.0","id":2,"result":{}}')
        assert bytes(await asyncio.wait_for(asking, 30)) == b"{}"
        transport.give(None)
        await asyncio.wait_for(reader, 30)

    asyncio.run(main())
