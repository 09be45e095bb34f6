"""`python -m mcpbind.codegen fetch | generate [--check] | summary | add-revision REV | diff A B | docs`."""

from __future__ import annotations

import argparse
import difflib
import itertools
import sys
from pathlib import Path

from .build import build
from .fetch import FetchError, fetch
from .model import AliasDef, DispatchDef, Module, StructDef
from .pins import SCHEMA_DIR, generated_pins, load_pins, published_pins
from .render import more_module, render_module, render_template
from .revision import add_revision, revision_diff
from .source import SchemaError, load_source

GENERATED_DIR = Path(__file__).resolve().parent.parent / "generated"
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "revisions"


def build_all(schema_dir: Path = SCHEMA_DIR) -> list[Module]:
    return [build(load_source(pin, schema_dir=schema_dir)) for pin in generated_pins(schema_dir)]


def render_all(modules: list[Module], schema_dir: Path = SCHEMA_DIR) -> dict[str, str]:
    """Every generated file, by name, as the generator would write it."""
    files = {f"{m.module}.py": render_module(m) for m in modules}
    files.update({f"{m.module}.pyi": render_module(m, stub=True) for m in modules})
    files.update({f"{more_module(m)}.py": render_module(m, more=True) for m in modules})
    files.update({f"{more_module(m)}.pyi": render_module(m, stub=True, more=True) for m in modules})
    pins = load_pins(schema_dir)
    published = [m for m in modules if m.revision != "draft"]
    latest = published[-1]
    draft = next((m for m in modules if m.revision == "draft"), None)
    files["__init__.py"] = render_template(
        "package.py.jinja", modules=published, draft=draft, pins=pins, latest=latest
    )
    files["latest.py"] = render_template("latest.py.jinja", latest=latest)
    files["latest.pyi"] = render_template("latest.pyi.jinja", latest=latest)
    return files


def generate(check: bool, out_dir: Path = GENERATED_DIR, schema_dir: Path = SCHEMA_DIR) -> int:
    files = render_all(build_all(schema_dir), schema_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = 0
    for name, text in sorted(files.items()):
        path = out_dir / name
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        stale += 1
        if check:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"a/generated/{name}",
                    f"b/generated/{name}",
                    n=2,
                )
            )
        else:
            path.write_text(text)
            print(f"wrote generated/{name}")
    known = set(files) | {"py.typed"}
    extra = sorted(p.name for p in out_dir.glob("*") if p.is_file() and p.name not in known)
    if check:
        for name in extra:
            print(f"generated/{name} is not produced by the generator")
        if stale or extra:
            print(f"generated/ is stale: {stale} file(s) differ; run `python -m mcpbind.codegen generate`")
            return 1
        print(f"generated/ is up to date ({len(files)} files)")
    if out_dir == GENERATED_DIR and schema_dir == SCHEMA_DIR:
        # The revision diffs in the docs follow the pins: a new revision's page comes with its module.
        return revision_docs(check)
    return 0


def summary(schema_dir: Path = SCHEMA_DIR) -> int:
    for m in build_all(schema_dir):
        structs = sum(isinstance(d, StructDef) and not d.open for d in m.definitions)
        opens = sum(isinstance(d, StructDef) and d.open for d in m.definitions)
        tagged = sum(isinstance(d, StructDef) and d.tag_field is not None for d in m.definitions)
        dispatch = sum(isinstance(d, DispatchDef) for d in m.definitions)
        aliases = sum(isinstance(d, AliasDef) for d in m.definitions)
        reqs = sum(x.kind == "request" for x in m.methods)
        notes = len(m.methods) - reqs
        era = "stateless" if m.stateless else "stateful"
        print(
            f"{m.revision}  {era:9}  {structs} structs ({tagged} tagged), {opens} open objects, "
            f"{dispatch} dispatched unions, {aliases} aliases; {reqs} requests, {notes} notifications; "
            f"{len(m.error_codes)} error codes; {m.errata_count} errata; schema {m.schema_sha256[:12]}"
        )
    return 0


