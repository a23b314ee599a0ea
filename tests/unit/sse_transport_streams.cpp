// Socket-level tests of SseTransport streams: resumption with Last-Event-ID (R1-R4),
// slow consumers, and cancellation (P9, stateless stream close, notifications/cancelled).
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <asio/post.hpp>

#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

// "<stream>-<sequence>" -> stream.
std::string stream_of(const std::string& id) { return id.substr(0, id.find('-')); }
long sequence_of(const std::string& id) { return std::stol(id.substr(id.find('-') + 1)); }

json slow_call(int id, int steps, int interval_ms, const std::string& token) {
    return rpc_request(id, "slow", {{"steps", steps}, {"interval_ms", interval_ms}, {"_meta", {{"progressToken", token}}}});
}

// GET + Last-Event-ID on a new connection (no retry: a resumption must not be refused
// because the server has not noticed the old connection's end yet).
HttpResponse resume(TestServer& s, HttpClient& c, const std::string& sid, const std::string& last_id) {
    c = s.client();
    REQUIRE(c.send_request("GET", "/mcp", get_headers(sid, last_id)));
    return c.read_head();
}

}  // namespace

TEST_CASE("R1-R4 P9: a dropped POST stream resumes with Last-Event-ID: exactly the missed events, none of another stream") {
    const std::string version = GENERATE(std::string("2025-11-25"), std::string("2025-03-26"));
    CAPTURE(version);
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c, version);
    REQUIRE(!sid.empty());

    // Stream A: 12 progress events, 40 ms apart.
    HttpClient a = s.client();
    REQUIRE(a.send_request("POST", "/mcp", post_headers(sid, version), slow_call(10, 12, 40, "A").dump()));
    REQUIRE(a.read_head().status == 200);
    // Stream B on the same session, concurrently: read completely.
    HttpClient b = s.client();
    REQUIRE(b.send_request("POST", "/mcp", post_headers(sid, version), slow_call(20, 12, 30, "B").dump()));
    REQUIRE(b.read_head().status == 200);

    std::vector<std::string> seen_a;
    std::string last_a;
    int progress_a = 0;
    while (progress_a < 3) {
        auto e = a.next_event();
        REQUIRE(e);
        REQUIRE(e->id);
        seen_a.push_back(*e->id);
        last_a = *e->id;
        if (!e->data.empty()) {
            const json m = e->json();
            CHECK(m["params"]["progressToken"] == "A");
            progress_a = m["params"]["progress"].get<int>();
        }
    }
    a.close();  // P9: a drop, not a cancellation

    const auto events_b = read_events_until_response(b, 20);
    REQUIRE(!events_b.empty());
    CHECK(events_b.back().json()["result"]["done"] == 12);
    std::set<std::string> stream_b;
    std::set<std::string> ids;
    for (const auto& e : events_b) {
        REQUIRE(e.id);
        stream_b.insert(stream_of(*e.id));
        CHECK(ids.insert(*e.id).second);
    }
    CHECK(stream_b.size() == 1);
    CHECK(*stream_b.begin() != stream_of(last_a));

    // R3/R4: resume stream A after the last event seen.
    HttpClient r;
    const auto head = resume(s, r, sid, last_a);
    REQUIRE(head.status == 200);
    CHECK(head.header("content-type") == "text/event-stream");
    const auto replayed = read_events_until_response(r, 10);
    REQUIRE(!replayed.empty());
    int expected_progress = progress_a + 1;
    long last_sequence = sequence_of(last_a);
    for (const auto& e : replayed) {
        REQUIRE(e.id);
        CHECK(stream_of(*e.id) == stream_of(last_a));  // R4: only that stream
        CHECK(sequence_of(*e.id) == last_sequence + 1);  // exactly the missed ones, in order
        last_sequence = sequence_of(*e.id);
        CHECK(ids.insert(*e.id).second);  // R1: unique across the session's streams
        const json m = e.json();
        REQUIRE(m.is_object());
        if (m.contains("method")) {
            CHECK(m["params"]["progressToken"] == "A");
            CHECK(m["params"]["progress"] == expected_progress);
            ++expected_progress;
        }
    }
    CHECK(expected_progress == 13);
    CHECK(replayed.back().json()["id"] == 10);
    CHECK(replayed.back().json()["result"]["done"] == 12);
    CHECK(s.probe.aborted.load() == 0);  // P9: not cancelled
    CHECK(s.probe.completed.load() == 2);

    SECTION("resuming again after the stream finished replays from the store") {
        HttpClient again;
        auto r2 = resume(s, again, sid, last_a);
        CHECK(r2.status == 200);
        CHECK(r2.header("content-type") == "text/event-stream");
        r2.body = again.read_body().value_or("");
        CHECK(r2.body.find("\"progressToken\":\"A\"") != std::string::npos);
        CHECK(r2.body.find("\"progressToken\":\"B\"") == std::string::npos);
        CHECK(r2.body.find("\"done\":12") != std::string::npos);
    }
}

