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
    assert "get_task" not in ROUTES  # the 2025-11-25 task methods: not served, so not found
