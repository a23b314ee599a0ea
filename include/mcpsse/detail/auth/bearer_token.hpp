// mcpsse: the bearer token of a request's Authorization field (RFC 6750 section 2.1).
#pragma once

#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/http/request.hpp>

#include <optional>
#include <string_view>

namespace mcpsse::detail {

/// What a request's credentials look like.
struct BearerToken {
    enum class Kind {
        none,       ///< no `Authorization` field, or another scheme (counts as no token)
        malformed,  ///< `Bearer` with an empty or invalid token68, or the field repeated
        token       ///< `value` holds the token
    } kind = Kind::none;
    std::string_view value;
};

/// The credentials after `Bearer ` in `req`'s one `Authorization` field, unchecked (for
/// comparing with a token already admitted); empty when there is no such single field.
/// One pass over the fields.
[[nodiscard]] inline std::string_view bearer_credentials(const HttpRequest& req) noexcept {
    std::string_view value;
    int seen = 0;
    for (const auto& f : req.fields)
        if (f.name.size() == 13 && iequals(f.name, "authorization")) {
            value = f.value;
            ++seen;
        }
    constexpr std::string_view scheme = "bearer ";
    if (seen != 1 || value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme)) return {};
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return value;
}

/// The `Bearer` credentials of `req` (RFC 6750 section 2.1: `Bearer` 1*SP b64token, the
/// scheme case-insensitive, RFC 9110 section 11.1). Tokens in the query or the body
/// (sections 2.2, 2.3) are never looked at: MCP allows only the header.
[[nodiscard]] inline BearerToken bearer_token(const HttpRequest& req) noexcept {
    if (req.count("authorization") == 0) return {};
    if (req.count("authorization") > 1) return {BearerToken::Kind::malformed, {}};
    std::string_view v = *req.find("authorization");
    constexpr std::string_view scheme = "bearer";
    if (iequals(v, scheme)) return {BearerToken::Kind::malformed, {}};  // the scheme alone (trailing spaces are trimmed)
    if (v.size() <= scheme.size() || !iequals(v.substr(0, scheme.size()), scheme) || v[scheme.size()] != ' ')
        return {};
    v.remove_prefix(scheme.size());
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (v.empty()) return {BearerToken::Kind::malformed, {}};
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    std::size_t i = 0;
    const auto token_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~' || c == '+' || c == '/';
    };
    while (i < v.size() && token_char(v[i])) ++i;
    if (i == 0) return {BearerToken::Kind::malformed, {}};
    while (i < v.size() && v[i] == '=') ++i;
    if (i != v.size()) return {BearerToken::Kind::malformed, {}};
    return {BearerToken::Kind::token, v};
}

}  // namespace mcpsse::detail
