// Socket-level tests of ClientLimits: sessions, streams, connections and request rate
// counted per client key (token subject, or address, from trusted proxies' forwarding
// fields), each refusal's 429 with Retry-After and JSON-RPC body, and the key's parsing.
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/static_token_verifier.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <mcpsse/detail/limits/client_key.hpp>
#include <mcpsse/detail/limits/client_table.hpp>
#include <mcpsse/detail/http/request_parser.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

class LimitLog final : public mcpsse::TransportObserver {
public:
    void on_limit(const mcpsse::LimitEvent& e) override {
        std::lock_guard lock(mutex_);
        lines_.push_back(std::string(e.limit) + " " + std::string(e.detail));
    }
    [[nodiscard]] bool has(const std::string& line) const {
        std::lock_guard lock(mutex_);
        return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

Headers from(Headers h, const std::string& client) {
    h.emplace_back("X-Forwarded-For", client);
    return h;
}

void check_429(const HttpResponse& r, const std::string& limit) {
    CHECK(r.status == 429);
    CHECK(r.header("retry-after").has_value());
    CHECK(std::stoi(r.header("retry-after").value_or("0")) >= 1);
    const json body = r.json();
    REQUIRE(body.is_object());
    REQUIRE(body.contains("error"));
    CHECK(body["error"].value("code", 0) == -32050);
    CHECK(body["error"].value("data", json::object()).value("limit", "") == limit);
}

// A server behind a trusted proxy on loopback: clients are told apart by X-Forwarded-For.
mcpsse::SseTransportOptions behind_proxy(const std::shared_ptr<LimitLog>& log) {
    mcpsse::SseTransportOptions o;
    o.client_limits.trusted_proxies = {"127.0.0.0/8"};
    o.client_limits.requests_per_second = 0;
    o.observers.push_back(log);
    return o;
}

}  // namespace

TEST_CASE("client limits: one client is refused sessions at its limit while another still gets one") {
    auto log = std::make_shared<LimitLog>();
    auto o = behind_proxy(log);
    o.client_limits.max_sessions = 3;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string init = initialize_request("2025-11-25").dump();
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        const auto r = c.request("POST", "/mcp", from(post_headers(), "203.0.113.7"), init);
        REQUIRE(r.status == 200);
        ids.push_back(r.header("mcp-session-id").value_or(""));
    }
    const auto refused = c.request("POST", "/mcp", from(post_headers(), "203.0.113.7"), init);
    check_429(refused, "client_limits.max_sessions");
    CHECK(log->has("client_limits.max_sessions ip:203.0.113.7"));
    // Another client, and the proxy's own traffic, are not affected.
    CHECK(c.request("POST", "/mcp", from(post_headers(), "198.51.100.2"), init).status == 200);
    CHECK(c.request("POST", "/mcp", post_headers(), init).status == 200);
    // A legacy stream counts against the same limit.
    CHECK(c.request("GET", "/sse", from({{"Accept", "text/event-stream"}}, "203.0.113.7")).status == 429);
    // Ending a session gives its slot back.
    CHECK(c.request("DELETE", "/mcp", from({{"Mcp-Session-Id", ids[0]}}, "203.0.113.7")).status == 200);
    CHECK(c.request("POST", "/mcp", from(post_headers(), "203.0.113.7"), init).status == 200);
    CHECK(s.stop_and_join());
}

TEST_CASE("client limits: a token's subject is the key, whatever address it comes from") {
    auto log = std::make_shared<LimitLog>();
    auto statics = std::make_shared<mcpsse::StaticTokenVerifier>();
    statics->add("token-a");
    statics->add("token-b");
    mcpsse::SseTransportOptions o;
    o.client_limits.max_sessions = 2;
    o.client_limits.requests_per_second = 0;
    o.observers.push_back(log);
    mcpsse::AuthorizationOptions auth;
    auth.resource = "http://127.0.0.1/mcp";
    auth.verifier = statics;
    o.authorization = auth;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string init = initialize_request("2025-11-25").dump();
    const auto as = [](const std::string& token) {
        Headers h = post_headers();
        h.emplace_back("Authorization", "Bearer " + token);
        return h;
    };
    // Loopback is exempt for addresses, not for subjects.
    CHECK(c.request("POST", "/mcp", as("token-a"), init).status == 200);
    CHECK(c.request("POST", "/mcp", as("token-a"), init).status == 200);
    check_429(c.request("POST", "/mcp", as("token-a"), init), "client_limits.max_sessions");
    CHECK(log->has("client_limits.max_sessions sub:" + mcpsse::StaticTokenVerifier::subject_of("token-a")));
    CHECK(c.request("POST", "/mcp", as("token-b"), init).status == 200);
    CHECK(s.stop_and_join());
}

