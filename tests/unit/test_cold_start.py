"""What a stdio server's cold start reads differently from Python's own readers gives the same values.

Annotations are texts (postponed): `mcpbind.lazy.resolve_annotations` reads a class's once per
distinct text where msgspec would compile each field's, and `signature.type_hints` reads a tool's
where `typing.get_type_hints` would compile each one. Both must give exactly what those give.
"""

from __future__ import annotations

import ast
import functools
import importlib
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

import msgspec
import pytest

from mcpbind.lazy import resolve_annotations
from mcpbind.protocol import revisions
from mcpbind.server import Context
from mcpbind.server.signature import type_hints

GENERATED = Path(__file__).resolve().parents[2] / "generated"


def _class_annotation_texts(source: str) -> set[str]:
    """Every annotation of a class body in a generated module, as the compiler stores it."""
    texts: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign):
                    texts.add(ast.unparse(item.annotation))
    return texts


def _resolved(text: str, namespace: dict[str, Any], **own: Any) -> Any:
    cls = type("Probe", (), {"__annotations__": {"field": text}, **own})
    resolve_annotations(cls, namespace, {})
    return cls.__annotations__["field"]


@pytest.mark.parametrize("name", revisions.ALL)
def test_every_generated_annotation_reads_as_eval_reads_it(name: str) -> None:
    module = importlib.import_module(revisions.REVISIONS[name])
    for each in dir(module):  # every name the texts use is created
        getattr(module, each)
    for each in vars(module).copy():  # and the one-pass decodes' Structs (made on first use)
        if each.startswith("_twin_") and callable(getattr(module, each)):
            getattr(module, each)(lambda data: data)
    namespace = vars(module)
    stem = module.__name__.rpartition(".")[2]
    texts = set[str]()
    for path in (GENERATED / f"{stem}.py", GENERATED / f"_{stem}_more.py"):  # (its less used types')
        texts |= _class_annotation_texts(path.read_text())
    assert len(texts) > 50
    for text in texts:
        expected = eval(text, namespace)
        got = _resolved(text, namespace)
        if text.startswith("ClassVar["):
            assert got == text  # left for msgspec, which skips constants
        else:
            assert got == (type(None) if expected is None else expected), text


def test_created_types_keep_no_annotation_text() -> None:
    """The types a revision creates are read once; msgspec compiles nothing when it reads them."""
    module = revisions.module("2025-11-25")
    for cls in (module.CallToolRequestParams, module.InitializeRequestParams, module.ClientCapabilities):
        texts = {k: v for k, v in cls.__annotations__.items() if isinstance(v, str)}
        assert not {k: v for k, v in texts.items() if not v.startswith("ClassVar[")}, cls


class Icon:
    pass


NAMESPACE: dict[str, Any] = {
    "len": len,
    "Any": Any,
    "ClassVar": ClassVar,
    "Literal": Literal,
    "Icon": Icon,
    "msgspec": msgspec,
    "UnsetType": msgspec.UnsetType,
}


@pytest.mark.parametrize(
    "text",
    [
        "str",
        "None",
        "Icon | UnsetType",
        "str | None",
        "msgspec.Raw | UnsetType",
        "list[Icon] | UnsetType",
        "dict[str, dict[str, Any]] | UnsetType",
        "Literal['dark', 'light'] | UnsetType",
        "Literal['a b']",  # (compiled: a string with a space)
        "Literal['a',]",  # (compiled: a trailing comma makes a tuple)
        "Literal['']",
        "tuple[int, ...]",
        "list[ list[ str ] ]",
        "Literal[len('ab')] | None",  # (compiled: a call)
    ],
)
def test_texts_read_as_eval_reads_them(text: str) -> None:
    expected = eval(text, NAMESPACE)
    assert _resolved(text, NAMESPACE) == (type(None) if expected is None else expected)


@pytest.mark.parametrize("text", ["Missing", "list[Missing]", "Icon | 'x'", "Literal[", "1 +"])
def test_texts_that_do_not_evaluate_are_left_for_msgspec(text: str) -> None:
    assert _resolved(text, NAMESPACE) == text


def test_a_name_of_the_class_itself_is_left_for_msgspec() -> None:
    """msgspec reads a class's own namespace before its module's: such a text stays a text."""
    assert _resolved("Icon | None", NAMESPACE, Icon=int) == "Icon | None"
    assert _resolved("Icon | None", NAMESPACE) == Icon | None


def test_a_struct_reads_its_resolved_annotations() -> None:
    class Item(msgspec.Struct):
        name: str
        tags: list[str] | None = None
        kind: Literal["a", "b"] = "a"

    assert all(isinstance(v, str) for v in Item.__annotations__.values())
    resolve_annotations(Item)
    assert Item.__annotations__ == {"name": str, "tags": list[str] | None, "kind": Literal["a", "b"]}
    assert msgspec.json.decode(b'{"name": "x", "kind": "b"}', type=Item) == Item("x", None, "b")
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"name": "x", "kind": "c"}', type=Item)


async def _plain(text: str, count: int, ctx: Context) -> str:
    return text


async def _optional(text: str | None, tags: list[str]) -> None:
    return None


def _none_hint(flag: bool) -> None:
    return None


def _unannotated(a, b=1):  # type: ignore[no-untyped-def]
    return a


@functools.wraps(_plain)
async def _wrapped(*args: Any, **kwargs: Any) -> str:
    return "x"


class _Tool:
    def method(self, text: str) -> str:
        return text


@pytest.mark.parametrize(
    "fn",
    [_plain, _optional, _none_hint, _unannotated, _wrapped, _Tool().method, _Tool, lambda x: x],
)
def test_type_hints_are_typings(fn: Callable[..., Any]) -> None:
    assert type_hints(fn) == typing.get_type_hints(fn, include_extras=True)


def test_type_hints_of_a_name_that_is_no_class_are_typings() -> None:
    namespace: dict[str, Any] = {"Alias": list[int]}
    exec("def f(x: 'Alias', y: 'str') -> 'None': pass", namespace)
    fn = namespace["f"]
    assert (
        type_hints(fn)
        == typing.get_type_hints(fn, include_extras=True)
        == {
            "x": list[int],
            "y": str,
            "return": type(None),
        }
    )