def revision_docs(check: bool, out_dir: Path = DOCS_DIR, schema_dir: Path = SCHEMA_DIR) -> int:
    """docs/revisions/<old>_<new>.md for each pair of consecutive published revisions, and an index."""
    names = [p.name for p in published_pins(schema_dir)]
    files: dict[str, str] = {}
    index = ["# What changed between revisions", ""]
    for old, new in itertools.pairwise(names):
        files[f"{old}_{new}.md"] = revision_diff(old, new, schema_dir)
        index.append(f"- [{old} -> {new}]({old}_{new}.md)")
    index += [
        "",
        "Each page is `python -m mcpbind.codegen diff OLD NEW`, written by `python -m mcpbind.codegen docs`.",
        "",
    ]
    files["index.md"] = "\n".join(index)
    stale = [n for n, t in files.items() if not (out_dir / n).exists() or (out_dir / n).read_text() != t]
    if check:
        for name in stale:
            print(f"docs/revisions/{name} is stale")
        return 1 if stale else 0
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (out_dir / name).write_text(files[name])
        print(f"wrote docs/revisions/{name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcpbind.codegen", description=__doc__)
    parser.add_argument(
        "--schema-dir",
        type=Path,
        default=SCHEMA_DIR,
        help="pins, errata, overrides and cache (default: schema/)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser(
        "fetch", help="fetch and verify the pinned schemas and examples into schema/cache"
    )
    p_fetch.add_argument(
        "--from", dest="source", metavar="DIR_OR_URL", help="a local mirror or base URL (default: upstream)"
    )
    p_gen = sub.add_parser("generate", help="regenerate generated/ from the cached schemas")
    p_gen.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and show the diff if stale"
    )
    p_gen.add_argument("--out", type=Path, default=GENERATED_DIR, help="output folder (default: generated/)")
    sub.add_parser("summary", help="one line per revision: what the generator makes of it")
    p_add = sub.add_parser(
        "add-revision",
        help="pin a new revision and scaffold its overrides and errata (then run `generate`)",
        description="Pin a new schema revision (sha256, size), store it in the cache, scaffold "
        "schema/overrides/REV.toml and schema/errata/REV.toml from the schema, its schema.ts and the "
        "previous revision, and print what was decided, what is left for review and the revision diff.",
    )
    p_add.add_argument("revision", help="the new revision's name, e.g. 2026-12-15")
    p_add.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="DIR",
        help="a mirror folder holding REV/schema.json (and REV/schema.ts if it has it); the upstream commit "
        "comes from its PINNED.json, or --commit",
    )
    p_add.add_argument(
        "--commit",
        metavar="SHA",
        help="the upstream commit to pin (and, without --from, to read schema/REV/ from)",
    )
    p_diff = sub.add_parser("diff", help="what changed between two pinned revisions, as Markdown")
    p_diff.add_argument("old")
    p_diff.add_argument("new")
    p_docs = sub.add_parser(
        "docs", help="write docs/revisions/: the diff of each pair of consecutive published revisions"
    )
    p_docs.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    p_docs.add_argument("--out", type=Path, default=DOCS_DIR, help="output folder (default: docs/revisions)")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            report = fetch(args.source, args.schema_dir)
            print(f"fetched and verified {report.schemas} schemas and {report.examples} examples")
            return 0
        if args.command == "generate":
            return generate(args.check, args.out, args.schema_dir)
        if args.command == "add-revision":
            added = add_revision(
                args.revision, source_dir=args.source, commit=args.commit, schema_dir=args.schema_dir
            )
            print(added.report())
            return 0
        if args.command == "diff":
            print(revision_diff(args.old, args.new, args.schema_dir))
            return 0
        if args.command == "docs":
            return revision_docs(args.check, args.out, args.schema_dir)
        return summary(args.schema_dir)
    except (FetchError, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
