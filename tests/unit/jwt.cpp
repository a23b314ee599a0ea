// Unit tests of mcpsse::JwtVerifier (RFC 9068 JWT access tokens against a JWKS): every
// algorithm accepted, each refusal (expiry, audience, issuer, type, keys, algorithm
// confusion, tampering, malformed input) and key rotation with set_jwks. Keys are generated and tokens signed in the test with OpenSSL
// (tests/support/jwt_signer.hpp).
#include <mcpsse/jwt.hpp>

#include "support/catch.hpp"
#include "support/jwt_signer.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace mcpsse_test;
using mcpsse::JwtVerifier;
using mcpsse::JwtVerifierOptions;
using mcpsse::TokenError;
using nlohmann::json;

namespace {

constexpr const char* issuer = "https://auth.example.com";
constexpr const char* audience = "https://mcp.example.com/mcp";
// A fixed "now" (2027-01-15) for verify_at.
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
constexpr long long now_s = 1'800'000'000;

// One key of each kind, generated once for the whole run (RSA generation is slow).
const TestKey& rsa() {
    static const TestKey k = make_rsa_key("rsa-1");
    return k;
}
const TestKey& ec() {
    static const TestKey k = make_ec_key("ec-1");
    return k;
}
const TestKey& ed() {
    static const TestKey k = make_ed25519_key("ed-1");
    return k;
}

json jwks_of(std::initializer_list<json> keys) { return json{{"keys", json::array_t(keys)}}; }
json all_keys() { return jwks_of({rsa().jwk, ec().jwk, ed().jwk}); }

JwtVerifierOptions options() {
    JwtVerifierOptions o;
    o.issuer = issuer;
    o.audience = audience;
    return o;
}

json header(const char* alg, const char* kid) {
    json h{{"alg", alg}, {"typ", "at+jwt"}};
    if (kid != nullptr) h["kid"] = kid;
    return h;
}

json claims() {
    return json{{"iss", issuer},         {"sub", "user-42"},          {"aud", audience},
                {"exp", now_s + 600},    {"iat", now_s - 10},         {"nbf", now_s - 10},
                {"client_id", "client-7"}, {"scope", "tools:read  tools:call"}, {"jti", "j-1"},
                {"tenant", "acme"}};
}

TokenError refusal(const JwtVerifier& v, const std::string& token) {
    const auto verdict = v.verify_at(token, now);
    REQUIRE_FALSE(verdict);
    return verdict.error;
}

// The three parts of a compact JWS.
std::vector<std::string> parts(const std::string& token) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto dot = token.find('.', start);
        out.push_back(token.substr(start, dot - start));
        if (dot == std::string::npos) return out;
        start = dot + 1;
    }
}

std::string b64(std::string_view s) { return mcpsse::detail::base64url_encode(s); }

}  // namespace

TEST_CASE("every supported algorithm is accepted and yields the principal") {
    const JwtVerifier v(options(), all_keys());
    REQUIRE(v.key_count() == 3);
    struct Case {
        const char* alg;
        const TestKey* key;
        const char* kid;
    };
    const Case cases[] = {{"RS256", &rsa(), "rsa-1"}, {"PS256", &rsa(), "rsa-1"}, {"ES256", &ec(), "ec-1"},
                          {"EdDSA", &ed(), "ed-1"},   {"Ed25519", &ed(), "ed-1"}};
    for (const auto& c : cases) {
        INFO(c.alg);
        const auto verdict = v.verify_at(sign_jwt(header(c.alg, c.kid), claims(), *c.key), now);
        REQUIRE(verdict);
        const auto& p = *verdict.principal;
        CHECK(p.subject == "user-42");
        CHECK(p.client_id == "client-7");
        CHECK(p.scopes == std::vector<std::string>{"tools:read", "tools:call"});
        CHECK(p.audience == std::vector<std::string>{audience});
        CHECK(p.expires_at == now + std::chrono::seconds(600));
        CHECK(p.claims.at("tenant") == "acme");
        CHECK(p.claims.at("jti") == "j-1");
    }
}

TEST_CASE("typ is compared case-insensitively and may carry application/") {
    const JwtVerifier v(options(), all_keys());
    for (const char* typ : {"at+jwt", "AT+JWT", "application/at+jwt", "Application/At+Jwt"}) {
        INFO(typ);
        auto h = header("ES256", "ec-1");
        h["typ"] = typ;
        CHECK(v.verify_at(sign_jwt(h, claims(), ec()), now));
    }
}

