"""What the `mcpbind` command prints: results on stdout (text, or JSON with `--json`); progress and the
server's log messages on stderr, as a live bar on a terminal and as plain lines otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from .. import wire

__all__ = ["Reporter", "as_json", "first_line", "shown"]

_CONTROLS: dict[int, str] = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code not in (0x09, 0x0A)
}


def shown(text: str) -> str:
    """Text of the server's as the terminal is to show it: control characters (ESC, CR, C1 ...)
    spelled out, so that a server cannot move the cursor, clear the screen, retitle the window or
    write the clipboard through what the command prints about it (JSON output spells out the C0 ones
    itself)."""
    return text.translate(_CONTROLS)


def as_json(value: Any) -> str:
    return json.dumps(wire.to_builtins(value), indent=2, ensure_ascii=False)


def first_line(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return shown(text.splitlines()[0][:100]) if text else ""


class Reporter:
    """Progress and log messages, on `stream` (stderr)."""

    def __init__(self, stream: TextIO | None = None, *, bar_width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.bar_width = bar_width
        self._drawn = False

    async def progress(self, done: float, total: float | None, message: str | None) -> None:
        note = f" {shown(message)}" if message else ""
        if not self.live:
            amount = f"{done:g}/{total:g}" if total else f"{done:g}"
            print(f"progress: {amount}{note}", file=self.stream, flush=True)
            return
        if total:
            filled = max(0, min(self.bar_width, round(self.bar_width * done / total)))
            bar = f"[{'#' * filled}{'.' * (self.bar_width - filled)}] {100 * done / total:3.0f}%"
        else:
            bar = f"[{done:g}]"
        self.stream.write(f"\r\x1b[K{bar}{note}")
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        """End the live bar's line, if one was drawn."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    async def log(self, params: dict[str, Any]) -> None:
        self.done()
        data = params.get("data")
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        logger = f" {params['logger']}" if params.get("logger") else ""
        head = shown(f"{params.get('level', 'info')}{logger}")
        print(f"[{head}] {shown(text)}", file=self.stream, flush=True)
