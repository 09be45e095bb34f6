"""Requests route by the generated method tables' handler names (no event loop)."""

from __future__ import annotations

import pytest

from mcpbind.protocol import revisions
from mcpbind.server.handlers import ROUTES, Handlers, routes

_SERVED = {
    "ping",
    "server/discover",
    "logging/setLevel",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "subscriptions/listen",
    # 2025-11-25's core tasks (the 2026-07-28 extension's are no generated table's: see below)
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
}


@pytest.mark.parametrize("name", revisions.ALL)
def test_every_served_request_routes_to_the_handler_its_table_names(name: str) -> None:
    rev = revisions.revision(name)
    table = routes(rev)
    incoming = {m for m, spec in rev.requests.items() if "client_to_server" in spec.directions}
    assert set(table) == incoming & _SERVED
    for method, route in table.items():
        assert route is getattr(Handlers, rev.requests[method].handler)
    assert "initialize" not in table  # negotiated by the connection, never routed
    assert not set(ROUTES) & {"initialize", "_list", "server"}


def test_a_route_is_found_by_the_handler_name_alone() -> None:
    assert ROUTES["call_tool"] is Handlers.call_tool
    assert ROUTES["get_task"] is Handlers.get_task


def test_the_tasks_extension_routes_to_the_same_handlers_in_the_envelope_era_only() -> None:
    from mcpbind.protocol import tasks

    for method, spec in tasks.EXTENSION_REQUESTS.items():
        assert ROUTES[spec.handler] is getattr(Handlers, spec.handler)
        assert tasks.extension_method(revisions.revision("2026-07-28"), method) is spec
        assert tasks.extension_method(revisions.revision("2025-11-25"), method) is None
    # SEP-2663 removed these two: no route, so not found
    assert tasks.extension_method(revisions.revision("2026-07-28"), "tasks/result") is None
    assert tasks.extension_method(revisions.revision("2026-07-28"), "tasks/list") is None
