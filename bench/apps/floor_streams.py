"""The stdio floor's earlier loop, kept to measure what it cost: asyncio streams, one
``StreamReader.readline`` and one write and drain per request (``floor_stdio.py --streams``,
``stdio_inproc.py floor-streams``). It answers as ``floor_stdio.main`` does, line for line.

    python bench/apps/floor_stdio.py --streams [--uvloop]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor_lines import LIMIT
from floor_stdio import answer, decode


async def main_streams() -> None:
    """Serve stdin/stdout until the end of stdin: a ``readline``, and a write and drain per request."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    while line := await reader.readline():
        if not line.strip():
            continue
        msg = decode(line)
        if msg.id is None or msg.method is None:
            continue  # a notification (or a response): nothing to answer
        writer.write(answer(msg) + b"\n")
        await writer.drain()
