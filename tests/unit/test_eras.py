"""The eras' decisions, in process: no sockets, no event loop."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from msgspec import UNSET

from mcpbind.errors import RESOURCE_NOT_FOUND
from mcpbind.protocol import eras, revisions
from mcpbind.protocol.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS


class _Stamp:
    info: ClassVar[dict[str, Any]] = {"name": "s", "version": "1"}
    list_ttl_ms = 7

    def server_meta(self, result_type: Any) -> Any:
        return {revisions.META_SERVER: self.info}


@pytest.mark.parametrize("name", revisions.ALL)
def test_each_revision_belongs_to_the_era_of_its_flag(name: str) -> None:
    rev = revisions.revision(name)
    era = eras.of(rev)
    assert era is (eras.ENVELOPE if name in revisions.MODERN else eras.SESSION)
    assert era.stateless is rev.stateless
    assert eras.of(revisions.revision(name)) is era  # singletons: nothing is made per request


def test_capabilities_come_from_the_session_or_the_request() -> None:
    session = {"sampling": {}}
    meta = {revisions.META_CAPABILITIES: {"roots": {}}}
    assert eras.SESSION.client_capabilities(session, meta) is session
    assert eras.ENVELOPE.client_capabilities(session, meta) == {"roots": {}}
    assert eras.ENVELOPE.client_capabilities(session, None) == {}


def test_log_level_comes_from_the_session_or_the_request() -> None:
    assert eras.SESSION.log_level(None, {}) == "debug"  # no setLevel: everything
    assert eras.SESSION.log_level("error", {revisions.META_LOG_LEVEL: "debug"}) == "error"
    assert eras.ENVELOPE.log_level("error", {}) is None  # no level in the request: nothing
    assert eras.ENVELOPE.log_level(None, {revisions.META_LOG_LEVEL: "info"}) == "info"


def test_errors_that_differ_between_the_eras() -> None:
    missing = eras.SESSION.missing_capability("no", {"sampling": {}})
    assert missing.code == INTERNAL_ERROR and missing.data is UNSET
    missing = eras.ENVELOPE.missing_capability("no", {"sampling": {}})
    assert missing.code == revisions.MISSING_REQUIRED_CLIENT_CAPABILITY == -32021
    assert missing.data == {"requiredCapabilities": {"sampling": {}}}
    assert eras.SESSION.resource_not_found("a://b").code == RESOURCE_NOT_FOUND
    gone = eras.ENVELOPE.resource_not_found("a://b")
    assert (gone.code, gone.data) == (INVALID_PARAMS, {"uri": "a://b"})


def test_only_the_envelope_era_shapes_results() -> None:
    assert not eras.SESSION.stamps_results and eras.SESSION.asks_inline
    assert eras.ENVELOPE.stamps_results and not eras.ENVELOPE.asks_inline
    shaped = eras.ENVELOPE.shape("tools/list", {"tools": []}, object, _Stamp())
    assert shaped == {
        "tools": [],
        "_meta": {revisions.META_SERVER: _Stamp.info},
        "resultType": "complete",
        "ttlMs": 7,
        "cacheScope": "public",
    }
    called = eras.ENVELOPE.shape("tools/call", {"content": [], "_meta": {"k": 1}}, object, _Stamp())
    assert called == {
        "content": [],
        "_meta": {"k": 1, revisions.META_SERVER: _Stamp.info},
        "resultType": "complete",
    }
    asked = eras.ENVELOPE.input_required({"k": {"method": "roots/list"}}, "sealed")
    assert asked == {
        "resultType": "input_required",
        "inputRequests": {"k": {"method": "roots/list"}},
        "requestState": "sealed",
    }
    read: dict[str, Any] = {"contents": []}
    eras.SESSION.cache_resource(read, 5, "private")
    assert read == {"contents": []}
    eras.ENVELOPE.cache_resource(read, 5, "private")
    assert read == {"contents": [], "ttlMs": 5, "cacheScope": "private"}
