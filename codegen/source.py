"""A revision's schema as the generator reads it: upstream schema.json, errata applied, normalised.

Everything here is driven by data in `schema/`: `errata/<rev>.toml` corrects upstream rendering defects
(each correction asserts the value upstream has, so a fixed upstream fails loudly instead of being
patched twice); `overrides/<rev>.toml` carries what only the TypeScript source states and the few
normalisations the generator applies (hoisting repeated inline objects into named definitions, giving
params the `_meta` that older renderings lost). Its prose is rendered from TSDoc to plain text (`tsdoc`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .pins import SCHEMA_DIR, Pin
from .tsdoc import TSDoc


class SchemaError(Exception):
    """The schema, its errata or its overrides are not what the generator expects."""


@dataclass
class Source:
    """One revision's corrected schema and the data that goes with it."""

    pin: Pin
    schema: dict[str, Any]
    overrides: dict[str, Any]
    errata_sha256: str
    defs_key: str
    errata_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def defs(self) -> dict[str, Any]:
        defs: dict[str, Any] = self.schema[self.defs_key]
        return defs

    @property
    def ref_prefix(self) -> str:
        return f"#/{self.defs_key}/"


_MISSING = object()


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer_get(doc: Any, pointer: str) -> Any:
    """Resolve an RFC 6901 JSON pointer; `_MISSING` where nothing is there."""
    node = doc
    for raw in pointer.split("/")[1:]:
        token = _unescape(raw)
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def pointer_set(doc: Any, pointer: str, value: Any) -> None:
    parts = [_unescape(t) for t in pointer.split("/")[1:]]
    parent = pointer_get(doc, "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts[:-1]))
    if parent is _MISSING:
        raise SchemaError(f"errata pointer {pointer}: parent does not exist")
    if isinstance(parent, list):
        parent[int(parts[-1])] = value
    else:
        parent[parts[-1]] = value


def apply_errata(schema: dict[str, Any], errata: list[dict[str, Any]], revision: str) -> None:
    """Patch `schema` in place; each erratum must find exactly the upstream value it names."""
    for item in errata:
        pointer = item["pointer"]
        current = pointer_get(schema, pointer)
        expected = item.get("upstream", _MISSING)
        matches = current is _MISSING if expected is _MISSING else current == expected
        if not matches:
            shown = "nothing" if current is _MISSING else json.dumps(current)
            raise SchemaError(
                f"{revision}: erratum at {pointer} expects upstream "
                f"{'nothing' if expected is _MISSING else json.dumps(expected)}, found {shown}; "
                "upstream may have fixed it: remove or update the erratum "
                f"({item.get('reference', 'no reference')})"
            )
        pointer_set(schema, pointer, copy.deepcopy(item["corrected"]))


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_docs(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


def _replace_equal(node: Any, shape: Any, ref: dict[str, str], member: str, key: str | None = None) -> Any:
    """`node` with every copy of `shape` that is the value of a member named `member` made `ref`."""
    if isinstance(node, dict):
        if key == member and _strip_docs(node) == shape:
            out = dict(ref)
            if "description" in node:
                out["description"] = node["description"]
            return out
        return {k: _replace_equal(v, shape, ref, member, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_equal(v, shape, ref, member) for v in node]
    return node


def hoist(source: Source, name: str, pointer: str) -> None:
    """Make the inline object at `pointer` a definition `name`; refer to it from every equal copy that
    is the value of a member of the same name (a `_meta` from every `_meta`, not from any equal object)."""
    node = pointer_get(source.schema, pointer)
    if node is _MISSING:
        raise SchemaError(f"{source.pin.name}: hoist {name}: nothing at {pointer}")
    if name in source.defs:
        raise SchemaError(f"{source.pin.name}: hoist {name}: the schema already defines it")
    definition = copy.deepcopy(node)
    shape = _strip_docs(definition)
    ref = {"$ref": source.ref_prefix + name}
    member = _unescape(pointer.rsplit("/", 1)[-1])
    source.schema[source.defs_key] = {
        k: _replace_equal(v, shape, ref, member) for k, v in source.defs.items()
    }
    source.defs[name] = definition


def union_members(source: Source, union: str) -> list[str]:
    """Definition names a union definition lists, following nested union definitions."""
    node = source.defs.get(union)
    if node is None:
        return []
    out: list[str] = []
    members = node.get("anyOf", node.get("oneOf"))
    if members is None:
        # A union of one member is rendered as a copy of it (2026-07-28's ClientNotification is
        # CancelledNotification): the member is the definition with the same method.
        method = node.get("properties", {}).get("method", {}).get("const")
        same = [
            name
            for name, other in source.defs.items()
            if name != union and other.get("properties", {}).get("method", {}).get("const") == method
        ]
        return same[:1] if method is not None else []
    for member in members:
        ref = member.get("$ref", "")
        name = ref.removeprefix(source.ref_prefix)
        target = source.defs[name]
        if "anyOf" in target or "oneOf" in target:
            out.extend(union_members(source, name))
        else:
            out.append(name)
    return out


def _deref(source: Source, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = source.defs[node["$ref"].removeprefix(source.ref_prefix)]
    return node


def give_params_meta(source: Source, unions: list[str], meta: dict[str, Any]) -> None:
    """Every request/notification of `unions` carries `_meta` in its params, as the protocol allows."""
    for name in dict.fromkeys(m for u in unions for m in union_members(source, u)):
        props = source.defs[name].setdefault("properties", {})
        if "params" not in props:
            props["params"] = {"type": "object", "properties": {"_meta": copy.deepcopy(meta)}}
            continue
        _give_meta(source, props["params"], meta)


def _give_meta(source: Source, node: dict[str, Any], meta: dict[str, Any]) -> None:
    node = _deref(source, node)
    alternatives = node.get("anyOf", node.get("oneOf"))
    if alternatives is not None:  # params that are a union: each alternative gets it
        for alternative in alternatives:
            _give_meta(source, alternative, meta)
        return
    properties = node.setdefault("properties", {})
    if "_meta" not in properties:
        properties["_meta"] = copy.deepcopy(meta)


def _sha256_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        if path.exists():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _read_toml(path: Path, revision: str, kind: str) -> dict[str, Any]:
    """A revision's errata or overrides file; a missing or unreadable one is an error naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SchemaError(
            f"{revision}: step 'load {kind}': {path} is missing; every pinned revision needs one "
            f"(`python -m mcpbind.codegen add-revision {revision} ...` scaffolds it)"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{revision}: step 'load {kind}': {path} is not valid TOML ({exc})") from None


def load_source(pin: Pin, schema_path: Path | None = None, schema_dir: Path = SCHEMA_DIR) -> Source:
    """Read, verify, correct and normalise one revision's schema."""
    path = schema_path or pin.cache_path(schema_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SchemaError(f"{path} is missing: run `python -m mcpbind.codegen fetch` first") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != pin.sha256:
        raise SchemaError(f"{path}: sha256 {digest} is not the pinned {pin.sha256}")
    schema = json.loads(raw)
    errata_path = schema_dir / "errata" / f"{pin.name}.toml"
    overrides_path = schema_dir / "overrides" / f"{pin.name}.toml"
    errata = _read_toml(errata_path, pin.name, "errata")
    overrides = _read_toml(overrides_path, pin.name, "overrides")
    defs_key = "$defs" if "$defs" in schema else "definitions"
    source = Source(
        pin=pin,
        schema=schema,
        overrides=overrides,
        errata_sha256=_sha256_files([errata_path, overrides_path]),
        defs_key=defs_key,
    )
    items = errata.get("erratum", [])
    apply_errata(schema, items, pin.name)
    source.errata_count = len(items)
    for name, pointer in overrides.get("hoist", {}).items():
        hoist(source, name, pointer)
    for def_name, members in overrides.get("add_members", {}).items():
        props = source.defs[def_name].setdefault("properties", {})
        for member, member_schema in members.items():
            if member in props:
                raise SchemaError(f"{pin.name}: add_members {def_name}.{member}: upstream declares it now")
            props[member] = copy.deepcopy(member_schema)
    params_meta = overrides.get("params_meta", {})
    if "request" in params_meta:
        give_params_meta(
            source, ["ClientRequest", "ServerRequest"], {"$ref": source.ref_prefix + params_meta["request"]}
        )
    if "notification" in params_meta:
        give_params_meta(
            source,
            ["ClientNotification", "ServerNotification"],
            {"$ref": source.ref_prefix + params_meta["notification"]},
        )
    # Last, so prose that errata and overrides add is rendered too, against the final definitions.
    TSDoc.of_schema(source.defs).rewrite(source.schema)
    return source
