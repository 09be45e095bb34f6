"""Typed revisions read what the generated modules say: flags, tables, error codes (no event loop)."""

from __future__ import annotations

import pytest

from mcpbind.protocol import revisions

from ..conftest import REVISIONS, module


@pytest.mark.parametrize("name", REVISIONS)
def test_a_revision_is_its_generated_module_typed(name: str) -> None:
    mod = module(name)
    rev = revisions.revision(name)
    assert rev.name == mod.PROTOCOL_VERSION and rev.module is mod
    assert rev.stateless is mod.STATELESS
    assert rev.batches is hasattr(mod, "JSONRPCBatchRequest")
    assert rev.url_elicitation is hasattr(mod, "ElicitRequestURLParams")
    # Priming events came with 2025-11-25's transport prose, and stay in every later revision.
    assert rev.primes_streams is (name not in ("2024-11-05", "2025-03-26", "2025-06-18"))
    assert rev.notifications is mod.NOTIFICATIONS
    # The requests are the module's, the envelope era's listen request with the tasks extension's
    # `taskIds` member added to its filter (a subclass of the core's).
    if rev.stateless:
        assert rev.requests.keys() == mod.REQUESTS.keys()
        changed = [m for m in mod.REQUESTS if rev.requests[m] is not mod.REQUESTS[m]]
        assert changed == ["subscriptions/listen"]
        listen = rev.requests["subscriptions/listen"].params_type
        assert issubclass(listen, mod.SubscriptionsListenRequestParams)
    else:
        assert rev.requests is mod.REQUESTS
    assert rev.errors is mod.ERROR_CODES
    assert rev.type("Implementation") is mod.Implementation
    assert revisions.module(name) is mod and revisions.revision(name) is rev


def test_the_stateless_error_codes_are_the_generated_modules() -> None:
    newest = module(revisions.MODERN[-1])
    assert revisions.HEADER_MISMATCH == newest.HEADER_MISMATCH == -32020
    assert revisions.MISSING_REQUIRED_CLIENT_CAPABILITY == newest.MISSING_REQUIRED_CLIENT_CAPABILITY == -32021
    assert revisions.UNSUPPORTED_PROTOCOL_VERSION == newest.UNSUPPORTED_PROTOCOL_VERSION == -32022
    with pytest.raises(AttributeError):
        revisions.NO_SUCH_CODE  # noqa: B018


def test_unknown_revisions_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown MCP revision"):
        revisions.revision("1999-01-01")
