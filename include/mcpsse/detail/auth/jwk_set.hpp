// mcpsse internal (component `jwt`): the usable keys of a JWK Set (RFC 7517 §5) and the
// choice of the key that verifies a token.
#pragma once

#include <mcpsse/detail/auth/jwk_key.hpp>
#include <mcpsse/detail/auth/jws_algorithm.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace mcpsse::detail::auth {

/// The usable signature keys of a JWKS, in the set's order. Thread-safety: immutable
/// once made.
class JwkSet {
public:
    /// Why `select` found no key.
    enum class Miss {
        unknown_key,        ///< no key has the `kid` (or, without a `kid`, not exactly one key)
        algorithm_mismatch, ///< keys have the `kid`, but none may verify the algorithm
    };

    /// Reads `jwks` (`{"keys": [...]}`), keeping each key `parse_jwk` accepts and skipping
    /// the others. Throws `std::invalid_argument` when `jwks` is not an object with a
    /// `keys` array.
    explicit JwkSet(const nlohmann::json& jwks) {
        const auto keys = jwks.is_object() ? jwks.find("keys") : jwks.end();
        if (!jwks.is_object() || keys == jwks.end() || !keys->is_array()) {
            throw std::invalid_argument("mcpsse: a JWKS must be a JSON object with a \"keys\" array (RFC 7517 section 5)");
        }
        for (const auto& jwk : *keys) {
            if (auto key = parse_jwk(jwk)) {
                keys_.push_back(std::move(*key));
            }
        }
    }

    /// The usable keys.
    [[nodiscard]] const std::vector<JwkKey>& keys() const noexcept { return keys_; }

    /// The key to verify a token signed with `alg` whose header names `kid` (nullopt: no
    /// `kid` member). With a `kid`: the first key with that `kid` allowing `alg`. Without
    /// one: the set's only key, when it has exactly one and that key allows `alg`.
    [[nodiscard]] const JwkKey* select(const std::optional<std::string_view>& kid, JwsAlgorithm alg,
                                       Miss& why) const noexcept {
        why = Miss::unknown_key;
        if (!kid) {
            if (keys_.size() != 1) {
                return nullptr;
            }
            if (!keys_.front().allows(alg)) {
                why = Miss::algorithm_mismatch;
                return nullptr;
            }
            return &keys_.front();
        }
        for (const auto& key : keys_) {
            if (key.kid != *kid) {
                continue;
            }
            if (key.allows(alg)) {
                return &key;
            }
            why = Miss::algorithm_mismatch;
        }
        return nullptr;
    }

private:
    std::vector<JwkKey> keys_;
};

}  // namespace mcpsse::detail::auth
