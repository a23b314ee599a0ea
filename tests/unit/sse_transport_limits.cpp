// Socket-level tests of SseTransport's limits on what one peer may send: JSON nesting and
// value counts on every path that parses peer JSON (checklist L1).
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define MCPSSE_TEST_SANITIZER_ALLOCATOR 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define MCPSSE_TEST_SANITIZER_ALLOCATOR 1
#endif
#if defined(MCPSSE_TEST_SANITIZER_ALLOCATOR)
// Exported by the ASan and TSan runtimes of GCC and Clang (GCC ships no header for it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#  include <malloc.h>
#endif

using namespace mcpsse_test;
using nlohmann::json;
using namespace nlohmann::literals;

namespace {

// `levels` nested arrays, as text (a value this deep cannot be built as JSON in a test).
std::string deep_text(std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

// `message` serialized with the string "@DEEP@" replaced by `levels` nested arrays.
std::string with_deep(const json& message, std::size_t levels = 150'000) {
    std::string text = message.dump();
    const std::string marker = "\"@DEEP@\"";
    const auto at = text.find(marker);
    REQUIRE(at != std::string::npos);
    return text.replace(at, marker.size(), deep_text(levels));
}

// Bytes the process has allocated and not freed (the sanitizers' allocators keep their own count).
std::size_t heap_in_use() {
#if defined(MCPSSE_TEST_SANITIZER_ALLOCATOR)
    return __sanitizer_get_current_allocated_bytes();
#else
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#endif
}

void check_depth_refused(const HttpResponse& r) {
    CHECK(r.status == 400);
    const json body = r.json();
    REQUIRE(body.is_object());
    CHECK(body.value("/error/code"_json_pointer, 0) == mcpsse::error_code::parse_error);
    CHECK(body.value("/error/data/limit"_json_pointer, "") == "max_depth");
}

}  // namespace

TEST_CASE("L1: 150,000-deep JSON in every position gets 400 -32700 and the server goes on serving") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    const Headers session = post_headers(sid, "2025-11-25");

    SECTION("tools/call arguments") {
        check_depth_refused(c.request(
            "POST", "/mcp", session,
            with_deep(rpc_request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"a", "@DEEP@"}}}}))));
    }
    SECTION("a request's params._meta") {
        check_depth_refused(
            c.request("POST", "/mcp", session, with_deep(rpc_request(3, "echo", {{"_meta", {{"a", "@DEEP@"}}}}))));
    }
    SECTION("initialize capabilities") {
        json init = initialize_request("2025-11-25", 4);
        init["params"]["capabilities"] = {{"a", "@DEEP@"}};
        check_depth_refused(c.request("POST", "/mcp", post_headers(), with_deep(init)));
    }
    SECTION("a 2026-07-28 request's client capabilities") {
        json meta = stateless_meta();
        meta["io.modelcontextprotocol/clientCapabilities"] = {{"a", "@DEEP@"}};
        check_depth_refused(c.request(
            "POST", "/mcp", stateless_headers("tools/call", "echo"),
            with_deep(rpc_request(5, "tools/call", {{"name", "echo"}, {"arguments", json::object()}, {"_meta", meta}}))));
    }
    SECTION("a notification and a response") {
        check_depth_refused(
            c.request("POST", "/mcp", session, with_deep(rpc_notification("notifications/x", {{"a", "@DEEP@"}}))));
        check_depth_refused(c.request("POST", "/mcp", session,
                                      with_deep(json{{"jsonrpc", "2.0"}, {"id", 9}, {"result", {{"a", "@DEEP@"}}}})));
    }
    SECTION("a batch under 2025-03-26") {
        HttpClient old = s.client();
        const std::string old_sid = open_session(old, "2025-03-26");
        REQUIRE(!old_sid.empty());
        const std::string batch = "[" + with_deep(rpc_request(6, "echo", {{"a", "@DEEP@"}})) + "]";
        check_depth_refused(old.request("POST", "/mcp", post_headers(old_sid, "2025-03-26"), batch));
    }
    // The server still answers, on this connection and on another.
    auto r = c.request("POST", "/mcp", session, rpc_request(10, "echo", {{"ok", true}}).dump());
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["ok"] == true);
    HttpClient other = s.client();
    CHECK(!open_session(other).empty());
}

