"""Content blocks for tool results and prompt messages: text, image, audio, embedded resources, links.

    from mcpbind.server import content

    @server.tool()
    def chart() -> list[content.Content]:
        return [content.text("Sales by month"), content.image(Path("chart.png"))]

Binary data comes in as bytes or a path (read, base64-encoded, its MIME type guessed from the file
name unless given). The blocks are the newest revision's generated types; a server sends each
revision what it has (a block of a kind the revision lacks, audio under 2024-11-05 say, is refused).
"""

from __future__ import annotations

import base64
import mimetypes
from os import PathLike
from pathlib import Path
from typing import Any

from ..generated import latest as mcp

__all__ = ["Content", "text", "image", "audio", "embedded", "resource_link", "blob"]

Content = mcp.TextContent | mcp.ImageContent | mcp.AudioContent | mcp.EmbeddedResource | mcp.ResourceLink
"""Any block these helpers make (a tool may return one, or a list)."""

Data = bytes | str | PathLike[str]
"""Bytes, or the path of a file to read (a `str` is a path here: text goes through `text`)."""


def _read(data: Data, mime_type: str | None, kind: str) -> tuple[str, str]:
    """(base64 data, MIME type) of bytes or a file."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if mime_type is None:
            raise ValueError(f"{kind} bytes need a mime_type (only a path's MIME type can be guessed)")
    else:
        path = Path(data)
        raw = path.read_bytes()
        if mime_type is None:
            mime_type = mimetypes.guess_type(path.name)[0]
            if mime_type is None:
                raise ValueError(f"the MIME type of {path.name!r} cannot be guessed: pass mime_type")
    return base64.b64encode(raw).decode("ascii"), mime_type


def _meta(meta: dict[str, Any] | None) -> dict[str, Any]:
    return {} if meta is None else {"meta": meta}


def text(
    value: str, *, annotations: mcp.Annotations | None = None, meta: dict[str, Any] | None = None
) -> mcp.TextContent:
    """A text block."""
    block = mcp.TextContent(text=value, **_meta(meta))
    if annotations is not None:
        block.annotations = annotations
    return block


def image(
    data: Data,
    mime_type: str | None = None,
    *,
    annotations: mcp.Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> mcp.ImageContent:
    """An image from bytes (with `mime_type`) or a file (`image/png` guessed from `chart.png`)."""
    encoded, mime = _read(data, mime_type, "image")
    block = mcp.ImageContent(data=encoded, mime_type=mime, **_meta(meta))
    if annotations is not None:
        block.annotations = annotations
    return block


def audio(
    data: Data,
    mime_type: str | None = None,
    *,
    annotations: mcp.Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> mcp.AudioContent:
    """Audio from bytes (with `mime_type`) or a file (2025-03-26 on)."""
    encoded, mime = _read(data, mime_type, "audio")
    block = mcp.AudioContent(data=encoded, mime_type=mime, **_meta(meta))
    if annotations is not None:
        block.annotations = annotations
    return block


def blob(uri: str, data: Data, mime_type: str | None = None) -> mcp.BlobResourceContents:
    """A resource's binary contents (for `embedded`, or as what a resource function returns)."""
    encoded, mime = _read(data, mime_type, "blob")
    return mcp.BlobResourceContents(uri=uri, blob=encoded, mime_type=mime)


def embedded(
    uri: str,
    contents: str | bytes | PathLike[str] | mcp.TextResourceContents | mcp.BlobResourceContents,
    mime_type: str | None = None,
    *,
    annotations: mcp.Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> mcp.EmbeddedResource:
    """A resource embedded in a result: text (a `str` here is the text itself), bytes or a file."""
    resource: mcp.TextResourceContents | mcp.BlobResourceContents
    if isinstance(contents, mcp.TextResourceContents | mcp.BlobResourceContents):
        resource = contents
    elif isinstance(contents, str):
        resource = mcp.TextResourceContents(uri=uri, text=contents)
        if mime_type is not None:
            resource.mime_type = mime_type
    else:
        resource = blob(uri, contents, mime_type)
    block = mcp.EmbeddedResource(resource=resource, **_meta(meta))
    if annotations is not None:
        block.annotations = annotations
    return block


def resource_link(uri: str, name: str, **members: Any) -> mcp.ResourceLink:
    """A link to a resource the client may read (2025-06-18 on); `members`: `title`, `description`,
    `mime_type`, `size`, `icons`, ... as the revision's `ResourceLink` has them."""
    return mcp.ResourceLink(uri=uri, name=name, **members)
