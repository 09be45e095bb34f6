"""The client's peer: the answers to its own requests, nearly every message a client reads, by a short path.

`Peer.feed` reads any message into events (`Endpoint.receive`: the envelope classified, a list, an
event per message, then a dispatch on the event's kind), which a client pays for every answer. Here a
message that reads as a well-formed result (ASCII text, so UTF-8; `jsonrpc` "2.0", an integer id,
as the client's ids are; a `result` and neither `method` nor `error`) goes from its envelope straight
to the request's future (`Peer.answered`). Anything else (requests and notifications from the server,
error answers, text that is no JSON, non-ASCII text, whose UTF-8 must be checked) takes `Peer.feed`,
which reads it again from the start: the decisions and error answers stay those of the one parser.
A transport that reads on its own offers each message to `ClientPeer.take` first (`TakesAnswers`),
with no coroutine for an answer.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from ..aio.peer import Peer

__all__ = ["ClientPeer"]


class _Answer(msgspec.Struct):
    """The envelope of what the server sends, with its result unread (the other members' values are
    only looked at, to send anything but a plain result the full way)."""

    jsonrpc: Any = UNSET
    id: Any = UNSET
    method: Any = UNSET
    result: msgspec.Raw | UnsetType = UNSET
    error: Any = UNSET


_read = msgspec.json.Decoder(_Answer).decode


class ClientPeer(Peer):
    """A `Peer` whose `feed` resolves a plain answer to one of its requests by the short path."""

    def take(self, data: bytes) -> bool:
        """Resolve `data` by the short path if it is a plain answer (True); False: it is anything
        else, left for `feed` (a transport that reads on its own offers it here first, with no
        coroutine: `TakesAnswers`)."""
        if type(data) is bytes and data.isascii():
            try:
                env = _read(data)
            except (msgspec.DecodeError, RecursionError):
                return False  # no JSON object: the full path answers it
            result = env.result
            if (
                type(env.id) is int
                and result is not UNSET
                and env.method is UNSET
                and env.error is UNSET
                and env.jsonrpc == "2.0"
            ):
                self.answered(env.id, result)
                return True
        return False

    async def feed(self, data: bytes) -> None:
        if not self.take(data):
            await super().feed(data)