TEST_CASE("L1: legacy /messages refuses deep JSON with 400 -32700 and the stream goes on") {
    TestServer s;
    s.start();
    auto legacy = open_legacy_session(s);
    REQUIRE(!legacy.endpoint.empty());
    HttpClient poster = s.client();
    const Headers h{{"Content-Type", "application/json"}};
    check_depth_refused(poster.request("POST", legacy.endpoint, h, with_deep(rpc_request(2, "echo", {{"a", "@DEEP@"}}))));
    CHECK(poster.request("POST", legacy.endpoint, h, rpc_request(3, "echo", {{"x", 1}}).dump()).status == 202);
    const auto echo = legacy.stream.next_event();
    REQUIRE(echo);
    CHECK(echo->json()["id"] == 3);
}

TEST_CASE("L1: SseTransportOptions::json_limits sets the depth and value limits") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.json_limits.max_depth = 6;
    options.json_limits.max_values = 40;
    s.start(options);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    // The message object (1), params (2), then 4 arrays: depth 6, accepted; one more refused.
    auto r = c.request("POST", "/mcp", post_headers(sid), with_deep(rpc_request(1, "echo", {{"a", "@DEEP@"}}), 4));
    CHECK(r.status == 200);
    r = c.request("POST", "/mcp", post_headers(sid), with_deep(rpc_request(2, "echo", {{"a", "@DEEP@"}}), 5));
    check_depth_refused(r);
    CHECK(r.json()["error"]["data"]["max"] == 6);
    json many = json::array();
    for (int i = 0; i < 40; ++i) many.push_back(i);
    r = c.request("POST", "/mcp", post_headers(sid), rpc_request(3, "echo", {{"a", many}}).dump());
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == mcpsse::error_code::parse_error);
    CHECK(r.json()["error"]["data"]["limit"] == "max_values");
}

// ---- write side and time limits (checklist L2) --------------------------------------------------

TEST_CASE("L2: a peer that stops reading a response is disconnected after send_timeout") {
    // Counts send_timeout reports, so the client stops not-reading only once the server
    // gave up (building the 16 MiB reply may take over a second under a sanitizer).
    struct SendTimeouts : mcpsse::TransportObserver {
        std::atomic<int> count{0};
        void on_limit(const mcpsse::LimitEvent& event) override {
            if (event.limit == "send_timeout") ++count;
        }
    };
    auto timeouts = std::make_shared<SendTimeouts>();
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.send_timeout = std::chrono::milliseconds(300);
    options.observers.push_back(timeouts);
    s.start(options);
    HttpClient c(s.port(), 5s, 4096);  // a small window, so the server's write must wait
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    // 16 MiB: more than the socket buffers of both ends hold.
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid), rpc_request(2, "big", {{"bytes", 16 << 20}}).dump()));
    // Not reading, so the window stays shut, until the server gives up.
    REQUIRE(eventually([&] { return timeouts->count.load() >= 1; }, 20s));
    const auto head = c.read_head();
    REQUIRE(head.complete);
    CHECK(head.status == 200);
    // Cut short: the server gave up on the write (the body ends before its Content-Length).
    const std::size_t declared = std::stoul(head.header("content-length").value_or("0"));
    CHECK(declared > std::size_t{16} << 20);
    CHECK(c.read_body().value_or("").size() < declared);
    // Others are served all along.
    HttpClient other = s.client();
    CHECK(!open_session(other).empty());
}

TEST_CASE("L2: request_handler_timeout cancels a handler and answers -32001") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.request_handler_timeout = std::chrono::milliseconds(200);
    s.start(options);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    const auto started = std::chrono::steady_clock::now();
    const auto r = c.request("POST", "/mcp", post_headers(sid), rpc_request(3, "block").dump());
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    REQUIRE(r.status == 200);
    CHECK(r.json()["id"] == 3);
    CHECK(r.json()["error"]["code"] == mcpsse::error_code::request_timeout);
    CHECK(r.json()["error"]["data"]["timeout"] == 200);
    CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
    // Off by default: the same call on a default server is still running after the limit.
    TestServer d;
    d.start();
    HttpClient dc = d.client(std::chrono::milliseconds(600));
    const std::string dsid = open_session(dc);
    REQUIRE(!dsid.empty());
    CHECK_FALSE(dc.request("POST", "/mcp", post_headers(dsid), rpc_request(4, "block").dump()).complete);
}

