"""`add-revision`: pin a new schema revision and scaffold its overrides and errata, in one command.

The scaffold comes from three places, in this order of trust: what the new schema.json itself states
(methods, `*ResultResponse` result types, `*Error` codes, stateless or not), what its schema.ts states
where the source provides it (protocol version, error constants), and the previous revision's data for
what neither states. Each erratum of the previous revision is carried forward only when the new schema
still has the exact upstream value it corrects. Everything that could not be decided from data is listed
for review; nothing is guessed silently.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import tomlwrite
from .diff import compare, facts_of, render
from .pins import DRAFT, SCHEMA_DIR, Pin, load_pins, published_pins, raw_url
from .source import _MISSING, SchemaError, apply_errata, load_source, pointer_get

REVISION_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_REPO = "https://github.com/modelcontextprotocol/modelcontextprotocol"


@dataclass
class Added:
    """What `add-revision` did and what it leaves to a reviewer."""

    pin: Pin
    files: list[Path] = field(default_factory=list)
    decided: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    diff: str = ""

    def report(self) -> str:
        out = [f"added revision {self.pin.name} (sha256 {self.pin.sha256[:12]}, {self.pin.bytes} bytes)"]
        out += [f"  wrote {p}" for p in self.files]
        out += ["", "decided from data:"] + [f"  - {line}" for line in self.decided]
        if self.review:
            out += ["", "left for review (edit the overrides/errata files named above):"]
            out += [f"  - {line}" for line in self.review]
        else:
            out += ["", "nothing left for review"]
        out += ["", "next: python -m mcpbind.codegen generate", "", self.diff]
        return "\n".join(out)


# -- reading the new revision ------------------------------------------------------------------------


def _read_source_file(source_dir: Path | None, commit: str | None, repo: str, rel: str) -> bytes | None:
    """`rel` (e.g. `2026-12-15/schema.json`) from the mirror folder, else upstream at `commit`."""
    if source_dir is not None:
        path = source_dir / rel
        return path.read_bytes() if path.exists() else None
    assert commit is not None
    name, file = rel.split("/", 1)
    url = raw_url(repo, commit, f"schema/{name}/{file}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data: bytes = response.read()
            return data
    except OSError:
        return None


def _mirror_commit(source_dir: Path, name: str) -> tuple[str, str] | None:
    """(commit, path) a mirror's PINNED.json records for `name`, as `../shared/mcp-spec` has it."""
    pinned = source_dir / "PINNED.json"
    if not pinned.exists():
        return None
    for entry in json.loads(pinned.read_text()):
        if entry.get("protocol_version") == name:
            return str(entry["spec_commit"]), str(entry["path_in_spec_repo"])
    return None


@dataclass(frozen=True)
class TsFacts:
    """What schema.ts states that schema.json cannot: read from its constant declarations."""

    protocol_version: str | None
    jsonrpc_version: str | None
    error_codes: dict[str, int]


_TS_CONST = re.compile(r"^export const ([A-Z][A-Z0-9_]*)\s*=\s*(-?\d+|\"[^\"]*\")\s*;", re.M)


def read_schema_ts(text: str) -> TsFacts:
    """Constants of a schema.ts: `LATEST_PROTOCOL_VERSION`, `JSONRPC_VERSION` and the integer error codes.

    Only `export const NAME = <literal>;` declarations are read: that form is unambiguous, and a constant
    in any other form is left for review rather than half-parsed."""
    strings: dict[str, str] = {}
    codes: dict[str, int] = {}
    for match in _TS_CONST.finditer(text):
        name, literal = match.groups()
        if literal.startswith('"'):
            strings[name] = literal.strip('"')
        elif -32768 <= int(literal) <= -32000:
            codes[name] = int(literal)
    return TsFacts(strings.get("LATEST_PROTOCOL_VERSION"), strings.get("JSONRPC_VERSION"), codes)


# -- scaffolding ---------------------------------------------------------------------------------------


