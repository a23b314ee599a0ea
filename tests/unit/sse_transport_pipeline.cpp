// Socket-level tests of SseTransport's seams: the request pipeline's stages (answering,
// letting through, suspending, before 100 Continue), the host's own routes, and the
// observers of connections, requests, sessions and limits.
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

// Refuses requests carrying `X-Deny` with 401 and a challenge; counts its calls.
class DenyStage final : public mcpsse::RequestStage {
public:
    std::atomic<int> calls{0};
    std::optional<mcpsse::HttpResponse> check(const mcpsse::HttpRequestHead& request) override {
        ++calls;
        if (!request.find("x-deny")) return std::nullopt;
        mcpsse::HttpResponse r;
        r.status = 401;
        r.content_type = "application/json";
        r.body = R"({"error":"denied"})";
        r.headers = {{"WWW-Authenticate", "Bearer"}, {"Bad\r\nName", "x"}, {"X-Bad", "a\r\nInjected: 1"}};
        return r;
    }
};

// Suspends (a 20 ms timer) for requests carrying `X-Slow`, then answers 429.
class SlowStage final : public mcpsse::RequestStage {
public:
    std::optional<mcpsse::HttpResponse> check(const mcpsse::HttpRequestHead&) override { return std::nullopt; }
    bool suspends(const mcpsse::HttpRequestHead& request) override { return request.find("x-slow").has_value(); }
    asio::awaitable<std::optional<mcpsse::HttpResponse>> async_check(const mcpsse::HttpRequestHead& request) override {
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
        co_await timer.async_wait(asio::use_awaitable);
        // The view is still valid after suspending.
        mcpsse::HttpResponse r{429, "text/plain; charset=utf-8", "slow down " + std::string(request.path()), {}};
        r.headers.emplace_back("Retry-After", "2");
        co_return r;
    }
};

// Records what the transport reports.
class Recorder final : public mcpsse::TransportObserver {
public:
    void on_connection_open(const mcpsse::ConnectionInfo& c) override { add("open " + addr(c)); }
    void on_connection_close(const mcpsse::ConnectionInfo& c) override { add("close " + addr(c)); }
    void on_request(const mcpsse::RequestInfo& r) override {
        add("request " + std::string(r.method) + " " + std::string(r.path) + " " + std::to_string(r.status) +
            (r.bytes_sent > 0 ? " bytes" : " nobytes"));
    }
    void on_session_open(const mcpsse::SessionInfo& s) override {
        add("session_open " + std::string(s.protocol_version) + (s.legacy ? " legacy" : ""));
    }
    void on_session_close(const mcpsse::SessionInfo&, mcpsse::SessionEndReason reason) override {
        add("session_close " + std::to_string(static_cast<int>(reason)));
    }
    void on_limit(const mcpsse::LimitEvent& e) override { add("limit " + std::string(e.limit)); }

    [[nodiscard]] bool has(const std::string& entry) const {
        std::lock_guard lock(mutex_);
        for (const auto& e : entries_)
            if (e == entry) return true;
        return false;
    }
    [[nodiscard]] int count_prefix(const std::string& prefix) const {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& e : entries_) n += e.rfind(prefix, 0) == 0 ? 1 : 0;
        return n;
    }

private:
    static std::string addr(const mcpsse::ConnectionInfo& c) {
        return c.id > 0 && c.remote_endpoint.address().is_loopback() ? "ok" : "bad";
    }
    void add(std::string e) {
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(e));
    }
    mutable std::mutex mutex_;
    std::vector<std::string> entries_;
};

mcpsse::HttpRoute health_route(std::atomic<int>& hits) {
    return {"GET", "/health", [&hits](const mcpsse::HttpRequestHead& request) -> asio::awaitable<mcpsse::HttpResponse> {
                ++hits;
                co_return mcpsse::HttpResponse{200, "application/json",
                                               json{{"status", "ok"}, {"query", request.query()},
                                                    {"peer_loopback", request.remote_endpoint().address().is_loopback()}}
                                                   .dump(),
                                               {}};
            }};
}

}  // namespace

TEST_CASE("routes: the host's GET /health answers before the MCP endpoints, with the guard and 405") {
    std::atomic<int> hits{0};
    mcpsse::SseTransportOptions o;
    o.routes.push_back(health_route(hits));
    o.routes.push_back({"GET", "/boom", [](const mcpsse::HttpRequestHead&) -> asio::awaitable<mcpsse::HttpResponse> {
                            throw std::runtime_error("host failure");
                            co_return mcpsse::HttpResponse{};
                        }});
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    auto r = c.request("GET", "/health?probe=1");
    REQUIRE(r.status == 200);
    CHECK(r.json()["status"] == "ok");
    CHECK(r.json()["query"] == "probe=1");
    CHECK(r.json()["peer_loopback"] == true);
    CHECK(r.header("cache-control") == "no-store");
    CHECK(r.header("content-type") == "application/json");
    // Same connection: kept alive; another method gets 405 with the route's methods.
    r = c.request("POST", "/health", {{"Content-Type", "application/json"}}, "{}");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "GET, OPTIONS");
    // The Host guard covers the host's routes too.
    r = c.request("GET", "/health", {{"Host", "evil.example:80"}});
    CHECK(r.status == 403);
    CHECK(hits.load() == 1);
    // A throwing handler is a 500, not a dead server.
    r = c.request("GET", "/boom");
    CHECK(r.status == 500);
    // The MCP endpoint still works.
    CHECK(!open_session(c).empty());
    CHECK(s.stop_and_join());
}

