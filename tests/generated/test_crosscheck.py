"""An independent parse of each corrected schema: datamodel-code-generator 0.89 must agree with ours.

For every revision, datamodel-codegen turns `source(rev).schema` into msgspec Structs
(`--input-file-type jsonschema --output-model-type msgspec.Struct`); for each definition that our module
generates as a class of its own (a `Struct`, or an `OpenObject` through its `_fields_` Struct of declared
members), its class of the same name must have the same wire member names, and the same required ones.

Where the two differ by design, the comparison is normalised, not skipped:

* discriminating constants: both make them a msgspec `tag_field` (a class attribute, absent from
  `msgspec.structs.fields`); both sides count the tag as a required member;
* required members our binding defaults on decode (required constants such as `jsonrpc`, the
  `property_defaults` of the overrides such as 2026-07-28's `resultType`) count as required: they are
  always sent; so do the overrides' `read_optional` members (2026-07-28's `ttlMs`, `cacheScope`), which
  senders MUST send and receivers accept absent.

Definitions left out, each for a stated reason (`SKIPS` below counts them per revision):

* `alias`: our type for the definition is another definition's (`ClientResult` is `Result`): compared
  under that definition's name;
* `not a class`: unions, scalar aliases and free-form maps, for which neither side has members to compare.

A definition we generate as a class that datamodel-codegen renders as something else (a union alias,
a map) is a disagreement, not a skip. datamodel-codegen renames a class whose name clashes with a name it
imports (`Annotated` -> `AnnotatedModel` in 2024-11-05): `RENAMED` maps those.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from datamodel_code_generator import DataModelType, InputFileType, generate

from mcpbind.wire import OpenObject

from ..conftest import CROSSCHECK_COUNTS, REVISIONS, module, source

#: Our definition name -> datamodel-codegen's class name, where it renames (a clash with `typing`).
RENAMED = {"Annotated": "AnnotatedModel"}
#: A floor on the share of a revision's definitions compared, against a silently empty comparison.
MIN_SHARE = 0.6


@cache
def theirs(rev: str, workdir: Path) -> ModuleType:
    """datamodel-codegen's msgspec module for the corrected schema of `rev`, imported."""
    schema_path = workdir / f"{rev}.json"
    schema_path.write_text(json.dumps(source(rev).schema))
    name = "_dmc_" + module(rev).__name__.rsplit(".", 1)[-1]
    out = workdir / f"{name}.py"
    with warnings.catch_warnings():
        # It warns about every union msgspec cannot decode without tags: not what is compared here.
        warnings.simplefilter("ignore")
        generate(
            schema_path,
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.MsgspecStruct,
            output=out,
            disable_timestamp=True,
        )
    spec = importlib.util.spec_from_file_location(name, out)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # msgspec resolves the postponed annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


def members(tp: type[msgspec.Struct], always_sent: frozenset[str] = frozenset()) -> tuple[set[str], set[str]]:
    """(wire names, required wire names) of a Struct class, its tag included as required.

    A member with a default other than UNSET is always sent (a constant or property default), so it
    counts as required; so does one in `always_sent`.
    """
    fields = msgspec.structs.fields(tp)
    names = {f.encode_name for f in fields}
    required = {
        f.encode_name
        for f in fields
        if f.required or f.default is not msgspec.UNSET or f.encode_name in always_sent
    }
    tag = tp.__struct_config__.tag_field
    if tag is not None:
        names.add(tag)
        required.add(tag)
    return names, required


def their_members(tp: type[msgspec.Struct]) -> tuple[set[str], set[str]]:
    fields = msgspec.structs.fields(tp)
    names = {f.encode_name for f in fields}
    required = {f.encode_name for f in fields if f.required}
    tag = tp.__struct_config__.tag_field
    if tag is not None:
        names.add(tag)
        required.add(tag)
    return names, required


def is_struct_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, msgspec.Struct)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("datamodel-codegen")


@pytest.mark.parametrize("rev", REVISIONS)
def test_datamodel_codegen_agrees_on_members(rev: str, workdir: Path) -> None:
    src = source(rev)
    ours_mod = module(rev)
    dmc = theirs(rev, workdir)
    read_optional = frozenset(src.overrides.get("read_optional", {}).get("members", []))
    skips: dict[str, list[str]] = {"alias": [], "not a class": []}
    compared: list[str] = []
    disagreements: list[str] = []
    for name in src.defs:
        ours = getattr(ours_mod, name)
        if not (isinstance(ours, type) and issubclass(ours, (msgspec.Struct, OpenObject))):
            skips["not a class"].append(name)
            continue
        if ours.__name__ != name:
            skips["alias"].append(name)
            continue
        other = getattr(dmc, RENAMED.get(name, name), None)
        if not is_struct_class(other):
            disagreements.append(f"{name}: ours is a class, datamodel-codegen's is {other!r}")
            continue
        fields_tp = ours._fields_ if issubclass(ours, OpenObject) else ours
        our_names, our_required = members(fields_tp, read_optional)
        their_names, their_required = their_members(other)
        compared.append(name)
        if our_names != their_names:
            disagreements.append(
                f"{name}: members only ours {sorted(our_names - their_names)}, "
                f"only theirs {sorted(their_names - our_names)}"
            )
        elif our_required != their_required:
            disagreements.append(
                f"{name}: required only ours {sorted(our_required - their_required)}, "
                f"only theirs {sorted(their_required - our_required)}"
            )
    CROSSCHECK_COUNTS[rev] = {
        "compared": len(compared),
        "open": sum(issubclass(getattr(ours_mod, n), OpenObject) for n in compared),
        **{reason: len(names) for reason, names in skips.items()},
    }
    assert not disagreements, "\n".join(disagreements)
    assert len(compared) >= MIN_SHARE * len(src.defs), f"compared only {len(compared)} of {len(src.defs)}"
