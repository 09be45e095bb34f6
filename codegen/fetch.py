"""Fill the git-ignored schema cache from upstream or from a local mirror, verifying every sha256.

A mirror directory is laid out like `../shared/mcp-spec`: `<revision>/schema.json` and
`<revision>/examples/<Type>/<name>.json`. A URL is a base under which the same layout is served; with no
source at all, each file comes from the upstream commit it is pinned to.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .pins import SCHEMA_DIR, Pin, load_examples, load_pins


class FetchError(Exception):
    """A file could not be fetched, or its content is not the pinned one."""


@dataclass
class FetchReport:
    schemas: int = 0
    examples: int = 0


def _read(source: str | None, relative: str, upstream_url: str) -> bytes:
    if source is None:
        url = upstream_url
    elif "://" in source:
        url = source.rstrip("/") + "/" + relative
    else:
        path = Path(source) / relative
        try:
            return path.read_bytes()
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}") from None
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data: bytes = response.read()
            return data
    except OSError as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from None


def _verify(name: str, data: bytes, sha256: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise FetchError(f"sha256 mismatch for {name}: pinned {sha256}, got {digest}")


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _mirror_name(pin: Pin) -> str:
    # A local mirror holds an alias (draft) under its target's folder; the hash guards the equality.
    return pin.alias_of or pin.name


def fetch(source: str | None = None, schema_dir: Path = SCHEMA_DIR) -> FetchReport:
    """Fetch every pinned schema and example into `schema_dir/cache`; raise FetchError naming a bad file."""
    report = FetchReport()
    for pin in load_pins(schema_dir):
        rel = f"{_mirror_name(pin)}/schema.json"
        target = pin.cache_path(schema_dir)
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == pin.sha256:
            report.schemas += 1
            continue
        data = _read(source, rel, pin.url)
        _verify(f"{pin.name}/schema.json ({source or pin.url})", data, pin.sha256)
        _store(target, data)
        report.schemas += 1
    examples = load_examples(schema_dir)
    for name, sha in sorted(examples.files.items()):
        target = examples.cache_dir(schema_dir) / name
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha:
            report.examples += 1
            continue
        rel = f"{examples.revision}/examples/{name}"
        data = _read(source, rel, examples.url(name))
        _verify(f"{rel} ({source or examples.url(name)})", data, sha)
        _store(target, data)
        report.examples += 1
    return report
