"""The typed `ClientStub` of the revision a client speaks, and the `_meta` every stateless request carries.

    async with Client.stdio("python", ["server.py"], mode="2026-07-28") as client:
        stub = client.stub_for("2026-07-28")  # typed: mcpbind.generated.v2026_07_28.ClientStub
        tools = await stub.list_tools(mcp.PaginatedRequestParams(meta=client.request_meta()))

On a stateless revision every request's `_meta` must carry the protocol version and the client's
capabilities, and the generated types require them. `request_meta()` builds that `_meta` from the
client; whatever a request's `_meta` leaves out (client info, log level, or everything when the
params were built from JSON without it) is filled from the client as the stub sends it, and what the
caller gave is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import msgspec

from .. import wire
from ..protocol import revisions
from .inbound import InputCallbacks
from .negotiate import Negotiation

if TYPE_CHECKING:
    from ..generated import v2024_11_05, v2025_03_26, v2025_06_18, v2025_11_25, v2026_07_28

__all__ = ["TypedStubs"]


class TypedStubs(Negotiation):
    """The stub half of `Client`: the negotiated revision's typed stub, and the `_meta` it fills."""

    _input: InputCallbacks

    @overload
    def stub_for(self, revision: Literal["2024-11-05"]) -> v2024_11_05.ClientStub: ...
    @overload
    def stub_for(self, revision: Literal["2025-03-26"]) -> v2025_03_26.ClientStub: ...
    @overload
    def stub_for(self, revision: Literal["2025-06-18"]) -> v2025_06_18.ClientStub: ...
    @overload
    def stub_for(self, revision: Literal["2025-11-25"]) -> v2025_11_25.ClientStub: ...
    @overload
    def stub_for(self, revision: Literal["2026-07-28"]) -> v2026_07_28.ClientStub: ...

    def stub_for(self, revision: str) -> Any:
        """`revision`'s generated `ClientStub`, sending through this client, typed for that revision;
        ValueError unless the client speaks `revision` (pin it with `mode=revision`)."""
        if self.module is None or revision != self.revision:
            raise ValueError(f"this client speaks {self.revision or 'no revision yet'}, not {revision}")
        return self.module.ClientStub(self)

    def request_meta(self, **extra: Any) -> v2026_07_28.RequestMetaObject:
        """The `_meta` a stateless request carries (version, capabilities, client info, log level),
        with `extra` members; for the params of `stub_for(...)` calls. ValueError on a stateful
        revision, whose requests carry none of these."""
        if not self.stateless or self.module is None:
            raise ValueError(
                f"request_meta: {self.revision or 'no revision yet'} is not a stateless revision"
            )
        meta: v2026_07_28.RequestMetaObject = wire.convert(
            {**self._meta(), **extra}, self.module.RequestMetaObject
        )
        return meta

    def _meta(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A request's `_meta`: `extra`, and on a stateless revision what every request must carry."""
        meta: dict[str, Any] = dict(extra or {})
        if self.stateless:
            meta[revisions.META_VERSION] = self.revision
            meta[revisions.META_CAPABILITIES] = self._input.capabilities(tasks=False)
            meta[revisions.META_CLIENT] = self.info
            level = self.log_level if self.log_level is not None else self.logs_wanted
            if level is not None:
                meta[revisions.META_LOG_LEVEL] = level
        return meta

    def _filled(self, params: Any) -> Any:
        """Typed `params` whose `_meta` holds what a stateless request needs: the caller's members
        first; the rest from the client. Unchanged when nothing is missing."""
        given = getattr(params, "meta", None)
        if not isinstance(given, dict):
            return params
        missing = {k: v for k, v in self._meta().items() if k not in given}
        if not missing:
            return params
        meta = wire.convert({**missing, **wire.to_builtins(given)}, type(given))
        return msgspec.structs.replace(params, meta=meta)
