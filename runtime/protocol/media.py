"""Content negotiation, pure: which of the media types MCP answers with an HTTP `Accept` header takes."""

from __future__ import annotations

__all__ = ["accepts", "ACCEPT_CACHE"]

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