TEST_CASE("client limits: the request rate is a token bucket per client") {
    auto log = std::make_shared<LimitLog>();
    auto o = behind_proxy(log);
    o.client_limits.requests_per_second = 1;
    o.client_limits.request_burst = 3;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string sid = [&] {
        const auto r = c.request("POST", "/mcp", from(post_headers(), "203.0.113.9"), initialize_request("2025-11-25").dump());
        return r.header("mcp-session-id").value_or("");
    }();
    REQUIRE(!sid.empty());
    // The burst allows 3 requests (initialize took one), then 429 until the bucket refills.
    CHECK(c.request("POST", "/mcp", from(post_headers(sid, "2025-11-25"), "203.0.113.9"), rpc_request(2, "ping").dump()).status == 200);
    CHECK(c.request("POST", "/mcp", from(post_headers(sid, "2025-11-25"), "203.0.113.9"), rpc_request(3, "ping").dump()).status == 200);
    const auto refused = c.request("POST", "/mcp", from(post_headers(sid, "2025-11-25"), "203.0.113.9"), rpc_request(4, "ping").dump());
    check_429(refused, "client_limits.requests_per_second");
    CHECK(refused.header("retry-after") == "1");
    CHECK(log->has("client_limits.requests_per_second ip:203.0.113.9"));
    // Another client has its own bucket; the connection stays usable.
    CHECK(c.request("POST", "/mcp", from(post_headers(), "198.51.100.3"), initialize_request("2025-11-25").dump()).status == 200);
    // The metadata-free host paths are not counted: an unknown path is still 404.
    CHECK(c.request("GET", "/elsewhere", from({}, "203.0.113.9")).status == 404);
    CHECK(s.stop_and_join());
}

TEST_CASE("client limits: streams per client") {
    auto log = std::make_shared<LimitLog>();
    auto o = behind_proxy(log);
    o.client_limits.max_streams = 1;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string init = initialize_request("2025-11-25").dump();
    const auto first = c.request("POST", "/mcp", from(post_headers(), "203.0.113.5"), init);
    const auto second = c.request("POST", "/mcp", from(post_headers(), "203.0.113.5"), init);
    const std::string a = first.header("mcp-session-id").value_or(""), b = second.header("mcp-session-id").value_or("");
    REQUIRE(!a.empty());
    REQUIRE(!b.empty());
    HttpClient stream = s.client();
    REQUIRE(stream.send_request("GET", "/mcp", from(get_headers(a), "203.0.113.5")));
    REQUIRE(stream.read_head().status == 200);
    HttpClient other = s.client();
    check_429(other.request("GET", "/mcp", from(get_headers(b), "203.0.113.5")), "client_limits.max_streams");
    stream.close();
    // Once the first stream is gone its slot is free again.
    CHECK(eventually([&] {
        HttpClient again = s.client();
        if (!again.send_request("GET", "/mcp", from(get_headers(b), "203.0.113.5"))) return false;
        return again.read_head().status == 200;
    }));
    CHECK(s.stop_and_join());
}

TEST_CASE("client limits: forwarding fields are believed from trusted proxies only") {
    const mcpsse::detail::TrustedProxies trusted({"10.0.0.0/8", "::1"});
    const auto peer = asio::ip::make_address("10.1.2.3");
    const auto stranger = asio::ip::make_address("192.0.2.1");
    const auto request = [](Headers fields) {
        mcpsse::detail::HttpRequestParser parser;
        std::string raw = "GET /mcp HTTP/1.1\r\nHost: x\r\n";
        for (const auto& [n, v] : fields) raw += n + ": " + v + "\r\n";
        raw += "\r\n";
        const auto r = parser.parse(raw);
        REQUIRE(r.status == mcpsse::detail::ParseStatus::complete);
        return parser.release();
    };
    using mcpsse::detail::client_key;
    CHECK(client_key(request({{"X-Forwarded-For", "203.0.113.1, 10.0.0.9"}}), peer, trusted, true) == "ip:203.0.113.1");
    CHECK(client_key(request({{"X-Forwarded-For", "203.0.113.1"}}), stranger, trusted, true) == "ip:192.0.2.1");
    CHECK(client_key(request({{"Forwarded", "for=\"[2001:db8::1]:4711\";proto=https"}, {"X-Forwarded-For", "1.2.3.4"}}), peer,
                     trusted, true) == "ip:2001:db8::1");
    CHECK(client_key(request({{"Forwarded", "for=192.0.2.60:8080, for=10.9.9.9"}}), peer, trusted, true) == "ip:192.0.2.60");
    // A spoofed first hop does not matter: the last untrusted address counts.
    CHECK(client_key(request({{"X-Forwarded-For", "6.6.6.6, 203.0.113.1"}}), peer, trusted, true) == "ip:203.0.113.1");
    CHECK(client_key(request({{"Forwarded", "for=unknown"}}), peer, trusted, true).empty());
    CHECK(client_key(request({}), asio::ip::make_address("127.0.0.1"), trusted, true).empty());
    CHECK(client_key(request({}), asio::ip::make_address("127.0.0.1"), trusted, false) == "ip:127.0.0.1");
    CHECK_THROWS_AS(mcpsse::detail::TrustedProxies({"10.0.0.0/33"}), std::invalid_argument);
    CHECK_THROWS_AS(mcpsse::detail::TrustedProxies({"proxy.example"}), std::invalid_argument);
}

TEST_CASE("client limits: the table drops idle clients first and stops limiting when full of busy ones") {
    mcpsse::ClientLimits limits;
    limits.max_clients = 2;
    limits.max_sessions = 1;
    mcpsse::detail::ClientTable table(limits);
    using R = mcpsse::detail::ClientResource;
    CHECK(table.acquire(R::session, "a"));
    CHECK_FALSE(table.acquire(R::session, "a"));
    CHECK(table.acquire(R::session, "b"));
    CHECK(table.acquire(R::session, "c"));  // a and b busy: c is not tracked, so not limited
    CHECK(table.size() == 2);
    table.release(R::session, "b");
    CHECK(table.acquire(R::session, "c"));  // b was idle: dropped, c tracked
    CHECK_FALSE(table.acquire(R::session, "c"));
    CHECK(table.held(R::session, "a") == 1);
}
