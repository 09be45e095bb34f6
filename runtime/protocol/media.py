"""Content negotiation, pure: which of the media types MCP answers with an HTTP `Accept` header takes."""

from __future__ import annotations

from typing import Final

from ..errors import quoted

__all__ = ["accepts", "ACCEPT_CACHE", "BOTH", "json_body_refusal"]

BOTH: Final = (True, True)
"""`accepts` of an Accept that takes both JSON and SSE, as a POST's must: this very tuple, so that a hot
path can test a cached verdict with `is`."""

ACCEPT_CACHE: dict[str | bytes, tuple[bool, bool]] = {}
"""`accepts` by Accept value, as worked out (bounded). A hot path may read it first and save the call."""


def accepts(accept: str | bytes) -> tuple[bool, bool]:
    """Whether `accept` (text, or the value as received) takes application/json, and text/event-stream
    (RFC 9110 12.5.1: media ranges, `type/*` and `*/*`, the most specific range deciding, q=0 meaning
    "not acceptable"). Clients send the same one or two values again and again: each is worked out once."""
    known = ACCEPT_CACHE.get(accept)
    if known is not None:
        return known
    ranges: list[tuple[str, str, int, float]] = []
    text = accept if isinstance(accept, str) else accept.decode("latin-1")
    for item in text.split(","):
        kind, *params = item.split(";")
        main, _, sub = kind.strip().lower().partition("/")
        if not main or not sub:
            continue  # not a media range
        q, extra = 1.0, 0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() != "q":
                extra += 1
                continue
            try:
                q = float(value.strip())
            except ValueError:
                q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((main, sub, extra, q))
    known = (_quality(ranges, "application", "json") > 0, _quality(ranges, "text", "event-stream") > 0)
    if known == BOTH:
        known = BOTH  # (one object for the usual verdict: see `BOTH`)
    if len(ACCEPT_CACHE) >= 256:
        ACCEPT_CACHE.clear()  # bounded: Accept is the client's to choose
    ACCEPT_CACHE[accept] = known
    return known


def _quality(ranges: list[tuple[str, str, int, float]], main: str, sub: str) -> float:
    """The weight the most specific range matching `main/sub` gives it (0 when none matches)."""
    best, weight = -1, 0.0
    for range_main, range_sub, extra, q in ranges:
        if range_main == "*" and range_sub == "*":
            rank = 0
        elif range_main != main:
            continue
        elif range_sub == "*":
            rank = 1
        elif range_sub == sub:
            rank = 2 + (extra > 0)
        else:
            continue
        if rank > best:
            best, weight = rank, q
    return weight


_CHARSETS: dict[str, str | None] = {}


def json_body_refusal(content_type: str) -> str | None:
    """Why a body of `content_type` (some `application/json; ...`) cannot be read, or None. JSON is
    UTF-8 (RFC 8259 8.1: application/json defines no charset, and one other than UTF-8 is text this
    server would misread), so a `charset` parameter other than UTF-8 (any case, quoted or not) is
    refused, with 415 (RFC 9110 15.5.16: a content coding or type the server does not support). Each
    value is worked out once (bounded, as `accepts` does)."""
    known = _CHARSETS.get(content_type, "")
    if known != "":
        return known
    why = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() != "charset":
            continue
        charset = value.strip()
        if len(charset) >= 2 and charset[0] == charset[-1] == '"':
            charset = charset[1:-1]
        if charset.lower() not in ("utf-8", "utf8"):  # (utf8: a common alias of the same)
            why = f"application/json is read as UTF-8, not as charset {quoted(charset)}: send UTF-8"
            break
    if len(_CHARSETS) >= 256:
        _CHARSETS.clear()  # bounded: Content-Type is the client's to choose
    _CHARSETS[content_type] = why
    return why
