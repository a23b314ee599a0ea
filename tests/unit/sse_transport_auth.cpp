// Socket-level tests of SseTransport as an OAuth 2.1 resource server: every refusal's
// status, WWW-Authenticate and body (401 without or with a bad token, 403 for a missing
// scope, 503 when the verifier cannot decide), the RFC 9728 metadata document, CORS on
// refusals, the token cache, sessions bound to their subject (Streamable HTTP and
// legacy), scopes of a Server's tools, the principal in handlers and the observers.
#include <mcpsse/server.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/static_token_verifier.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

constexpr const char* resource = "https://mcp.example.com/mcp";
constexpr const char* metadata_url = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

// A verifier with a fixed table of tokens; suspends once per call (like one that does
// I/O) and counts its calls. Tokens not in the table are `unknown_token`.
class TableVerifier {
public:
    std::map<std::string, mcpsse::TokenVerdict> table;
    std::atomic<int> calls{0};

    asio::awaitable<mcpsse::TokenVerdict> async_verify(std::string token) {
        ++calls;
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        const auto it = table.find(token);
        if (it == table.end()) co_return mcpsse::TokenVerdict::refuse(mcpsse::TokenError::unknown_token);
        co_return it->second;
    }

    void accept(const std::string& token, std::string subject, std::vector<std::string> scopes,
                std::chrono::system_clock::time_point expires = std::chrono::system_clock::now() + std::chrono::hours(1)) {
        mcpsse::Principal p;
        p.subject = std::move(subject);
        p.scopes = std::move(scopes);
        p.expires_at = expires;
        p.audience = {resource};
        table[token] = mcpsse::TokenVerdict::accept(std::move(p));
    }
    void refuse(const std::string& token, mcpsse::TokenError why) { table[token] = mcpsse::TokenVerdict::refuse(why); }
};

class AuditLog final : public mcpsse::TransportObserver {
public:
    void on_authorization(const mcpsse::AuthorizationEvent& e) override {
        std::lock_guard lock(mutex_);
        lines_.push_back(std::to_string(e.status) + " " + std::string(e.subject) + " " + std::string(e.reason));
    }
    void on_request(const mcpsse::RequestInfo& r) override {
        std::lock_guard lock(mutex_);
        lines_.push_back("request " + std::to_string(r.status) + " " + std::string(r.subject));
    }
    void on_session_open(const mcpsse::SessionInfo& s) override {
        std::lock_guard lock(mutex_);
        lines_.push_back("session " + std::string(s.subject));
    }
    [[nodiscard]] bool has(const std::string& line) const {
        std::lock_guard lock(mutex_);
        return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

struct AuthServer {
    std::shared_ptr<TableVerifier> verifier = std::make_shared<TableVerifier>();
    std::shared_ptr<AuditLog> audit = std::make_shared<AuditLog>();
    TestServer server;

    explicit AuthServer(std::vector<std::string> required_scopes = {},
                        const std::function<void(mcpsse::SseTransportOptions&)>& tune = {}) {
        verifier->accept("alice-token", "alice", {"mcp:read", "mcp:write"});
        verifier->accept("alice-token-2", "alice", {"mcp:read"});
        verifier->accept("bob-token", "bob", {"mcp:read", "mcp:write"});
        verifier->accept("expired-token", "carol", {"mcp:read"}, std::chrono::system_clock::now() - std::chrono::seconds(5));
        verifier->refuse("foreign-audience-token", mcpsse::TokenError::wrong_audience);
        verifier->refuse("down-token", mcpsse::TokenError::unavailable);
        server.dispatcher.on_request("whoami", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            const mcpsse::Principal* p = ctx.principal();
            co_return json{{"subject", p ? p->subject : ""}, {"scopes", p ? p->scopes : std::vector<std::string>{}}};
        });
        mcpsse::SseTransportOptions o;
        mcpsse::AuthorizationOptions auth;
        auth.resource = resource;
        auth.verifier = verifier;
        auth.authorization_servers = {"https://auth.example.com"};
        auth.scopes_supported = {"mcp:read", "mcp:write", "offline_access"};
        auth.required_scopes = std::move(required_scopes);
        o.authorization = std::move(auth);
        o.observers.push_back(audit);
        if (tune) tune(o);
        server.start(std::move(o));
    }
};

}  // namespace