TEST_CASE("R3: the GET stream resumes after a drop with the notifications sent meanwhile") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    auto notify = [&](int n) {
        s.transport->for_each_session([&](const mcpsse::SseSession<>& session) {
            if (session.id() == sid) session.notify("notifications/message", {{"level", "info"}, {"data", n}});
        });
    };
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    auto priming = g.next_event();
    REQUIRE(priming);
    REQUIRE(priming->id);
    notify(1);
    auto e = g.next_event();
    REQUIRE(e);
    REQUIRE(e->id);
    const std::string last = *e->id;
    g.close();
    // Wait for the server to see the drop before notifying, so that 2 and 3 are missed.
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }, 20s));
    notify(2);
    notify(3);
    HttpClient r;
    REQUIRE(resume(s, r, sid, last).status == 200);
    for (int n = 2; n <= 3; ++n) {
        auto m = r.next_event();
        REQUIRE(m);
        CHECK(m->json()["params"]["data"] == n);
    }
    notify(4);  // live again
    auto live = r.next_event();
    REQUIRE(live);
    CHECK(live->json()["params"]["data"] == 4);
}

TEST_CASE("slow consumer: a GET stream that is not read is disconnected; the server stays up; events stay replayable") {
    mcpsse::SseTransportOptions o;
    o.max_stream_queue_bytes = 64 * 1024;
    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_events = 100'000;
    limits.max_bytes = 256 * 1024 * 1024;
    TestServer s;
    s.start(o, 1, mcpsse::InMemoryEventStore(limits));
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    auto session = [&] {
        std::optional<mcpsse::SseSession<>> found;
        s.transport->for_each_session([&](const mcpsse::SseSession<>& x) {
            if (x.id() == sid) found = x;
        });
        return found;
    }();
    REQUIRE(session);

    HttpClient g(s.port(), 5s, 4096);
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    auto priming = g.next_event();
    REQUIRE(priming);
    REQUIRE(priming->id);
    const std::string stream = stream_of(*priming->id);

    // Flood without reading until the server gives up on the connection.
    const std::string payload(8 * 1024, 'x');
    int sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (s.transport->connection_count() > 1 && sent < 8000 && std::chrono::steady_clock::now() < deadline) {
        for (int i = 0; i < 32; ++i) session->notify("notifications/message", {{"level", "info"}, {"data", payload}, {"n", ++sent}});
        // Paced by the session's strand, so that its backlog of posted notifications stays
        // short (under sanitizers it is slower than this thread).
        std::promise<void> drained;
        asio::post(session->get_executor(), [&drained] { drained.set_value(); });
        REQUIRE(drained.get_future().wait_for(10s) == std::future_status::ready);
    }
    INFO("notifications sent: " << sent);
    const auto standalone = mcpsse::detail::SseSessionAccess::state(*session)->existing_standalone_stream();
    INFO("standalone overflowed: " << standalone->overflowed() << ", attached: " << standalone->attached());
    // The flooded connection is gone, `c` remains.
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }, 20s));

    // The server still serves others.
    HttpClient other = s.client();
    CHECK(!open_session(other).empty());
    CHECK(c.request("POST", "/mcp", post_headers(sid), rpc_request(2, "ping").dump()).status == 200);

    // Read what did arrive: the stream ends early (closed), and resuming after the last
    // event received replays the rest of the flood.
    std::string last = *priming->id;
    int last_n = 0;
    while (auto e = g.next_event(5s)) {
        if (e->id) last = *e->id;
        const json m = e->json();
        if (m.is_object()) last_n = m["params"]["n"].get<int>();
    }
    CHECK(!g.timed_out());
    CHECK(last_n < sent);
    session->notify("notifications/message", {{"level", "info"}, {"data", "after"}, {"n", sent + 1}});
    HttpClient r;
    REQUIRE(resume(s, r, sid, last).status == 200);
    int expected = last_n + 1;
    while (expected <= sent + 1) {
        auto e = r.next_event();
        REQUIRE(e);
        REQUIRE(e->id);
        CHECK(stream_of(*e->id) == stream);
        const json m = e->json();
        REQUIRE(m["params"]["n"] == expected);
        ++expected;
    }
}

