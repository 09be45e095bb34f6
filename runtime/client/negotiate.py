"""Choosing a connection's era and revision: the `server/discover` probe, `initialize`, the fallbacks.

`Client.mode` chooses how: "auto" probes with `server/discover` (stateless servers answer it) and falls
back to `initialize` when the server answers with an error no stateless server sends, or not within
`probe_timeout`, as older servers do; a revision string pins that revision; "legacy" only ever
initializes. When every attempt fails, the transport may offer another one to start again with (HTTP:
the 2024-11-05 HTTP+SSE transport, for an endpoint that refuses our POSTs).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from msgspec import UNSET

from .. import wire
from ..errors import McpError, clipped, quoted
from ..protocol import revisions
from ..protocol.endpoint import ResultDecoder
from ..protocol.jsonrpc import INTERNAL_ERROR
from .transport import ClientTransport

__all__ = ["Negotiation"]


def _unauthorized(exc: McpError) -> bool:
    """The probe could not be authorized (the HTTP transport's AUTHORIZATION_FAILED data): an older
    server would refuse `initialize` the same way, so there is nothing to fall back to."""
    return isinstance(exc.data, dict) and exc.data.get("authorization") == "failed"


def _stateless_only(code: int) -> bool:
    """An error only a server of the stateless era sends: a probe it answers does not fall back to
    `initialize`. (Read from `revisions` when a probe fails, so that importing the client does not
    import the generated module that defines these codes.)"""
    return code in (
        revisions.HEADER_MISMATCH,
        revisions.MISSING_REQUIRED_CLIENT_CAPABILITY,
        revisions.UNSUPPORTED_PROTOCOL_VERSION,
    )


def _offered(exc: McpError) -> list[Any]:
    """The versions an unsupported-version error names (`data.supported`)."""
    return list((exc.data or {}).get("supported", [])) if isinstance(exc.data, dict) else []


def _restated(exc: McpError, message: str) -> McpError:
    """`exc` (its class, code and data) with a message that says what it means for negotiating."""
    return type(exc)(message, code=exc.code, data=exc.data)


def _listed(versions: list[Any]) -> str:
    return ", ".join(map(str, versions)) or "none it names"


class Negotiation:
    """The negotiating half of `Client`: which era and revision it speaks, and what the server said of
    itself (set once connected)."""

    transport: ClientTransport
    mode: str
    info: dict[str, str]
    log_level: str | None
    logs_wanted: str | None
    """The level a stateless request asks logs from when `log_level` is None: "debug" for a client
    with an `on_log` callback (as a session sends it everything until it sets a level), else None."""
    request_timeout: float | None
    probe_timeout: float
    revision: str
    """The negotiated revision ("" before)."""
    module: ModuleType | None
    """The negotiated revision's generated module."""
    server_info: dict[str, Any]
    server_capabilities: dict[str, Any]
    instructions: str | None
    supported_versions: list[str]

    @property
    def stateless(self) -> bool:
        """The negotiated revision is of the stateless era (no session; `_meta` on every request)."""
        return revisions.is_modern(self.revision)

    # -- what negotiating needs of the client ------------------------------------------------------

    @abstractmethod
    def capabilities(self) -> dict[str, Any]: ...

    @abstractmethod
    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any: ...

    @abstractmethod
    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None: ...

    @abstractmethod
    async def _request(
        self, method: str, params: Any, decode: ResultDecoder, timeout: float | None, *, cancel: bool = True
    ) -> Any: ...

    @abstractmethod
    def _replace_transport(self, transport: ClientTransport) -> None:
        """Go on over `transport` (the fallback), with a new peer reading it."""

    # -- negotiating -------------------------------------------------------------------------------

    def _use(self, revision: str) -> None:
        """Adopt `revision` and tell the transport, whose headers depend on it (HTTP)."""
        self.revision, self.module = revision, revisions.module(revision) if revision else None
        self.transport.use_revision(revision or None)

    async def _negotiate(self) -> None:
        try:
            await self._choose_era()
        except McpError as exc:
            # The transport may have another way to reach a server of the stateful era (HTTP: the
            # 2024-11-05 HTTP+SSE transport, for an endpoint that refuses our POSTs).
            if self.mode not in ("auto", "legacy", *revisions.STATEFUL):
                raise
            replacement = await self.transport.fallback(exc)
            if replacement is None:
                raise
            self._replace_transport(replacement)
            await self._initialize(self.mode if self.mode in revisions.STATEFUL else revisions.STATEFUL[-1])

    async def _choose_era(self) -> None:
        if self.mode == "legacy" or (self.mode != "auto" and not revisions.is_modern(self.mode)):
            await self._initialize(self.mode if self.mode != "legacy" else revisions.STATEFUL[-1])
            return
        target = self.mode if self.mode != "auto" else revisions.MODERN[-1]
        try:
            await self._discover(target)
        except McpError as exc:
            if self.mode == "auto" and not _stateless_only(exc.code) and not _unauthorized(exc):
                await self._initialize(revisions.STATEFUL[-1])
                return
            offered = _offered(exc)
            unsupported = exc.code == revisions.UNSUPPORTED_PROTOCOL_VERSION
            if unsupported and self.mode != "auto" and self.mode in offered:
                await self._discover(self.mode)  # the server does speak it after all: ask once more
                return
            if unsupported and self.mode == "auto":
                modern = [v for v in revisions.MODERN if v in offered]
                if modern:
                    await self._discover(modern[-1])
                    return
                try:
                    await self._initialize(revisions.STATEFUL[-1])
                except McpError as refused:
                    if any(v in revisions.STATEFUL for v in offered):
                        raise
                    # No revision in common: say so, naming both sides' (the server's refusal of
                    # `initialize` may name none).
                    raise _restated(
                        exc,
                        f"no protocol version in common: the server speaks {_listed(offered)}, this "
                        f"client {', '.join(revisions.ALL)} (initialize: {refused.message})",
                    ) from refused
                return
            if not _stateless_only(exc.code) and not _unauthorized(exc):
                # Pinned to a stateless revision, refused as only a server of the initialize era
                # refuses it (2026-07-28 "Compatibility Matrix": the client surfaces an actionable
                # error): say so, with what the server said.
                raise _restated(
                    exc,
                    f"the server refused server/discover for protocol version {self.mode!r}, which this "
                    f"client is pinned to ({exc.message}): it looks like a server of the initialize era "
                    f"({', '.join(revisions.STATEFUL)}); connect with mode 'auto' or one of those",
                ) from exc
            if unsupported:
                # Pinned to a revision the server does not speak: say which, and which it does.
                raise _restated(
                    exc,
                    f"the server does not speak protocol version {self.mode!r}, which this client is "
                    f"pinned to (the server speaks {_listed(offered)})",
                ) from exc
            raise
        except TimeoutError as exc:
            if self.mode != "auto":
                raise TimeoutError(
                    f"server/discover got no answer within {self.probe_timeout:g} s (this client is "
                    f"pinned to {self.mode!r}; a server of the initialize era may never answer it)"
                ) from exc
            try:
                await self._initialize(revisions.STATEFUL[-1])
            except McpError as exc:
                # A slow server may have answered the probe after all, and taken the connection for
                # the stateless era: it refuses `initialize`, naming its versions. Ask once more, at
                # the newest one both speak (it answers at once now).
                modern = [v for v in revisions.MODERN if v in _offered(exc)]
                if exc.code != revisions.UNSUPPORTED_PROTOCOL_VERSION or not modern:
                    raise
                await self._discover(modern[-1])

    async def _discover(self, revision: str) -> None:
        self._use(revision)
        try:
            result = await asyncio.wait_for(self.request("server/discover", {}), self.probe_timeout)
        except (TimeoutError, McpError):
            self._use("")
            raise
        self.supported_versions = list(result.supported_versions)
        self.server_capabilities = wire.to_builtins(result.capabilities)
        self.instructions = None if result.instructions is UNSET else result.instructions
        meta = result.meta if result.meta is not UNSET else {}
        self.server_info = wire.to_builtins(meta.get(revisions.META_SERVER, {})) or {}

    async def _initialize(self, revision: str) -> None:
        mod = revisions.module(revision)
        params = wire.convert(
            {"protocolVersion": revision, "capabilities": self.capabilities(), "clientInfo": self.info},
            mod.InitializeRequestParams,
        )
        # Decode the answer with the newest stateful module: the server may pick an older revision.
        newest = revisions.module(revisions.STATEFUL[-1])
        # (Not cancellable: the spec says an initialize request must not be cancelled.)
        decode = wire.decoder(newest.InitializeResult).decode
        result = await self._request("initialize", params, decode, self.request_timeout, cancel=False)
        chosen = result.protocol_version
        if chosen not in revisions.STATEFUL:
            # (The server's value quoted and clipped: a megabyte of it is not carried in the error.)
            raise McpError(
                f"the server chose protocol version {quoted(chosen)}, which this client does not speak "
                f"(it speaks {', '.join(revisions.STATEFUL)} by initialize)",
                code=INTERNAL_ERROR,
                data={"requested": revision, "chosen": clipped(chosen)},
            )
        if self.mode not in ("auto", "legacy") and chosen != self.mode:
            raise McpError(
                f"the server chose protocol version {chosen!r}, not {self.mode!r}, which this client "
                "is pinned to (the server does not speak it)",
                code=INTERNAL_ERROR,
                data={"requested": revision, "chosen": chosen},
            )
        self._use(chosen)
        final = wire.convert(wire.to_builtins(result), revisions.module(chosen).InitializeResult)
        self.server_info = wire.to_builtins(final.server_info)
        self.server_capabilities = wire.to_builtins(final.capabilities)
        self.instructions = None if final.instructions is UNSET else final.instructions
        self.supported_versions = [chosen]
        await self.notify("notifications/initialized", {})
        self.transport.session_started()
        if self.log_level is not None and "logging" in self.server_capabilities:
            await self.request("logging/setLevel", {"level": self.log_level})