TEST_CASE("async_verify gives the verdict of verify") {
    const auto v = std::make_shared<JwtVerifier>(options(), all_keys());
    const mcpsse::AnyTokenVerifier any(v);
    asio::io_context io;
    const std::string good = sign_jwt(header("EdDSA", "ed-1"), claims(), ed());
    // async_verify checks against the real clock: give the token a current lifetime.
    auto live = claims();
    const auto real_now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    live["exp"] = real_now + 600;
    live["iat"] = real_now;
    live["nbf"] = real_now;
    const std::string live_token = sign_jwt(header("EdDSA", "ed-1"), live, ed());
    auto ok = asio::co_spawn(io, any.async_verify(live_token), asio::use_future);
    auto refused = asio::co_spawn(io, any.async_verify(good + "x"), asio::use_future);
    io.run();
    const auto accepted = ok.get();
    REQUIRE(accepted);
    CHECK(accepted.principal->subject == "user-42");
    CHECK_FALSE(refused.get());
}

TEST_CASE("exp: refused beyond the leeway, accepted within it, required") {
    const JwtVerifier v(options(), all_keys());  // leeway 60 s
    auto c = claims();
    c["exp"] = now_s - 61;
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::expired);
    c["exp"] = now_s - 30;
    CHECK(v.verify_at(sign_jwt(header("ES256", "ec-1"), c, ec()), now));

    auto strict = options();
    strict.leeway = std::chrono::seconds(0);
    const JwtVerifier no_leeway(strict, all_keys());
    CHECK(refusal(no_leeway, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::expired);

    c.erase("exp");
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::missing_claim);
    c["exp"] = "tomorrow";
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::missing_claim);
}

TEST_CASE("nbf and iat in the future (beyond the leeway) are not yet valid") {
    const JwtVerifier v(options(), all_keys());
    for (const char* name : {"nbf", "iat"}) {
        INFO(name);
        auto c = claims();
        c[name] = now_s + 120;
        CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::not_yet_valid);
        c[name] = now_s + 30;  // within the leeway
        CHECK(v.verify_at(sign_jwt(header("ES256", "ec-1"), c, ec()), now));
    }
}

TEST_CASE("aud must name the resource; an array may") {
    const JwtVerifier v(options(), all_keys());
    auto c = claims();
    c["aud"] = "https://other.example.com/mcp";
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::wrong_audience);
    c.erase("aud");
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::wrong_audience);
    c["aud"] = json::array({"https://other.example.com", audience});
    const auto verdict = v.verify_at(sign_jwt(header("ES256", "ec-1"), c, ec()), now);
    REQUIRE(verdict);
    CHECK(verdict.principal->audience == std::vector<std::string>{"https://other.example.com", audience});
    c["aud"] = json::array({"https://other.example.com"});
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::wrong_audience);
}

TEST_CASE("iss must equal the issuer exactly") {
    const JwtVerifier v(options(), all_keys());
    auto c = claims();
    c["iss"] = "https://auth.example.com/";
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::wrong_issuer);
    c.erase("iss");
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::wrong_issuer);
}

TEST_CASE("sub must be a non-empty string") {
    const JwtVerifier v(options(), all_keys());
    auto c = claims();
    c.erase("sub");
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::missing_claim);
    c["sub"] = "";
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::missing_claim);
    c["sub"] = 42;
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), c, ec())) == TokenError::missing_claim);
}

TEST_CASE("a tampered payload or signature does not verify") {
    const JwtVerifier v(options(), all_keys());
    for (const char* alg : {"RS256", "PS256", "ES256", "EdDSA"}) {
        INFO(alg);
        const TestKey& key = alg[0] == 'R' || alg[0] == 'P' ? rsa() : alg[0] == 'E' && alg[1] == 'S' ? ec() : ed();
        const auto kid = key.jwk.at("kid").get<std::string>();
        const std::string token = sign_jwt(header(alg, kid.c_str()), claims(), key);
        REQUIRE(v.verify_at(token, now));
        auto p = parts(token);
        // Payload: the same token, but sub changed.
        auto c = claims();
        c["sub"] = "admin";
        const std::string forged = p[0] + "." + b64(c.dump()) + "." + p[2];
        CHECK(refusal(v, forged) == TokenError::bad_signature);
        // Signature: one bit flipped in its first byte.
        auto sig = *mcpsse::detail::base64url_decode(p[2]);
        sig[0] = static_cast<char>(sig[0] ^ 1);
        CHECK(refusal(v, p[0] + "." + p[1] + "." + b64(sig)) == TokenError::bad_signature);
    }
}

