#!/usr/bin/env python3
"""What verifying one JWT access token costs, in process: mcpbind's `JwtVerifier` (joserfc) beside
joserfc and PyJWT called bare, for RS256 and ES256 (what authorization servers sign with), and what the
same token costs when it comes again (the verifier's cache of verified tokens, its default).

    python bench/jwt_verify.py [--n 2000]

Each verification checks the signature, `iss`, `aud` and `exp`; the JWKS is loaded once (as a server
keeps it cached). PyJWT is measured when it is installed (`pip install -e .[bench]`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from mcpbind.auth.server.jwt import JwtVerifier

ISSUER = "https://issuer.bench.example"
AUDIENCE = "http://127.0.0.1:8000/mcp"


def per_call_us(fn: Callable[[], Any], n: int, rounds: int = 5) -> float:
    """Median over rounds of the mean microseconds per call."""
    for _ in range(n // 10):
        fn()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


async def per_call_async_us(
    verify: Callable[[str], Awaitable[Any]], token: str, n: int, rounds: int = 5
) -> float:
    """`per_call_us` for a coroutine function, awaited in one running loop (as a server awaits it)."""
    for _ in range(n // 10):
        await verify(token)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            await verify(token)
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    n = ap.parse_args().n
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "client_id": "c", "scope": "mcp", "exp": now + 3600}
    keys: dict[str, Any] = {
        "RS256": RSAKey.generate_key(2048, parameters={"kid": "rs"}),
        "ES256": ECKey.generate_key("P-256", parameters={"kid": "es"}),
    }
    print("| algorithm | mcpbind JwtVerifier µs | the same token again µs | joserfc bare µs | PyJWT µs |")
    print("|---|--:|--:|--:|--:|")
    for alg, key in keys.items():
        print(row(alg, key, claims, n))


def row(alg: str, key: Any, claims: dict[str, Any], n: int) -> str:
    token = jwt.encode({"alg": alg, "kid": key.kid}, claims, key)
    jwks = KeySet([key]).as_dict(private=False)
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks, algorithms=[alg], cache_size=0)
    ours = asyncio.run(per_call_async_us(verifier.verify, token, n))
    cached = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks, algorithms=[alg])
    ours_cached = asyncio.run(per_call_async_us(cached.verify, token, n))
    registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER}, aud={"value": AUDIENCE})
    keyset = KeySet.import_key_set(jwks)

    def bare() -> None:
        registry.validate(jwt.decode(token, keyset, algorithms=[alg]).claims)

    joserfc_us = per_call_us(bare, n)
    pyjwt_us = "—"
    try:
        import jwt as pyjwt
    except ImportError:
        pass
    else:
        pykey = pyjwt.PyJWKSet.from_dict(jwks).keys[0].key

        def with_pyjwt() -> None:
            pyjwt.decode(token, pykey, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)

        pyjwt_us = f"{per_call_us(with_pyjwt, n):.1f}"
    return f"| {alg} | {ours:.1f} | {ours_cached:.2f} | {joserfc_us:.1f} | {pyjwt_us} |"


if __name__ == "__main__":
    main()
