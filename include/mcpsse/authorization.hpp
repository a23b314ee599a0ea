// mcpsse: the settings that make an SseTransport an OAuth 2.1 resource server.
#pragma once

#include <mcpsse/token_verifier.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace mcpsse {

/// Authorization of an `SseTransport` as an OAuth 2.1 resource server (MCP
/// basic/authorization, 2025-06-18 onward; RFC 6750, RFC 9728, RFC 8707). Set in
/// `SseTransportOptions::authorization`.
///
/// Every request to the MCP endpoints (Streamable HTTP POST, GET and DELETE; legacy GET
/// and POST) must then carry `Authorization: Bearer <token>`; a token in the query string
/// is ignored. Answers:
/// - no token, or one the verifier refuses: 401 with `WWW-Authenticate: Bearer` carrying
///   `resource_metadata` (the metadata document's URL), `scope` (`required_scopes`,
///   when any) and, where a token was sent, `error="invalid_token"` and an
///   `error_description`;
/// - a verifier that cannot decide (`TokenError::unavailable`): 503 with `Retry-After`;
/// - a valid token lacking a scope the request needs (`required_scopes`, or the scopes a
///   `Server` tool, resource or prompt requires): 403 with `error="insufficient_scope"`
///   and a `scope` listing the granted scopes plus the required ones (the step-up flow of
///   MCP 2025-11-25).
///
/// Bodies are JSON-RPC errors (`invalid_request`, -32600, `id` null). The protected
/// resource metadata (RFC 9728) is served without a token at the path formed by
/// inserting `/.well-known/oauth-protected-resource` before the path of `resource`
/// (section 3.1), with CORS headers when CORS is on. CORS preflights and the host's own
/// routes need no token unless `protect_routes` is set.
///
/// Sessions, task ids, `requestState` values and subscriptions are bound to the subject
/// of the token that created them: another subject gets 404 (or the JSON-RPC error of an
/// unknown handle), as if they did not exist.
struct AuthorizationOptions {
    /// The resource identifier (RFC 8707, RFC 9728 `resource`): the absolute `https` (or,
    /// for development, `http`) URL clients use for the MCP endpoint, e.g.
    /// "https://mcp.example.com/mcp"; no fragment. Tokens must name it in `aud` (the
    /// verifier checks). Required: the transport's constructor throws
    /// `std::invalid_argument` when it is empty or not such a URL.
    std::string resource;
    /// Verifies bearer tokens (see `TokenVerifier`). Required (`std::invalid_argument`
    /// otherwise).
    AnyTokenVerifier verifier;
    /// The issuers clients may get tokens from (RFC 9728 `authorization_servers`).
    std::vector<std::string> authorization_servers;
    /// Scopes listed in the metadata (`scopes_supported`); `offline_access` is never
    /// listed (a resource server has no use for refresh tokens' scope).
    std::vector<std::string> scopes_supported;
    /// Scopes every request needs; none by default. Also the `scope` of 401 challenges.
    std::vector<std::string> required_scopes;
    /// More members of the metadata document (e.g. `resource_name`,
    /// `resource_documentation`); members set here replace mcpsse's.
    nlohmann::json metadata = nlohmann::json::object();
    /// Verified tokens remembered at most (count); the oldest is forgotten first. Keyed
    /// by the token's SHA-256, so the cache holds no token. Zero: verify every request.
    std::size_t cache_size = 10'000;
    /// Longest time a verified token is remembered, in ms (never past its expiry), so
    /// that a revocation the verifier learns of takes effect.
    std::chrono::milliseconds cache_ttl{5 * 60'000};
    /// Time clients are told to wait (`Retry-After`, sent in whole seconds) when the
    /// verifier is unavailable (503), in ms.
    std::chrono::milliseconds unavailable_retry_after{5'000};
    /// Also require a token on the host's own routes (`SseTransportOptions::routes`).
    bool protect_routes = false;
};

}  // namespace mcpsse