def _snake_upper(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", camel).upper()


def _code_const(node: Any) -> int | None:
    """The constant `code` of an error definition: its own member (`ParseError`) or that of the `error`
    object of a response it describes (`HeaderMismatchError.error` is `Error` with a constant code)."""
    if isinstance(node, dict):
        code = node.get("properties", {}).get("code", {})
        if isinstance(code, dict) and isinstance(code.get("const"), int):
            return int(code["const"])
        for key in ("properties", "error", "allOf", "anyOf"):
            if key in node:
                found = _code_const(node[key])
                if found is not None:
                    return found
    elif isinstance(node, list):
        for item in node:
            found = _code_const(item)
            if found is not None:
                return found
    return None


def schema_error_codes(defs: dict[str, Any]) -> dict[str, int]:
    """Error codes the schema states as `*Error` definitions with a constant `code`, named as schema.ts
    names them (`ParseError` -> `PARSE_ERROR`, `HeaderMismatchError` -> `HEADER_MISMATCH`)."""
    found: dict[str, int] = {}
    for name, node in defs.items():
        code = _code_const(node)
        if not name.endswith("Error") or code is None:
            continue
        stem = name.removesuffix("Error")
        constant = _snake_upper(stem) + ("_ERROR" if stem in ("Parse", "Internal") else "")
        found[constant] = code
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def schema_results(defs: dict[str, Any], prefix: str, methods: dict[str, str]) -> dict[str, list[str]]:
    """method -> result types, from the schema's `<Stem>ResultResponse` definitions (2026-07-28 on), the
    method's own result first."""
    out: dict[str, list[str]] = {}
    for method, def_name in methods.items():
        stem = def_name.removesuffix("Request")
        response = defs.get(stem + "ResultResponse")
        if response is None:
            continue
        result = response.get("properties", {}).get("result", {})
        members = result.get("anyOf", result.get("oneOf", [result]))
        names = [m["$ref"].removeprefix(prefix) for m in members if "$ref" in m]
        if names:
            own = stem + "Result"
            out[method] = sorted(names, key=lambda n: (n != own, names.index(n)))
    return out


def _pin_entry(pin: Pin) -> str:
    lines = ["[[revision]]", tomlwrite.assignment("name", pin.name)]
    if pin.alias_of is not None:
        lines.append(tomlwrite.assignment("alias_of", pin.alias_of))
    lines += [
        tomlwrite.assignment("repo", pin.repo),
        tomlwrite.assignment("commit", pin.commit),
        tomlwrite.assignment("path", pin.path),
        tomlwrite.assignment("sha256", pin.sha256),
        tomlwrite.assignment("bytes", pin.bytes),
    ]
    return "\n".join(lines)


def _without_draft(text: str) -> str:
    """pins.toml without the draft's entry and the comment lines right above it."""
    blocks = text.split("\n\n")
    kept = [b for b in blocks if f'name = "{DRAFT}"' not in b]
    return "\n\n".join(kept)


def _pin_draft_alias(pin: Pin, same: Pin, raw: bytes, schema_dir: Path, added: Added) -> Added:
    """The draft is byte-identical to a published revision: pin it as an alias of that one (the fetch
    fails on the hash when upstream's draft moves on, and the draft gets a module of its own then)."""
    alias = Pin(pin.name, pin.repo, pin.commit, pin.path, pin.sha256, pin.bytes, alias_of=same.name)
    text = _without_draft((schema_dir / "pins.toml").read_text())
    note = tomlwrite.comment_block(
        f"`draft` upstream is byte-identical to {same.name} at the pinned commit. It is an alias guarded by\n"
        "the hash: when upstream draft moves on, the fetch fails here and draft becomes a revision of its "
        "own."
    )
    (schema_dir / "pins.toml").write_text(
        text.rstrip("\n") + "\n\n" + "\n".join(note) + "\n" + _pin_entry(alias) + "\n"
    )
    for kind in ("overrides", "errata"):
        (schema_dir / kind / f"{DRAFT}.toml").unlink(missing_ok=True)
    cache = alias.cache_path(schema_dir)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(raw)
    added.pin = alias
    added.files = [schema_dir / "pins.toml", cache]
    added.decided.append(
        f"the draft is byte-identical to {same.name}: pinned as its alias, no module of its own"
    )
    return added


def _pins_text_with(schema_dir: Path, pin: Pin) -> str:
    """pins.toml with `pin` added after the last revision that has a module of its own (aliases such as
    `draft` stay last)."""
    text = (schema_dir / "pins.toml").read_text()
    entry = _pin_entry(pin)
    last = published_pins(schema_dir)[-1]
    marker = f'name = "{last.name}"'
    start = text.index(marker)
    # The end of that entry: the next blank line after its `name` line (entries are separated by one).
    end = text.find("\n\n", start)
    if end == -1:
        return text.rstrip("\n") + "\n\n" + entry + "\n"
    return text[:end] + "\n\n" + entry + text[end:]


def _carry_errata(
    previous: Pin, new_name: str, schema: dict[str, Any], schema_dir: Path, added: Added
) -> list[dict[str, Any]]:
    import tomllib

    path = schema_dir / "errata" / f"{previous.name}.toml"
    items: list[dict[str, Any]] = tomllib.loads(path.read_text()).get("erratum", []) if path.exists() else []
    carried: list[dict[str, Any]] = []
    for item in items:
        current = pointer_get(schema, item["pointer"])
        if "upstream" in item and current == item["upstream"]:
            entry = dict(item)
            entry["reference"] = (
                str(item.get("reference", "")).replace(f"schema/{previous.name}/", f"schema/{new_name}/")
                + f"; carried from {previous.name} (upstream value checked)"
            )
            carried.append(entry)
            added.decided.append(f"erratum {item['pointer']}: carried from {previous.name}, still needed")
        elif current is not _MISSING and current == item["corrected"]:
            added.decided.append(f"erratum {item['pointer']}: fixed upstream, not carried")
        else:
            shown = "nothing" if current is _MISSING else json.dumps(current)
            added.review.append(
                f"erratum {item['pointer']} of {previous.name} no longer applies (found {shown}): "
                "check whether the new schema needs another correction there"
            )
    return carried


def _errata_text(name: str, previous: str, items: list[dict[str, Any]]) -> str:
    lines = tomlwrite.comment_block(
        f"Corrections to upstream schema/{name}/schema.json so that it says what schema/{name}/schema.ts\n"
        f"says. Scaffolded by `python -m mcpbind.codegen add-revision` from {previous}'s errata: each was\n"
        "carried only where the new schema still has the exact upstream value it corrects; the generator\n"
        "asserts `upstream` at `pointer` before writing `corrected`, so a fix upstream fails loudly."
    )
    for item in items:
        lines += ["", "[[erratum]]"]
        for k in ("pointer", "upstream", "corrected", "reason", "reference"):
            if k in item:
                lines.append(tomlwrite.assignment(k, item[k]))
    return "\n".join(lines) + "\n"


def _overrides_text(name: str, previous: str, data: dict[str, Any], notes: dict[str, str]) -> str:
    """The overrides file: scalars, then each table, every value with a comment saying where it came from."""
    lines = tomlwrite.comment_block(
        f"Facts about MCP {name} that schema.json does not state, and the generator's normalisations.\n"
        f"Scaffolded by `python -m mcpbind.codegen add-revision` from the schema itself, its schema.ts\n"
        f"where available, and {previous}'s overrides; review every entry marked `review`."
    )
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for k, v in scalars.items():
        lines.append(tomlwrite.assignment(k, v, notes.get(k)))

    def table(path: str, node: dict[str, Any]) -> None:
        plain = {k: v for k, v in node.items() if not isinstance(v, dict) or _inline(path, k)}
        nested = {k: v for k, v in node.items() if k not in plain}
        if plain or not nested:
            lines.extend(["", f"[{path}]"])
            for k, v in plain.items():
                lines.append(tomlwrite.assignment(k, v, notes.get(f"{path}.{k}")))
        for k, v in nested.items():
            table(f"{path}.{tomlwrite.key(k)}", v)

    for k, v in data.items():
        if isinstance(v, dict):
            table(tomlwrite.key(k), v)
    return "\n".join(lines) + "\n"


def _inline(path: str, member: str) -> bool:
    # add_members.<Def>.<member> = { "$ref" = ... } is a JSON Schema, written inline.
    return path.startswith("add_members.")


def scaffold_overrides(
    name: str,
    previous: Pin,
    schema: dict[str, Any],
    ts: TsFacts | None,
    schema_dir: Path,
    added: Added,
) -> str:
    """The overrides file for `name`, from the schema, schema.ts and `previous`'s overrides."""
    prev_source = load_source(previous, schema_dir=schema_dir)
    prev = copy.deepcopy(prev_source.overrides)
    facts = facts_of(name, schema)
    defs = facts.defs
    notes: dict[str, str] = {}
    data: dict[str, Any] = {}

    version = ts.protocol_version if ts and ts.protocol_version else name
    data["protocol_version"] = version
    notes["protocol_version"] = (
        "LATEST_PROTOCOL_VERSION in schema.ts"
        if ts and ts.protocol_version
        else ("the revision's name (no schema.ts to read LATEST_PROTOCOL_VERSION from): review")
    )
    if not (ts and ts.protocol_version):
        added.review.append(
            "protocol_version is the revision's name: confirm LATEST_PROTOCOL_VERSION in schema.ts"
        )
    data["jsonrpc_version"] = (ts.jsonrpc_version if ts and ts.jsonrpc_version else None) or prev.get(
        "jsonrpc_version", "2.0"
    )
    notes["jsonrpc_version"] = (
        "JSONRPC_VERSION in schema.ts" if ts and ts.jsonrpc_version else f"from {previous.name}"
    )

    # Error codes: schema.ts constants where read, else the schema's *Error definitions; a code of the
    # previous revision that neither states is dropped and listed.
    stated = dict(ts.error_codes) if ts and ts.error_codes else schema_error_codes(defs)
    where = "schema.ts constant" if ts and ts.error_codes else "the schema's *Error definition"
    # The previous revision's order first (it is schema.ts's source order), then what is new.
    prev_codes: dict[str, int] = prev.get("error_codes", {})
    if stated:
        codes = {k: v for k, v in prev_codes.items() if stated.get(k) == v}
    else:
        # Revisions before 2026-07-28 state no error definitions at all: nothing to check against.
        codes = dict(prev_codes)
        where = f"{previous.name} (the schema states no error codes): review"
        if codes:
            added.review.append(
                f"error codes carried from {previous.name} unchecked: confirm them in schema.ts"
            )
    codes.update((k, v) for k, v in stated.items() if k not in codes and v not in codes.values())
    data["error_codes"] = codes
    for constant in codes:
        notes[f"error_codes.{constant}"] = where
    added.decided.append(f"error codes from {where}s: {', '.join(codes) or 'none'}")
    for constant, code in prev_codes.items():
        if constant not in codes:
            if code in codes.values():
                continue
            added.review.append(
                f"error code {constant} = {code} of {previous.name} is not stated by the new schema: "
                "add it to [error_codes] if schema.ts still declares it"
            )

    # Results: the schema's *ResultResponse definitions, else the previous revision's entry, else the
    # result named like the request (FooRequest -> FooResult), which is listed for review.
    requests = {m.name: m.definition for m in facts.methods.values() if m.kind == "request"}
    from_schema = schema_results(defs, facts.source.ref_prefix, requests)
    prev_results: dict[str, list[str]] = prev.get("results", {})
    results: dict[str, list[str]] = {}
    for method, def_name in requests.items():
        by_name = def_name.removesuffix("Request") + "Result"
        if method in from_schema:
            results[method] = from_schema[method]
            notes[f"results.{method}"] = f"{def_name.removesuffix('Request')}ResultResponse"
        elif method in prev_results and all(n in defs for n in prev_results[method]):
            results[method] = list(prev_results[method])
            notes[f"results.{method}"] = f"from {previous.name}"
        elif by_name in defs:
            results[method] = [by_name]
            notes[f"results.{method}"] = "named like the request: review"
            added.review.append(f"results {method!r} = [{by_name!r}] is by name only: confirm in schema.ts")
        else:
            added.review.append(
                f"results {method!r}: no result type found (no *ResultResponse, not in {previous.name}, "
                f"no {by_name}): add it to [results]"
            )
    data["results"] = results
    new_methods = sorted(set(requests) - set(prev_results))
    if new_methods:
        added.decided.append("result types of new requests: " + ", ".join(new_methods))

    task_results = {k: v for k, v in prev.get("task_results", {}).items() if k in requests and v in defs}
    if task_results:
        data["task_results"] = task_results
        for k in task_results:
            notes[f"task_results.{k}"] = f"from {previous.name}"

    # Normalisations and facts about definitions: carried where what they name still exists.
    def still(section: str, keep: dict[str, Any], why: str) -> None:
        if keep:
            data[section] = keep
        dropped = set(prev.get(section, {})) - set(keep)
        for k in sorted(dropped):
            added.review.append(f"[{section}] {k}: {why}, not carried")

    hoists = {
        k: v
        for k, v in prev.get("hoist", {}).items()
        if pointer_get(schema, v) is not _MISSING and k not in defs
    }
    still("hoist", hoists, "its pointer is gone or upstream defines it now")
    if "params_meta" in prev:
        data["params_meta"] = dict(prev["params_meta"])
    defaults = dict(prev.get("property_defaults", {}))
    if defaults:
        data["property_defaults"] = defaults
    consts = {k: v for k, v in prev.get("dispatch_consts", {}).items() if k in defs}
    still("dispatch_consts", consts, "its definition is gone")
    for section, inner in (("read_optional", "members"), ("read_lenient", "bounds")):
        if section in prev:
            data[section] = {inner: list(prev[section][inner])}
    members = {
        d: {m: s for m, s in ms.items() if m not in defs.get(d, {}).get("properties", {})}
        for d, ms in prev.get("add_members", {}).items()
        if d in defs
    }
    members = {d: ms for d, ms in members.items() if ms}
    still("add_members", members, "its definition is gone or upstream declares the member")
    if "open" in prev:
        # Names the generator gives inline objects (ToolInputSchema) as well as definitions: carried.
        data["open"] = {"objects": list(prev["open"]["objects"])}
    if "open_unions" in prev:
        data["open_unions"] = {
            tag: rule for tag, rule in prev["open_unions"].items() if rule.get("admitting") in defs
        }
    known = {
        "protocol_version", "jsonrpc_version", "error_codes", "results", "task_results", "hoist",
        "params_meta", "property_defaults", "dispatch_consts", "read_optional", "read_lenient",
        "add_members", "open", "open_unions",
    }  # fmt: skip
    for section in sorted(set(prev) - known):
        data[section] = copy.deepcopy(prev[section])
        added.review.append(f"[{section}] carried from {previous.name} as it is: check it still holds")
    return _overrides_text(name, previous.name, data, notes)


# -- the command ---------------------------------------------------------------------------------------


def add_revision(
    name: str,
    *,
    source_dir: Path | None = None,
    commit: str | None = None,
    schema_dir: Path = SCHEMA_DIR,
    repo: str = DEFAULT_REPO,
) -> Added:
    """Pin `name`, store its schema in the cache, and scaffold its overrides and errata files."""
    if not REVISION_NAME.match(name) and name != DRAFT:
        raise SchemaError(f"add-revision: {name!r} is not a revision name (YYYY-MM-DD, or {DRAFT!r})")
    if source_dir is None and commit is None:
        raise SchemaError("add-revision: give --from DIR (a mirror folder) or --commit SHA (upstream)")
    pins = load_pins(schema_dir)
    # The draft moves upstream: pinning it again replaces its pin and scaffold.
    if name != DRAFT:
        if any(p.name == name for p in pins):
            raise SchemaError(f"add-revision: {name} is pinned already in {schema_dir / 'pins.toml'}")
        for kind in ("overrides", "errata"):
            if (schema_dir / kind / f"{name}.toml").exists():
                raise SchemaError(f"add-revision: {schema_dir / kind / (name + '.toml')} exists already")
    raw = _read_source_file(source_dir, commit, repo, f"{name}/schema.json")
    if raw is None:
        where = (
            source_dir / name / "schema.json"
            if source_dir
            else raw_url(repo, commit or "", f"schema/{name}/schema.json")
        )
        raise SchemaError(f"add-revision: step 'read schema': {where} could not be read")
    try:
        schema = json.loads(raw)
    except ValueError as exc:
        raise SchemaError(
            f"add-revision: step 'read schema': {name}/schema.json is not JSON ({exc})"
        ) from None
    path = f"schema/{name}/schema.json"
    if commit is not None and not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise SchemaError(f"add-revision: --commit {commit!r} is not a full 40-digit commit id")
    if commit is None and source_dir is not None:
        recorded = _mirror_commit(source_dir, name)
        if recorded is None:
            raise SchemaError(
                f"add-revision: {source_dir} records no upstream commit for {name} (PINNED.json): "
                "give --commit"
            )
        commit, path = recorded
    assert commit is not None
    pin = Pin(name, repo, commit, path, hashlib.sha256(raw).hexdigest(), len(raw))
    previous = published_pins(schema_dir)[-1]
    added = Added(pin)
    if name == DRAFT:
        same = next((p for p in published_pins(schema_dir) if p.sha256 == pin.sha256), None)
        if same is not None:
            return _pin_draft_alias(pin, same, raw, schema_dir, added)

    ts_raw = _read_source_file(source_dir, commit, repo, f"{name}/schema.ts")
    ts = read_schema_ts(ts_raw.decode()) if ts_raw else None
    if ts is None:
        added.review.append(
            f"no schema.ts for {name} at the source: protocol version and error constants come from the "
            "schema and the revision name"
        )

    corrected = copy.deepcopy(schema)
    errata = _carry_errata(previous, name, corrected, schema_dir, added)
    apply_errata(corrected, errata, name)
    overrides = scaffold_overrides(name, previous, corrected, ts, schema_dir, added)

    # Everything decided: write pin, cache, errata, overrides (the pin last, so a failure leaves none).
    cache = pin.cache_path(schema_dir)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(raw)
    errata_path = schema_dir / "errata" / f"{name}.toml"
    overrides_path = schema_dir / "overrides" / f"{name}.toml"
    errata_path.write_text(_errata_text(name, previous.name, errata))
    overrides_path.write_text(overrides)
    if name == DRAFT:
        text = _without_draft((schema_dir / "pins.toml").read_text())
        (schema_dir / "pins.toml").write_text(text.rstrip("\n") + "\n\n" + _pin_entry(pin) + "\n")
    else:
        (schema_dir / "pins.toml").write_text(_pins_text_with(schema_dir, pin))
    added.files = [schema_dir / "pins.toml", errata_path, overrides_path, cache]
    new_source = load_source(pin, schema_dir=schema_dir)
    added.diff = render(
        compare(
            facts_of(previous.name, load_source(previous, schema_dir=schema_dir).schema),
            facts_of(name, new_source.schema),
        )
    )
    return added


def revision_diff(old: str, new: str, schema_dir: Path = SCHEMA_DIR) -> str:
    """The Markdown diff of two pinned revisions (corrected schemas)."""
    pins = {p.name: p for p in load_pins(schema_dir)}
    for name in (old, new):
        if name not in pins:
            raise SchemaError(f"diff: {name} is not pinned in {schema_dir / 'pins.toml'}")
    a = load_source(pins[old], schema_dir=schema_dir)
    b = load_source(pins[new], schema_dir=schema_dir)
    return render(compare(facts_of(old, a.schema), facts_of(new, b.schema)))
