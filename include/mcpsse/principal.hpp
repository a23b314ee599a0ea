// mcpsse: who sent a request, as an access token's verifier established it.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse {

/// The authenticated party behind a request: what a `TokenVerifier` learned from its
/// bearer token (RFC 9068 section 2.2 names for JWT access tokens). mcpsse binds
/// sessions, task ids, `requestState` and subscriptions to `subject`, and checks scopes
/// against `scopes`. The token itself is never kept. Thread-safety: a plain value;
/// mcpsse shares it as `std::shared_ptr<const Principal>` and never changes it.
struct Principal {
    /// The subject (`sub`): the resource owner, or the client itself in the client
    /// credentials grant. Never empty for a verified token.
    std::string subject;
    /// The OAuth client the token was issued to (`client_id`); empty when unknown.
    std::string client_id;
    /// The granted scopes (`scope`, split on spaces), in the token's order.
    std::vector<std::string> scopes;
    /// When the token expires (`exp`); `time_point::max()` when it does not.
    std::chrono::system_clock::time_point expires_at = std::chrono::system_clock::time_point::max();
    /// The audiences (`aud`), each a resource identifier (RFC 8707).
    std::vector<std::string> audience;
    /// Every claim of the token as JSON (an object; empty for static tokens), for the
    /// host's own checks (e.g. `tenant`, `groups`).
    nlohmann::json claims = nlohmann::json::object();

    /// True when `scope` was granted (exact, case-sensitive match, RFC 6749 section 3.3).
    [[nodiscard]] bool has_scope(std::string_view scope) const noexcept {
        return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
    }

    /// True when every scope in `required` was granted.
    [[nodiscard]] bool has_scopes(std::span<const std::string> required) const noexcept {
        return std::all_of(required.begin(), required.end(), [&](const std::string& s) { return has_scope(s); });
    }
};

}  // namespace mcpsse
