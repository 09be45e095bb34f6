"""The client's endpoint: the era probe fails at once when a server refuses it with a null id.

Sans-I/O like the endpoint it extends: bytes in, events out. (A message from the server that cannot be
read fails one request, not the session: the base `Endpoint` does that for both sides.)
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import McpError
from ..protocol import jsonrpc
from ..protocol.endpoint import Endpoint, Event, Failed

__all__ = ["ClientEndpoint"]


class ClientEndpoint(Endpoint):
    """The client's endpoint: as `Endpoint`, and an error with a null id while only the era probe is
    pending refuses the probe."""

    __slots__ = ()

    other: ClassVar[str] = "server"

    def _broken_answer(self, data: bytes | memoryview) -> list[Event]:
        if len(self._pending) == 1 and (refused := self._refused_probe(data)):
            return refused
        return super()._broken_answer(data)

    def _refused_probe(self, data: bytes | memoryview) -> list[Event]:
        """An error with a null id while only the era probe is pending refuses the probe: a server
        that takes no request before `initialize` answers so, and the probe must not wait it out."""
        ((rid, pending),) = self._pending.items()
        if pending.method != "server/discover":
            return []
        message = jsonrpc.parse(data)[0]
        if not isinstance(message, jsonrpc.ErrorResponse) or message.id is not None:
            return []
        self.forget(rid)
        return [Failed(rid, McpError.from_error(message.error), pending.waiter)]
