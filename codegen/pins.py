"""The pin file (`schema/pins.toml`) and the examples manifest (`schema/examples.toml`), as data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

#: The project's `schema/` folder: pins, errata, overrides and the git-ignored cache.
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
CACHE_DIR = SCHEMA_DIR / "cache"
#: The name of the upstream draft's pin (`schema/draft/schema.json` upstream).
DRAFT = "draft"


@dataclass(frozen=True)
class Pin:
    """One schema revision, pinned to an upstream commit and the sha256 of its schema.json."""

    name: str
    repo: str
    commit: str
    path: str
    sha256: str
    bytes: int
    alias_of: str | None = None

    @property
    def draft(self) -> bool:
        """The upstream draft: generated when it differs from every revision, never the latest."""
        return self.name == DRAFT

    @property
    def module(self) -> str:
        """The generated module's name: `v2025_11_25` for revision `2025-11-25`."""
        return "v" + self.name.replace("-", "_")

    @property
    def url(self) -> str:
        """Where upstream serves the pinned file."""
        return raw_url(self.repo, self.commit, self.path)

    def cache_path(self, schema_dir: Path = SCHEMA_DIR) -> Path:
        """Where `fetch` stores this revision's schema.json."""
        return schema_dir / "cache" / self.name / "schema.json"


@dataclass(frozen=True)
class ExamplesPin:
    """The official example instances of one revision, each pinned by sha256."""

    revision: str
    repo: str
    commit: str
    path: str
    files: dict[str, str]

    def url(self, name: str) -> str:
        return raw_url(self.repo, self.commit, f"{self.path}/{name}")

    def cache_dir(self, schema_dir: Path = SCHEMA_DIR) -> Path:
        return schema_dir / "cache" / self.revision / "examples"


def raw_url(repo: str, commit: str, path: str) -> str:
    owner_name = repo.removeprefix("https://github.com/").strip("/")
    return f"https://raw.githubusercontent.com/{owner_name}/{commit}/{path}"


def load_pins(schema_dir: Path = SCHEMA_DIR) -> list[Pin]:
    data = tomllib.loads((schema_dir / "pins.toml").read_text())
    return [Pin(**entry) for entry in data["revision"]]


def generated_pins(schema_dir: Path = SCHEMA_DIR) -> list[Pin]:
    """The revisions that get a module of their own (aliases share their target's): the published
    ones, oldest first, then the draft when it is not an alias."""
    pins = [p for p in load_pins(schema_dir) if p.alias_of is None]
    return [p for p in pins if not p.draft] + [p for p in pins if p.draft]


def published_pins(schema_dir: Path = SCHEMA_DIR) -> list[Pin]:
    """The released revisions with a module of their own, oldest first; the last is the latest."""
    return [p for p in generated_pins(schema_dir) if not p.draft]


def load_examples(schema_dir: Path = SCHEMA_DIR) -> ExamplesPin:
    data = tomllib.loads((schema_dir / "examples.toml").read_text())
    pins = {p.name: p for p in load_pins(schema_dir)}
    rev = data["revision"]
    return ExamplesPin(rev, pins[rev].repo, data["commit"], data["path"], dict(data["files"]))
