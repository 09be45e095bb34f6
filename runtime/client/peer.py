"""The client's peer: the answers to its own requests, nearly every message a client reads, by a short path.

`Peer.feed` reads any message into events (`Endpoint.receive`: the envelope classified, a list, an
event per message, then a dispatch on the event's kind), which a client pays for every answer. Here a
message that reads as a well-formed result (ASCII text, so UTF-8; `jsonrpc` "2.0", an integer id,
as the client's ids are, a `result` and no other member) goes from its envelope straight
to the request's future (`Peer.answered`). Anything else (requests and notifications from the server,
error answers, text that is no JSON, non-ASCII text, whose UTF-8 must be checked) takes `Peer.feed`,
which reads it again from the start: the decisions and error answers stay those of the one parser.
A transport that reads on its own offers each message to `ClientPeer.take` first (`TakesAnswers`),
with no coroutine for an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from ..aio.peer import Peer
from .prepared import answer_reader

__all__ = ["ClientPeer"]


class _Answer(msgspec.Struct, forbid_unknown_fields=True):
    """A plain result, as its envelope must read for the short path: anything else (a `method`, an
    `error`, any other member, another `jsonrpc` or a non-integer id) fails to decode, and takes the
    full path. The result is left unread."""

    jsonrpc: Literal["2.0"]
    id: int
    result: msgspec.Raw


_read = msgspec.json.Decoder(_Answer).decode


class ClientPeer(Peer):
    """A `Peer` whose `feed` resolves a plain answer to one of its requests by the short path.

    Answers that come in a run to requests whose results one decoder reads (a client calling one
    tool again and again) are read in one pass, the answer and its result together (`answer_reader`):
    once two answers in a row were for the same decoder, the next is read that way, and used so if
    its id is that of a request of that decoder and its result passes the decoder's check; else (and
    from then on, until two in a row agree again) the answer is read in two passes as before, which
    makes every decision: the one pass only ever gives the value the two would have."""

    _last_decode: Any = None
    """The decoder of the last answer read in two passes."""
    _one_pass: tuple[Callable[[bytes], Any], Any, Callable[[Any], bool], Callable[[Any], Any], Any] | None = (
        None
    )
    """The reader of whole answers, the decoder it stands for, its check and the check's quick form
    (`answer_reader`)."""

    def take(self, data: bytes) -> bool:
        """Resolve `data` by the short path if it is a plain answer (True); False: it is anything
        else, left for `feed` (a transport that reads on its own offers it here first, with no
        coroutine: `TakesAnswers`)."""
        if type(data) is bytes and data.isascii():
            one_pass = self._one_pass
            if one_pass is not None:
                read_all, decode, holds, quick, usual = one_pass
                try:
                    whole = read_all(data)
                except (msgspec.DecodeError, RecursionError):
                    whole = None
                if whole is not None:
                    table, rid, result = self.endpoint.table, whole.id, whole.result
                    pending = table.get(rid)
                    if (
                        pending is not None
                        and pending.decode is decode
                        and (quick(result) == usual or holds(result))
                    ):
                        del table[rid]
                        future: asyncio.Future[Any] | None = pending.waiter
                        if future is not None and not future.done():
                            future.set_result(result)
                        return True
                self._one_pass = None  # (read as below, which decides)
            try:
                answer = _read(data)
            except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
                return False  # not a plain result: the full path reads it
            # (`answered`, inline: nearly every message a stdio client reads; its error path is its own)
            pending = self.endpoint.take_answer(answer.id, None)
            if pending is None:
                return True  # an answer to nothing we wait for (any more): dropped
            future = pending.waiter
            try:
                value = pending.decode(answer.result)
            except (msgspec.DecodeError, RecursionError) as exc:
                self.unreadable(pending, exc)
                return True
            if future is not None and not future.done():
                future.set_result(value)
            if pending.decode is self._last_decode:
                found = answer_reader(pending.decode)
                if found is not None:
                    self._one_pass = (found[0], pending.decode, *found[1:])
            else:
                self._last_decode = pending.decode
            return True
        return False

    _whole: tuple[Any, Any, Any, Any, Any] = (None, None, None, None, None)
    """The decoder `answered_whole` last read for, its reader of whole answers, its check and the
    check's quick form (`answer_reader`; Nones: it has none)."""

    def answered_whole(self, rid: Any, body: bytes) -> bool:
        """The whole body that came back for our request `rid` (its transport knows which request it
        answers: HTTP, a POST's), read with its result in one pass where the request's decoder has
        a reader of whole answers (`answer_reader`), and its request resolved: True. False: nothing
        was done (no such reader, `rid` not awaited, not ASCII, not a plain result to `rid`, or a
        result that fails the decoder's check): the transport reads the body as usual, which
        decides. So a True is only ever the value the two passes would have given."""
        pending = self.endpoint.table.get(rid)
        if pending is None:
            return False
        whole = self._whole
        if pending.decode is not whole[0]:
            found = answer_reader(pending.decode) or (None, None, None, None)
            whole = self._whole = (pending.decode, *found)
        read_all = whole[1]
        if read_all is None or not body.isascii():
            return False
        try:
            answer = read_all(body)
        except (msgspec.DecodeError, RecursionError):
            return False
        result = answer.result
        if answer.id != rid or (whole[3](result) != whole[4] and not whole[2](result)):
            return False
        del self.endpoint.table[rid]
        future: asyncio.Future[Any] | None = pending.waiter
        if future is not None and not future.done():
            future.set_result(result)
        return True

    async def feed(self, data: bytes) -> None:
        if not self.take(data):
            await super().feed(data)
