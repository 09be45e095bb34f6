"""The HTTP floor: a bare ASGI app on the same uvicorn (uvloop+httptools when installed).

Reads the request body, takes the JSON-RPC ``id`` out of it with msgspec, and answers a fixed
``tools/call`` result as ``application/json``. No routing, header checks or sessions.

    python bench/apps/floor_asgi.py --http PORT
"""

from __future__ import annotations

import argparse

import msgspec
import uvicorn


class Frame(msgspec.Struct):
    id: int | str | None = None


decode = msgspec.json.Decoder(Frame).decode
encode = msgspec.json.Encoder().encode
HEADERS = [(b"content-type", b"application/json")]
RESULT = {"content": [{"type": "text", "text": "hello"}], "isError": False}


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    rid = decode(body).id if body else None
    payload = encode({"jsonrpc": "2.0", "id": rid, "result": RESULT})
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": payload})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.http, log_level="warning")