TEST_CASE("cancellation: notifications/cancelled stops the handler; no response on its stream") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());

    SECTION("SSE stream (progress sent first)") {
        HttpClient a = s.client();
        REQUIRE(a.send_request("POST", "/mcp", post_headers(sid),
                               rpc_request(7, "block", {{"progress", true}, {"_meta", {{"progressToken", 1}}}}).dump()));
        REQUIRE(a.read_head().status == 200);
        auto priming = a.next_event();
        REQUIRE(priming);
        auto progress = a.next_event();
        REQUIRE(progress);
        CHECK(progress->json()["method"] == "notifications/progress");
        const auto r = c.request("POST", "/mcp", post_headers(sid),
                                 rpc_notification("notifications/cancelled", {{"requestId", 7}, {"reason", "test"}}).dump());
        CHECK(r.status == 202);
        CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
        // The stream ends without a response.
        CHECK(!a.next_event(3s));
        CHECK(!a.timed_out());
    }
    SECTION("JSON-pending request") {
        HttpClient a = s.client();
        REQUIRE(a.send_request("POST", "/mcp", post_headers(sid), rpc_request("req-x", "block").dump()));
        REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
        const auto r = c.request("POST", "/mcp", post_headers(sid),
                                 rpc_notification("notifications/cancelled", {{"requestId", "req-x"}}).dump());
        CHECK(r.status == 202);
        CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
        const auto answer = a.read_response();
        REQUIRE(answer.complete);
        CHECK(answer.json().is_discarded());  // no JSON-RPC response
        CHECK(answer.body.find("\"id\"") == std::string::npos);
    }
    CHECK(s.probe.completed.load() == 0);
    // The session goes on.
    CHECK(c.request("POST", "/mcp", post_headers(sid), rpc_request(8, "ping").dump()).status == 200);
}

TEST_CASE("cancellation 2026-07-28: closing a stateless SSE response stream cancels its handler") {
    mcpsse::SseTransportOptions o;
    o.response_mode = GENERATE(mcpsse::ResponseMode::json_unless_streaming, mcpsse::ResponseMode::sse);
    TestServer s;
    s.start(o);
    HttpClient a = s.client();
    json params = {{"name", "block"}, {"arguments", {{"progress", true}}}, {"_meta", stateless_meta()}};
    params["_meta"]["progressToken"] = "p";
    REQUIRE(a.send_request("POST", "/mcp", stateless_headers("tools/call", "block"), rpc_request(1, "tools/call", params).dump()));
    REQUIRE(a.read_head().status == 200);
    auto e = a.next_event();
    REQUIRE(e);
    CHECK(e->json()["method"] == "notifications/progress");
    a.close();
    CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
    CHECK(s.probe.completed.load() == 0);
    CHECK(eventually([&] { return s.transport->connection_count() == 0; }));
}

TEST_CASE("cancellation P9: closing a session POST stream does not cancel; the reply is kept for resumption") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient a = s.client();
    REQUIRE(a.send_request("POST", "/mcp", post_headers(sid), slow_call(3, 4, 50, "t").dump()));
    REQUIRE(a.read_head().status == 200);
    auto priming = a.next_event();
    REQUIRE(priming);
    REQUIRE(priming->id);
    a.close();
    REQUIRE(eventually([&] { return s.probe.completed.load() == 1; }));
    CHECK(s.probe.aborted.load() == 0);
    HttpClient r;
    REQUIRE(resume(s, r, sid, *priming->id).status == 200);
    const auto events = read_events_until_response(r, 3);
    REQUIRE(events.size() == 5);
    CHECK(events.back().json()["result"]["done"] == 4);
}

TEST_CASE("R3: a resumption takes the stream over from a connection that is still open (a dead peer)") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient a = s.client();
    REQUIRE(a.send_request("POST", "/mcp", post_headers(sid), slow_call(4, 8, 40, "T").dump()));
    REQUIRE(a.read_head().status == 200);
    std::string last;
    int progress = 0;
    while (progress < 2) {
        auto e = a.next_event();
        REQUIRE(e);
        REQUIRE(e->id);
        last = *e->id;
        if (!e->data.empty()) progress = e->json()["params"]["progress"].get<int>();
    }
    // `a` stays open, as if its network had died: the server cannot know.
    HttpClient r;
    const auto head = resume(s, r, sid, last);
    REQUIRE(head.status == 200);
    const auto events = read_events_until_response(r, 4);
    REQUIRE(!events.empty());
    long sequence = sequence_of(last);
    for (const auto& e : events) {
        REQUIRE(e.id);
        CHECK(sequence_of(*e.id) == sequence + 1);
        sequence = sequence_of(*e.id);
    }
    CHECK(events.back().json()["result"]["done"] == 8);
    CHECK(events.front().json()["params"]["progress"] == progress + 1);
    // The superseded connection is closed by the server.
    CHECK(a.wait_closed(5s));
}

