// mcpsse internal (component `jwt`): the JWS Compact Serialization (RFC 7515 §7.1) split
// and decoded, and its signature checked with OpenSSL 3.
#pragma once

#include <mcpsse/detail/auth/jwk_key.hpp>
#include <mcpsse/detail/auth/jws_algorithm.hpp>
#include <mcpsse/detail/auth/openssl_handles.hpp>
#include <mcpsse/detail/util/base64.hpp>

#include <nlohmann/json.hpp>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail::auth {

/// A compact JWS split into its parts. The payload is decoded but not parsed: its claims
/// are read only once the signature verified.
struct CompactJws {
    /// The JOSE header (RFC 7515 §4), a JSON object.
    nlohmann::json header;
    /// The decoded payload bytes.
    std::string payload;
    /// `BASE64URL(header) '.' BASE64URL(payload)`: the bytes the signature covers (a view
    /// into the token passed to `parse_compact_jws`).
    std::string_view signing_input;
    /// The decoded signature bytes.
    std::string signature;
};

/// Splits and decodes `token` as a compact JWS: exactly three parts separated by `.`,
/// each unpadded base64url (`base64url_decode`), the first a JSON object (duplicate
/// member names: the last wins). Nullopt when it is anything else, including a JWE (five
/// parts). The returned `signing_input` points into `token`.
[[nodiscard]] inline std::optional<CompactJws> parse_compact_jws(std::string_view token) {
    const auto first = token.find('.');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    auto header_bytes = base64url_decode(token.substr(0, first));
    auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    auto signature = base64url_decode(token.substr(second + 1));
    if (!header_bytes || !payload || !signature) {
        return std::nullopt;
    }
    auto header = nlohmann::json::parse(*header_bytes, nullptr, /*allow_exceptions=*/false);
    if (!header.is_object()) {
        return std::nullopt;  // also `discarded` (not JSON)
    }
    return CompactJws{std::move(header), std::move(*payload), token.substr(0, second), std::move(*signature)};
}

namespace jws_detail {

/// A JOSE ES256 signature (`r || s`, 32 bytes each, RFC 7518 §3.4) as the DER
/// ECDSA-Sig-Value OpenSSL verifies; empty when it is not 64 bytes.
inline std::string es256_to_der(std::string_view raw) {
    if (raw.size() != 64) {
        return {};
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    BignumPtr r(BN_bin2bn(bytes, 32, nullptr));
    BignumPtr s(BN_bin2bn(bytes + 32, 32, nullptr));
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        return {};
    }
    static_cast<void>(r.release());  // owned by sig now
    static_cast<void>(s.release());
    const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (size <= 0) {
        return {};
    }
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != size) {
        return {};
    }
    return der;
}

}  // namespace jws_detail

/// True when `signature` is a valid `alg` signature of `signing_input` under `key`
/// (RFC 7515 §5.2 step 8). `key` must allow `alg` (checked again here). RS256:
/// PKCS#1 v1.5 with SHA-256; PS256: PSS with SHA-256, MGF1-SHA-256 and a salt of exactly
/// 32 bytes; ES256: the 64-byte JOSE form, converted to DER; EdDSA/Ed25519: pure Ed25519.
/// No I/O; thread-safe (a fresh EVP_MD_CTX per call, `key` only read). A failure may
/// leave entries on OpenSSL's error queue (see `verify_signature_quietly`).
[[nodiscard]] inline bool verify_signature(const JwkKey& key, JwsAlgorithm alg, std::string_view signing_input,
                                           std::string_view signature) {
    if (!key.allows(alg) || !key.key) {
        return false;
    }
    std::string der;
    if (alg == JwsAlgorithm::es256) {
        der = jws_detail::es256_to_der(signature);
        if (der.empty()) {
            return false;
        }
        signature = der;
    }
    const bool ed = alg == JwsAlgorithm::eddsa || alg == JwsAlgorithm::ed25519;
    if (ed && signature.size() != 64) {
        return false;
    }
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, ed ? nullptr : EVP_sha256(), nullptr, key.key.get()) != 1) {
        return false;
    }
    if (alg == JwsAlgorithm::ps256 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1)) {
        return false;
    }
    if (alg == JwsAlgorithm::rs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

/// `verify_signature`, then clears this thread's OpenSSL error queue when it failed.
[[nodiscard]] inline bool verify_signature_quietly(const JwkKey& key, JwsAlgorithm alg, std::string_view signing_input,
                                                   std::string_view signature) {
    const bool ok = verify_signature(key, alg, signing_input, signature);
    if (!ok) {
        ERR_clear_error();
    }
    return ok;
}

}  // namespace mcpsse::detail::auth