TEST_CASE("L2: Expect: 100-continue is refused from the head, before 100 Continue, when a check fails") {
    TestServer s;
    s.start();
    HttpClient setup = s.client();
    const std::string sid = open_session(setup);
    REQUIRE(!sid.empty());
    const std::string body = rpc_request(1, "echo", {{"x", 1}}).dump();
    // Sends only the head of a request announcing `body`, on a new connection.
    auto send_head = [&](const std::string& method, Headers h) {
        h.emplace_back("Expect", "100-continue");
        h.emplace_back("Content-Length", std::to_string(body.size()));
        HttpClient c = s.client();
        REQUIRE(c.send_raw(c.format_request(method, "/mcp", h, {})));
        return c;
    };
    auto head_only = [&](Headers h, const std::string& method = "POST") {
        return send_head(method, std::move(h)).read_head(/*keep_informational=*/true);  // the first response
    };
    CHECK(head_only(post_headers("no-such-session")).status == 404);
    Headers bad_host = post_headers(sid);
    bad_host.emplace_back("Host", "evil.example");
    CHECK(head_only(bad_host).status == 403);
    Headers bad_type{{"Content-Type", "text/plain"}, {"Accept", "application/json, text/event-stream"},
                     {"Mcp-Session-Id", sid}};
    CHECK(head_only(bad_type).status == 415);
    Headers bad_accept{{"Content-Type", "application/json"}, {"Accept", "text/html"}, {"Mcp-Session-Id", sid}};
    CHECK(head_only(bad_accept).status == 406);
    CHECK(head_only(post_headers(sid), "PUT").status == 405);
    // A request that passes gets 100 Continue, then its answer.
    HttpClient c = send_head("POST", post_headers(sid));
    CHECK(c.read_head(true).status == 100);
    REQUIRE(c.send_raw(body));
    const auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["x"] == 1);
}

TEST_CASE("L2: after 413 the server drains the body it refused, so the client reads the status") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.http_limits.max_body_bytes = 64 * 1024;
    s.start(options);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient big = s.client();
    const std::string body(4 << 20, 'x');  // far more than both ends' socket buffers
    // The whole body goes out (no reset while the server discards it), then the 413 is read.
    CHECK(big.send_raw(big.format_request("POST", "/mcp", post_headers(sid), body)));
    const auto r = big.read_response();
    CHECK(r.status == 413);
    CHECK(big.wait_closed(std::chrono::seconds(5)));
}

// ---- memory and work per peer (checklist L3) ------------------------------------------------

TEST_CASE("L3: max_requests_in_flight caps a session's running handlers: 429 -32050 over it") {
    TestServer s;
    s.dispatcher.on_notification("notifications/handled",
                                 [](json, mcpsse::RequestContext&) -> asio::awaitable<void> { co_return; });
    mcpsse::SseTransportOptions options;
    options.max_requests_in_flight = 2;
    s.start(options);
    HttpClient setup = s.client();
    const std::string sid = open_session(setup);
    REQUIRE(!sid.empty());
    std::vector<HttpClient> blocked;
    for (int i = 0; i < 2; ++i) {
        blocked.push_back(s.client());
        REQUIRE(blocked.back().send_request("POST", "/mcp", post_headers(sid), rpc_request(10 + i, "block").dump()));
    }
    REQUIRE(eventually([&] { return s.probe.started.load() == 2; }));
    auto r = setup.request("POST", "/mcp", post_headers(sid), rpc_request(20, "echo").dump());
    CHECK(r.status == 429);
    CHECK(r.header("retry-after") == "1");
    CHECK(r.json()["id"] == 20);
    CHECK(r.json()["error"]["code"] == mcpsse::error_code::too_many_requests);
    CHECK(r.json()["error"]["data"]["max_in_flight"] == 2);
    // A notification the host handles counts too.
    r = setup.request("POST", "/mcp", post_headers(sid), rpc_notification("notifications/handled").dump());
    CHECK(r.status == 429);
    // A cancellation is always accepted, and frees a place.
    r = setup.request("POST", "/mcp", post_headers(sid),
                      rpc_notification("notifications/cancelled", {{"requestId", 10}}).dump());
    CHECK(r.status == 202);
    CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
    r = setup.request("POST", "/mcp", post_headers(sid), rpc_request(21, "echo", {{"v", 1}}).dump());
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["v"] == 1);
    // Another session is not affected.
    HttpClient other = s.client();
    const std::string other_sid = open_session(other);
    REQUIRE(!other_sid.empty());
    CHECK(other.request("POST", "/mcp", post_headers(other_sid), rpc_request(30, "echo").dump()).status == 200);
}

