// mcpsse internal (component `jwt`): the claims checks of a JWT access token (RFC 9068
// §4, RFC 7519 §4.1) and the Principal they yield.
#pragma once

#include <mcpsse/principal.hpp>
#include <mcpsse/token_verifier.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail::auth {

/// What a token's claims must satisfy: the values of `JwtVerifierOptions` and the time.
struct ClaimRules {
    std::string_view issuer;    ///< required `iss`, exact match
    std::string_view audience;  ///< must be in `aud`
    std::chrono::seconds leeway{};
    std::chrono::system_clock::time_point now;
};

namespace claims_detail {

/// A NumericDate (RFC 7519 §2, seconds since the epoch) as a time point, clamped to the
/// range of `system_clock::time_point`.
inline std::chrono::system_clock::time_point to_time_point(double seconds) {
    using clock = std::chrono::system_clock;
    const double max = std::chrono::duration<double>(clock::time_point::max().time_since_epoch()).count();
    const double min = std::chrono::duration<double>(clock::time_point::min().time_since_epoch()).count();
    if (seconds >= max - 1.0) {  // a margin for rounding at the edge
        return clock::time_point::max();
    }
    if (seconds <= min + 1.0) {
        return clock::time_point::min();
    }
    return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace claims_detail

/// Checks the claims `payload` (the verified JWS payload bytes) against `rules` and, when
/// they pass, returns the principal. Refusals: payload not a JSON object: `malformed`;
/// `iss` not exactly `rules.issuer`: `wrong_issuer`; `aud` (a string or an array of
/// strings) not naming `rules.audience`: `wrong_audience`; `exp` absent or not a number:
/// `missing_claim`; now > `exp` + leeway: `expired`; `nbf` or `iat` present and not a
/// number: `missing_claim`; now + leeway < `nbf` or `iat`: `not_yet_valid`; `sub` not a
/// non-empty string, or `scope` / `client_id` present but not strings: `missing_claim`.
[[nodiscard]] inline TokenVerdict check_claims(std::string_view payload, const ClaimRules& rules) {
    auto claims = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (!claims.is_object()) {
        return TokenVerdict::refuse(TokenError::malformed);
    }
    const auto string_claim = [&](const char* name) -> const std::string* {
        const auto it = claims.find(name);
        return it != claims.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
    };
    const std::string* iss = string_claim("iss");
    if (iss == nullptr || *iss != rules.issuer) {
        return TokenVerdict::refuse(TokenError::wrong_issuer);
    }
    Principal principal;
    if (const auto aud = claims.find("aud"); aud != claims.end()) {
        if (aud->is_string()) {
            principal.audience.push_back(aud->get<std::string>());
        } else if (aud->is_array()) {
            for (const auto& a : *aud) {
                if (!a.is_string()) {
                    return TokenVerdict::refuse(TokenError::wrong_audience);
                }
                principal.audience.push_back(a.get<std::string>());
            }
        }
    }
    if (std::find(principal.audience.begin(), principal.audience.end(), rules.audience) == principal.audience.end()) {
        return TokenVerdict::refuse(TokenError::wrong_audience);
    }
    const double now = std::chrono::duration<double>(rules.now.time_since_epoch()).count();
    const double leeway = static_cast<double>(rules.leeway.count());
    const auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number()) {
        return TokenVerdict::refuse(TokenError::missing_claim);
    }
    const double exp_seconds = exp->get<double>();
    if (now > exp_seconds + leeway) {
        return TokenVerdict::refuse(TokenError::expired);
    }
    for (const char* name : {"nbf", "iat"}) {
        const auto it = claims.find(name);
        if (it == claims.end()) {
            continue;
        }
        if (!it->is_number()) {
            return TokenVerdict::refuse(TokenError::missing_claim);
        }
        if (now + leeway < it->get<double>()) {
            return TokenVerdict::refuse(TokenError::not_yet_valid);
        }
    }
    const std::string* sub = string_claim("sub");
    if (sub == nullptr || sub->empty()) {
        return TokenVerdict::refuse(TokenError::missing_claim);
    }
    for (const char* name : {"scope", "client_id"}) {
        if (claims.contains(name) && string_claim(name) == nullptr) {
            return TokenVerdict::refuse(TokenError::missing_claim);
        }
    }
    principal.subject = *sub;
    if (const std::string* client_id = string_claim("client_id")) {
        principal.client_id = *client_id;
    }
    if (const std::string* scope = string_claim("scope")) {
        std::string_view rest = *scope;
        while (!rest.empty()) {
            const auto space = rest.find(' ');
            const auto word = rest.substr(0, space);
            if (!word.empty()) {
                principal.scopes.emplace_back(word);
            }
            rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        }
    }
    principal.expires_at = claims_detail::to_time_point(exp_seconds);
    principal.claims = std::move(claims);
    return TokenVerdict::accept(std::move(principal));
}

}  // namespace mcpsse::detail::auth
