// Socket-level tests of SseTransport: the HTTP status map, every limit, framing,
// keep-alive and pipelining, Origin/Host checks and CORS, over real loopback sockets.
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <string>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

const std::string ping_body = rpc_request(1, "ping").dump();

// POSTs a ping with `headers` on a fresh connection; returns the response.
HttpResponse post_with(TestServer& s, const Headers& headers, const std::string& body = ping_body) {
    HttpClient c = s.client();
    return c.request("POST", "/mcp", headers, body);
}

}  // namespace

// ---- status map ------------------------------------------------------------------------------

TEST_CASE("status map P1: 406 when Accept lacks a type; */* and application/*, text/* honored") {
    TestServer s;
    s.start();
    const Headers base{{"Content-Type", "application/json"}};
    auto with_accept = [&](const std::string& accept) {
        Headers h = base;
        h.emplace_back("Accept", accept);
        return post_with(s, h, initialize_request("2025-11-25").dump());
    };
    CHECK(post_with(s, base).status == 406);
    CHECK(with_accept("application/json").status == 406);
    CHECK(with_accept("text/event-stream").status == 406);
    auto r = with_accept("text/html, application/xml");
    CHECK(r.status == 406);
    CHECK(r.json()["error"]["code"] == -32600);
    CHECK(with_accept("*/*").status == 200);
    CHECK(with_accept("application/*, text/*").status == 200);
    CHECK(with_accept("application/json;q=0.9, text/event-stream;q=0.5").status == 200);
}

TEST_CASE("status map: 415, 400 -32700, 400 -32600, 404 unknown path, 405 with Allow, DELETE 200") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    auto r = c.request("POST", "/mcp", {{"Content-Type", "text/plain"}, {"Accept", "application/json, text/event-stream"}},
                       ping_body);
    CHECK(r.status == 415);
    r = c.request("POST", "/mcp", {{"Accept", "application/json, text/event-stream"}}, ping_body);
    CHECK(r.status == 415);
    CHECK(c.request("POST", "/mcp", post_headers(sid), R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":1}})")
              .status == 200);

    r = c.request("POST", "/mcp", post_headers(sid), "{not json");
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == -32700);
    CHECK((!r.json().contains("id") || r.json()["id"].is_null()));
    r = c.request("POST", "/mcp", post_headers(sid), R"({"jsonrpc":"2.0","id":5})");
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == -32600);
    r = c.request("POST", "/mcp", post_headers(sid), R"({"jsonrpc":"1.0","id":6,"method":"ping"})");
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == -32600);

    r = c.request("GET", "/nowhere");
    CHECK(r.status == 404);
    r = c.request("POST", "/mcp/extra", post_headers(sid), ping_body);
    CHECK(r.status == 404);
    r = c.request("PUT", "/mcp", post_headers(sid), ping_body);
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "GET, POST, DELETE");
    r = c.request("POST", "/sse", post_headers(), ping_body);
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "GET");
    // The connection survived every error above (keep-alive).
    r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}});
    CHECK(r.status == 200);
}

// ---- limits ----------------------------------------------------------------------------------

TEST_CASE("limits: header bytes -> 431, too many fields -> 431, long target -> 414") {
    mcpsse::SseTransportOptions o;
    o.http_limits.max_header_bytes = 2048;
    o.http_limits.max_header_fields = 20;
    o.http_limits.max_target_bytes = 256;
    TestServer s;
    s.start(o);
    {
        HttpClient c = s.client();
        Headers h = post_headers();
        h.emplace_back("X-Big", std::string(4096, 'a'));
        const auto r = c.request("POST", "/mcp", h, ping_body);
        CHECK(r.status == 431);
        CHECK(c.wait_closed(3s));
    }
    {
        HttpClient c = s.client();
        Headers h = post_headers();
        for (int i = 0; i < 30; ++i) h.emplace_back("X-F" + std::to_string(i), "v");
        const auto r = c.request("POST", "/mcp", h, ping_body);
        CHECK(r.status == 431);
    }
    {
        HttpClient c = s.client();
        const auto r = c.request("GET", "/mcp?" + std::string(1000, 'q'));
        CHECK(r.status == 414);
    }
    // Just under the limits is fine.
    HttpClient c = s.client();
    Headers h = post_headers();
    for (int i = 0; i < 10; ++i) h.emplace_back("X-F" + std::to_string(i), "v");
    CHECK(c.request("POST", "/mcp", h, initialize_request("2025-11-25").dump()).status == 200);
}