TEST_CASE("L3: max_requests_in_flight on legacy /messages: 429 over the cap") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.max_requests_in_flight = 1;
    s.start(options);
    auto legacy = open_legacy_session(s);
    REQUIRE(!legacy.endpoint.empty());
    HttpClient poster = s.client();
    const Headers h{{"Content-Type", "application/json"}};
    CHECK(poster.request("POST", legacy.endpoint, h, rpc_request(2, "block").dump()).status == 202);
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    const auto r = poster.request("POST", legacy.endpoint, h, rpc_request(3, "echo").dump());
    CHECK(r.status == 429);
    CHECK(r.json()["error"]["code"] == mcpsse::error_code::too_many_requests);
}

TEST_CASE("L3: at the session cap, an initialize that lost the race gets 503, never 200 without a session id") {
    TestServer s;
    // A slow initialize, so that two run at once.
    s.dispatcher.on_request("initialize", [](json p, mcpsse::RequestContext&) -> asio::awaitable<json> {
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
        co_await timer.async_wait(asio::use_awaitable);
        co_return json{{"protocolVersion", p.value("protocolVersion", "2025-11-25")},
                       {"capabilities", json::object()},
                       {"serverInfo", {{"name", "t"}, {"version", "1"}}}};
    });
    mcpsse::SseTransportOptions options;
    options.max_sessions = 1;
    s.start(options);
    HttpClient a = s.client();
    HttpClient b = s.client();
    REQUIRE(a.send_request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump()));
    REQUIRE(b.send_request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump()));
    const auto ra = a.read_response();
    const auto rb = b.read_response();
    int with_session = 0;
    int refused = 0;
    for (const auto* r : {&ra, &rb}) {
        if (r->status == 200) {
            CHECK(r->has_header("mcp-session-id"));
            with_session += r->has_header("mcp-session-id") ? 1 : 0;
        } else {
            CHECK(r->status == 503);
            refused += r->status == 503 ? 1 : 0;
        }
    }
    CHECK(with_session == 1);
    CHECK(refused == 1);
}

TEST_CASE("L3: bytes sent behind a stream's request are bounded: past one header section the stream ends") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(c.read_head().status == 200);
    // 64 KiB of pipelined garbage: more than a header section (16 KiB).
    REQUIRE(c.send_raw(std::string(64 * 1024, 'x')));
    CHECK(c.wait_closed(std::chrono::seconds(3)));
}

// ---- resumption never leaves a silent gap (checklist L3, R3/R4) ----------------------------------

namespace {
// The last `id:` field in SSE text.
std::string last_event_id(const std::string& sse) {
    const auto at = sse.rfind("id: ");
    REQUIRE(at != std::string::npos);
    return sse.substr(at + 4, sse.find('\n', at) - at - 4);
}
}  // namespace

TEST_CASE("L3: resuming a POST stream whose events were evicted answers the request with -32051") {
    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_events = 2;  // the session keeps its last two events only
    TestServer s;
    s.start({}, 1, mcpsse::InMemoryEventStore(limits));
    HttpClient c = s.client();
    const std::string sid = open_session(c, "2025-11-25");
    REQUIRE(!sid.empty());
    // 60 progress steps, 30 ms apart (the handler is still running when the client
    // resumes, even on a loaded machine); the server ends the connection after the first
    // (SSE polling).
    json call = rpc_request(40, "slow", {{"steps", 60}, {"interval_ms", 30}, {"drop_after", 1},
                                         {"_meta", {{"progressToken", "G"}}}});
    HttpClient a = s.client();
    REQUIRE(a.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), call.dump()));
    REQUIRE(a.read_head().status == 200);
    const std::string first = a.read_body().value_or("");
    const std::string last = last_event_id(first);
    // Let more than two events pass, so the ones after `last` are evicted.
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    HttpClient r = s.client();
    REQUIRE(r.send_request("GET", "/mcp", get_headers(sid, last)));
    const auto head = r.read_head();
    REQUIRE(head.status == 200);
    const auto events = read_events_until_response(r, 40);
    REQUIRE(!events.empty());
    const json reply = events.back().json();
    CHECK(reply["id"] == 40);
    CHECK(reply["error"]["code"] == mcpsse::error_code::events_evicted);
    // The handler (1.8 s of steps) was cancelled: it leaves at once and never completes.
    auto in_flight = [&] {
        std::size_t n = 0;
        s.transport->for_each_session([&](const mcpsse::SseSession<>& x) {
            if (x.id() == sid) n = mcpsse::detail::SseSessionAccess::state(x)->rpc()->in_flight_count();
        });
        return n;
    };
    CHECK(eventually([&] { return in_flight() == 0; }, std::chrono::milliseconds(1000)));
    CHECK(s.probe.completed.load() == 0);
}

