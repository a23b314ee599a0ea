// mcpsse: verification of JWT access tokens (RFC 9068) signed by an authorization server
// whose public keys are a JWKS (CMake component `jwt`, target mcpsse::jwt, OpenSSL 3).
#pragma once

#include <mcpsse/detail/auth/jwk_set.hpp>
#include <mcpsse/detail/auth/jws.hpp>
#include <mcpsse/detail/auth/jws_algorithm.hpp>
#include <mcpsse/detail/auth/jwt_claims.hpp>
#include <mcpsse/token_verifier.hpp>

#include <asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <openssl/err.h>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse {

/// What a `JwtVerifier` requires of a token besides a valid signature.
struct JwtVerifierOptions {
    /// The authorization server's issuer identifier; `iss` must equal it exactly
    /// (RFC 9068 §4; RFC 8414 §2). Required (non-empty).
    std::string issuer;
    /// This resource server's identifier (e.g. `https://mcp.example.com/mcp`); `aud`, a
    /// string or an array, must contain it exactly (RFC 9068 §4, RFC 8707). Required.
    std::string audience;
    /// Clock skew tolerated, in seconds, for `exp`, `nbf` and `iat` (RFC 7519 §4.1.4).
    std::chrono::seconds leeway{60};
    /// Longest token accepted, in bytes; a longer one is refused as `malformed` before
    /// anything is decoded.
    std::size_t max_token_bytes = 16 * 1024;
};

/// A `TokenVerifier` of JWT access tokens (RFC 9068) against a JSON Web Key Set
/// (RFC 7517 §5). A token is accepted when, in this order:
///  - it is at most `max_token_bytes` long and a JWS in compact serialization: exactly
///    three unpadded base64url parts (RFC 7515 §7.1), a JSON object header without
///    `crit` (else `malformed`);
///  - its `alg` is RS256, PS256, ES256 (RFC 7518 §3), EdDSA (RFC 8037 §3.1) or Ed25519
///    (else `algorithm_not_allowed`: `none`, HS256 and the rest are never accepted);
///  - its `typ` is `at+jwt` or `application/at+jwt`, case-insensitively (RFC 9068 §2.1;
///    else `wrong_type`);
///  - a key of the set has its `kid`, or the token has no `kid` and the set has exactly
///    one usable key (else `unknown_key`), and that key allows `alg`: RSA keys RS256 and
///    PS256 (only the JWK's `alg` when it names one), EC P-256 keys ES256, OKP Ed25519
///    keys EdDSA and Ed25519 (else `algorithm_not_allowed`);
///  - the signature verifies (else `bad_signature`); only then are the claims read;
///  - the claims pass (`iss`, `aud`, `exp`, `nbf`, `iat`, `sub`; see
///    `detail::auth::check_claims` for each refusal).
/// The principal: `sub` as subject, `client_id`, `scope` split on spaces, `aud` as
/// audience, `exp` as expires_at, and every claim in `claims`.
///
/// Keys of the JWKS that cannot be used are skipped without error: `kty` `oct` (so an
/// HMAC keyed with a public key can never verify), other key types and curves, `use`
/// other than `sig`, `key_ops` without `verify`, an `alg` not listed above or not fitting
/// the key, RSA moduli under 2048 bits, invalid key material.
///
/// Thread-safety: `verify` and `async_verify` may run concurrently on any threads, also
/// while `set_jwks` replaces the keys (a verification uses the set current when it
/// started). `verify` does no I/O; it costs about 30 µs (RS256) to 90 µs (EdDSA) of CPU
/// (benchmarks/README.md), and the transport caches accepted tokens until they expire.
class JwtVerifier {
public:
    /// Verifies tokens under `options` with the keys of `jwks` (see `set_jwks`). Throws
    /// `std::invalid_argument` when `options.issuer` or `options.audience` is empty or
    /// `jwks` is not a JWKS.
    JwtVerifier(JwtVerifierOptions options, const nlohmann::json& jwks) : options_(std::move(options)) {
        if (options_.issuer.empty() || options_.audience.empty()) {
            throw std::invalid_argument("mcpsse: JwtVerifierOptions needs an issuer and an audience");
        }
        set_jwks(jwks);
    }

    /// Replaces the key set with the usable keys of `jwks` (an object with a `keys` array;
    /// unusable keys are skipped, see the class comment). Verifications started before
    /// keep the old set. Throws `std::invalid_argument` when `jwks` is not a JWKS (the
    /// current keys then stay). Thread-safe.
    void set_jwks(const nlohmann::json& jwks) {
        auto fresh = std::make_shared<const detail::auth::JwkSet>(jwks);
        ERR_clear_error();  // keys that failed to load leave OpenSSL errors behind
        std::lock_guard lock(mutex_);
        keys_ = std::move(fresh);
    }