TEST_CASE("stages: a stage answers or lets through; preflights bypass it; unsafe header fields are dropped") {
    auto deny = std::make_shared<DenyStage>();
    mcpsse::SseTransportOptions o;
    o.stages.push_back(deny);
    o.cors_origins = {"http://localhost:5173"};
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    Headers denied = post_headers();
    denied.emplace_back("X-Deny", "1");
    auto r = c.request("POST", "/mcp", denied, initialize_request("2025-11-25").dump());
    REQUIRE(r.status == 401);
    CHECK(r.header("www-authenticate") == "Bearer");
    CHECK(r.json()["error"] == "denied");
    CHECK_FALSE(r.has_header("injected"));
    CHECK_FALSE(r.has_header("x-bad"));
    CHECK(s.transport->session_count() == 0);
    // Let through: the same connection goes on to the MCP endpoint.
    CHECK(!open_session(c).empty());
    // A CORS preflight is answered before the host's stages.
    const int before = deny->calls.load();
    r = c.request("OPTIONS", "/mcp",
                  {{"Origin", "http://localhost:5173"}, {"Access-Control-Request-Method", "POST"}, {"X-Deny", "1"}});
    CHECK(r.status == 204);
    CHECK(r.header("access-control-allow-origin") == "http://localhost:5173");
    CHECK(deny->calls.load() == before);
    // A stage's answer carries the CORS headers the request earned.
    Headers browser = denied;
    browser.emplace_back("Origin", "http://localhost:5173");
    r = c.request("POST", "/mcp", browser, rpc_request(1, "ping").dump());
    CHECK(r.status == 401);
    CHECK(r.header("access-control-allow-origin") == "http://localhost:5173");
    CHECK(s.stop_and_join());
}

TEST_CASE("stages: a suspending stage answers after its I/O; others are not delayed") {
    mcpsse::SseTransportOptions o;
    o.stages.push_back(std::make_shared<SlowStage>());
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    Headers slow = post_headers();
    slow.emplace_back("X-Slow", "1");
    auto r = c.request("POST", "/mcp", slow, initialize_request("2025-11-25").dump());
    CHECK(r.status == 429);
    CHECK(r.header("retry-after") == "2");
    CHECK(r.body == "slow down /mcp");
    CHECK(!open_session(c).empty());
    CHECK(s.stop_and_join());
}

TEST_CASE("stages: before 100 Continue a stage refuses without the body, and runs once per request") {
    auto deny = std::make_shared<DenyStage>();
    mcpsse::SseTransportOptions o;
    o.stages.push_back(deny);
    TestServer s;
    s.start(o);
    const std::string body = initialize_request("2025-11-25").dump();
    {
        HttpClient c = s.client();
        Headers h = post_headers();
        h.emplace_back("Expect", "100-continue");
        h.emplace_back("X-Deny", "1");
        h.emplace_back("Content-Length", std::to_string(body.size()));
        REQUIRE(c.send_raw(c.format_request("POST", "/mcp", h, "")));
        const auto r = c.read_head();
        CHECK(r.status == 401);
        CHECK(c.wait_closed(3s));
    }
    {
        HttpClient c = s.client();
        Headers h = post_headers();
        h.emplace_back("Expect", "100-continue");
        h.emplace_back("Content-Length", std::to_string(body.size()));
        const int before = deny->calls.load();
        REQUIRE(c.send_raw(c.format_request("POST", "/mcp", h, "")));
        CHECK(c.read_head(true).status == 100);
        REQUIRE(c.send_raw(body));
        const auto r = c.read_response();
        CHECK(r.status == 200);
        CHECK(deny->calls.load() == before + 1);
    }
    CHECK(s.stop_and_join());
}

TEST_CASE("observers: connections, requests, sessions and limits are reported") {
    auto recorder = std::make_shared<Recorder>();
    mcpsse::SseTransportOptions o;
    o.observers.push_back(recorder);
    o.max_connections = 1;
    o.http_limits.max_header_bytes = 1024;
    TestServer s;
    s.start(o);
    {
        HttpClient c = s.client();
        const std::string id = open_session(c);
        REQUIRE(!id.empty());
        CHECK(eventually([&] { return recorder->has("session_open 2025-11-25"); }));
        CHECK(eventually([&] { return recorder->has("request POST /mcp 200 bytes"); }));
        CHECK(eventually([&] { return recorder->has("request POST /mcp 202 bytes"); }));
        auto r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", id}});
        CHECK(r.status == 200);
        CHECK(eventually([&] {
            return recorder->has("session_close " + std::to_string(static_cast<int>(mcpsse::SessionEndReason::deleted)));
        }));
        CHECK(eventually([&] { return recorder->has("request DELETE /mcp 200 bytes"); }));
        // A second connection is over max_connections.
        HttpClient extra = s.client();
        CHECK(extra.read_response().status == 503);
        CHECK(eventually([&] { return recorder->has("limit max_connections"); }));
    }
    CHECK(eventually([&] { return recorder->count_prefix("close ok") == 2; }));
    CHECK(recorder->count_prefix("open ok") == 2);
    {
        HttpClient c = s.client();
        REQUIRE(c.send_raw("GET /mcp HTTP/1.1\r\nX-Big: " + std::string(2048, 'a') + "\r\n\r\n"));
        CHECK(c.read_response().status == 431);
        CHECK(eventually([&] { return recorder->has("limit http_limits"); }));
    }
    CHECK(s.stop_and_join());
}

