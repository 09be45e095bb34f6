"""Typed Python functions as MCP tools and prompts: schemas from type hints, validated arguments.

A function's parameters (all but the one annotated with the request context) become a msgspec Struct,
made once at registration; its JSON Schema is the tool's `inputSchema`, and each call converts the
`arguments` object into it, which validates every argument before the function runs. A return
annotation other than text or content becomes the tool's `outputSchema` and `structuredContent`; an
`outputSchema` declared instead (`output_schema=`) holds the results to it the same way (`declared`).
"""

from __future__ import annotations

import builtins
import collections.abc
import contextlib
import functools
import inspect
import opcode
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Final

import msgspec

from .types import (
    by_pydantic,
    converter,
    has_pydantic_members,
    is_field,
    is_generated,
    is_pydantic,
    member_constrained_schema,
    schema_of,
    to_plain,
)

__all__ = [
    "Signature",
    "callable_doc",
    "callable_name",
    "inspect_function",
    "refuse_async_generator",
    "declared",
    "from_text",
    "is_whole_result",
    "given_as_json",
    "type_hints",
    "uri_arguments",
]

_TEXTUAL = (str, type(None), inspect.Signature.empty)


class Signature(msgspec.Struct, frozen=True):
    """What registration learns from a function, once."""

    arguments: type[msgspec.Struct]
    """A Struct of the function's parameters: converting `arguments` into it validates them."""
    names: tuple[str, ...]
    context_param: str | None
    input_schema: dict[str, Any]
    output_type: Any
    output_schema: dict[str, Any] | None
    wraps_output: bool
    """A non-object return value is structured as {"result": value} (structuredContent must be an object)."""
    is_async: bool
    suspends: bool
    """A call may wait: all but an `async def` whose own code never awaits (no `await`, `async with`
    or `async for`: `never_suspends`), whose whole run is its first step, as a sync function's is, so
    it runs inline as one does rather than in a task of its own (`aio.own`)."""
    adapters: tuple[tuple[str, Callable[[Any], Any]], ...] = ()
    """Arguments the Struct keeps as JSON data, and what makes them their type (pydantic models)."""
    positional: bool = False
    """The function takes its arguments in the Struct's field order, each by position, then its
    `Context` if it takes one (its own parameters, not a wrapped function's, are all
    positional-or-keyword, and none needs an adapter): a call passes `astuple`'s values, which costs
    less than building a dict of keywords."""
    check_output: Callable[[Any], Any] | None = None
    """Validates a result, as JSON data, against the return annotation (raises msgspec.ValidationError or
    pydantic's ValidationError, a ValueError): what a function returns is not held to its annotation by
    Python, and `structuredContent` must match the `outputSchema` the tool advertised."""


