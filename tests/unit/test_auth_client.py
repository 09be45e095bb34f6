"""The OAuth client's decisions, without sockets: challenges, the discovery fallback order, the resource
check, PKCE, the authorization response's checks (RFC 9207 `iss` exactly), token endpoint
authentication, DPoP proofs, and the metadata documents' shapes."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest

pytest.importorskip("joserfc")

from joserfc import jwt
from joserfc.jwk import ECKey

from mcpbind.auth.client import FileTokenStore, LoopbackBrowser, cli_provider
from mcpbind.auth.client.challenge import find, parse
from mcpbind.auth.client.discovery import ServerMetadata, metadata_urls, prm_urls, resource_matches
from mcpbind.auth.client.dpop import DPoPKey, proof_nonce
from mcpbind.auth.client.errors import OAuthError
from mcpbind.auth.client.flow import authorization_url, check_callback, pkce_pair
from mcpbind.auth.client.grants import auth_method
from mcpbind.auth.client.provider import canonical
from mcpbind.auth.client.registration import dcr_auth_method
from mcpbind.auth.client.tokens import ClientInfo, Tokens

AS = "https://auth.example.com"


def metadata(**fields: object) -> ServerMetadata:
    base: dict[str, object] = {
        "issuer": AS,
        "authorization_endpoint": f"{AS}/authorize",
        "token_endpoint": f"{AS}/token",
        "code_challenge_methods_supported": ["S256"],
    }
    return msgspec.convert({**base, **fields}, ServerMetadata)


# -- WWW-Authenticate --------------------------------------------------------------------------------------


def test_a_bearer_challenge_is_read_with_quoted_commas_and_any_case() -> None:
    [challenge] = parse(
        'bearer Error="insufficient_scope", scope="a b", error_description="no, not that",'
        ' resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
    )
    assert challenge.is_scheme("Bearer")
    assert challenge.params["error"] == "insufficient_scope"
    assert challenge.scope == ["a", "b"]
    assert challenge.params["error_description"] == "no, not that"


def test_several_challenges_and_broken_ones() -> None:
    challenges = parse('DPoP error="use_dpop_nonce", algs="ES256", Bearer realm="x", Basic')
    assert [c.scheme for c in challenges] == ["DPoP", "Bearer", "Basic"]
    assert find(challenges, "bearer") is challenges[1]
    assert find(challenges, "Negotiate") is None
    # An unterminated quoted string ends the parse, keeping what came before; nothing raises.
    assert [c.scheme for c in parse('Bearer scope="open')] == ["Bearer"]
    assert parse("") == [] and parse("   ,, ") == []


# -- discovery order ---------------------------------------------------------------------------------------


def test_prm_is_looked_for_in_the_header_then_path_based_then_at_the_root() -> None:
    header = "https://mcp.example.com/custom/prm.json"
    assert prm_urls("https://mcp.example.com/public/mcp/", header) == [
        header,
        "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
        "https://mcp.example.com/.well-known/oauth-protected-resource",
    ]
    assert prm_urls("https://mcp.example.com", None) == [
        "https://mcp.example.com/.well-known/oauth-protected-resource"
    ]


def test_authorization_server_metadata_fallback_order() -> None:
    assert metadata_urls("https://auth.example.com/tenant1") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]
    assert metadata_urls("https://auth.example.com/") == [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration",
    ]


@pytest.mark.parametrize(
    ("resource", "ok"),
    [
        ("https://mcp.example.com/mcp", True),
        ("https://MCP.example.com/mcp/", True),
        ("https://mcp.example.com", True),  # a resource for the whole host covers its paths
        ("https://mcp.example.com/mc", False),  # not on a segment boundary
        ("https://mcp.example.com/other", False),
        ("http://mcp.example.com/mcp", False),
        ("https://mcp.example.com:8443/mcp", False),
        ("https://evil.example.com/mcp", False),
        ("https://mcp.example.com/mcp#frag", False),
    ],
)
def test_the_prm_resource_must_cover_the_server(resource: str, ok: bool) -> None:
    assert resource_matches("https://mcp.example.com/mcp", resource) is ok


def test_the_canonical_server_uri() -> None:
    assert canonical("HTTPS://MCP.Example.com/mcp/?x=1#y") == "https://mcp.example.com/mcp"


def test_metadata_documents_of_the_wrong_shape_are_refused_by_type() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"issuer": AS}, ServerMetadata, strict=True)  # no token_endpoint
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(
            {"issuer": AS, "token_endpoint": "x", "scopes_supported": "a b"}, ServerMetadata, strict=True
        )


# -- PKCE and the authorization request --------------------------------------------------------------------


def test_pkce_is_s256_over_a_fresh_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert pkce_pair()[0] != verifier


def test_the_authorization_url_carries_pkce_resource_and_scope_only_when_chosen() -> None:
    url = authorization_url(
        metadata(),
        "c1",
        "http://127.0.0.1:1/cb",
        challenge="ch",
        state="st",
        resource="https://m/mcp",
        scope=None,
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "c1",
        "redirect_uri": "http://127.0.0.1:1/cb",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
        "state": "st",
        "resource": "https://m/mcp",
    }
    with_scope = authorization_url(
        metadata(authorization_endpoint=f"{AS}/authorize?tenant=a"),
        "c1",
        "r",
        challenge="ch",
        state="st",
        resource="x",
        scope="a b",
    )
    assert "?tenant=a&" in with_scope and "scope=a+b" in with_scope


@pytest.mark.parametrize("methods", [None, ["plain"]])
def test_a_server_without_s256_is_refused(methods: list[str] | None) -> None:
    with pytest.raises(OAuthError, match="S256"):
        authorization_url(
            metadata(code_challenge_methods_supported=methods),
            "c",
            "r",
            challenge="c",
            state="s",
            resource="x",
            scope=None,
        )


# -- the authorization response (RFC 9207) -----------------------------------------------------------------


def callback(**params: str) -> str:
    return "http://127.0.0.1:1/cb?" + "&".join(f"{k}={v}" for k, v in params.items())


def test_a_matching_iss_is_accepted_and_an_absent_one_when_not_advertised() -> None:
    assert (
        check_callback(callback(code="c", state="s", iss=AS), state="s", issuer=AS, iss_supported=True) == "c"
    )
    assert check_callback(callback(code="c", state="s"), state="s", issuer=AS, iss_supported=False) == "c"


@pytest.mark.parametrize(
    ("params", "supported", "reason"),
    [
        ({"code": "c", "state": "s"}, True, "advertises the iss parameter"),
        ({"code": "c", "state": "s", "iss": "https://evil.example.com"}, True, "RFC 9207"),
        ({"code": "c", "state": "s", "iss": "https://evil.example.com"}, False, "RFC 9207"),  # unadvertised
        ({"code": "c", "state": "s", "iss": AS + "/"}, True, "RFC 9207"),  # no normalisation
        ({"code": "c", "state": "s", "iss": "https://AUTH.example.com"}, True, "RFC 9207"),
        ({"code": "c", "state": "other", "iss": AS}, True, "state"),
        ({"error": "access_denied", "state": "s", "iss": AS}, True, "access_denied"),
        ({"state": "s", "iss": AS}, True, "no code"),
    ],
)
def test_authorization_responses_that_are_refused(
    params: dict[str, str], supported: bool, reason: str
) -> None:
    with pytest.raises(OAuthError, match=reason):
        check_callback(callback(**params), state="s", issuer=AS, iss_supported=supported)


def test_an_iss_mismatch_is_found_before_an_error_is_believed() -> None:
    with pytest.raises(OAuthError, match="RFC 9207"):
        check_callback(
            callback(error="access_denied", state="s", iss="https://evil.example.com"),
            state="s",
            issuer=AS,
            iss_supported=False,
        )


def test_a_repeated_parameter_is_refused() -> None:
    with pytest.raises(OAuthError, match="repeats"):
        check_callback(callback(code="a", state="s") + "&code=b", state="s", issuer=AS, iss_supported=False)


# -- client authentication ---------------------------------------------------------------------------------


def test_token_endpoint_authentication_method_choice() -> None:
    secret = ClientInfo("c", "s")
    public = ClientInfo("c")
    assert auth_method(secret, metadata(token_endpoint_auth_methods_supported=["client_secret_post"])) == (
        "client_secret_post"
    )
    assert auth_method(secret, metadata(token_endpoint_auth_methods_supported=None)) == "client_secret_basic"
    assert auth_method(public, metadata(token_endpoint_auth_methods_supported=["none"])) == "none"
    assert auth_method(ClientInfo("c", "s", "none"), metadata()) == "none"  # the registration's word
    with pytest.raises(OAuthError, match="accepts none"):
        auth_method(public, metadata(token_endpoint_auth_methods_supported=["private_key_jwt"]))
    assert dcr_auth_method(
        metadata(token_endpoint_auth_methods_supported=["client_secret_basic", "none"])
    ) == ("none")


def test_tokens_expire_with_a_margin_and_round_trip() -> None:
    tokens = Tokens("t", expires_at=0.0, refresh_token="r", issuer=AS)
    assert tokens.expired and not Tokens("t").expired
    assert Tokens.from_dict(tokens.to_dict()) == tokens
    assert Tokens.from_dict({"access_token": 5}) is None


# -- DPoP --------------------------------------------------------------------------------------------------


def test_a_dpop_proof_is_signed_by_its_public_key_and_names_the_request() -> None:
    key = DPoPKey()
    key.remember_nonce("https://mcp.example.com/other", "n-1")
    proof = key.proof("post", "https://mcp.example.com/mcp?x=1#f", access_token="tok")
    public = ECKey.import_key(key.public_jwk)
    token = jwt.decode(proof, public, algorithms=["ES256"])
    assert token.header["typ"] == "dpop+jwt" and token.header["alg"] == "ES256"
    assert "d" not in token.header["jwk"]
    claims = token.claims
    assert claims["htm"] == "POST" and claims["htu"] == "https://mcp.example.com/mcp"
    assert claims["nonce"] == "n-1"  # the origin's nonce
    ath = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()).rstrip(b"=").decode()
    assert claims["ath"] == ath
    again = jwt.decode(key.proof("POST", "https://mcp.example.com/mcp"), public, algorithms=["ES256"]).claims
    assert again["jti"] != claims["jti"] and "ath" not in again
    assert "nonce" not in jwt.decode(key.proof("POST", "https://other.example.com/"), public).claims


def test_the_nonce_a_proof_carried_is_read_back() -> None:
    key = DPoPKey()
    assert proof_nonce(key.proof("GET", "https://a.example/x")) is None
    key.remember_nonce("https://a.example/", "n-2")
    assert proof_nonce(key.proof("GET", "https://a.example/x")) == "n-2"
    assert proof_nonce("not a jwt") is None and proof_nonce("a.!!!.c") is None


def test_the_cli_provider_uses_the_browser_and_a_private_file(tmp_path: Path) -> None:
    provider = cli_provider("https://mcp.example.com/mcp", token_file=str(tmp_path / "oauth.json"))
    assert isinstance(provider.redirect, LoopbackBrowser)
    assert isinstance(provider.store, FileTokenStore) and provider.store.path == tmp_path / "oauth.json"
    assert provider.resource == "https://mcp.example.com/mcp"