    /// The number of usable keys in the current set. Thread-safe.
    [[nodiscard]] std::size_t key_count() const {
        return current_keys()->keys().size();
    }

    /// Reads and parses the JSON file at `path` (e.g. a copy of the authorization
    /// server's `jwks_uri` document) for the constructor or `set_jwks`. Throws
    /// `std::runtime_error` naming `path` when it cannot be read or is not JSON.
    [[nodiscard]] static nlohmann::json load_jwks_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            throw std::runtime_error("mcpsse: cannot open JWKS file '" + path + "'");
        }
        auto jwks = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
        if (jwks.is_discarded()) {
            throw std::runtime_error("mcpsse: JWKS file '" + path + "' is not valid JSON");
        }
        return jwks;
    }

    /// Verifies `token` (the bearer token, without `Bearer `) at the current time; see the
    /// class comment for the rules and refusals. Synchronous, no I/O. Thread-safe.
    [[nodiscard]] TokenVerdict verify(std::string_view token) const {
        return verify_at(token, std::chrono::system_clock::now());
    }

    /// `verify` as if the time were `now` (for tests and replays).
    [[nodiscard]] TokenVerdict verify_at(std::string_view token, std::chrono::system_clock::time_point now) const {
        using detail::auth::JwkSet;
        if (token.size() > options_.max_token_bytes) {
            return TokenVerdict::refuse(TokenError::malformed);
        }
        auto jws = detail::auth::parse_compact_jws(token);
        if (!jws || jws->header.contains("crit")) {
            return TokenVerdict::refuse(TokenError::malformed);
        }
        const auto& header = jws->header;
        const auto alg_it = header.find("alg");
        if (alg_it == header.end() || !alg_it->is_string()) {
            return TokenVerdict::refuse(TokenError::malformed);
        }
        const auto alg = detail::auth::parse_jws_algorithm(alg_it->get_ref<const std::string&>());
        if (!alg) {
            return TokenVerdict::refuse(TokenError::algorithm_not_allowed);
        }
        const auto typ = header.find("typ");
        if (typ == header.end() || !typ->is_string() || !is_access_token_type(typ->get_ref<const std::string&>())) {
            return TokenVerdict::refuse(TokenError::wrong_type);
        }
        std::optional<std::string_view> kid;
        if (const auto it = header.find("kid"); it != header.end()) {
            if (!it->is_string()) {
                return TokenVerdict::refuse(TokenError::malformed);
            }
            kid = it->get_ref<const std::string&>();
        }
        const auto keys = current_keys();
        JwkSet::Miss miss{};
        const auto* key = keys->select(kid, *alg, miss);
        if (key == nullptr) {
            return TokenVerdict::refuse(miss == JwkSet::Miss::algorithm_mismatch ? TokenError::algorithm_not_allowed
                                                                                 : TokenError::unknown_key);
        }
        if (!detail::auth::verify_signature_quietly(*key, *alg, jws->signing_input, jws->signature)) {
            return TokenVerdict::refuse(TokenError::bad_signature);
        }
        return detail::auth::check_claims(
            jws->payload, detail::auth::ClaimRules{options_.issuer, options_.audience, options_.leeway, now});
    }

    /// `verify(token)` as a `TokenVerifier` (it never suspends).
    asio::awaitable<TokenVerdict> async_verify(std::string token) const { co_return verify(token); }

    /// The options given at construction.
    [[nodiscard]] const JwtVerifierOptions& options() const noexcept { return options_; }

private:
    // RFC 9068 §2.1 and RFC 7515 §4.1.9: media types compare case-insensitively, and
    // `application/` may be left out.
    static bool is_access_token_type(std::string_view typ) noexcept {
        const auto equals_ci = [](std::string_view a, std::string_view b) {
            if (a.size() != b.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i) {
                const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
                if (lower(a[i]) != lower(b[i])) return false;
            }
            return true;
        };
        return equals_ci(typ, "at+jwt") || equals_ci(typ, "application/at+jwt");
    }

    std::shared_ptr<const detail::auth::JwkSet> current_keys() const {
        std::lock_guard lock(mutex_);
        return keys_;
    }

    JwtVerifierOptions options_;
    mutable std::mutex mutex_;
    std::shared_ptr<const detail::auth::JwkSet> keys_;
};

static_assert(TokenVerifier<JwtVerifier>);

}  // namespace mcpsse
