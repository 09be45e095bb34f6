"""Where the OAuth client keeps tokens and client registrations: in memory (the default) or in a file.

A `TokenStore` maps string keys to JSON objects; the provider keys tokens by resource and
authorization server, and registrations by authorization server (credentials from one authorization
server are never offered to another). `FileTokenStore` is for the CLI: one JSON file, created 0600 in
a 0700 folder, replaced atomically.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

__all__ = ["TokenStore", "MemoryTokenStore", "FileTokenStore", "default_path"]


class TokenStore(Protocol):
    async def load(self, key: str) -> dict[str, Any] | None: ...

    async def save(self, key: str, value: dict[str, Any]) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryTokenStore:
    """Tokens for the life of the process."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}

    async def load(self, key: str) -> dict[str, Any] | None:
        value = self._items.get(key)
        return dict(value) if value is not None else None

    async def save(self, key: str, value: dict[str, Any]) -> None:
        self._items[key] = dict(value)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)


def default_path() -> Path:
    """$XDG_STATE_HOME/mcpbind/oauth.json (~/.local/state/mcpbind/oauth.json)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "mcpbind" / "oauth.json"


class FileTokenStore:
    """One JSON file readable by its owner only. A file with wider permissions is refused (someone
    may have read the tokens), as is one that is not a JSON object."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._lock = asyncio.Lock()

    def _read(self) -> dict[str, Any]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        if os.name == "posix" and stat.st_mode & 0o077:
            raise PermissionError(
                f"{self.path} is readable by others (mode {stat.st_mode & 0o777:o}): refused"
            )
        data = json.loads(self.path.read_text("utf-8") or "{}")
        if not isinstance(data, dict):
            raise ValueError(f"{self.path} is not a JSON object")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".oauth-", dir=self.path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def load(self, key: str) -> dict[str, Any] | None:
        async with self._lock:
            value = self._read().get(key)
        return value if isinstance(value, dict) else None

    async def save(self, key: str, value: dict[str, Any]) -> None:
        async with self._lock:
            data = self._read()
            data[key] = value
            self._write(data)

    async def delete(self, key: str) -> None:
        async with self._lock:
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)
