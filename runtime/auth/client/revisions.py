"""What each revision's authorization text asks of the client, where the texts differ.

The provider learns the negotiated revision from the transport (`use_revision`) and follows its text.
Before negotiation (the first 401 answers the very first request, `initialize` or `server/discover`)
the revision is not known yet, and the newest text is followed: it is a superset of the older ones
for discovery (protected resource metadata first, then the 2025-03-26 fallbacks: the origin's
metadata, then the default endpoints), and the strictest for the checks. What differs:

| rule                                            | 2025-03-26 | 2025-06-18 | 2025-11-25 | 2026-07-28 |
| ----------------------------------------------- | ---------- | ---------- | ---------- | ---------- |
| probe the well-known protected resource metadata | no         | yes        | yes        | yes        |
| `MCP-Protocol-Version` on metadata discovery    | yes        | no         | no         | no         |
| OpenID Connect discovery after RFC 8414         | no         | no         | yes        | yes        |
| Client ID Metadata Documents                    | no         | no         | yes        | yes        |
| refuse metadata that does not list PKCE S256    | no         | no         | yes        | yes        |
| `offline_access` where the server lists it      | no         | no         | no         | yes        |

(2025-03-26 has no protected resource metadata; a `resource_metadata` URL a server names in its
challenge is still followed, since such a server evidently serves one. Where PKCE methods are not
listed, S256 is still what is used; a list without S256 is refused in every revision. The RFC 9207
`iss` checks apply in every revision: a present `iss` must match, and one the server advertises must be
present, as RFC 9207 asks of any client that supports it, which 2026-07-28 only makes explicit.)
"""

from __future__ import annotations

import msgspec

__all__ = ["Rules", "rules"]


class Rules(msgspec.Struct, frozen=True):
    well_known_prm: bool = True
    """Probe the path-based and root well-known protected resource metadata URLs (RFC 9728)."""
    protocol_version_header: bool = False
    """Send `MCP-Protocol-Version` when fetching authorization server metadata (2025-03-26)."""
    openid_discovery: bool = True
    """Try OpenID Connect Discovery 1.0 locations after RFC 8414's."""
    client_id_metadata_documents: bool = True
    """Register by Client ID Metadata Document where the server supports it."""
    pkce_must_be_listed: bool = True
    """Refuse an authorization server whose metadata has no `code_challenge_methods_supported`."""
    offline_access: bool = True
    """Ask for `offline_access` where the authorization server lists it."""


NEWEST = Rules()
_SESSION_ERA = {
    "2025-03-26": Rules(
        well_known_prm=False,
        protocol_version_header=True,
        openid_discovery=False,
        client_id_metadata_documents=False,
        pkce_must_be_listed=False,
        offline_access=False,
    ),
    "2025-06-18": Rules(
        openid_discovery=False,
        client_id_metadata_documents=False,
        pkce_must_be_listed=False,
        offline_access=False,
    ),
    "2025-11-25": Rules(offline_access=False),
}


def rules(revision: str | None) -> Rules:
    """The rules of `revision`: the newest text's when it is not known yet (or newer than any listed
    here); 2025-03-26's for 2024-11-05, which had no authorization text of its own."""
    if revision is None:
        return NEWEST
    if revision < "2025-03-26":
        return _SESSION_ERA["2025-03-26"]
    return _SESSION_ERA.get(revision, NEWEST)
