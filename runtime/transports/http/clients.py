"""Sessions per client: who a client is (`client_of`), and each client's sessions (`ClientSessions`), so that
one client cannot hold every place of the session table (`HttpSecurity.max_sessions_per_client`)."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from operator import attrgetter
from typing import Final, Generic, Protocol, TypeVar

__all__ = ["client_of", "uncapped", "ClientSessions", "Held"]

UNKNOWN: Final = "?"
"""The client of a request whose peer address the ASGI server does not give (a Unix socket, say): all
such requests are one client."""

_LAST_SEEN: Final = attrgetter("last_seen")


def client_of(principal: str, peer: Sequence[object] | None) -> str:
    """Who a session counts against: its principal's digest when the endpoint authenticates (whatever
    address it comes from), else its peer's address (`scope["client"]`). An IPv6 address counts by its
    /64 prefix, since a host may take any address in its own /64; an IPv4-mapped one as the IPv4 it is."""
    if principal:
        return principal
    host = peer[0] if peer else None
    if not isinstance(host, str) or not host:
        return UNKNOWN
    if ":" not in host:
        return host  # IPv4 as the ASGI server writes it (or a name): as it is, with no parsing
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP address (a name some ASGI servers give): taken as it is
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return f"{ipaddress.IPv6Network((address, 64), strict=False).network_address}/64"
    return host


def uncapped(peer: Sequence[object] | None, networks: tuple[str, ...]) -> bool:
    """Whether the anonymous client at `peer` (`scope["client"]`) has an address in `networks`
    (`HttpSecurity.uncapped_networks`). Read at an `initialize` only."""
    host = peer[0] if peer else None
    if not networks or not isinstance(host, str):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # not an IP address (a name some ASGI servers give): a client like any other
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(networks))


@functools.lru_cache(maxsize=8)
def _networks(networks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


class Held(Protocol):
    """What `ClientSessions` reads of a session."""

    @property
    def id(self) -> str: ...

    @property
    def client(self) -> str: ...

    @property
    def last_seen(self) -> float: ...

    def in_use(self) -> bool:
        """A request of it is being answered or runs, or a stream of it is open."""
        ...


S = TypeVar("S", bound=Held)


class ClientSessions(Generic[S]):
    """Each client's sessions by id, in the order they were added. Adding and removing one is O(1).
    Choosing the one to end (`longest_idle`) walks the client's sessions, at most its cap of them, and
    only when it is at its cap: keeping them ordered by use instead would cost every request."""

    def __init__(self) -> None:
        self.held: dict[str, dict[str, S]] = {}

    def __len__(self) -> int:
        """The clients holding sessions."""
        return len(self.held)

    def count(self, client: str) -> int:
        held = self.held.get(client)
        return 0 if held is None else len(held)

    def add(self, session: S) -> None:
        held = self.held.get(session.client)
        if held is None:
            held = self.held[session.client] = {}
        held[session.id] = session

    def remove(self, session: S) -> None:
        held = self.held.get(session.client)
        if held is not None and held.get(session.id) is session:
            del held[session.id]
            if not held:
                del self.held[session.client]

    def clear(self) -> None:
        self.held.clear()

    def longest_idle(self, client: str) -> S | None:
        """The client's session idle the longest with nothing in use (None: it has none)."""
        held = self.held.get(client)
        if not held:
            return None
        oldest = min(held.values(), key=_LAST_SEEN)  # (the usual case: it is not in use; one pass in C)
        if not oldest.in_use():
            return oldest
        free = [session for session in held.values() if not session.in_use()]
        return min(free, key=_LAST_SEEN) if free else None