namespace mcpsse_test {
mcpsse::Tool tool_named_for_auth(std::string name) {
    mcpsse::Tool tool;
    tool.name = std::move(name);
    return tool;
}
}  // namespace mcpsse_test

namespace {

Headers with_token(Headers h, const std::string& token) {
    h.emplace_back("Authorization", "Bearer " + token);
    return h;
}

// Initializes a session with `token`; returns its id (empty on failure).
std::string open_session_as(HttpClient& c, const std::string& token) {
    const auto init = c.request("POST", "/mcp", with_token(post_headers(), token), initialize_request("2025-11-25").dump());
    if (init.status != 200 || !init.header("mcp-session-id")) return {};
    const std::string id = *init.header("mcp-session-id");
    const auto note = c.request("POST", "/mcp", with_token(post_headers(id, "2025-11-25"), token),
                                rpc_notification("notifications/initialized").dump());
    return note.status == 202 ? id : std::string{};
}

// The JSON-RPC error a refusal's body carries.
void check_rpc_error_body(const HttpResponse& r) {
    const json body = r.json();
    REQUIRE(body.is_object());
    CHECK(body.value("jsonrpc", "") == "2.0");
    CHECK(body.value("id", json()).is_null());
    REQUIRE(body.contains("error"));
    CHECK(body["error"].value("code", 0) == -32600);
    CHECK(body["error"].value("message", json()).is_string());
}

}  // namespace