TEST_CASE("limits: a Content-Length over the body limit gets 413 before any body byte is sent") {
    mcpsse::SseTransportOptions o;
    o.http_limits.max_body_bytes = 64 * 1024;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    Headers h = post_headers();
    h.emplace_back("Content-Length", "100000000");
    REQUIRE(c.send_raw(c.format_request("POST", "/mcp", h, {})));
    const auto r = c.read_response();
    REQUIRE(r.complete);
    CHECK(r.status == 413);
    CHECK(c.wait_closed(3s));

    SECTION("a chunked body growing over the limit -> 413 too") {
        HttpClient d = s.client();
        Headers hc = post_headers();
        hc.emplace_back("Transfer-Encoding", "chunked");
        REQUIRE(d.send_raw(d.format_request("POST", "/mcp", hc, {})));
        REQUIRE(d.send_raw("20000\r\n"));  // 128 KiB chunk announced
        const auto r2 = d.read_response();
        CHECK(r2.status == 413);
    }
    SECTION("a body at the limit is read") {
        HttpClient d = s.client();
        std::string body = rpc_request(1, "echo", {{"pad", std::string(1000, 'x')}}).dump();
        CHECK(d.request("POST", "/mcp", post_headers(), body).status == 400);  // no session: read and answered
    }
}

TEST_CASE("limits: request_timeout -> 408 on partial headers; idle_timeout closes a keep-alive connection") {
    mcpsse::SseTransportOptions o;
    o.request_timeout = std::chrono::milliseconds(200);
    o.idle_timeout = std::chrono::milliseconds(300);
    TestServer s;
    s.start(o);
    {
        HttpClient c = s.client();
        REQUIRE(c.send_raw("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"));
        const auto r = c.read_response();
        REQUIRE(r.complete);
        CHECK(r.status == 408);
        CHECK(c.wait_closed(3s));
    }
    {
        // Headers complete but the body never comes.
        HttpClient c = s.client();
        Headers h = post_headers();
        h.emplace_back("Content-Length", "100");
        REQUIRE(c.send_raw(c.format_request("POST", "/mcp", h, {}) + "{\"jsonrpc\""));
        const auto r = c.read_response();
        CHECK(r.status == 408);
    }
    {
        // Idle between requests: closed without a response.
        HttpClient c = s.client();
        CHECK(c.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump()).status == 200);
        const auto t0 = std::chrono::steady_clock::now();
        CHECK(c.wait_closed(5s));
        CHECK(c.pending_bytes().empty());
        CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(150));
    }
    {
        // A connection that never sends a byte is closed after idle_timeout, silently.
        HttpClient c = s.client();
        CHECK(c.wait_closed(5s));
    }
    CHECK(eventually([&] { return s.transport->connection_count() == 0; }));
}

TEST_CASE("limits: max_connections -> 503 and close; max_sessions -> 503 with Retry-After") {
    mcpsse::SseTransportOptions o;
    o.max_connections = 2;
    o.max_sessions = 2;
    TestServer s;
    s.start(o);
    HttpClient a = s.client();
    HttpClient b = s.client();
    REQUIRE(eventually([&] { return s.transport->connection_count() == 2; }));
    {
        HttpClient third = s.client();
        const auto r = third.read_response();
        REQUIRE(r.complete);
        CHECK(r.status == 503);
        CHECK(third.wait_closed(3s));
    }
    CHECK(eventually([&] { return s.transport->connection_count() == 2; }));
    // The two admitted connections work; sessions are capped at 2.
    CHECK(!open_session(a).empty());
    CHECK(!open_session(b).empty());
    auto r = a.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump());
    CHECK(r.status == 503);
    CHECK(r.has_header("retry-after"));
    CHECK(s.transport->session_count() == 2);
    // Legacy GET is capped too.
    r = b.request("GET", "/sse", {{"Accept", "text/event-stream"}});
    CHECK(r.status == 503);
    CHECK(r.has_header("retry-after"));
    CHECK(s.probe.opened.load() == 2);
}

TEST_CASE("limits: session_idle_timeout ends an idle session (then 404), not one with an open stream") {
    mcpsse::SseTransportOptions o;
    o.session_idle_timeout = std::chrono::milliseconds(200);
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string idle = open_session(c);
    REQUIRE(!idle.empty());
    HttpClient g = s.client();
    const std::string streaming = open_session(g);
    REQUIRE(!streaming.empty());
    REQUIRE(g.send_request("GET", "/mcp", get_headers(streaming)));
    REQUIRE(g.read_head().status == 200);

    REQUIRE(eventually([&] { return s.transport->session_count() == 1; }));
    // The session leaves the table before on_session_close runs (on the reaper's thread).
    CHECK(eventually([&] { return s.probe.closed.load() == 1; }));
    CHECK(c.request("POST", "/mcp", post_headers(idle), ping_body).status == 404);
    // The session with an open GET stream stays.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(s.transport->session_count() == 1);
    CHECK(c.request("POST", "/mcp", post_headers(streaming), ping_body).status == 200);
    g.close();
    CHECK(eventually([&] { return s.transport->session_count() == 0; }));
}

