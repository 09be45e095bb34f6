"""The intermediate representation between a schema and the emitted module.

Types are small immutable expressions; definitions are Structs, open objects, dispatched unions and
aliases; methods describe the method table. Templates render this and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Prim:
    """A JSON scalar or anything: str, int, float, bool, None, Any."""

    name: str


@dataclass(frozen=True)
class ListOf:
    item: TypeExpr


@dataclass(frozen=True)
class DictOf:
    value: TypeExpr


@dataclass(frozen=True)
class Ref:
    """A named definition of the module."""

    name: str


@dataclass(frozen=True)
class Lit:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Union:
    members: tuple[TypeExpr, ...]


TypeExpr = Prim | ListOf | DictOf | Ref | Lit | Union


@dataclass
class Field:
    py_name: str
    wire_name: str
    type: TypeExpr
    required: bool
    default: Any = None
    has_default: bool = False
    doc: str = ""
    constraints: tuple[tuple[str, Any], ...] = ()
    """msgspec.Meta constraints from the schema's bounds (ge, le, gt, lt, min_length, max_length)."""


@dataclass
class StructDef:
    """A closed JSON object: a msgspec Struct, tagged when a required constant can discriminate it."""

    name: str
    doc: str
    fields: list[Field]
    tag_field: str | None = None
    tag: Any = None
    tag_doc: str = ""
    open: bool = False
    """An open object keeps undeclared members: emitted as an OpenObject (dict) subclass."""


@dataclass
class AliasDef:
    name: str
    doc: str
    type: TypeExpr
    recursive: bool = False
    """A recursive alias is exact for type checkers and `Any` at runtime (msgspec has no recursion)."""
    open_tag: str | None = None
    """An open union of tagged Structs (content blocks): the tag whose unknown values are read as
    `wire.Unknown`. msgspec still decodes it natively; type checkers see `Unknown` among its members."""


@dataclass
class MemberRule:
    type: TypeExpr
    kind: str
    required: tuple[str, ...] = ()
    consts: tuple[tuple[str, tuple[Any, ...], bool], ...] = ()
    declared: tuple[str, ...] = ()
    tag_value: Any = None
    """In a union selected by a tag (DispatchDef.tag): the value that selects this member."""


@dataclass
class DispatchDef:
    """A union msgspec cannot discriminate; decoded by the keys and constants of its members."""

    name: str
    doc: str
    members: list[MemberRule]
    tag: str | None = None
    """An open union selected by the value of this member alone (results: `resultType`); a value no
    member of the union takes is read as `wire.Unknown`."""
    absent: Any = None
    has_absent: bool = False
    """The tag's value when a message lacks it (`resultType`: "complete"), if it may be absent."""


Definition = StructDef | AliasDef | DispatchDef


@dataclass
class Method:
    name: str
    """The wire method, e.g. `tools/call`."""
    const: str
    """The Python constant naming it in the method table, e.g. `TOOLS_CALL`."""
    kind: str
    """request or notification."""
    directions: list[str]
    """client_to_server, server_to_client, or input (a 2026-07-28 input request)."""
    message_type: str
    params_type: TypeExpr | None
    params_required: bool
    result_types: tuple[str, ...] = ()
    result_type: TypeExpr | None = None
    task_result_type: str | None = None
    py_name: str = ""
    doc: str = ""


@dataclass
class Module:
    revision: str
    module: str
    schema_sha256: str
    errata_sha256: str
    errata_count: int
    dialect: str
    protocol_version: str
    jsonrpc_version: str
    error_codes: list[tuple[str, int]]
    definitions: list[Definition]
    methods: list[Method] = field(default_factory=list)
    stateless: bool = False
    batches: bool = False
    """A JSON-RPC batch (an array of messages) is a message of this revision (`JSONRPCBatchRequest`)."""
    url_elicitation: bool = False
    """Elicitation has a URL mode (`ElicitRequestURLParams`)."""
    twin_messages: list[str] = field(default_factory=list)
    """The messages decoded in one pass (`codegen.twin`), from the overrides' `[twin]`."""
    twin_unions: list[str] = field(default_factory=list)
    """The dispatched unions those read natively."""
    meta_keys: list[tuple[str, str]] = field(default_factory=list)
    """The reserved `_meta` keys the schema declares, as (constant, key), e.g.
    (`META_PROTOCOL_VERSION`, `io.modelcontextprotocol/protocolVersion`)."""
