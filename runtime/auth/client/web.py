"""The OAuth client's HTTP to authorization servers (httpx): bounded in time and size, JSON objects only.

Every call has a timeout for its whole answer (a slow authorization server fails the flow, it does not
hang it), bodies are read up to a limit, and redirects are followed only within the origin they start
at: metadata that redirects to another origin is refused, since the origin is what the client checked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .errors import OAuthError

__all__ = ["AuthHttp", "Reply", "origin"]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1 << 20
_MAX_REDIRECTS = 3


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: dict[str, Any] | None
    """The JSON object of the body; None when there is none (or it is not a JSON object)."""
    location: str | None = None


class AuthHttp:
    """An httpx client with the OAuth client's limits: `timeout` (s) per call, `max_bytes` per body."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = client
        self._own = client is None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        if self._own and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Reply:
        try:
            # httpx's timeout bounds each read, not the whole answer: one trickled a byte at a time
            # would hold the flow for ever.
            async with asyncio.timeout(self.timeout):
                async with self.client.stream(
                    method, url, data=data, json=json_body, headers=headers, timeout=self.timeout
                ) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise OAuthError(f"{url}: the answer is larger than {self.max_bytes} bytes")
        except (httpx.TimeoutException, TimeoutError):
            raise OAuthError(f"{url}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise OAuthError(f"{url}: {type(exc).__name__}: {exc}") from None
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None
        location = response.headers.get("location")
        return Reply(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            parsed if isinstance(parsed, dict) else None,
            urljoin(url, location) if location else None,
        )

    async def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Reply:
        """GET a JSON document, following same-origin redirects (a redirect elsewhere is refused)."""
        start = origin(url)
        for _ in range(_MAX_REDIRECTS + 1):
            reply = await self._send("GET", url, headers={"accept": "application/json", **(headers or {})})
            if reply.status not in (301, 302, 303, 307, 308) or reply.location is None:
                return reply
            if origin(reply.location) != start:
                raise OAuthError(f"{url} redirects to another origin ({reply.location}): refused")
            url = reply.location
        raise OAuthError(f"{url}: too many redirects")

    async def post_form(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        return await self._send("POST", url, data=form, headers={"accept": "application/json", **headers})

    async def post_json(self, url: str, body: Mapping[str, Any]) -> Reply:
        return await self._send("POST", url, json_body=body, headers={"accept": "application/json"})

    async def redirect_target(self, url: str) -> str | None:
        """GET `url` and return where it redirects to (an authorization endpoint answering at once)."""
        reply = await self._send("GET", url, headers={})
        return reply.location