TEST_CASE("authorization A2, A6: no token is answered 401 with resource_metadata, on every MCP endpoint") {
    AuthServer a({"mcp:read"});
    HttpClient c = a.server.client();
    const auto r = c.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump());
    CHECK(r.status == 401);
    const auto challenge = r.header("www-authenticate").value_or("");
    CHECK(challenge == std::string("Bearer resource_metadata=\"") + metadata_url + "\", scope=\"mcp:read\"");
    check_rpc_error_body(r);
    CHECK(r.header("content-type") == "application/json");
    // Legacy GET and POST, GET and DELETE of the Streamable HTTP endpoint: the same.
    CHECK(c.request("GET", "/sse", {{"Accept", "text/event-stream"}}).status == 401);
    CHECK(c.request("POST", "/messages?sessionId=x", {{"Content-Type", "application/json"}}, "{}").status == 401);
    CHECK(c.request("GET", "/mcp", get_headers("x")).status == 401);
    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", "x"}}).status == 401);
    // A token in the query string counts as none (MCP: header only).
    const auto q = c.request("POST", "/mcp?access_token=alice-token", post_headers(), initialize_request("2025-11-25").dump());
    CHECK(q.status == 401);
    CHECK(q.header("www-authenticate").value_or("").find("error=") == std::string::npos);
    // Another scheme counts as none too.
    CHECK(c.request("POST", "/mcp", {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"},
                                     {"Authorization", "Basic YWxpY2U6eA=="}},
                    initialize_request("2025-11-25").dump())
              .status == 401);
    CHECK(a.audit->has("401  missing_token"));
    CHECK(a.verifier->calls.load() == 0);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization A2, A4: bad, expired, foreign and malformed tokens get 401 invalid_token") {
    AuthServer a;
    HttpClient c = a.server.client();
    const std::string body = initialize_request("2025-11-25").dump();
    struct Case {
        std::string authorization;
        std::string description;
    };
    const std::vector<Case> cases = {
        {"Bearer nobody-issued-this", "unknown token"},
        {"Bearer expired-token", "token expired"},
        {"Bearer foreign-audience-token", "token not issued for this resource"},
        {"Bearer ", "malformed"},
        {"Bearer a b", "malformed"},
    };
    for (const auto& k : cases) {
        CAPTURE(k.authorization);
        Headers h = post_headers();
        h.emplace_back("Authorization", k.authorization);
        const auto r = c.request("POST", "/mcp", h, body);
        CHECK(r.status == 401);
        CHECK(r.header("www-authenticate").value_or("") ==
              std::string("Bearer resource_metadata=\"") + metadata_url + "\", error=\"invalid_token\", error_description=\"" +
                  k.description + "\"");
        check_rpc_error_body(r);
    }
    // The field sent twice is malformed as well.
    Headers twice = with_token(with_token(post_headers(), "alice-token"), "bob-token");
    CHECK(c.request("POST", "/mcp", twice, body).status == 401);
    CHECK(a.audit->has("401  token expired"));
    CHECK(a.audit->has("401  token not issued for this resource"));
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization: a verifier that cannot decide gets 503 with Retry-After") {
    AuthServer a;
    HttpClient c = a.server.client();
    const auto r = c.request("POST", "/mcp", with_token(post_headers(), "down-token"), initialize_request("2025-11-25").dump());
    CHECK(r.status == 503);
    CHECK(r.header("retry-after") == "5");
    check_rpc_error_body(r);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization A5: a token without the required scope gets 403 insufficient_scope naming granted and required") {
    AuthServer a({"mcp:read", "mcp:write"});
    HttpClient c = a.server.client();
    const auto r = c.request("POST", "/mcp", with_token(post_headers(), "alice-token-2"), initialize_request("2025-11-25").dump());
    CHECK(r.status == 403);
    CHECK(r.header("www-authenticate").value_or("") ==
          std::string("Bearer error=\"insufficient_scope\", scope=\"mcp:read mcp:write\", resource_metadata=\"") +
              metadata_url + "\", error_description=\"additional scope required\"");
    check_rpc_error_body(r);
    CHECK(a.audit->has("403 alice insufficient_scope"));
    // With every scope: through.
    CHECK(!open_session_as(c, "alice-token").empty());
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization A1: the metadata document is served without a token (RFC 9728)") {
    AuthServer a({}, [](mcpsse::SseTransportOptions& o) { o.cors_origins = {"*"}; });
    HttpClient c = a.server.client();
    const auto r = c.request("GET", "/.well-known/oauth-protected-resource/mcp", {{"Origin", "http://localhost:6274"}});
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header("access-control-allow-origin") == "http://localhost:6274");
    const json doc = r.json();
    CHECK(doc["resource"] == resource);
    CHECK(doc["authorization_servers"] == json::array({"https://auth.example.com"}));
    CHECK(doc["scopes_supported"] == json::array({"mcp:read", "mcp:write"}));  // never offline_access
    CHECK(doc["bearer_methods_supported"] == json::array({"header"}));
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization: with CORS on, refusals are readable by browsers and preflights need no token") {
    AuthServer a({}, [](mcpsse::SseTransportOptions& o) { o.cors_origins = {"*"}; });
    HttpClient c = a.server.client();
    Headers h = post_headers();
    h.emplace_back("Origin", "http://localhost:6274");
    const auto r = c.request("POST", "/mcp", h, initialize_request("2025-11-25").dump());
    CHECK(r.status == 401);
    CHECK(r.header("access-control-allow-origin") == "http://localhost:6274");
    CHECK(r.header("access-control-expose-headers").value_or("").find("WWW-Authenticate") != std::string::npos);
    const auto pre = c.request("OPTIONS", "/mcp",
                               {{"Origin", "http://localhost:6274"}, {"Access-Control-Request-Method", "POST"}});
    CHECK(pre.status == 204);
    CHECK(pre.header("access-control-allow-headers").value_or("").find("Authorization") != std::string::npos);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization: a token is verified once, then served from the cache") {
    AuthServer a;
    HttpClient c = a.server.client();
    const std::string sid = open_session_as(c, "alice-token");
    REQUIRE(!sid.empty());
    for (int i = 0; i < 5; ++i)
        CHECK(c.request("POST", "/mcp", with_token(post_headers(sid, "2025-11-25"), "alice-token"),
                        rpc_request(10 + i, "ping").dump())
                  .status == 200);
    CHECK(a.verifier->calls.load() == 1);
    CHECK(a.audit->has("0 alice "));
    // An expired principal is never cached: each request asks again.
    HttpClient d = a.server.client();
    for (int i = 0; i < 2; ++i)
        CHECK(d.request("POST", "/mcp", with_token(post_headers(), "expired-token"), initialize_request("2025-11-25").dump())
                  .status == 401);
    CHECK(a.verifier->calls.load() == 3);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization N6: a session answers only its subject; others get 404 as if it did not exist") {
    AuthServer a;
    HttpClient c = a.server.client();
    const std::string sid = open_session_as(c, "alice-token");
    REQUIRE(!sid.empty());
    const std::string ping = rpc_request(7, "ping").dump();
    const auto foreign = c.request("POST", "/mcp", with_token(post_headers(sid, "2025-11-25"), "bob-token"), ping);
    CHECK(foreign.status == 404);
    CHECK(c.request("GET", "/mcp", with_token(get_headers(sid), "bob-token")).status == 404);
    CHECK(c.request("GET", "/mcp", with_token(get_headers(sid, "1-1"), "bob-token")).status == 404);  // resumption
    CHECK(c.request("DELETE", "/mcp", with_token({{"Mcp-Session-Id", sid}}, "bob-token")).status == 404);
    // The same subject with another token (fewer scopes) may use it; the principal is the request's.
    const auto same = c.request("POST", "/mcp", with_token(post_headers(sid, "2025-11-25"), "alice-token-2"),
                                rpc_request(8, "whoami").dump());
    REQUIRE(same.status == 200);
    CHECK(same.json()["result"]["subject"] == "alice");
    CHECK(same.json()["result"]["scopes"] == json::array({"mcp:read"}));
    CHECK(a.audit->has("session alice"));
    CHECK(a.audit->has("request 200 alice"));
    CHECK(c.request("DELETE", "/mcp", with_token({{"Mcp-Session-Id", sid}}, "alice-token")).status == 200);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization N6: a legacy session's sessionId alone does not suffice") {
    AuthServer a;
    HttpClient stream = a.server.client();
    REQUIRE(stream.send_request("GET", "/sse", with_token({{"Accept", "text/event-stream"}}, "alice-token")));
    REQUIRE(stream.read_head().status == 200);
    const auto endpoint = stream.next_event();
    REQUIRE(endpoint);
    REQUIRE(endpoint->event == "endpoint");
    HttpClient poster = a.server.client();
    const std::string init = initialize_request("2024-11-05").dump();
    CHECK(poster.request("POST", endpoint->data, {{"Content-Type", "application/json"}}, init).status == 401);
    const auto bob = poster.request("POST", endpoint->data, with_token({{"Content-Type", "application/json"}}, "bob-token"), init);
    CHECK(bob.status == 404);
    check_rpc_error_body(bob);
    CHECK(poster.request("POST", endpoint->data, with_token({{"Content-Type", "application/json"}}, "alice-token"), init).status ==
          202);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization: before 100 Continue, a request without a token is refused without its body") {
    AuthServer a;
    HttpClient c = a.server.client();
    const std::string body = initialize_request("2025-11-25").dump();
    Headers h = post_headers();
    h.emplace_back("Expect", "100-continue");
    h.emplace_back("Content-Length", std::to_string(body.size()));
    REQUIRE(c.send_raw(c.format_request("POST", "/mcp", h, "")));
    const auto r = c.read_response();
    CHECK(r.status == 401);
    CHECK(r.header("www-authenticate").has_value());
    CHECK(c.wait_closed(3s));
    // With a token: 100 Continue, then the answer.
    HttpClient d = a.server.client();
    REQUIRE(d.send_raw(d.format_request("POST", "/mcp", with_token(h, "alice-token"), "")));
    CHECK(d.read_head(true).status == 100);
    REQUIRE(d.send_raw(body));
    CHECK(d.read_response().status == 200);
    // A session's owner gets 100 Continue for it; another subject gets 404 before the body.
    HttpClient e = a.server.client();
    const std::string sid = open_session_as(e, "alice-token");
    REQUIRE(!sid.empty());
    const std::string ping = rpc_request(9, "ping").dump();
    Headers in_session = post_headers(sid, "2025-11-25");
    in_session.emplace_back("Expect", "100-continue");
    in_session.emplace_back("Content-Length", std::to_string(ping.size()));
    REQUIRE(e.send_raw(e.format_request("POST", "/mcp", with_token(in_session, "alice-token"), "")));
    CHECK(e.read_head(true).status == 100);
    REQUIRE(e.send_raw(ping));
    CHECK(e.read_response().status == 200);
    HttpClient f = a.server.client();
    REQUIRE(f.send_raw(f.format_request("POST", "/mcp", with_token(in_session, "bob-token"), "")));
    CHECK(f.read_response().status == 404);
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization A5: a Server's tool scopes hide the tool and refuse its call with the step-up 403") {
    mcpsse::Server server;
    mcpsse::Tool admin = mcpsse_test::tool_named_for_auth("reset");
    admin.required_scopes = {"mcp:admin"};
    server.add_tool(admin, [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return mcpsse::tool_text_result("done");
    });
    server.add_tool(mcpsse_test::tool_named_for_auth("echo"), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return mcpsse::tool_text_result("echo");
    });
    AuthServer a;
    a.verifier->accept("admin-token", "root", {"mcp:read", "mcp:admin"});
    // Installed after start is not allowed; a second server on its own dispatcher.
    TestServer s;
    server.install(s.dispatcher);
    mcpsse::SseTransportOptions o;
    mcpsse::AuthorizationOptions auth;
    auth.resource = resource;
    auth.verifier = a.verifier;
    o.authorization = std::move(auth);
    auto audit = std::make_shared<AuditLog>();
    o.observers.push_back(audit);
    s.start(std::move(o));
    HttpClient c = s.client();
    const std::string sid = open_session_as(c, "alice-token");
    REQUIRE(!sid.empty());
    const auto headers = with_token(post_headers(sid, "2025-11-25"), "alice-token");
    const auto listed = c.request("POST", "/mcp", headers, rpc_request(2, "tools/list").dump());
    REQUIRE(listed.status == 200);
    CHECK(listed.json()["result"]["tools"].size() == 1);
    CHECK(listed.json()["result"]["tools"][0]["name"] == "echo");
    const auto call = c.request("POST", "/mcp", headers,
                                rpc_request(3, "tools/call", {{"name", "reset"}, {"arguments", json::object()}}).dump());
    CHECK(call.status == 403);
    CHECK(call.header("www-authenticate").value_or("") ==
          std::string("Bearer error=\"insufficient_scope\", scope=\"mcp:read mcp:write mcp:admin\", resource_metadata=\"") +
              metadata_url + "\", error_description=\"additional scope required\"");
    check_rpc_error_body(call);
    CHECK(audit->has("403 alice insufficient_scope"));
    // With the scope: listed and callable.
    HttpClient d = s.client();
    const std::string root = open_session_as(d, "admin-token");
    REQUIRE(!root.empty());
    const auto root_headers = with_token(post_headers(root, "2025-11-25"), "admin-token");
    CHECK(d.request("POST", "/mcp", root_headers, rpc_request(2, "tools/list").dump()).json()["result"]["tools"].size() == 2);
    const auto ok = d.request("POST", "/mcp", root_headers,
                              rpc_request(3, "tools/call", {{"name", "reset"}, {"arguments", json::object()}}).dump());
    CHECK(ok.status == 200);
    CHECK(ok.json()["result"]["content"][0]["text"] == "done");
    CHECK(s.stop_and_join());
    CHECK(a.server.stop_and_join());
}