def inspect_function(
    fn: Callable[..., Any], context_type: type, *, name: str, results: bool = True, texts: bool = False
) -> Signature:
    """`results`: the return annotation makes an output schema (a tool's); a prompt's says nothing
    the wire needs (its messages are built whatever it says), so it is not read. `texts`: every
    argument arrives as text (a prompt's): one pydantic reads is taken from it (`from_text`)."""
    fn = _callable(fn, name)
    sig = _parameters(fn, name)
    annotated = _annotated(fn)
    hints = _class_hints(annotated) if isinstance(annotated, type) else type_hints(fn)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    context_param: str | None = None
    names: list[str] = []
    adapters: list[tuple[str, Callable[[Any], Any]]] = []
    foreign: dict[str, dict[str, Any]] = {}
    for param in sig.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{name}: *args and **kwargs cannot become tool arguments")
        if param.kind is param.POSITIONAL_ONLY:
            # Arguments are named on the wire and passed by name wherever the function takes others
            # that way: refused here, rather than every call failing.
            raise TypeError(f"{name}: positional-only parameter {param.name!r} cannot become an argument")
        hint = hints.get(param.name, Any)
        if isinstance(hint, type) and issubclass(hint, context_type):
            context_param = param.name
            continue
        names.append(param.name)
        default = param.default
        if is_field(default):
            # `n: int = Field(2, description=...)`: the field annotates the hint; its default is the
            # parameter's (none: the argument is required).
            field, hint = default, Annotated[hint, default]
            if field.is_required():
                default = inspect.Parameter.empty
            elif field.default_factory is not None:
                default = msgspec.field(default_factory=field.default_factory)
            else:
                default = field.default
        # A hint msgspec cannot read alone is kept as JSON data by the Struct (`held`), made its type
        # by an adapter, and described by a schema of its own:
        held: Any = None
        if by_pydantic(hint):
            # validated by pydantic, its schema pydantic's: a model, or a hint over one
            # (`list[Model]`, `Model | None`);
            schema, held = schema_of(hint), dict[str, Any] if is_pydantic(hint) else Any
        elif has_pydantic_members(hint):
            # a dataclass, TypedDict or Struct with members pydantic reads (`Annotated[int,
            # Field(ge=1)]`), or a hint holding one (`list[Order]`, `Order | None`): each such
            # member checked by pydantic, the whole converted by msgspec (`converter`), its schema
            # carrying their constraints;
            schema, held = member_constrained_schema(hint), Any
        else:
            _check_hint(hint, f"{name}: parameter {param.name!r}")
            if texts and _json_shaped(schema := schema_of(hint)):
                # a prompt's argument of a Struct, a dataclass, a list...: text never is one, so it
                # is read from the JSON text it holds (`from_text`), as a pydantic model is.
                held = Any
        if held is not None:
            adapters.append((param.name, from_text(converter(hint)) if texts else converter(hint)))
            foreign[param.name] = schema
            if default is not inspect.Parameter.empty and "default" not in schema:
                with contextlib.suppress(TypeError):  # (a default that is no JSON is not shown)
                    schema["default"] = to_plain(default)
            hint = Any if texts else held
        if default is inspect.Parameter.empty:
            fields.append((param.name, hint))
        else:
            fields.append((param.name, hint, default))
    struct_name = "".join(part.capitalize() for part in name.replace("-", "_").split("_")) + "Arguments"
    arguments = msgspec.defstruct(struct_name, fields, kw_only=True, forbid_unknown_fields=False)
    input_schema = schema_of(arguments)
    input_schema.setdefault("type", "object")
    input_schema.setdefault("properties", {})
    for param_name, schema in foreign.items():
        defs = schema.pop("$defs", None)
        if defs:
            input_schema.setdefault("$defs", {}).update(defs)
        input_schema["properties"][param_name] = schema
    # (What is called is `fn` itself: a wrapper's own parameters, not those `__wrapped__` names.)
    own = inspect.signature(fn, follow_wrapped=False) if hasattr(fn, "__wrapped__") else sig
    positional = (
        not adapters
        and all(p.kind is p.POSITIONAL_OR_KEYWORD for p in own.parameters.values())
        and tuple(own.parameters) == (*names, *([context_param] if context_param else []))
        and tuple(names) == arguments.__struct_fields__
    )
    output_type = hints.get("return", inspect.Signature.empty) if results else inspect.Signature.empty
    is_async = inspect.iscoroutinefunction(_annotated(fn))
    if not is_async:
        output_type = _awaited(output_type)
    output_schema: dict[str, Any] | None = None
    wraps = False
    if not _is_content(output_type):
        if not by_pydantic(output_type):
            _check_hint(output_type, f"{name}: return value")
        # (`schema_of`, with the constraints of members pydantic reads: msgspec's schema lacks them)
        output_schema = member_constrained_schema(output_type)
        if output_schema.get("type") != "object":
            wraps = True
            # The definitions stay at the root: the `$ref`s inside say `#/$defs/...`, from the root.
            defs = output_schema.pop("$defs", None)
            output_schema = {
                "type": "object",
                "properties": {"result": output_schema},
                "required": ["result"],
            }
            if defs:
                output_schema["$defs"] = defs
    return Signature(
        arguments=arguments,
        names=tuple(names),
        context_param=context_param,
        input_schema=input_schema,
        output_type=output_type,
        output_schema=output_schema,
        wraps_output=wraps,
        is_async=is_async,
        suspends=not never_suspends(fn),
        adapters=tuple(adapters),
        positional=positional,
        check_output=None if output_schema is None else converter(output_type),
    )