TEST_CASE("alg none and HMAC algorithms are never accepted") {
    const JwtVerifier v(options(), all_keys());
    const std::string payload = b64(claims().dump());
    for (const char* alg : {"none", "None", "NONE"}) {
        INFO(alg);
        const std::string unsigned_token = b64(header(alg, "rsa-1").dump()) + "." + payload + ".";
        CHECK(refusal(v, unsigned_token) == TokenError::algorithm_not_allowed);
        const std::string no_kid = b64(header(alg, nullptr).dump()) + "." + payload + ".";
        CHECK(refusal(v, no_kid) == TokenError::algorithm_not_allowed);
    }
    for (const char* alg : {"RS384", "ES384", "ES512", "PS512", "HS384", "RSA-OAEP"}) {
        INFO(alg);
        CHECK(refusal(v, b64(header(alg, "rsa-1").dump()) + "." + payload + "." + b64("sig")) ==
              TokenError::algorithm_not_allowed);
    }
}

TEST_CASE("HS256 keyed with the RSA public key (algorithm confusion) is refused") {
    // The attacker knows the public key: its PEM and the JWK's n bytes.
    const std::string n_bytes = *mcpsse::detail::base64url_decode(rsa().jwk.at("n").get<std::string>());
    for (const std::string& secret : {public_pem(rsa()), n_bytes, rsa().jwk.at("n").get<std::string>()}) {
        const JwtVerifier v(options(), all_keys());
        CHECK(refusal(v, hs256_jwt(header("HS256", "rsa-1"), claims(), secret)) == TokenError::algorithm_not_allowed);
        // A single-key set and no kid: still refused.
        const JwtVerifier single(options(), jwks_of({rsa().jwk}));
        CHECK(refusal(single, hs256_jwt(header("HS256", nullptr), claims(), secret)) ==
              TokenError::algorithm_not_allowed);
    }
    // An `oct` key in the set (the attacker's wish: HMAC with a shared secret) is never loaded.
    const std::string secret = "correct horse battery staple";
    const JwtVerifier with_oct(options(), jwks_of({json{{"kty", "oct"}, {"kid", "hmac"}, {"k", b64(secret)}}}));
    CHECK(with_oct.key_count() == 0);
    CHECK(refusal(with_oct, hs256_jwt(header("HS256", "hmac"), claims(), secret)) ==
          TokenError::algorithm_not_allowed);
}

TEST_CASE("the token's alg must fit the key") {
    const JwtVerifier v(options(), all_keys());
    // ES256 named with the RSA key's kid, signed by the EC key.
    CHECK(refusal(v, sign_jwt(header("ES256", "rsa-1"), claims(), ec())) == TokenError::algorithm_not_allowed);
    CHECK(refusal(v, sign_jwt(header("EdDSA", "ec-1"), claims(), ed())) == TokenError::algorithm_not_allowed);
    CHECK(refusal(v, sign_jwt(header("RS256", "ed-1"), claims(), rsa())) == TokenError::algorithm_not_allowed);

    // An RSA JWK stating alg RS256 refuses PS256 tokens and still takes RS256 ones.
    auto rs256_only = rsa().jwk;
    rs256_only["alg"] = "RS256";
    const JwtVerifier pinned(options(), jwks_of({rs256_only}));
    REQUIRE(pinned.key_count() == 1);
    CHECK(refusal(pinned, sign_jwt(header("PS256", "rsa-1"), claims(), rsa())) == TokenError::algorithm_not_allowed);
    CHECK(pinned.verify_at(sign_jwt(header("RS256", "rsa-1"), claims(), rsa()), now));
}

TEST_CASE("the key is chosen by kid") {
    const JwtVerifier v(options(), all_keys());
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-2"), claims(), ec())) == TokenError::unknown_key);
    // No kid: refused with several keys, accepted with exactly one.
    CHECK(refusal(v, sign_jwt(header("ES256", nullptr), claims(), ec())) == TokenError::unknown_key);
    const JwtVerifier single(options(), jwks_of({ec().jwk}));
    CHECK(single.verify_at(sign_jwt(header("ES256", nullptr), claims(), ec()), now));
    // A kid that is not a string is malformed.
    auto h = header("ES256", nullptr);
    h["kid"] = 1;
    CHECK(refusal(single, sign_jwt(h, claims(), ec())) == TokenError::malformed);
    // Another EC key signing under ec-1's kid does not verify.
    const TestKey other = make_ec_key("ec-1");
    CHECK(refusal(v, sign_jwt(header("ES256", "ec-1"), claims(), other)) == TokenError::bad_signature);
}