TEST_CASE("authorization: static tokens get a subject of their own and their scopes") {
    auto statics = std::make_shared<mcpsse::StaticTokenVerifier>();
    statics->add("dev-token-1", {"mcp:read"});
    statics->add("dev-token-2");
    TestServer s;
    s.dispatcher.on_request("whoami", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return json{{"subject", ctx.principal() ? ctx.principal()->subject : ""}};
    });
    mcpsse::SseTransportOptions o;
    mcpsse::AuthorizationOptions auth;
    auth.resource = "http://127.0.0.1/mcp";
    auth.verifier = statics;
    o.authorization = std::move(auth);
    std::promise<std::string> opened;
    o.on_session_open = [&opened](const mcpsse::SseSession<>& session) {
        opened.set_value(session.principal() ? session.principal()->subject : "");
    };
    s.start(std::move(o));
    HttpClient c = s.client();
    const std::string sid = open_session_as(c, "dev-token-1");
    REQUIRE(!sid.empty());
    const auto me = c.request("POST", "/mcp", with_token(post_headers(sid, "2025-11-25"), "dev-token-1"),
                              rpc_request(2, "whoami").dump());
    REQUIRE(me.status == 200);
    CHECK(me.json()["result"]["subject"] == mcpsse::StaticTokenVerifier::subject_of("dev-token-1"));
    CHECK(me.json()["result"]["subject"].get<std::string>().starts_with("static:"));
    CHECK(opened.get_future().get() == mcpsse::StaticTokenVerifier::subject_of("dev-token-1"));  // SseSession::principal
    CHECK(mcpsse::StaticTokenVerifier::subject_of("dev-token-1") != mcpsse::StaticTokenVerifier::subject_of("dev-token-2"));
    // The other static token is another subject: the session is not its.
    CHECK(c.request("POST", "/mcp", with_token(post_headers(sid, "2025-11-25"), "dev-token-2"), rpc_request(3, "ping").dump())
              .status == 404);
    const auto bad = c.request("POST", "/mcp", with_token(post_headers(), "dev-token-3"), initialize_request("2025-11-25").dump());
    CHECK(bad.status == 401);
    CHECK(bad.header("www-authenticate").value_or("").find("resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/mcp\"") !=
          std::string::npos);
    CHECK(s.stop_and_join());
}

