// mcpsse internal (component `jwt`): the JWS signature algorithms the JWT verifier accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mcpsse::detail::auth {

/// A JWS `alg` the verifier implements (RFC 7518 §3.1, RFC 8037 §3.1, and the fully
/// specified `Ed25519` of draft-ietf-jose-fully-specified-algorithms). Everything else,
/// `none` and every HMAC algorithm (`HS256`, ...) included, has no value here and is
/// refused. Values are bits so a key can hold a set of them.
enum class JwsAlgorithm : std::uint8_t {
    rs256 = 1,    ///< RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3)
    ps256 = 2,    ///< RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt (RFC 7518 §3.5)
    es256 = 4,    ///< ECDSA P-256 with SHA-256, raw r||s signature (RFC 7518 §3.4)
    eddsa = 8,    ///< EdDSA with an Ed25519 key (RFC 8037 §3.1)
    ed25519 = 16, ///< Ed25519, the fully specified name of the same signature
};

/// A set of `JwsAlgorithm`s (bitwise or of their values).
using JwsAlgorithmSet = std::uint8_t;

/// The set holding just `alg`.
[[nodiscard]] constexpr JwsAlgorithmSet algorithm_bit(JwsAlgorithm alg) noexcept {
    return static_cast<JwsAlgorithmSet>(alg);
}

/// The algorithm named `name` (case-sensitive, RFC 7515 §4.1.1), or nullopt when the
/// verifier does not implement it.
[[nodiscard]] constexpr std::optional<JwsAlgorithm> parse_jws_algorithm(std::string_view name) noexcept {
    if (name == "RS256") return JwsAlgorithm::rs256;
    if (name == "PS256") return JwsAlgorithm::ps256;
    if (name == "ES256") return JwsAlgorithm::es256;
    if (name == "EdDSA") return JwsAlgorithm::eddsa;
    if (name == "Ed25519") return JwsAlgorithm::ed25519;
    return std::nullopt;
}

}  // namespace mcpsse::detail::auth
