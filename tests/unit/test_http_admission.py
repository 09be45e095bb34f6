"""The HTTP transport's first steps on every request, pure: reading the headers once, and the Host/Origin
checks (`refuse`) with the verdicts it keeps per Host value."""

from __future__ import annotations

from typing import Any

import pytest

from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.http.asgi import request_headers
from mcpbind.transports.http.security import refuse


def _headers(*pairs: tuple[bytes, bytes]) -> dict[bytes, str]:
    scope: dict[str, Any] = {"headers": list(pairs)}
    return request_headers(scope)


def test_header_values_are_read_as_latin_1_without_surrounding_whitespace() -> None:
    headers = _headers(
        (b"host", b" 127.0.0.1:8000\t"),
        (b"x-plain", b"application/json"),
        (b"x-obs-text", b"caf\xe9 \xff"),  # obs-text: Latin-1, never UTF-8
        (b"x-utf8-bytes", "é".encode()),  # read byte by byte too (RFC 9110: no charset)
    )
    assert headers == {
        b"host": "127.0.0.1:8000",
        b"x-plain": "application/json",
        b"x-obs-text": "café ÿ",
        b"x-utf8-bytes": "Ã©",
    }


def test_values_seen_before_read_the_same_and_many_distinct_values_each_read_right() -> None:
    # Values are decoded once per distinct value (a bounded table): a value seen again, a value among
    # thousands of others (the table is emptied and refilled on the way), and long values all read
    # exactly as the first time.
    for _ in range(2):
        assert _headers((b"host", b" localhost:8000 "), (b"x-obs-text", b"\xe9t\xe9")) == {
            b"host": "localhost:8000",
            b"x-obs-text": "été",
        }
    for n in range(5000):
        assert _headers((b"content-length", b"%d" % n)) == {b"content-length": str(n)}
    long = b"Bearer " + b"x" * 5000 + b"\t"
    for _ in range(2):
        assert _headers((b"authorization", long)) == {b"authorization": long.decode().strip()}


def test_headers_are_read_once_per_request() -> None:
    scope: dict[str, Any] = {"headers": [(b"host", b"localhost")]}
    first = request_headers(scope)
    scope["headers"].append((b"origin", b"http://evil.example"))
    assert request_headers(scope) is first


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8000", True),
        ("localhost", True),
        ("LOCALHOST:1", True),  # host names ignore case
        ("[::1]:8000", True),
        ("[::1]", True),
        ("evil.example", False),
        ("evil.example:8000", False),
        ("", False),
    ],
)
def test_host_verdicts_are_the_same_the_first_time_and_after(host: str, allowed: bool) -> None:
    security = HttpSecurity()
    headers = {b"host": host.encode()}
    for _ in range(3):  # worked out, then taken from what was seen
        refusal = refuse(security, headers)
        assert (refusal is None) is allowed
        if refusal is not None:
            assert refusal.status == 403 and b"is not allowed" in refusal.body


def test_changing_the_allowed_hosts_takes_effect_at_once() -> None:
    security = HttpSecurity()
    localhost = {b"host": b"localhost:8000"}
    other = {b"host": b"mcp.example:443"}
    assert refuse(security, localhost) is None and refuse(security, other) is not None
    security.allowed_hosts = ("mcp.example",)
    assert refuse(security, localhost) is not None and refuse(security, other) is None
    security.allowed_hosts = ("*",)
    assert refuse(security, localhost) is None and refuse(security, other) is None


def test_the_verdicts_kept_are_bounded_and_a_client_making_up_hosts_is_still_refused() -> None:
    security = HttpSecurity()
    for port in range(2000):
        assert refuse(security, {b"host": b"evil.example:%d" % port}) is not None
        assert refuse(security, {b"host": b"localhost:%d" % port}) is None
    assert len(security.hosts_seen) <= 256


def test_an_origin_is_checked_after_the_host() -> None:
    security = HttpSecurity()
    good = {b"host": b"localhost:8000", b"origin": b"http://localhost:3000"}
    bad = {b"host": b"localhost:8000", b"origin": b"https://evil.example"}
    assert refuse(security, good) is None
    refusal = refuse(security, bad)
    assert refusal is not None and refusal.status == 403 and b"origin" in refusal.body


@pytest.mark.parametrize("max_body", [0, 1, 9, 10, 64, 99, 100, 4 * 1024 * 1024])
def test_a_content_length_with_fewer_digits_than_short_length_is_within_max_body(max_body: int) -> None:
    # The app's usual-POST test takes a Content-Length of fewer digits than `short_length` as within
    # `max_body` with no int(): the largest such length must be, set at construction or later.
    made = HttpSecurity(max_body=max_body)
    later = HttpSecurity()
    later.max_body = max_body
    for security in (made, later):
        assert security.short_length == len(str(max_body))
        assert int("9" * (security.short_length - 1) or "0") <= max_body
        assert int("1" + "0" * security.short_length) > max_body  # (and it is no looser than it must be)
    assert HttpSecurity(max_body=-1).short_length == 0  # (no length is within a negative bound)


def _verify(token: str) -> str:
    return token


def test_anonymous_follows_auth_and_verify_token_however_they_are_set() -> None:
    # Each request's way reads `anonymous` where it would test both hooks: it must say what they say,
    # set at construction, later, by `dataclasses.replace`, or cleared again.
    import dataclasses

    assert HttpSecurity().anonymous
    made = HttpSecurity(verify_token=_verify)
    assert not made.anonymous and made.authenticates
    made.verify_token = None
    assert made.anonymous and not made.authenticates
    later = HttpSecurity()
    later.verify_token = _verify
    assert not later.anonymous
    assert dataclasses.replace(later, verify_token=None).anonymous
    assert not dataclasses.replace(HttpSecurity(), verify_token=_verify).anonymous
    assert "anonymous" not in repr(later)


def test_changing_the_allowed_hosts_forgets_the_verdicts_kept_from_the_first_request_on() -> None:
    # (`allowed_hosts` is set by `__init__` before `hosts_seen` exists: the test of it reads no `__dict__`.)
    security = HttpSecurity()
    assert refuse(security, {b"host": b"localhost:8000"}) is None and security.hosts_seen
    security.allowed_hosts = ("mcp.example",)
    assert security.hosts_seen == {}
