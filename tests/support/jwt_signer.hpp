// Test-only JWT issuer for tests/unit/jwt.cpp and benchmarks/micro/jwt_verify.cpp: keys
// generated with OpenSSL 3 (RSA 2048, EC P-256, Ed25519), their public JWKs, and compact
// JWS tokens signed with them (RS256, PS256, ES256, EdDSA/Ed25519, and HS256 for attacks).
// Links OpenSSL's libcrypto (mcpsse::jwt).
#pragma once

#include <mcpsse/detail/util/base64.hpp>

#include <nlohmann/json.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcpsse_test {

/// A generated key pair, its public JWK (kty, kid, key members; no `alg`) and kind.
struct TestKey {
    std::shared_ptr<EVP_PKEY> pkey;
    nlohmann::json jwk;
};

namespace jwt_signer_detail {

inline void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("jwt_signer: OpenSSL failed: ") + what);
}

inline std::shared_ptr<EVP_PKEY> own(EVP_PKEY* p) {
    check(p != nullptr, "key generation");
    return std::shared_ptr<EVP_PKEY>(p, &EVP_PKEY_free);
}

/// The big-endian bytes of the BIGNUM parameter `name` of `pkey`, left-padded to `width`
/// (0: minimal).
inline std::string bn_param(EVP_PKEY* pkey, const char* name, int width = 0) {
    BIGNUM* bn = nullptr;
    check(EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, name);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> owned(bn, &BN_free);
    std::string out(static_cast<std::size_t>(width > 0 ? width : BN_num_bytes(bn)), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    check(BN_bn2binpad(bn, p, static_cast<int>(out.size())) >= 0, "BN_bn2binpad");
    return out;
}

inline std::string b64(std::string_view bytes) { return mcpsse::detail::base64url_encode(bytes); }

}  // namespace jwt_signer_detail

/// A fresh RSA 2048 key with `kid`.
inline TestKey make_rsa_key(const std::string& kid) {
    using namespace jwt_signer_detail;
    TestKey k{own(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048))), {}};
    k.jwk = {{"kty", "RSA"},
             {"kid", kid},
             {"n", b64(bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
             {"e", b64(bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
    return k;
}

/// A fresh EC P-256 key with `kid`.
inline TestKey make_ec_key(const std::string& kid) {
    using namespace jwt_signer_detail;
    TestKey k{own(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")), {}};
    k.jwk = {{"kty", "EC"},
             {"crv", "P-256"},
             {"kid", kid},
             {"x", b64(bn_param(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
             {"y", b64(bn_param(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    return k;
}

/// A fresh Ed25519 key with `kid`.
inline TestKey make_ed25519_key(const std::string& kid) {
    using namespace jwt_signer_detail;
    TestKey k{own(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")), {}};
    std::string x(32, '\0');
    std::size_t len = x.size();
    check(EVP_PKEY_get_raw_public_key(k.pkey.get(), reinterpret_cast<unsigned char*>(x.data()), &len) == 1 &&
              len == 32,
          "EVP_PKEY_get_raw_public_key");
    k.jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", kid}, {"x", b64(x)}};
    return k;
}

/// The PEM (SubjectPublicKeyInfo) of `key`'s public key.
inline std::string public_pem(const TestKey& key) {
    using namespace jwt_signer_detail;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    check(bio && PEM_write_bio_PUBKEY(bio.get(), key.pkey.get()) == 1, "PEM_write_bio_PUBKEY");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

/// The JWS signature of `input` with `key` for `alg` (RS256, PS256, ES256 as raw r||s,
/// EdDSA or Ed25519).
inline std::string sign(const TestKey& key, std::string_view alg, std::string_view input) {
    using namespace jwt_signer_detail;
    const bool ed = alg == "EdDSA" || alg == "Ed25519";
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    check(ctx && EVP_DigestSignInit(ctx.get(), &pctx, ed ? nullptr : EVP_sha256(), nullptr, key.pkey.get()) == 1,
          "EVP_DigestSignInit");
    if (alg == "PS256") {
        check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1,
              "PSS parameters");
    }
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t len = 0;
    check(EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) == 1, "EVP_DigestSign (size)");
    std::string sig(len, '\0');
    check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()) == 1,
          "EVP_DigestSign");
    sig.resize(len);
    if (alg != "ES256") {
        return sig;
    }
    // DER ECDSA-Sig-Value -> JOSE r || s (RFC 7518 section 3.4).
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())), &ECDSA_SIG_free);
    check(ecdsa != nullptr, "d2i_ECDSA_SIG");
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    check(BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), out, 32) == 32 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), out + 32, 32) == 32,
          "BN_bn2binpad");
    return raw;
}

/// `BASE64URL(header) . BASE64URL(claims)` (the signing input).
inline std::string signing_input(const nlohmann::json& header, const nlohmann::json& claims) {
    using jwt_signer_detail::b64;
    return b64(header.dump()) + "." + b64(claims.dump());
}

/// A compact JWS of `claims` under `header` (its `alg` chooses the algorithm), signed
/// with `key`.
inline std::string sign_jwt(const nlohmann::json& header, const nlohmann::json& claims, const TestKey& key) {
    const std::string input = signing_input(header, claims);
    return input + "." + jwt_signer_detail::b64(sign(key, header.at("alg").get<std::string>(), input));
}

/// A compact JWS of `claims` under `header`, MACed with HMAC-SHA256 keyed with `secret`
/// (the algorithm-confusion attack: `secret` is public key material).
inline std::string hs256_jwt(const nlohmann::json& header, const nlohmann::json& claims, std::string_view secret) {
    const std::string input = signing_input(header, claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    jwt_signer_detail::check(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                                  reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                                  &mac_len) != nullptr,
                             "HMAC");
    return input + "." +
           jwt_signer_detail::b64(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace mcpsse_test