def _awaited(hint: Any) -> Any:
    """The return annotation of a plain `def` that returns an awaitable (`Awaitable[T]`,
    `Coroutine[Any, Any, T]`: a sync wrapper of a coroutine function), as what a call gives, which
    awaits it: T (none when it says no T). Any other `hint` as it is."""
    if (typing.get_origin(hint) or hint) in (collections.abc.Awaitable, collections.abc.Coroutine):
        args = typing.get_args(hint)
        return args[-1] if args else inspect.Signature.empty
    return hint


_YIELD_VALUE: Final = opcode.opmap["YIELD_VALUE"]
"""The opcode every `await`, `async with` and `async for` compiles to (`never_suspends`)."""


def never_suspends(fn: Callable[..., Any]) -> bool:
    """`fn` is an `async def` (a function or bound method, called as it is) whose own code has no
    point where its coroutine yields (`YIELD_VALUE`: every `await`, `async with` and `async for`
    compiles to one): its coroutine always finishes in its first step. Anything else may wait."""
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType) or not code.co_flags & inspect.CO_COROUTINE:
        return False
    # Every instruction (and each of its inline cache entries) is two bytes, its opcode first: the
    # opcodes are the even bytes. Read there in one call, not instruction by instruction (`dis`).
    return _YIELD_VALUE not in code.co_code[::2]


def callable_name(fn: Callable[..., Any], anonymous: str | None = None) -> str:
    """The name a callable is registered by when none is given: a function's or method's own; a
    `functools.partial`'s function's; a callable object's class's. A lambda has none: `anonymous`,
    else a TypeError asking for one (a tool or prompt is called by its name)."""
    fn = _unwrapped(fn)
    name = getattr(fn, "__name__", None)
    if name == "<lambda>":
        if anonymous is None:
            raise TypeError(f"{fn!r} has no name of its own: register it with name=")
        return anonymous
    return name if isinstance(name, str) else type(fn).__name__


def callable_doc(fn: Callable[..., Any]) -> str | None:
    """The description a callable gives when none is given: its docstring; a `functools.partial`'s
    function's (not `partial`'s own), a callable object's class's, else its `__call__`'s."""
    fn = _unwrapped(fn)
    doc = inspect.getdoc(fn)
    if doc is None and not inspect.isroutine(fn) and callable(fn):
        doc = inspect.getdoc(_annotated(fn))
    return doc


def _unwrapped(fn: Any) -> Any:
    """`fn` out of `functools.partial`, `staticmethod` and `classmethod`."""
    while isinstance(fn, functools.partial | staticmethod | classmethod):
        fn = fn.func if isinstance(fn, functools.partial) else fn.__func__
    return fn


