"""`UriTemplate.bind`: what a resource handler gets of a URI, decoded values that stay in their place."""

from __future__ import annotations

import pytest

from mcpbind.server.uritemplate import UriTemplate

ONE = UriTemplate("file:///docs/{name}")
SPAN = UriTemplate("file:///root/{+path}")
QUERY = UriTemplate("search://{kind}{?q,page}")


@pytest.mark.parametrize(
    ("template", "uri", "values"),
    [
        (ONE, "file:///docs/a%20b.txt", {"name": "a b.txt"}),
        (ONE, "file:///docs/.env", {"name": ".env"}),
        (ONE, "file:///docs/v1..v2", {"name": "v1..v2"}),
        (ONE, "file:///docs/%C3%A9t%C3%A9", {"name": "\u00e9t\u00e9"}),
        (SPAN, "file:///root/a/b/c.txt", {"path": "a/b/c.txt"}),
        (SPAN, "file:///root/a/.hidden/HEAD~3..HEAD", {"path": "a/.hidden/HEAD~3..HEAD"}),
        (QUERY, "search://web?q=a%2Fb&page=2", {"kind": "web", "q": "a/b", "page": "2"}),
    ],
)
def test_values_that_stay_in_their_place_are_bound(
    template: UriTemplate, uri: str, values: dict[str, str]
) -> None:
    assert template.bind(uri) == values == template.match(uri)


@pytest.mark.parametrize(
    ("template", "uri"),
    [
        (ONE, "file:///docs/..%2F..%2Fetc%2Fpasswd"),
        (ONE, "file:///docs/..%2f..%2fetc%2fpasswd"),
        (ONE, "file:///docs/%2E%2E"),
        (ONE, "file:///docs/.."),
        (ONE, "file:///docs/%2e"),
        (ONE, "file:///docs/a%2Fb"),
        (ONE, "file:///docs/..%5C..%5Cwindows"),
        (ONE, "file:///docs/a%00.txt"),
        (SPAN, "file:///root/../etc/passwd"),
        (SPAN, "file:///root/a/%2E%2E/%2E%2E/etc"),
        (SPAN, "file:///root/a/..%5C..%5Cb"),
        (SPAN, "file:///root/a%00"),
        (QUERY, "search://web?q=..%2F..%2Fsecret"),
        (QUERY, "search://web?q=a%00"),
    ],
)
def test_a_value_that_would_leave_its_place_does_not_bind(template: UriTemplate, uri: str) -> None:
    """The plain RFC 6570 reading still matches (what scopes are checked by: a template's scopes
    cover every URI it could read), but no handler gets such a value."""
    assert template.match(uri) is not None
    assert template.bind(uri) is None