TEST_CASE("an ES256 signature must be 64 bytes of r || s") {
    const JwtVerifier v(options(), all_keys());
    const auto p = parts(sign_jwt(header("ES256", "ec-1"), claims(), ec()));
    const auto raw = *mcpsse::detail::base64url_decode(p[2]);
    REQUIRE(raw.size() == 64);
    const std::string input = p[0] + "." + p[1] + ".";
    CHECK(refusal(v, input + b64(raw.substr(0, 63))) == TokenError::bad_signature);
    CHECK(refusal(v, input + b64(raw + '\0')) == TokenError::bad_signature);
    CHECK(refusal(v, input) == TokenError::bad_signature);
    // The DER form OpenSSL itself produces is not the JOSE form.
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
    REQUIRE(ECDSA_SIG_set0(sig.get(), r, s) == 1);
    std::string der(static_cast<std::size_t>(i2d_ECDSA_SIG(sig.get(), nullptr)), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    REQUIRE(i2d_ECDSA_SIG(sig.get(), &out) > 0);
    CHECK(refusal(v, input + b64(der)) == TokenError::bad_signature);
}

TEST_CASE("typ must be at+jwt") {
    const JwtVerifier v(options(), all_keys());
    auto h = header("ES256", "ec-1");
    h.erase("typ");
    CHECK(refusal(v, sign_jwt(h, claims(), ec())) == TokenError::wrong_type);
    for (const char* typ : {"JWT", "jwt", "at+jwt ", "application/jwt", "dpop+jwt"}) {
        INFO(typ);
        h["typ"] = typ;
        CHECK(refusal(v, sign_jwt(h, claims(), ec())) == TokenError::wrong_type);
    }
}

TEST_CASE("set_jwks replaces the keys") {
    JwtVerifier v(options(), jwks_of({ec().jwk}));
    const std::string old_token = sign_jwt(header("ES256", "ec-1"), claims(), ec());
    const std::string new_token = sign_jwt(header("EdDSA", "ed-1"), claims(), ed());
    CHECK(v.verify_at(old_token, now));
    CHECK(refusal(v, new_token) == TokenError::unknown_key);
    v.set_jwks(jwks_of({ed().jwk}));
    CHECK(refusal(v, old_token) == TokenError::unknown_key);
    CHECK(v.verify_at(new_token, now));
    // A bad JWKS is refused and leaves the keys as they were.
    CHECK_THROWS_AS(v.set_jwks(json::array()), std::invalid_argument);
    CHECK(v.verify_at(new_token, now));
}

TEST_CASE("set_jwks while other threads verify") {
    JwtVerifier v(options(), all_keys());
    const std::string token = sign_jwt(header("ES256", "ec-1"), claims(), ec());
    std::atomic<int> accepted{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                const auto verdict = v.verify_at(token, now);
                (verdict ? accepted : other)++;
                if (!verdict && verdict.error != TokenError::unknown_key) other += 1000;
            }
        });
    }
    for (int i = 0; i < 50; ++i) v.set_jwks(i % 2 == 0 ? jwks_of({ed().jwk}) : all_keys());
    for (auto& t : threads) t.join();
    CHECK(accepted + other == 400);  // every refusal was unknown_key
}