TEST_CASE("L3: resuming the GET stream after evicted events gets 410 -32051, not a stream with a gap") {
    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_events = 2;
    TestServer s;
    s.start({}, 1, mcpsse::InMemoryEventStore(limits));
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    auto notify = [&](int n) { notify_session(s, sid, n); };
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    REQUIRE(g.next_event());  // priming
    notify(1);
    const auto e = g.next_event();
    REQUIRE(e);
    REQUIRE(e->id);
    g.close();
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }, 20s));
    for (int n = 2; n <= 5; ++n) notify(n);  // 2 and 3 are evicted
    HttpClient r = s.client();
    const auto refused = r.request("GET", "/mcp", get_headers(sid, *e->id));
    CHECK(refused.status == 410);
    CHECK(refused.json()["error"]["code"] == mcpsse::error_code::events_evicted);
    // Without Last-Event-ID the client gets a fresh stream (it re-syncs).
    HttpClient fresh = s.client();
    REQUIRE(fresh.send_request("GET", "/mcp", get_headers(sid)));
    CHECK(fresh.read_head().status == 200);
}

TEST_CASE("L3: a stream does not keep the body of the request that opened it") {
    TestServer s;
    s.start();
    constexpr int streams = 8;
    const std::string body(2 << 20, ' ');  // 2 MiB of JSON whitespace, sent with each GET
    std::vector<HttpClient> setup;
    std::vector<std::string> sids;
    for (int i = 0; i < streams; ++i) {
        setup.push_back(s.client());
        sids.push_back(open_session(setup.back()));
        REQUIRE(!sids.back().empty());
    }
    std::vector<HttpClient> gets;
    for (int i = 0; i < streams; ++i) gets.push_back(s.client());
    const std::size_t before = heap_in_use();
    for (int i = 0; i < streams; ++i) {
        REQUIRE(gets[i].send_request("GET", "/mcp", get_headers(sids[i]), body));
        REQUIRE(gets[i].read_head().status == 200);
        REQUIRE(gets[i].next_event());  // primed: the stream is being served
    }
    const std::size_t after = heap_in_use();
    INFO("heap growth with " << streams << " open streams: " << (after > before ? after - before : 0) << " bytes");
    // Keeping the bodies would hold 16 MiB; the streams themselves need a few KiB each.
    CHECK(after < before + (4u << 20));
}

TEST_CASE("L3: max_total_bytes bounds the event store across sessions: one session's events push out another's") {
    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_total_bytes = 4096;  // a few dozen events for all sessions together
    TestServer s;
    s.start({}, 1, mcpsse::InMemoryEventStore(limits));
    HttpClient c = s.client();
    const std::string quiet = open_session(c);
    const std::string busy = open_session(c);
    REQUIRE(!quiet.empty());
    REQUIRE(!busy.empty());
    // The quiet session's GET stream sees one event, then drops.
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(quiet)));
    REQUIRE(g.read_head().status == 200);
    REQUIRE(g.next_event());  // priming
    notify_session(s, quiet, 1);
    const auto seen = g.next_event();
    REQUIRE(seen);
    REQUIRE(seen->id);
    g.close();
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }, 20s));
    notify_session(s, quiet, 2);  // missed by the quiet session's client
    // The busy session's events fill the store (its own per-session limits are far away).
    HttpClient b = s.client();
    REQUIRE(b.send_request("GET", "/mcp", get_headers(busy)));
    REQUIRE(b.read_head().status == 200);
    // (Each notification is stored before notify returns.)
    for (int n = 0; n < 200; ++n) notify_session(s, busy, n);
    // The quiet session's missed event is gone: its resumption is refused, not served with a gap.
    HttpClient r = s.client();
    const auto refused = r.request("GET", "/mcp", get_headers(quiet, *seen->id));
    CHECK(refused.status == 410);
}
