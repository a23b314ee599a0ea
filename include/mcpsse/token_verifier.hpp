// mcpsse: the verifier of bearer access tokens a host plugs into an SseTransport.
#pragma once

#include <mcpsse/principal.hpp>

#include <asio/awaitable.hpp>

#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse {

/// Why a bearer token was not accepted. Every kind but `unavailable` is answered 401
/// with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 section 3.1);
/// `unavailable` (the verifier could not decide, e.g. its introspection endpoint is
/// down) is answered 503 with `Retry-After`.
enum class TokenError {
    malformed,              ///< not a token this verifier understands (e.g. not a JWS)
    bad_signature,          ///< the signature does not verify
    unknown_key,            ///< no key with the token's `kid`
    algorithm_not_allowed,  ///< `alg` is `none`, or not allowed for the key
    wrong_type,             ///< `typ` is not `at+jwt` (RFC 9068 section 2.1)
    expired,                ///< past `exp` (plus leeway)
    not_yet_valid,          ///< before `nbf` or `iat` (minus leeway)
    wrong_issuer,           ///< `iss` is not the configured issuer
    wrong_audience,         ///< `aud` does not name this resource (RFC 8707)
    missing_claim,          ///< a required claim (`sub`, `exp`, ...) is absent or mistyped
    unknown_token,          ///< an opaque token nobody issued (static tokens, introspection)
    unavailable,            ///< the verifier could not decide now (answered 503)
};

/// A short English description of `error` (for logs and the `error_description`).
[[nodiscard]] constexpr std::string_view to_string(TokenError error) noexcept {
    switch (error) {
    case TokenError::malformed: return "malformed token";
    case TokenError::bad_signature: return "signature does not verify";
    case TokenError::unknown_key: return "unknown signing key";
    case TokenError::algorithm_not_allowed: return "signature algorithm not allowed";
    case TokenError::wrong_type: return "not an access token (typ)";
    case TokenError::expired: return "token expired";
    case TokenError::not_yet_valid: return "token not yet valid";
    case TokenError::wrong_issuer: return "wrong issuer";
    case TokenError::wrong_audience: return "token not issued for this resource";
    case TokenError::missing_claim: return "required claim missing";
    case TokenError::unknown_token: return "unknown token";
    case TokenError::unavailable: return "token verification unavailable";
    }
    return "invalid token";
}

/// The outcome of verifying one token: a principal, or why not. Thread-safety: a plain
/// value.
struct TokenVerdict {
    /// The verified principal; null when the token was refused.
    std::shared_ptr<const Principal> principal;
    /// Why the token was refused (meaningless when `principal` is set).
    TokenError error = TokenError::malformed;

    /// A verdict accepting `p`.
    [[nodiscard]] static TokenVerdict accept(Principal p) {
        return TokenVerdict{std::make_shared<const Principal>(std::move(p)), TokenError::malformed};
    }
    /// A verdict refusing the token for `why`.
    [[nodiscard]] static TokenVerdict refuse(TokenError why) { return TokenVerdict{nullptr, why}; }
    /// True when the token was accepted.
    explicit operator bool() const noexcept { return principal != nullptr; }
};

/// A verifier of bearer access tokens: `async_verify(token)` yields a `TokenVerdict`. It
/// may suspend (e.g. RFC 7662 introspection of an opaque token, or fetching keys) but
/// must never block the thread it runs on; with several threads on the transport's
/// context it runs concurrently for different requests. The transport caches accepted
/// verdicts until the token's expiry (`AuthorizationOptions::cache_size` entries at
/// most), so a verifier runs once per token, not once per request. The verifier checks
/// the token's audience itself (RFC 8707: the resource identifier); the transport checks
/// scopes. Models: `StaticTokenVerifier` (core), `JwtVerifier` (`<mcpsse/jwt.hpp>`,
/// CMake component `jwt`).
template <class V>
concept TokenVerifier = requires(V& v, std::string token) {
    { v.async_verify(std::move(token)) } -> std::same_as<asio::awaitable<TokenVerdict>>;
};

/// Holds any `TokenVerifier` (shared: copies use the same verifier). Empty by default.
/// Thread-safety: as the verifier it holds.
class AnyTokenVerifier {
public:
    AnyTokenVerifier() = default;

    /// Holds `verifier` (must not be null).
    template <TokenVerifier V>
    AnyTokenVerifier(std::shared_ptr<V> verifier)  // NOLINT(google-explicit-constructor): a handle
        : self_(std::move(verifier)), verify_([](void* self, std::string token) {
              return static_cast<V*>(self)->async_verify(std::move(token));
          }) {}

    /// True when a verifier is held.
    explicit operator bool() const noexcept { return self_ != nullptr; }

    /// Verifies `token` with the held verifier (which must exist).
    [[nodiscard]] asio::awaitable<TokenVerdict> async_verify(std::string token) const {
        return verify_(self_.get(), std::move(token));
    }

private:
    std::shared_ptr<void> self_;
    asio::awaitable<TokenVerdict> (*verify_)(void*, std::string) = nullptr;
};

}  // namespace mcpsse
