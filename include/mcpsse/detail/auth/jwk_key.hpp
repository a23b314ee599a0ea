// mcpsse internal (component `jwt`): one public signature key read from a JWK (RFC 7517).
#pragma once

#include <mcpsse/detail/auth/jws_algorithm.hpp>
#include <mcpsse/detail/auth/openssl_handles.hpp>
#include <mcpsse/detail/util/base64.hpp>

#include <nlohmann/json.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

namespace mcpsse::detail::auth {

/// A usable public key of a JWKS: its `kid`, the algorithms it may verify and the
/// OpenSSL key. Thread-safety: immutable once made; shared by concurrent verifications.
struct JwkKey {
    /// The JWK's `kid` (RFC 7517 §4.5); empty when it has none.
    std::string kid;
    /// The algorithms this key verifies: by `kty` (RSA: RS256, PS256; EC P-256: ES256;
    /// OKP Ed25519: EdDSA, Ed25519), narrowed to the JWK's `alg` when it states one.
    JwsAlgorithmSet algorithms = 0;
    /// The public key.
    std::shared_ptr<EVP_PKEY> key;

    /// True when this key may verify a signature made with `alg`.
    [[nodiscard]] bool allows(JwsAlgorithm alg) const noexcept { return (algorithms & algorithm_bit(alg)) != 0; }
};

/// Smallest RSA modulus accepted, in bits (RFC 7518 §3.3: 2048 or larger).
inline constexpr int min_rsa_bits = 2048;

namespace jwk_detail {

/// The base64url-decoded string member `name` of `jwk`, or nullopt.
inline std::optional<std::string> member_bytes(const nlohmann::json& jwk, const char* name) {
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) {
        return std::nullopt;
    }
    return base64url_decode(it->get_ref<const std::string&>());
}

/// A key made with EVP_PKEY_fromdata from the parameters of `bld`, or null.
inline EvpPkeyPtr from_params(const char* type, OSSL_PARAM_BLD* bld) {
    ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        return nullptr;
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return nullptr;
    }
    return EvpPkeyPtr(raw);
}

/// An RSA public key from the JWK's `n` and `e` (RFC 7518 §6.3.1), or null.
inline EvpPkeyPtr rsa_key(const nlohmann::json& jwk) {
    const auto n = member_bytes(jwk, "n");
    const auto e = member_bytes(jwk, "e");
    if (!n || !e || n->empty() || e->empty()) {
        return nullptr;
    }
    BignumPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
    BignumPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return nullptr;
    }
    auto key = from_params("RSA", bld.get());
    if (!key || EVP_PKEY_get_bits(key.get()) < min_rsa_bits) {
        return nullptr;
    }
    return key;
}

/// A P-256 public key from the JWK's `x` and `y` (RFC 7518 §6.2.1, 32 bytes each), or
/// null; the point must lie on the curve.
inline EvpPkeyPtr ec_p256_key(const nlohmann::json& jwk) {
    const auto x = member_bytes(jwk, "x");
    const auto y = member_bytes(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32) {
        return nullptr;
    }
    std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
        return nullptr;
    }
    auto key = from_params("EC", bld.get());
    if (!key) {
        return nullptr;
    }
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return nullptr;
    }
    return key;
}

/// An Ed25519 public key from the JWK's `x` (RFC 8037 §2, 32 bytes), or null.
inline EvpPkeyPtr ed25519_key(const nlohmann::json& jwk) {
    const auto x = member_bytes(jwk, "x");
    if (!x || x->size() != 32) {
        return nullptr;
    }
    return EvpPkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                  reinterpret_cast<const unsigned char*>(x->data()), x->size()));
}

/// The string member `name`: its value, "" when absent, nullopt when not a string.
inline std::optional<std::string> optional_string(const nlohmann::json& jwk, const char* name) {
    const auto it = jwk.find(name);
    if (it == jwk.end()) {
        return std::string();
    }
    if (!it->is_string()) {
        return std::nullopt;
    }
    return it->get<std::string>();
}

}  // namespace jwk_detail

/// Reads one JWK (RFC 7517 §4) as a signature-verification key. Nullopt when the key
/// cannot be used: not an object; `kty` other than RSA, EC (crv P-256) or OKP (crv
/// Ed25519) (`oct` and every symmetric key are never loaded); `use` present and not
/// `sig`; `key_ops` present without `verify`; `kid` or `alg` not strings; an `alg` the
/// verifier does not implement or that does not fit the `kty`; key material missing or
/// invalid (an RSA modulus under 2048 bits, an EC point off the curve, wrong lengths).
/// Private members (`d`, ...) are ignored: only the public key is read.
[[nodiscard]] inline std::optional<JwkKey> parse_jwk(const nlohmann::json& jwk) {
    using namespace jwk_detail;
    if (!jwk.is_object()) {
        return std::nullopt;
    }
    const auto kty = optional_string(jwk, "kty");
    const auto use = optional_string(jwk, "use");
    const auto kid = optional_string(jwk, "kid");
    const auto alg = optional_string(jwk, "alg");
    const auto crv = optional_string(jwk, "crv");
    if (!kty || !use || !kid || !alg || !crv || (!use->empty() && *use != "sig")) {
        return std::nullopt;
    }
    if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
        if (!ops->is_array() || std::find(ops->begin(), ops->end(), nlohmann::json("verify")) == ops->end()) {
            return std::nullopt;
        }
    }
    JwkKey out;
    out.kid = *kid;
    EvpPkeyPtr key;
    if (*kty == "RSA") {
        out.algorithms = algorithm_bit(JwsAlgorithm::rs256) | algorithm_bit(JwsAlgorithm::ps256);
        key = rsa_key(jwk);
    } else if (*kty == "EC" && *crv == "P-256") {
        out.algorithms = algorithm_bit(JwsAlgorithm::es256);
        key = ec_p256_key(jwk);
    } else if (*kty == "OKP" && *crv == "Ed25519") {
        out.algorithms = algorithm_bit(JwsAlgorithm::eddsa) | algorithm_bit(JwsAlgorithm::ed25519);
        key = ed25519_key(jwk);
    } else {
        return std::nullopt;
    }
    if (!alg->empty()) {
        const auto stated = parse_jws_algorithm(*alg);
        if (!stated || !out.allows(*stated)) {
            return std::nullopt;
        }
        // EdDSA and Ed25519 name the same signature over an Ed25519 key: keep both.
        if (*stated == JwsAlgorithm::rs256 || *stated == JwsAlgorithm::ps256) {
            out.algorithms = algorithm_bit(*stated);
        }
    }
    if (!key) {
        return std::nullopt;
    }
    out.key = std::shared_ptr<EVP_PKEY>(key.release(), OpensslFree<&EVP_PKEY_free>{});
    return out;
}

}  // namespace mcpsse::detail::auth
