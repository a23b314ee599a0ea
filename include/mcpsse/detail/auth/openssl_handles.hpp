// mcpsse internal (component `jwt`): owning handles for the OpenSSL 3 objects the JWT
// verifier creates, so every one is freed on every path.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <memory>

namespace mcpsse::detail::auth {

/// A deleter calling OpenSSL's `free` function `F` (e.g. `EVP_PKEY_free`).
template <auto F>
struct OpensslFree {
    template <class T>
    void operator()(T* p) const noexcept {
        F(p);
    }
};

/// An owned EVP_PKEY (a public key). Thread-safety: OpenSSL 3 allows concurrent
/// verifications with one key; the key itself is never changed after creation.
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree<&EVP_PKEY_free>>;
/// An owned EVP_PKEY_CTX.
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslFree<&EVP_PKEY_CTX_free>>;
/// An owned EVP_MD_CTX (one verification).
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslFree<&EVP_MD_CTX_free>>;
/// An owned BIGNUM.
using BignumPtr = std::unique_ptr<BIGNUM, OpensslFree<&BN_free>>;
/// An owned OSSL_PARAM_BLD.
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpensslFree<&OSSL_PARAM_BLD_free>>;
/// An owned OSSL_PARAM array (from OSSL_PARAM_BLD_to_param).
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpensslFree<&OSSL_PARAM_free>>;
/// An owned ECDSA_SIG.
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpensslFree<&ECDSA_SIG_free>>;

}  // namespace mcpsse::detail::auth