TEST_CASE("observers: max_sessions, max_requests_in_flight, a slow consumer and send_timeout are reported") {
    SECTION("max_sessions and max_requests_in_flight") {
        auto recorder = std::make_shared<Recorder>();
        mcpsse::SseTransportOptions o;
        o.observers.push_back(recorder);
        o.max_sessions = 1;
        o.max_requests_in_flight = 1;
        TestServer s;
        s.start(o);
        HttpClient c = s.client();
        const std::string id = open_session(c);
        REQUIRE(!id.empty());
        HttpClient other = s.client();
        CHECK(other.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump()).status == 503);
        CHECK(eventually([&] { return recorder->has("limit max_sessions"); }));
        // One handler runs (it blocks); the next call is over the limit.
        REQUIRE(c.send_request("POST", "/mcp", post_headers(id), rpc_request(2, "block").dump()));
        REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
        CHECK(other.request("POST", "/mcp", post_headers(id), rpc_request(3, "ping").dump()).status == 429);
        CHECK(eventually([&] { return recorder->has("limit max_requests_in_flight"); }));
    }
    SECTION("a consumer too slow for max_stream_queue_bytes, a write blocked past send_timeout") {
        const bool queue_limit = GENERATE(true, false);
        auto recorder = std::make_shared<Recorder>();
        mcpsse::SseTransportOptions o;
        o.observers.push_back(recorder);
        o.max_stream_queue_bytes = queue_limit ? 256 * 1024 : 256 * 1024 * 1024;
        o.send_timeout = queue_limit ? std::chrono::milliseconds(30'000) : std::chrono::milliseconds(200);
        TestServer s;
        s.start(o);
        HttpClient c = s.client();
        const std::string id = open_session(c);
        REQUIRE(!id.empty());
        HttpClient g(s.port(), 5s, 4096);  // reads nothing after the head: the peer stops reading
        REQUIRE(g.send_request("GET", "/mcp", get_headers(id)));
        REQUIRE(g.read_head().status == 200);
        const std::string limit = queue_limit ? "limit max_stream_queue_bytes" : "limit send_timeout";
        INFO(limit);
        const std::string payload(32 * 1024, 'x');
        for (int i = 0; i < 400 && !recorder->has(limit); ++i) {
            s.transport->for_each_session([&](const mcpsse::SseSession<>& session) {
                session.notify("notifications/message", {{"level", "info"}, {"data", payload}});
            });
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        CHECK(eventually([&] { return recorder->has(limit); }));
    }
}

TEST_CASE("http_header: every POST's handler sees its own request's headers (sessions, batches, legacy, stateless)") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const json ask = rpc_request(7, "header", {{"name", "X-Trace"}});
    // A session POST (2025-11-25).
    const std::string id = open_session(c);
    REQUIRE(!id.empty());
    Headers h = post_headers(id, "2025-11-25");
    h.emplace_back("X-Trace", "session-post");
    auto r = c.request("POST", "/mcp", h, ask.dump());
    CHECK(r.json()["result"]["value"] == "session-post");
    // A batch (2025-03-26).
    const std::string old = open_session(c, "2025-03-26");
    REQUIRE(!old.empty());
    h = post_headers(old, "2025-03-26");
    h.emplace_back("X-Trace", "batch");
    r = c.request("POST", "/mcp", h, json::array({ask}).dump());
    CHECK(r.json()[0]["result"]["value"] == "batch");
    // Stateless (2026-07-28).
    json stateless = rpc_request(8, "header", {{"name", "X-Trace"}, {"_meta", stateless_meta()}});
    h = stateless_headers("header");
    h.emplace_back("X-Trace", "stateless");
    r = c.request("POST", "/mcp", h, stateless.dump());
    CHECK(r.json()["result"]["value"] == "stateless");
    // Legacy HTTP+SSE: the reply comes on the stream.
    LegacySession legacy = open_legacy_session(s);
    REQUIRE(!legacy.endpoint.empty());
    HttpClient poster = s.client();
    r = poster.request("POST", legacy.endpoint, {{"Content-Type", "application/json"}, {"X-Trace", "legacy"}}, ask.dump());
    CHECK(r.status == 202);
    const auto event = legacy.stream.next_event();
    REQUIRE(event);
    CHECK(event->json()["result"]["value"] == "legacy");
    CHECK(s.stop_and_join());
}