// ---- framing ---------------------------------------------------------------------------------

TEST_CASE("framing: Content-Length with Transfer-Encoding -> 400 and close; chunked bodies accepted") {
    TestServer s;
    s.start();
    {
        HttpClient c = s.client();
        Headers h = post_headers();
        h.emplace_back("Content-Length", "5");
        h.emplace_back("Transfer-Encoding", "chunked");
        const std::string body = "5\r\nhello\r\n0\r\n\r\n";
        const auto r = c.request("POST", "/mcp", h, body);
        CHECK(r.status == 400);
        CHECK(c.wait_closed(3s));
    }
    HttpClient c = s.client();
    Headers h = post_headers();
    h.emplace_back("Transfer-Encoding", "chunked");
    const std::string json_text = initialize_request("2025-11-25").dump();
    std::string chunked;
    for (std::size_t i = 0; i < json_text.size(); i += 10) {
        const std::string part = json_text.substr(i, 10);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", part.size());
        chunked += std::string(size) + "\r\n" + part + "\r\n";
    }
    chunked += "0\r\n\r\n";
    const auto r = c.request("POST", "/mcp", h, chunked);
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["protocolVersion"] == "2025-11-25");
    CHECK(r.has_header("mcp-session-id"));
}

TEST_CASE("framing: Expect: 100-continue gets 100 Continue before the body") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string body = initialize_request("2025-11-25").dump();
    Headers h = post_headers();
    h.emplace_back("Expect", "100-continue");
    h.emplace_back("Content-Length", std::to_string(body.size()));
    REQUIRE(c.send_raw(c.format_request("POST", "/mcp", h, {})));
    const auto interim = c.read_head(true);
    REQUIRE(interim.complete);
    CHECK(interim.status == 100);
    REQUIRE(c.send_raw(body));
    const auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(r.has_header("mcp-session-id"));
}

TEST_CASE("framing: pipelined requests are answered in order; keep-alive reuses one connection") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    std::string bytes;
    for (int i = 1; i <= 5; ++i)
        bytes += c.format_request("POST", "/mcp", post_headers(sid), rpc_request(i, "echo", {{"n", i}}).dump());
    bytes += c.format_request("GET", "/nowhere", {}, {});
    bytes += c.format_request("POST", "/mcp", post_headers(sid), rpc_request(6, "echo", {{"n", 6}}).dump());
    REQUIRE(c.send_raw(bytes));
    for (int i = 1; i <= 5; ++i) {
        const auto r = c.read_response();
        REQUIRE(r.status == 200);
        CHECK(r.json()["id"] == i);
        CHECK(r.json()["result"]["n"] == i);
    }
    CHECK(c.read_response().status == 404);
    const auto last = c.read_response();
    CHECK(last.status == 200);
    CHECK(last.json()["id"] == 6);
    for (int i = 0; i < 20; ++i) CHECK(c.request("POST", "/mcp", post_headers(sid), ping_body).status == 200);
    CHECK(s.transport->connection_count() == 1);
    // Connection: close is honoured.
    const auto r = c.request("POST", "/mcp", {{"Content-Type", "application/json"},
                                              {"Accept", "application/json, text/event-stream"},
                                              {"Mcp-Session-Id", sid},
                                              {"Connection", "close"}},
                             ping_body);
    CHECK(r.status == 200);
    CHECK(c.wait_closed(3s));
}

// ---- Origin, Host, CORS ------------------------------------------------------------------------

