"""`forms.mismatch`: an accepted elicitation's content against the form it answers, with no socket."""

from __future__ import annotations

from typing import Any

import pytest

from mcpbind.server.forms import mismatch

FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 10},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "score": {"type": "number"},
        "ok": {"type": "boolean"},
        "size": {"type": "string", "enum": ["s", "m", "l"]},
        "tier": {
            "type": "string",
            "oneOf": [{"const": "free", "title": "Free"}, {"const": "pro", "title": "Pro"}],
        },
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "maxItems": 2},
        "email": {"type": "string", "format": "email"},
    },
    "required": ["name"],
}


@pytest.mark.parametrize(
    "content",
    [
        {"name": "Ada"},
        {"name": "Ada", "age": 36, "score": 1.5, "ok": False, "size": "m", "tier": "pro", "tags": ["a", "b"]},
        {"name": "Ada", "age": 36.0, "score": 2},
        {"name": "Ada", "email": "not checked: formats are the handler's", "unnamed": {"left": "as it is"}},
    ],
)
def test_content_the_form_allows(content: dict[str, Any]) -> None:
    assert mismatch(FORM, content) is None


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ({}, "'name' is required"),
        ({"name": 5}, "'name' must be a string"),
        ({"name": ""}, "'name' must be at least 1 characters"),
        ({"name": "x" * 11}, "'name' must be at most 10 characters"),
        ({"name": "A", "age": "36"}, "'age' must be an integer"),
        ({"name": "A", "age": 1.5}, "'age' must be an integer"),
        ({"name": "A", "age": True}, "'age' must be an integer"),
        ({"name": "A", "age": -1}, "'age' must be at least 0"),
        ({"name": "A", "score": None}, "'score' must be a number"),
        ({"name": "A", "ok": "yes"}, "'ok' must be true or false"),
        ({"name": "A", "size": "xl"}, "'size' must be one of the form's choices"),
        ({"name": "A", "tier": "gold"}, "'tier' must be one of the form's choices"),
        ({"name": "A", "tags": "a"}, "'tags' must be a list of strings"),
        ({"name": "A", "tags": ["c"]}, "'tags' must hold only the form's choices"),
        ({"name": "A", "tags": ["a", "b", "a"]}, "'tags' must have at most 2 items"),
    ],
)
def test_content_the_form_does_not_allow(content: dict[str, Any], why: str) -> None:
    assert mismatch(FORM, content) == why


def test_a_form_without_properties_checks_nothing() -> None:
    assert mismatch({"type": "object"}, {"anything": 1}) is None
