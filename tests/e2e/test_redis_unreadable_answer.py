"""An answer the server cannot read, posted to another worker (`--redis`, two server processes): the
client's answer to the server's elicitation goes to worker two while worker one awaits it, spoilt: cut
off or nested too deeply (no JSON: worker two refuses the body, 400 and -32700, and forwards it over
the bus as an unreadable answer), or not UTF-8 (an envelope that reads: accepted, 202, and forwarded as
any answer). Either way worker one's request fails at once with the cause (the tool's call ends in an
error), not at its timeout, and the session goes on on both workers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from ..http_support import call, open_session
from ..redis_support import RedisServer
from .test_redis_scaleout import events, workers

WAIT = 20.0
AT_ONCE = 10.0
"""Far below the elicitation's own timeout (60 s by default): the failure came from the forwarded body."""


def _cut_off(answer: bytes) -> bytes:
    return answer[:-6]  # its id readable, the rest cut off


def _not_utf8(answer: bytes) -> bytes:
    return answer.replace(b"Ada", b"A\xffa")


def _too_deep(answer: bytes) -> bytes:
    return answer.replace(b'"Ada"', b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("spoil", [_cut_off, _not_utf8, _too_deep])
def test_an_unreadable_answer_posted_to_another_worker_fails_the_request_it_answers(
    redis_server: RedisServer, spoil: Any
) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25", {"elicitation": {}})
            outcome: dict[str, Any] | None = None
            posted_at = 0.0
            async with http.stream("POST", one, json=call(2, "ask"), headers=session.headers()) as response:
                async for _, message in events(response):
                    if message.get("method") == "elicitation/create":
                        answer = {
                            "jsonrpc": "2.0",
                            "id": message["id"],
                            "result": {"action": "accept", "content": {"name": "Ada"}},
                        }
                        spoilt = spoil(json.dumps(answer).encode())
                        headers = {**session.headers(), "content-type": "application/json"}
                        posted = await http.post(two, content=spoilt, headers=headers)
                        assert posted.status_code in (202, 400), posted.text
                        if posted.status_code == 400:
                            assert posted.json()["error"]["code"] == -32700
                        posted_at = time.monotonic()
                    elif message.get("id") == 2:
                        outcome = message
                        break
            assert outcome is not None and posted_at, outcome
            assert time.monotonic() - posted_at < AT_ONCE
            failure = json.dumps(outcome)
            assert "error" in outcome or outcome["result"].get("isError") is True, outcome
            assert "could not be read" in failure or "Parse error" in failure, outcome
            # The session goes on, on either worker.
            for url in (one, two):
                ping = await http.post(url, json=call(3, "pid"), headers=session.headers())
                assert ping.status_code == 200, ping.text

    with workers(redis_server.url) as (one, two):
        asyncio.run(asyncio.wait_for(main(one, two), 90))