TEST_CASE("S2: default origins are loopback only; evil origins and hosts -> 403") {
    TestServer s;
    s.start();
    auto with = [&](const std::string& name, const std::string& value) {
        Headers h = post_headers();
        h.emplace_back(name, value);
        return post_with(s, h, initialize_request("2025-11-25").dump());
    };
    CHECK(with("Origin", "http://localhost:5173").status == 200);
    CHECK(with("Origin", "http://127.0.0.1").status == 200);
    CHECK(with("Origin", "https://[::1]:8443").status == 200);
    auto r = with("Origin", "http://evil.example");
    CHECK(r.status == 403);
    CHECK(r.json()["error"]["code"] == -32600);
    CHECK(!r.json().contains("id"));
    CHECK(with("Origin", "http://localhost.evil.com").status == 403);
    CHECK(with("Origin", "null").status == 403);
    CHECK(with("Host", "evil.example").status == 403);
    CHECK(with("Host", "evil.example:80").status == 403);
    CHECK(with("Host", "localhost:1234").status == 200);
    // The GET and DELETE paths are checked as well.
    HttpClient c = s.client();
    CHECK(c.request("GET", "/sse", {{"Accept", "text/event-stream"}, {"Origin", "http://evil.example"}}).status == 403);
    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", "x"}, {"Host", "evil.example"}}).status == 403);
    CHECK(s.transport->session_count() == 3 + 1);
}

TEST_CASE("S2: configured allowed_origins match exactly by scheme, host and port; never by prefix") {
    mcpsse::SseTransportOptions o;
    o.allowed_origins = {"https://app.example.com", "http://localhost:3000"};
    TestServer s;
    s.start(o);
    auto status_for = [&](const std::string& origin) {
        Headers h = post_headers();
        h.emplace_back("Origin", origin);
        return post_with(s, h, initialize_request("2025-11-25").dump()).status;
    };
    CHECK(status_for("https://app.example.com") == 200);
    CHECK(status_for("https://app.example.com:443") == 200);
    CHECK(status_for("https://APP.example.com") == 200);
    CHECK(status_for("http://localhost:3000") == 200);
    CHECK(status_for("http://app.example.com") == 403);
    CHECK(status_for("https://app.example.com:8443") == 403);
    CHECK(status_for("https://app.example.com.evil.com") == 403);
    CHECK(status_for("http://localhost.evil.com") == 403);
    CHECK(status_for("http://localhost:3001") == 403);
    CHECK(status_for("http://localhost") == 403);
    CHECK(status_for("https://evil.example") == 403);
}

TEST_CASE("CORS: preflight answered with Access-Control-*; Mcp-Session-Id exposed only when configured") {
    SECTION("configured") {
        mcpsse::SseTransportOptions o;
        o.cors_origins = {"http://localhost:5173"};
        TestServer s;
        s.start(o);
        HttpClient c = s.client();
        auto r = c.request("OPTIONS", "/mcp",
                           {{"Origin", "http://localhost:5173"},
                            {"Access-Control-Request-Method", "POST"},
                            {"Access-Control-Request-Headers", "content-type, mcp-session-id"}});
        CHECK(r.status == 204);
        CHECK(r.header("access-control-allow-origin") == "http://localhost:5173");
        CHECK(r.header("access-control-allow-methods").value_or("").find("POST") != std::string::npos);
        CHECK(r.header("access-control-allow-headers").value_or("").find("mcp-session-id") != std::string::npos);
        CHECK(r.header("access-control-expose-headers").value_or("").find("Mcp-Session-Id") != std::string::npos);
        Headers h = post_headers();
        h.emplace_back("Origin", "http://localhost:5173");
        r = c.request("POST", "/mcp", h, initialize_request("2025-11-25").dump());
        CHECK(r.status == 200);
        CHECK(r.header("access-control-allow-origin") == "http://localhost:5173");
        CHECK(r.header("access-control-expose-headers").value_or("").find("Mcp-Session-Id") != std::string::npos);
        // An origin that passes the Origin check but is not a CORS origin gets no CORS headers.
        r = c.request("OPTIONS", "/mcp", {{"Origin", "http://localhost:9999"}, {"Access-Control-Request-Method", "POST"}});
        CHECK(r.status == 204);
        CHECK(!r.has_header("access-control-allow-origin"));
        // A preflight from a refused origin -> 403.
        r = c.request("OPTIONS", "/mcp", {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
        CHECK(r.status == 403);
    }
    SECTION("not configured") {
        TestServer s;
        s.start();
        HttpClient c = s.client();
        auto r = c.request("OPTIONS", "/mcp", {{"Origin", "http://localhost:5173"}, {"Access-Control-Request-Method", "POST"}});
        CHECK(r.status == 204);
        for (const auto& field : r.headers) CHECK(field.first.rfind("Access-Control-", 0) != 0);
        Headers h = post_headers();
        h.emplace_back("Origin", "http://localhost:5173");
        r = c.request("POST", "/mcp", h, initialize_request("2025-11-25").dump());
        CHECK(r.status == 200);
        CHECK(!r.has_header("access-control-expose-headers"));
        CHECK(!r.has_header("access-control-allow-origin"));
    }
}
