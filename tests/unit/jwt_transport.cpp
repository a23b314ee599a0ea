// Socket-level tests of SseTransport with a JwtVerifier (RFC 9068 access tokens): each
// kind of bad token is answered 401 with `error="invalid_token"` and a JSON-RPC body,
// a good token opens a session that another subject's token cannot use (404), and a
// missing scope gets the step-up 403. Keys are generated and tokens signed in the test
// (tests/support/jwt_signer.hpp).
#include <mcpsse/jwt.hpp>
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/jwt_signer.hpp"
#include "support/sse_test_server.hpp"

#include <chrono>
#include <string>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

constexpr const char* issuer = "https://auth.example.com";
constexpr const char* resource = "https://mcp.example.com/mcp";
constexpr const char* metadata_url = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

const TestKey& rsa() {
    static const TestKey k = make_rsa_key("rsa-1");
    return k;
}

long long now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json header(const char* alg = "RS256", const char* kid = "rsa-1") { return json{{"alg", alg}, {"typ", "at+jwt"}, {"kid", kid}}; }

json claims(const std::string& subject = "client-a", const std::string& scope = "mcp:tools") {
    return json{{"iss", issuer},      {"sub", subject},       {"aud", resource}, {"exp", now_s() + 600},
                {"iat", now_s() - 5}, {"client_id", subject}, {"scope", scope}};
}

std::string token(const json& c = claims(), const json& h = header()) { return sign_jwt(h, c, rsa()); }

struct JwtServer {
    TestServer server;
    explicit JwtServer(std::vector<std::string> required_scopes = {}) {
        mcpsse::JwtVerifierOptions jo;
        jo.issuer = issuer;
        jo.audience = resource;
        mcpsse::SseTransportOptions o;
        mcpsse::AuthorizationOptions auth;
        auth.resource = resource;
        auth.verifier = std::make_shared<mcpsse::JwtVerifier>(jo, json{{"keys", json::array({rsa().jwk})}});
        auth.authorization_servers = {issuer};
        auth.required_scopes = std::move(required_scopes);
        o.authorization = std::move(auth);
        server.start(std::move(o));
    }
};

HttpResponse initialize_with(HttpClient& c, const std::string& bearer) {
    Headers h = post_headers();
    h.emplace_back("Authorization", "Bearer " + bearer);
    return c.request("POST", "/mcp", h, initialize_request("2025-11-25").dump());
}

}  // namespace

TEST_CASE("jwt transport: every kind of bad token gets 401 invalid_token with resource_metadata and a JSON-RPC body") {
    JwtServer s;
    HttpClient c = s.server.client();
    json expired = claims();
    expired["exp"] = now_s() - 3600;
    json foreign = claims();
    foreign["aud"] = "https://other.example.com/mcp";
    json wrong_issuer = claims();
    wrong_issuer["iss"] = "https://evil.example.com";
    std::string tampered = token();
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
    const std::string unsigned_token = signing_input(json{{"alg", "none"}, {"typ", "at+jwt"}}, claims()) + ".";
    const std::string hmac_confusion = hs256_jwt(json{{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", "rsa-1"}}, claims(),
                                                 public_pem(rsa()));
    struct Case {
        const char* name;
        std::string bearer;
        const char* description;
    };
    const std::vector<Case> cases = {
        {"expired", token(expired), "token expired"},
        {"wrong audience", token(foreign), "token not issued for this resource"},
        {"wrong issuer", token(wrong_issuer), "wrong issuer"},
        {"tampered signature", tampered, "signature does not verify"},
        {"alg none", unsigned_token, "signature algorithm not allowed"},
        {"HMAC keyed with the RSA public key", hmac_confusion, "signature algorithm not allowed"},
        {"unknown kid", token(claims(), header("RS256", "rsa-9")), "unknown signing key"},
    };
    for (const auto& k : cases) {
        CAPTURE(k.name);
        const auto r = initialize_with(c, k.bearer);
        CHECK(r.status == 401);
        CHECK(r.header("www-authenticate").value_or("") ==
              std::string("Bearer resource_metadata=\"") + metadata_url + "\", error=\"invalid_token\", error_description=\"" +
                  k.description + "\"");
        const json body = r.json();
        REQUIRE(body.contains("error"));
        CHECK(body["error"].value("code", 0) == -32600);
    }
    CHECK(s.server.stop_and_join());
}

TEST_CASE("jwt transport: a session opened with one subject's token is not found with another's") {
    JwtServer s;
    HttpClient c = s.server.client();
    const auto init = initialize_with(c, token(claims("client-a")));
    REQUIRE(init.status == 200);
    const std::string sid = init.header("mcp-session-id").value_or("");
    REQUIRE(!sid.empty());
    Headers other = post_headers(sid, "2025-11-25");
    other.emplace_back("Authorization", "Bearer " + token(claims("client-b")));
    const auto r = c.request("POST", "/mcp", other, rpc_request(2, "ping").dump());
    CHECK(r.status == 404);
    Headers same = post_headers(sid, "2025-11-25");
    same.emplace_back("Authorization", "Bearer " + token(claims("client-a")));
    CHECK(c.request("POST", "/mcp", same, rpc_request(3, "ping").dump()).status == 200);
    CHECK(s.server.stop_and_join());
}

TEST_CASE("jwt transport: a token without the required scope gets the step-up 403") {
    JwtServer s({"mcp:tools", "mcp:admin"});
    HttpClient c = s.server.client();
    const auto r = initialize_with(c, token(claims("client-a", "mcp:tools")));
    CHECK(r.status == 403);
    CHECK(r.header("www-authenticate").value_or("") ==
          std::string("Bearer error=\"insufficient_scope\", scope=\"mcp:tools mcp:admin\", resource_metadata=\"") +
              metadata_url + "\", error_description=\"additional scope required\"");
    CHECK(r.json()["error"].value("code", 0) == -32600);
    CHECK(initialize_with(c, token(claims("client-a", "mcp:tools mcp:admin"))).status == 200);
    CHECK(s.server.stop_and_join());
}
