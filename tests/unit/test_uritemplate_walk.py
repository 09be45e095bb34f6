"""Templates whose regex could backtrack (variables side by side, or split by a character their
values may hold) are matched by a walk linear in the URI's length: the same values as the regex, for
any URI, and no time that grows as a power of its length."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpbind.server.uritemplate import UriTemplate, _walk

TEMPLATES = [
    "f://{+a}/{+b}/end",
    "f://{a}-{b}-{c}",
    "f://{a}{b}",
    "f://{#a}{+b}",
    "f://{+a}{?q,r}",
    "f://x{/a}{.b}{+c}.z",
    "f://{a}.{b}{?q}",
    "users://{org}/{user}/profile",
    "f://{+path}",
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TEMPLATES), st.text(alphabet="ab-/.?#=&%2F\n", max_size=14))
def test_the_walk_finds_what_the_regex_finds(template: str, tail: str) -> None:
    tpl = UriTemplate(template)
    uri = "f://" + tail if not template.startswith("users") else "users://" + tail
    found = tpl._regex.match(uri)
    assert _walk(tpl._parts, bool(tpl._query), uri) == (None if found is None else found.groupdict())


def test_ambiguous_templates_are_the_ones_walked() -> None:
    assert not UriTemplate("users://{org}/{user}/profile")._ambiguous
    assert not UriTemplate("f://{+path}")._ambiguous
    assert not UriTemplate("f://{id}{?q}")._ambiguous
    assert UriTemplate("f://{+a}/{+b}/end")._ambiguous
    assert UriTemplate("f://{a}-{b}")._ambiguous
    assert UriTemplate("f://{+a}{?q}")._ambiguous


@pytest.mark.parametrize(
    ("template", "uri"),
    [("f://{+a}/{+b}/{+c}/end", "f://" + "a/" * 50_000), ("f://{a}-{b}-{c}", "f://" + "-" * 100_000 + "/")],
)
def test_a_long_uri_costs_linear_time(template: str, uri: str) -> None:
    """100 KB that no split matches: the regex's backtracking took hours (26 s for 4 KB)."""
    tpl = UriTemplate(template)
    started = time.process_time()
    assert tpl.match(uri) is None
    assert time.process_time() - started < 10  # (a loaded machine's CPU time: about 0.1 s)