TEST_CASE("SSE polling (2025-11-25): the server ends a POST stream's connection; the client resumes with Last-Event-ID") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c, "2025-11-25");
    REQUIRE(!sid.empty());

    HttpClient a = s.client();
    json call = slow_call(30, 6, 20, "P");
    call["params"]["drop_after"] = 2;
    REQUIRE(a.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), call.dump()));
    REQUIRE(a.read_head().status == 200);
    // The response ends after the priming event and two progress events, with retry:.
    const std::string first = a.read_body().value_or("");
    CHECK(first.find("\"progress\":2") != std::string::npos);
    CHECK(first.find("\"progress\":3") == std::string::npos);
    CHECK(first.find("retry: 50") != std::string::npos);
    CHECK(first.find("\"result\"") == std::string::npos);
    const auto last = first.rfind("id: ");
    REQUIRE(last != std::string::npos);
    const std::string last_id = first.substr(last + 4, first.find('\n', last) - last - 4);
    CHECK(s.probe.dropped.load() == 1);

    HttpClient r;
    REQUIRE(resume(s, r, sid, last_id).status == 200);
    const auto rest = read_events_until_response(r, 30);
    REQUIRE(!rest.empty());
    int expected = 3;
    for (const auto& e : rest) {
        const json m = e.json();
        if (m.contains("method")) CHECK(m["params"]["progress"] == expected++);
    }
    CHECK(expected == 7);
    CHECK(rest.back().json()["result"]["done"] == 6);
    CHECK(s.probe.aborted.load() == 0);
}

TEST_CASE("SSE polling is refused below 2025-11-25 (no priming event to resume from)") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c, "2025-06-18");
    json call = slow_call(31, 3, 5, "Q");
    call["params"]["drop_after"] = 1;
    auto events = [&] {
        HttpClient a = s.client();
        REQUIRE(a.send_request("POST", "/mcp", post_headers(sid, "2025-06-18"), call.dump()));
        REQUIRE(a.read_head().status == 200);
        return read_events_until_response(a, 31);
    }();
    REQUIRE(!events.empty());
    CHECK(events.back().json()["result"]["done"] == 3);
    CHECK(s.probe.dropped.load() == 0);
}

TEST_CASE("SSE hygiene: the priming event carries retry:, idle streams get : keep-alive comments") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.keep_alive_interval = std::chrono::milliseconds(40);
    options.sse_retry = std::chrono::milliseconds(1500);
    s.start(options);
    HttpClient c = s.client();
    const std::string sid = open_session(c, "2025-11-25");
    REQUIRE(!sid.empty());
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    const auto head = g.read_head();
    REQUIRE(head.status == 200);
    CHECK(head.header("cache-control") == "no-cache, no-transform");
    CHECK(head.header("x-accel-buffering") == "no");
    const auto priming = g.next_event();
    REQUIRE(priming);
    CHECK(priming->id.has_value());
    CHECK(priming->data.empty());
    CHECK(priming->retry == 1500);
    // Nothing else is sent on this stream: the next event times out, counting comments.
    CHECK_FALSE(g.next_event(std::chrono::milliseconds(300)));
    CHECK(g.comments() >= 3);
}

TEST_CASE("SSE hygiene: keep-alive comments never split an event written in part to a slow reader") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.keep_alive_interval = std::chrono::milliseconds(1);  // due at almost every wait
    options.max_stream_queue_bytes = 64 * 1024 * 1024;           // lagging is not overflowing here
    s.start(options);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    std::optional<mcpsse::SseSession<>> session;
    s.transport->for_each_session([&](const mcpsse::SseSession<>& x) {
        if (x.id() == sid) session = x;
    });
    REQUIRE(session);
    HttpClient g(s.port(), 10s, 4096);  // a small receive buffer: writes stop part-way
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    REQUIRE(g.next_event());  // priming

    // Events large enough to fill the socket buffers are written from the session's
    // executor while the reader lags; every one must arrive whole, in order.
    const std::string payload(24 * 1024, 'k');
    constexpr int count = 400;
    std::jthread sender([&] {  // joined however the test ends
        for (int n = 1; n <= count; ++n) {
            session->notify("notifications/message", {{"level", "info"}, {"data", payload}, {"n", n}});
            if (n % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(700));
        }
    });
    int expected = 1;
    while (expected <= count) {
        if (expected % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
        const auto e = g.next_event();
        REQUIRE(e);
        const json m = e->json();
        REQUIRE(m.is_object());
        CHECK(m["params"]["n"] == expected);
        CHECK(m["params"]["data"].get<std::string>().size() == payload.size());
        ++expected;
    }
}
