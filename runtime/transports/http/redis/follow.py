"""`Followers`: a resumption (`GET` with `Last-Event-ID`) of a stream that another worker made. Its events are
read from the shared event store, first those the client missed, then those that worker goes on sending,
woken by the bus's word that the session has new events; the response ends with the request's answer, or
when no worker holds the stream any more (it ended, or its worker died)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from ..asgi import SSE_HEADERS, Receive, Send, disconnected
from ..sessions import StoreUnavailable
from ..sse import KEEPALIVE, framed

if TYPE_CHECKING:
    from ..sessions import Session

__all__ = ["Followers", "final"]


class _Head(msgspec.Struct):
    method: str | None = None


_head = msgspec.json.Decoder(_Head).decode


def final(data: bytes) -> bool:
    """Whether `data` ends a request's stream: it is the request's answer (a response has no method;
    what the server sends before it, notifications and its own requests, has one)."""
    try:
        return _head(data).method is None
    except msgspec.DecodeError:
        return False


class Followers:
    """The resumptions this worker serves of streams other workers hold (`SessionTable.follow`)."""

    def __init__(self, held: Callable[[str, str], Awaitable[bool]], keepalive: float) -> None:
        self.held = held
        """Whether another worker holds the session's stream (asked over the bus)."""
        self.keepalive = keepalive
        self._woken: dict[str, set[asyncio.Event]] = {}

    def wake(self, session_id: str) -> None:
        """The session's streams have new events in the store."""
        for woken in self._woken.get(session_id, ()):
            woken.set()

    async def follow(self, session: Session, name: str, after: int, send: Send, receive: Receive) -> None:
        """Answer the GET resuming `name` after event `after`: its events as they reach the store."""
        woken = asyncio.Event()
        self._woken.setdefault(session.id, set()).add(woken)
        gone = asyncio.ensure_future(disconnected(receive))
        gone.add_done_callback(lambda _: woken.set())
        session.streams += 1
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS]})
            asked = False
            while True:
                woken.clear()  # before reading: word of events sent meanwhile wakes the next wait
                after, ended = await self._send_new(session, name, after, send)
                if ended or gone.done():
                    return
                if not asked:
                    asked = True
                    if not await self.held(session.id, name):
                        await self._send_new(session, name, after, send)  # what it sent before it let go
                        return
                try:
                    await asyncio.wait_for(woken.wait(), self.keepalive)
                except TimeoutError:
                    await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
                    asked = False  # its worker may have died meanwhile: ask again
        except (StoreUnavailable, OSError):
            return  # Redis or the client went away: the client resumes again from what it saw
        finally:
            session.streams -= 1
            waiting = self._woken.get(session.id)
            if waiting is not None:
                waiting.discard(woken)
                if not waiting:
                    del self._woken[session.id]
            gone.cancel()
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:
                pass  # the connection is gone: nothing more can be sent on it

    @staticmethod
    async def _send_new(session: Session, name: str, after: int, send: Send) -> tuple[int, bool]:
        """Send the events of `name` after `after` that are in the store; the last one sent, and
        whether it was the stream's last."""
        found = await session.store.after(f"{name}-{after}")
        chunks = []
        ended = False
        for seq, data in found[1] if found is not None else []:
            chunks.append(framed(name, seq, data))
            after = seq
            if final(data):
                ended = True
                break
        if chunks:
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
        return after, ended
