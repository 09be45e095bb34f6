"""Asking the authorization server over HTTP (JWKS, introspection): bounded in time and size, and every
failure one `VerifierUnavailable` that says what went wrong (never with a token in it)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from .verify import VerifierUnavailable

__all__ = ["fetch_json", "MAX_DOCUMENT"]

MAX_DOCUMENT = 256 * 1024
"""Bytes of a JWKS or an introspection answer read at most: more is refused as garbage."""


async def fetch_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: float,
    max_bytes: int = MAX_DOCUMENT,
    what: str,
    **request: Any,
) -> dict[str, Any]:
    """The JSON object `url` answers with 200, read within `timeout` seconds and `max_bytes` bytes."""
    try:
        # httpx's timeout bounds each read, not the whole answer: a server trickling a byte at a
        # time would hold the caller (and the JWKS lock every request waits on) for ever.
        async with asyncio.timeout(timeout):
            async with client.stream(method, url, timeout=timeout, **request) as response:
                if response.status_code != 200:
                    why = f"{what}: the authorization server answered {response.status_code}"
                    raise VerifierUnavailable(why)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise VerifierUnavailable(f"{what}: the answer is over {max_bytes} bytes")
    except (httpx.TimeoutException, TimeoutError):
        raise VerifierUnavailable(f"{what}: the authorization server did not answer in {timeout} s") from None
    except httpx.HTTPError as exc:
        raise VerifierUnavailable(f"{what}: {type(exc).__name__}") from None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise VerifierUnavailable(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise VerifierUnavailable(f"{what}: the answer is not a JSON object")
    return data