TEST_CASE("malformed tokens") {
    auto o = options();
    o.max_token_bytes = 4096;
    const JwtVerifier v(o, all_keys());
    const std::string good = sign_jwt(header("ES256", "ec-1"), claims(), ec());
    REQUIRE(v.verify_at(good, now));
    const auto p = parts(good);
    const std::vector<std::string> bad = {
        "",
        "abc",
        p[0] + "." + p[1],                           // two parts
        good + ".",                                   // four parts
        good + "." + p[2] + "." + p[2],               // five parts (JWE-shaped)
        p[0] + "=." + p[1] + "." + p[2],              // padding
        p[0] + "." + p[1] + "." + p[2] + "=",         // padding on the signature
        p[0] + "." + p[1] + "+" + "." + p[2],         // not the URL alphabet
        "!" + p[0] + "." + p[1] + "." + p[2],         // not base64 at all
        p[0] + "." + p[1] + "." + p[2] + "%",         // a stray byte
        b64("not json") + "." + p[1] + "." + p[2],    // header not JSON
        b64("[1,2]") + "." + p[1] + "." + p[2],       // header not an object
        b64(R"({"typ":"at+jwt","kid":"ec-1"})") + "." + p[1] + "." + p[2],          // no alg
        b64(R"({"alg":256,"typ":"at+jwt","kid":"ec-1"})") + "." + p[1] + "." + p[2], // alg not a string
        p[0] + " ." + p[1] + "." + p[2],              // whitespace
        std::string(4097, 'a'),                       // over max_token_bytes
        p[0] + "." + std::string(4096, 'A') + "." + p[2],  // over max_token_bytes, well-formed shape
    };
    for (const auto& token : bad) {
        INFO(token.substr(0, 80));
        CHECK(refusal(v, token) == TokenError::malformed);
    }
    // `crit` names extensions this verifier does not understand (RFC 7515 section 4.1.11).
    auto h = header("ES256", "ec-1");
    h["crit"] = json::array({"exp"});
    h["exp"] = now_s;
    CHECK(refusal(v, sign_jwt(h, claims(), ec())) == TokenError::malformed);
    // A payload that is not a JSON object, correctly signed: malformed after the signature.
    const std::string input = b64(header("ES256", "ec-1").dump()) + "." + b64("[]");
    CHECK(refusal(v, input + "." + b64(sign(ec(), "ES256", input))) == TokenError::malformed);
    // The default bound is 16 KiB.
    const JwtVerifier defaults(options(), all_keys());
    CHECK(refusal(defaults, std::string(16 * 1024 + 1, 'a')) == TokenError::malformed);
}

TEST_CASE("unusable JWKS keys are skipped; a non-JWKS throws") {
    auto enc = rsa().jwk;
    enc["use"] = "enc";
    auto small_rsa = rsa().jwk;
    small_rsa["n"] = b64(std::string(128, '\x7f'));  // a 1024-bit modulus
    auto off_curve = ec().jwk;
    off_curve["y"] = b64(std::string(32, '\x01'));
    auto short_ed = ed().jwk;
    short_ed["x"] = b64("short");
    auto wrong_alg = ec().jwk;
    wrong_alg["alg"] = "RS256";
    auto hs_alg = rsa().jwk;
    hs_alg["alg"] = "HS256";
    auto p384 = ec().jwk;
    p384["crv"] = "P-384";
    auto no_verify = ed().jwk;
    no_verify["key_ops"] = json::array({"encrypt"});
    auto sig = ec().jwk;
    sig["use"] = "sig";
    sig["key_ops"] = json::array({"verify"});
    sig["alg"] = "ES256";
    const JwtVerifier v(options(), jwks_of({enc, small_rsa, off_curve, short_ed, wrong_alg, hs_alg, p384, no_verify,
                                            json("not a key"), json{{"kty", 1}}, sig}));
    CHECK(v.key_count() == 1);
    CHECK(v.verify_at(sign_jwt(header("ES256", "ec-1"), claims(), ec()), now));
    CHECK(refusal(v, sign_jwt(header("RS256", "rsa-1"), claims(), rsa())) == TokenError::unknown_key);

    CHECK_THROWS_AS(JwtVerifier(options(), json::array()), std::invalid_argument);
    CHECK_THROWS_AS(JwtVerifier(options(), json::object()), std::invalid_argument);
    CHECK_THROWS_AS(JwtVerifier(options(), json{{"keys", json::object()}}), std::invalid_argument);
    auto no_issuer = options();
    no_issuer.issuer.clear();
    CHECK_THROWS_AS(JwtVerifier(no_issuer, all_keys()), std::invalid_argument);
}

TEST_CASE("load_jwks_file reads a JWKS file and names the path on failure") {
    const auto dir = std::filesystem::temp_directory_path();
    const auto good = dir / ("mcpsse-jwks-" + std::to_string(::getpid()) + ".json");
    const auto bad = dir / ("mcpsse-jwks-bad-" + std::to_string(::getpid()) + ".json");
    std::ofstream(good) << all_keys().dump();
    std::ofstream(bad) << "{\"keys\": [";
    const auto jwks = JwtVerifier::load_jwks_file(good.string());
    CHECK(JwtVerifier(options(), jwks).key_count() == 3);
    for (const auto& path : {bad, dir / "mcpsse-no-such-jwks.json"}) {
        try {
            static_cast<void>(JwtVerifier::load_jwks_file(path.string()));
            FAIL("no exception for " << path);
        } catch (const std::runtime_error& e) {
            CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
        }
    }
    std::filesystem::remove(good);
    std::filesystem::remove(bad);
}
