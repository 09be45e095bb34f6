"""The floor, Streamable HTTP: a bare ASGI app on the same uvicorn (uvloop+httptools when installed).

It serves both benchmarks. For the server benchmark (``bench/servers.py``) it is the no-framework
reference ("% of ASGI"): what answering over HTTP costs with nothing but uvicorn and the codec. For
the client benchmark (``bench/clients.py``) it is the near-free peer: the server does next to nothing,
so what is left is the client.

POST: one JSON-RPC message in, its answer (``answer`` from ``floor_stdio.py``: one decode, one encode,
no validation) out as ``application/json`` with a ``Content-Length``; a notification gets 202. An
``initialize`` answer carries an ``Mcp-Session-Id`` (the session is not checked afterwards). GET gets 405,
so no client keeps a server-to-client stream open; DELETE gets 204. No routing, header checks or sessions
beyond that.

    python bench/apps/floor_asgi.py --http PORT
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _uvicorn import OPTIONS
from floor_stdio import answer, decode

JSON = [(b"content-type", b"application/json")]
SESSION = [(b"content-type", b"application/json"), (b"mcp-session-id", b"floor-session")]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    method = scope["method"]
    if method != "POST":
        await send(
            {"type": "http.response.start", "status": 204 if method == "DELETE" else 405, "headers": []}
        )
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    msg = decode(body)
    if msg.id is None or msg.method is None:
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    out = answer(msg)
    # A Content-Length, as mcpbind's answers carry: without one uvicorn frames the body in chunks, which
    # is more work for both ends than the servers it is the floor of do.
    length = (b"content-length", str(len(out)).encode())
    headers = [*SESSION, length] if msg.method == "initialize" else [*JSON, length]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.http, **OPTIONS)