def _callable(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """`fn` as it is called: a `staticmethod` object (a decorator applied inside a class body, over
    `@staticmethod`) is its function. A `classmethod` object cannot be called without its class, nor
    can anything that is not callable: a TypeError naming it."""
    if isinstance(fn, staticmethod):
        return _callable(fn.__func__, name)
    if isinstance(fn, classmethod):
        raise TypeError(
            f"{name}: a classmethod object ({fn.__func__.__qualname__}) is not callable before its class "
            "exists: register `Class.method` once the class is made"
        )
    if not callable(fn):
        raise TypeError(f"{name}: {fn!r} is not callable")
    refuse_async_generator(fn, name)
    return fn


def refuse_async_generator(fn: Callable[..., Any], name: str) -> None:
    """A TypeError for an `async def` that yields: its call gives an async generator, which is no
    coroutine to await (`aio.own`) and no value to send, so every call would fail as an internal
    error. Refused where it is registered instead."""
    if inspect.isasyncgenfunction(_annotated(fn)):
        raise TypeError(
            f"{name}: {getattr(fn, '__qualname__', fn)!r} is an async generator function (an `async def` "
            "that yields): register an `async def` that returns its value (a list of what it yields)"
        )


def _annotated(fn: Any) -> Any:
    """What carries `fn`'s annotations: a `functools.partial`'s function, a callable object's bound
    `__call__`, `fn` itself for a function or method."""
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif isinstance(fn, staticmethod | classmethod):
            fn = fn.__func__
        elif inspect.isroutine(fn) or isinstance(fn, type) or not callable(fn):
            return fn
        else:
            fn = fn.__call__  # (a callable object: a bound method, annotated)


def _parameters(fn: Callable[..., Any], name: str) -> inspect.Signature:
    """The parameters a call of `fn` passes: a `functools.partial`'s bound arguments are not among
    them (its keywords `inspect` keeps, as keyword-only parameters with a default)."""
    try:
        sig = inspect.signature(fn)
    except ValueError as exc:  # (a builtin that declares none: `max`, `operator.itemgetter(1)`)
        raise TypeError(f"{name}: the parameters of {fn!r} cannot be read ({exc})") from None
    if isinstance(fn, functools.partial) and fn.keywords:
        bound = fn.keywords
        sig = sig.replace(parameters=[p for p in sig.parameters.values() if p.name not in bound])
    return sig


_JSON_SHAPES: Final = frozenset({"object", "array"})


def _json_shaped(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> bool:
    """`schema` admits an object or an array (`X | None` included): a value of it is no text. `defs`:
    the definitions its `$ref`s name (the root's `$defs`)."""
    if defs is None:
        defs = schema.get("$defs") or {}
    kind = schema.get("type")
    if kind in _JSON_SHAPES or (isinstance(kind, list) and _JSON_SHAPES.intersection(kind)):
        return True
    if "properties" in schema:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str):  # (an enum's definition is text or numbers; a class's an object)
        target = defs.get(ref.rsplit("/", 1)[-1])
        return not isinstance(target, dict) or _json_shaped(target, defs)
    options = schema.get("anyOf") or schema.get("oneOf") or ()
    return any(isinstance(o, dict) and _json_shaped(o, defs) for o in options)


def given_as_json(schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    """A prompt argument of `schema` (an object's or an array's; `defs`: the definitions its `$ref`s
    name) is given as the JSON text of its value: every prompt argument is text."""
    return _json_shaped(schema, defs)


def from_text(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert` (JSON data to a type pydantic reads) for an argument that arrives as text (a
    prompt's: the spec's arguments are strings). The text itself is validated first (a `RootModel[str]`,
    a constrained string, a number pydantic reads from text), then, when that fails, the JSON it
    holds (a model from `{"name": "x"}`, a list from `[1, 2]`), as FastMCP reads a prompt's arguments
    too; but in the other order, so that a string type keeps a text that happens to be JSON (`"x"`
    with its quotes) as it came. Both failing, the error said is the JSON's where the text holds an
    object or an array (what a model was meant to get), else the text's."""

    def read(value: Any) -> Any:
        if type(value) is not str:
            return convert(value)
        try:
            return convert(value)
        except ValueError as exc:  # (msgspec's and pydantic's validation errors are ValueErrors)
            try:
                data = msgspec.json.decode(value)
            except msgspec.DecodeError:
                raise exc from None
            if not isinstance(data, dict | list):
                try:
                    return convert(data)
                except ValueError:
                    raise exc from None
            return convert(data)

    return read


def declared(sig: Signature, schema: dict[str, Any], name: str) -> Signature:
    """`sig` of a tool that declares `schema` its `outputSchema` (`output_schema=`), its return
    annotation making none: what it returns is sent as `structuredContent` (its text too), checked
    against `schema` first, as a return annotation's schema is (the spec: a tool with an output schema
    MUST give structured results that conform to it; they were sent as text alone, which a client
    checking them refuses)."""
    from ..protocol import numbers
    from ..stubgen.compiled import compiled  # (on use: few tools declare a schema of their own)

    shape = compiled(f"tool {name!r}", schema)

    def check(value: Any) -> None:
        if not isinstance(value, dict):
            raise ValueError("structuredContent must be an object")
        if shape is not None:  # (a schema the mapping cannot read: an object is all that is checked)
            numbers.convert(value, shape)  # (`1.0` is an integer, as JSON Schema counts)

    return msgspec.structs.replace(sig, output_schema=schema, wraps_output=False, check_output=check)


def uri_arguments(
    hints: dict[str, Any], context_param: str | None
) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What makes a resource template's variables, text read off the URI, the types its function's
    parameters declare (`item_id: int` gets 42 from `items://42`): a ValueError for text that is no
    such value. None when every parameter takes text."""
    typed = {
        name: hint
        for name, hint in hints.items()
        if name not in ("return", context_param) and hint is not str and hint is not Any
    }
    if not typed:
        return None
    makers = {name: converter(hint) if by_pydantic(hint) else _lax(hint) for name, hint in typed.items()}

    def convert(args: dict[str, Any]) -> dict[str, Any]:
        return {name: makers[name](value) if name in makers else value for name, value in args.items()}

    return convert


def _lax(hint: Any) -> Callable[[Any], Any]:
    """Text as a `hint` (an int, a float, a bool, an enum...), as msgspec reads it from text."""
    return lambda value: msgspec.convert(value, hint, strict=False)


def type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """`typing.get_type_hints(fn, include_extras=True)`, without its cost for the usual hints.

    Under postponed annotations every hint is a text, which `typing` compiles anew for each one
    (`ForwardRef`): a tool's `text: str` cost more to read than the rest of its registration. A text
    that names a class (`str`, `Context`, a Struct) is that class, looked up as `typing` would (the
    function's globals, then builtins); anything else is left to `typing`, for the whole function.
    A `functools.partial`'s hints are its function's, a callable object's its `__call__`'s."""
    if type(fn) is not types.FunctionType:
        fn = _annotated(fn)
    if type(fn) is not types.FunctionType or hasattr(fn, "__wrapped__"):
        return typing.get_type_hints(fn, include_extras=True)
    notes = fn.__annotations__
    scope = fn.__globals__
    hints: dict[str, Any] = {}
    for param, text in notes.items():
        value = text
        if type(text) is str and text.isidentifier():
            value = scope[text] if text in scope else getattr(builtins, text, None)
        if not isinstance(value, type):
            return typing.get_type_hints(fn, include_extras=True)
        hints[param] = value
    return hints


def _class_hints(cls: type) -> dict[str, Any]:
    """The hints of a class called as a function (registered as a tool): its parameters are its
    `__init__`'s (what `inspect.signature` gives), so are their hints, not those its body declares
    (`n: str` with `def __init__(self, n: int)` takes an int); a class whose parameters are made from
    its fields (a msgspec Struct, a pydantic model: no `__init__` of its own that names them) has
    its body's. What a call returns is an instance: the result is checked to be encodable, an output
    schema of it made, as for a function annotated `-> cls` (a class msgspec cannot encode is
    refused at registration, named)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    init = cls.__dict__.get("__init__") or getattr(cls, "__init__", None)
    if type(init) is types.FunctionType:
        own = type_hints(init)
        own.pop("return", None)
        hints.update(own)
    hints["return"] = cls
    return hints


_SUPPORTED: Final = frozenset({str, int, float, bool, bytes})
"""Hints every msgspec version converts and describes (no need to ask it)."""


def _check_hint(hint: Any, where: str) -> None:
    """A type hint arguments cannot be converted to (or results from) fails at registration, named."""
    if type(hint) is type and hint in _SUPPORTED:
        return
    try:
        msgspec.json.schema(hint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: unsupported type hint {hint!r} ({exc})") from None


def _is_content(tp: Any) -> bool:
    """Return types that are content, not structured data: text, nothing, content blocks, a whole
    result, or Any."""
    if tp in _TEXTUAL or tp is Any or is_whole_result(tp):
        return True
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return item is Any or _is_content_block(item)
    return _is_content_block(tp)


def is_whole_result(tp: Any) -> bool:
    """`tp` is a revision's `CallToolResult`: a tool that builds its whole result (a class of the
    user's own that happens to share the name is data like any other)."""
    return (
        isinstance(tp, type)
        and issubclass(tp, msgspec.Struct)
        and tp.__name__ == "CallToolResult"
        and is_generated(tp)
    )


def _is_content_block(tp: Any) -> bool:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return all(_is_content_block(a) for a in typing.get_args(tp))
    return (
        isinstance(tp, type)
        and getattr(tp, "__struct_config__", None) is not None
        and (tp.__name__.endswith("Content") or tp.__name__ in {"ResourceLink", "EmbeddedResource"})
    )