TEST_CASE("authorization: invalid settings throw before the port is bound") {
    mcpsse::SseTransportOptions o;
    o.port = 0;
    asio::io_context io;
    mcpsse::AuthorizationOptions auth;
    auth.resource = "https://mcp.example.com/mcp";
    o.authorization = auth;  // no verifier
    CHECK_THROWS_AS(mcpsse::SseTransport<>(io.get_executor(), o), std::invalid_argument);
    auth.verifier = std::make_shared<mcpsse::StaticTokenVerifier>();
    for (const char* bad : {"", "mcp.example.com/mcp", "https:///mcp", "https://mcp.example.com/mcp#x"}) {
        CAPTURE(bad);
        auth.resource = bad;
        o.authorization = auth;
        CHECK_THROWS_AS(mcpsse::SseTransport<>(io.get_executor(), o), std::invalid_argument);
    }
}

TEST_CASE("authorization: one connection carrying several tokens gets each token's principal, never a neighbour's") {
    AuthServer a;
    a.verifier->accept("alice-token-x", "mallory", {"mcp:read"});  // same length as alice-token-2
    HttpClient c = a.server.client();
    const auto whoami = [&](const std::string& token, int id) {
        const json body = json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "whoami"}, {"params", {{"_meta", stateless_meta()}}}};
        Headers h = with_token(stateless_headers("whoami"), token);
        const auto r = c.request("POST", "/mcp", h, body.dump());
        return r.status == 200 ? r.json()["result"].value("subject", "") : "status " + std::to_string(r.status);
    };
    CHECK(whoami("alice-token-2", 1) == "alice");
    CHECK(whoami("alice-token-x", 2) == "mallory");       // differs from the remembered token in its last byte
    CHECK(whoami("alice-token-2", 3) == "alice");
    CHECK(whoami("alice-token-3", 4) == "status 401");    // unknown, though close to the remembered one
    CHECK(whoami("bob-token", 5) == "bob");
    CHECK(whoami("bob-token", 6) == "bob");
    CHECK(a.verifier->calls.load() == 4);  // each distinct token verified once; repeats come from memory
    CHECK(a.server.stop_and_join());
}
