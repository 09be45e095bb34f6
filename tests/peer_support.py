"""Test support for the asyncio peer: an in-memory message transport."""

from __future__ import annotations


class RecordingTransport:
    """A message transport that reads nothing and keeps what the peer sends (in `out`)."""

    def __init__(self) -> None:
        self.out: list[bytes] = []

    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        self.out.append(data)

    async def close(self) -> None:
        return None
