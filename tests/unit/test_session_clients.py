"""Who a session counts against (`client_of`), and each client's sessions (`ClientSessions`): which one
gives way at the client's cap."""

from __future__ import annotations

from dataclasses import dataclass

from mcpbind.transports.http.clients import UNKNOWN, ClientSessions, client_of, uncapped


def test_a_principal_is_the_client_wherever_it_comes_from() -> None:
    assert client_of("digest", ("10.0.0.1", 5)) == client_of("digest", ("10.0.0.2", 6)) == "digest"


def test_an_anonymous_client_is_its_address_an_ipv6_one_by_its_64() -> None:
    assert client_of("", ("10.0.0.1", 5)) == client_of("", ["10.0.0.1", 6]) == "10.0.0.1"
    assert client_of("", ("10.0.0.1", 5)) != client_of("", ("10.0.0.2", 5))
    same = {client_of("", (f"2001:db8:1:2::{n:x}", 1)) for n in (1, 2, 0xFFFF)}
    assert same == {"2001:db8:1:2::/64"}
    assert client_of("", ("2001:db8:1:3::1", 1)) == "2001:db8:1:3::/64"
    assert client_of("", ("::ffff:192.0.2.7", 1)) == "192.0.2.7"  # IPv4-mapped: the IPv4 it is
    assert client_of("", ("fe80::1%eth0", 1)) == "fe80::/64"


def test_loopback_is_uncapped_by_default_and_the_list_is_the_operators() -> None:
    local = ("127.0.0.0/8", "::1/128")
    for host in ("127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"):
        assert uncapped((host, 1), local), host
    for host in ("10.0.0.1", "::2", "2001:db8::1", "::ffff:10.0.0.1", "localhost", ""):
        assert not uncapped((host, 1), local), host
    assert not uncapped(None, local) and not uncapped(("127.0.0.1", 1), ())
    assert uncapped(("10.1.2.3", 1), ("10.0.0.0/8",))


def test_no_address_is_one_client_and_a_name_is_taken_as_it_is() -> None:
    assert client_of("", None) == client_of("", ()) == client_of("", ("", 0)) == UNKNOWN
    assert client_of("", ("testclient", 50000)) == "testclient"


@dataclass
class _Held:
    id: str
    client: str
    last_seen: float
    busy: bool = False

    def in_use(self) -> bool:
        return self.busy


def test_the_longest_idle_session_not_in_use_gives_way() -> None:
    held: ClientSessions[_Held] = ClientSessions()
    a, b, c = _Held("a", "x", 3.0), _Held("b", "x", 1.0), _Held("c", "x", 2.0)
    other = _Held("d", "y", 0.0)
    for session in (a, b, c, other):
        held.add(session)
    assert held.count("x") == 3 and held.count("y") == 1 and len(held) == 2
    assert held.longest_idle("x") is b
    b.busy = True
    assert held.longest_idle("x") is c
    a.busy = c.busy = True
    assert held.longest_idle("x") is None and held.longest_idle("nobody") is None
    held.remove(b)
    held.remove(_Held("a", "x", 0.0))  # another session of the same id is not the one held: kept
    assert held.count("x") == 2
    held.remove(a)
    held.remove(c)
    assert held.count("x") == 0 and "x" not in held.held and len(held) == 1
