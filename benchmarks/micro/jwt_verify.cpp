// Micro-benchmarks of mcpsse::JwtVerifier::verify (component `jwt`): one uncached
// verification of a typical RFC 9068 access token per iteration, per signature
// algorithm: split and base64url-decode, header checks, key choice, the OpenSSL
// signature check, claims parse and checks, building the Principal. The transport
// caches accepted tokens, so a client pays this once per token, not per request.
#include <mcpsse/jwt.hpp>

#include "alloc_counter.hpp"
#include "jwt_signer.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

namespace {

constexpr const char* issuer = "https://auth.example.com";
constexpr const char* audience = "https://mcp.example.com/mcp";

struct Keys {
    mcpsse_test::TestKey rsa = mcpsse_test::make_rsa_key("rsa-1");
    mcpsse_test::TestKey ec = mcpsse_test::make_ec_key("ec-1");
    mcpsse_test::TestKey ed = mcpsse_test::make_ed25519_key("ed-1");
};

const Keys& keys() {
    static const Keys k;
    return k;
}

// A typical access token: the RFC 9068 claims, a few scopes, a one-hour lifetime.
std::string token(const char* alg, const mcpsse_test::TestKey& key) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const nlohmann::json header{{"alg", alg}, {"typ", "at+jwt"}, {"kid", key.jwk.at("kid")}};
    const nlohmann::json claims{{"iss", issuer},      {"sub", "248289761001"},  {"aud", audience},
                                {"client_id", "s6BhdRkqt3"}, {"scope", "tools:read tools:call prompts:read"},
                                {"iat", now},         {"exp", now + 3600},      {"jti", "dbe39bf3a3ba4238a513f51d6e1691c4"}};
    return mcpsse_test::sign_jwt(header, claims, key);
}

void verify_loop(benchmark::State& state, const char* alg, const mcpsse_test::TestKey& key) {
    mcpsse::JwtVerifierOptions options;
    options.issuer = issuer;
    options.audience = audience;
    const auto& k = keys();
    const mcpsse::JwtVerifier verifier(options, {{"keys", {k.rsa.jwk, k.ec.jwk, k.ed.jwk}}});
    const std::string t = token(alg, key);
    if (!verifier.verify(t)) {
        state.SkipWithError("the token was refused");
        return;
    }
    mcpsse_bench::AllocationScope allocations;
    for (auto _ : state) {
        auto verdict = verifier.verify(t);
        benchmark::DoNotOptimize(verdict.principal.get());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(std::to_string(t.size()) + "-byte token");
}

void BM_JwtVerify_RS256(benchmark::State& state) { verify_loop(state, "RS256", keys().rsa); }
void BM_JwtVerify_PS256(benchmark::State& state) { verify_loop(state, "PS256", keys().rsa); }
void BM_JwtVerify_ES256(benchmark::State& state) { verify_loop(state, "ES256", keys().ec); }
void BM_JwtVerify_EdDSA(benchmark::State& state) { verify_loop(state, "EdDSA", keys().ed); }
BENCHMARK(BM_JwtVerify_RS256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JwtVerify_PS256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JwtVerify_ES256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JwtVerify_EdDSA)->Unit(benchmark::kMicrosecond);

}  // namespace
