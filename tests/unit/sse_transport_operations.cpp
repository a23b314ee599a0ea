// Socket-level tests of SseTransport's operations surface: health and readiness probes,
// draining, visible heartbeats, and what observers learn of streams and JSON-RPC requests.
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <atomic>
#include <thread>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

mcpsse::SseTransportOptions probed() {
    mcpsse::SseTransportOptions o;
    o.operations.health_path = "/healthz";
    o.operations.readiness_path = "/readyz";
    return o;
}

// The probe's status word, or "" when the answer is not a probe's JSON.
std::string probe_word(const HttpResponse& r) {
    const json body = r.json();
    return body.is_object() && body.contains("status") ? body["status"].get<std::string>() : std::string();
}

// Records what the observers hear (thread-safe: the transport may call from any thread).
struct Recorder : mcpsse::TransportObserver {
    std::mutex mutex;
    std::vector<std::string> routes, session_ids, traceparents;
    std::vector<std::string> rpc_starts;
    std::vector<std::tuple<std::string, std::string, mcpsse::RpcOutcome, int>> rpcs;  // method, tool, outcome, code
    int streams_opened = 0, streams_closed = 0, keep_alives = 0;
    std::uint64_t events = 0, bytes = 0;
    std::vector<mcpsse::StreamKind> kinds;
    int resumptions = 0;
    std::uint64_t replayed = 0;

    void on_request(const mcpsse::RequestInfo& r) override {
        std::lock_guard lock(mutex);
        routes.emplace_back(r.route);
        session_ids.emplace_back(r.session_id);
        traceparents.emplace_back(r.traceparent);
    }
    void on_stream_open(const mcpsse::StreamInfo& s) override {
        std::lock_guard lock(mutex);
        ++streams_opened;
        kinds.push_back(s.kind);
        if (s.resumed) ++resumptions;
        replayed += s.replayed_events;
    }
    void on_stream_write(const mcpsse::StreamInfo&, const mcpsse::StreamWrite& w) override {
        std::lock_guard lock(mutex);
        events += w.events;
        bytes += w.bytes;
        if (w.keep_alive) ++keep_alives;
    }
    void on_stream_close(const mcpsse::StreamInfo&) override {
        std::lock_guard lock(mutex);
        ++streams_closed;
    }
    void on_rpc_request_start(std::string_view method) override {
        std::lock_guard lock(mutex);
        rpc_starts.emplace_back(method);
    }
    void on_rpc_request(const mcpsse::RpcRequestInfo& r) override {
        std::lock_guard lock(mutex);
        rpcs.emplace_back(std::string(r.method), std::string(r.tool), r.outcome, r.error_code);
    }
    std::vector<mcpsse::SessionEndReason> ended;
    void on_session_close(const mcpsse::SessionInfo&, mcpsse::SessionEndReason reason) override {
        std::lock_guard lock(mutex);
        ended.push_back(reason);
    }
};

// A transport that answers in SSE (ResponseMode::sse) and reports to `recorder`, with
// one session open.
struct ObservedSse {
    std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
    TestServer server;
    std::optional<HttpClient> client;
    std::string sid;
    ObservedSse() {
        auto o = probed();
        o.observers.push_back(recorder);
        o.response_mode = mcpsse::ResponseMode::sse;
        server.start(o);
        client.emplace(server.client());
        sid = open_session(*client);
        REQUIRE(!sid.empty());
    }
    // tools/call of echo_tool as request `id`: the events of its SSE answer.
    std::vector<SseEvent> call_echo(int id) {
        REQUIRE(client->send_request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                                     rpc_request(id, "tools/call", {{"name", "echo_tool"}, {"arguments", {{"a", 1}}}}).dump()));
        REQUIRE(client->read_head().status == 200);
        return read_events_until_response(*client, id);
    }
};

}  // namespace

TEST_CASE("health and readiness: 200 while serving, never cached, no other method") {
    TestServer s;
    s.start(probed());
    HttpClient c = s.client();
    const auto health = c.request("GET", "/healthz", {});
    CHECK(health.status == 200);
    CHECK(probe_word(health) == "ok");
    CHECK(health.header("cache-control") == std::optional<std::string>("no-store"));
    const auto ready = c.request("GET", "/readyz", {});
    CHECK(ready.status == 200);
    CHECK(probe_word(ready) == "ready");
    CHECK(c.request("POST", "/readyz", {{"Content-Type", "application/json"}}, "{}").status == 405);
}

TEST_CASE("readiness: 503 while the session table is full, and when the host says so") {
    std::atomic<bool> host_ready{true};
    auto o = probed();
    o.max_sessions = 1;
    o.operations.ready = [&] { return host_ready.load(); };
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    CHECK(c.request("GET", "/readyz", {}).status == 200);
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    const auto full = c.request("GET", "/readyz", {});
    CHECK(full.status == 503);
    CHECK(probe_word(full) == "full");
    CHECK(full.header("retry-after").has_value());
    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    CHECK(c.request("GET", "/readyz", {}).status == 200);
    host_ready = false;
    const auto not_ready = c.request("GET", "/readyz", {});
    CHECK(not_ready.status == 503);
    CHECK(probe_word(not_ready) == "not_ready");
    CHECK(c.request("GET", "/healthz", {}).status == 200);  // alive all the same
}

TEST_CASE("drain: readiness turns 503, requests in flight get every response, new sessions and streams are refused, then the run completes") {
    auto o = probed();
    o.operations.drain_retry = std::chrono::milliseconds(2500);
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient g = s.client();  // the standalone stream: closed by the drain with a retry hint
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    LegacySession legacy = open_legacy_session(s);
    REQUIRE(!legacy.endpoint.empty());

    // Two requests in flight on two connections when the drain begins.
    HttpClient c2 = s.client();
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid),
                           rpc_request(5, "slow", {{"steps", 6}, {"interval_ms", 100}}).dump()));
    REQUIRE(c2.send_request("POST", "/mcp", post_headers(sid),
                            rpc_request(6, "slow", {{"steps", 3}, {"interval_ms", 100}}).dump()));
    REQUIRE(eventually([&] { return s.probe.started.load() == 2; }));
    s.transport->drain();
    REQUIRE(eventually([&] { return s.transport->draining(); }));

    HttpClient p = s.client();
    const auto ready = p.request("GET", "/readyz", {});
    CHECK(ready.status == 503);
    CHECK(probe_word(ready) == "draining");
    CHECK(p.request("GET", "/healthz", {}).status == 200);
    const auto init = p.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump());
    CHECK(init.status == 503);
    CHECK(init.header("retry-after") == std::optional<std::string>("1"));
    HttpClient lg = s.client();
    CHECK(lg.request("GET", "/sse", {{"Accept", "text/event-stream"}}).status == 503);
    // The open session is still served.
    const auto echo = p.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(7, "echo", {{"x", 1}}).dump());
    CHECK(echo.status == 200);
    CHECK(echo.json()["result"]["x"] == 1);
    HttpClient g2 = s.client();
    CHECK(g2.request("GET", "/mcp", get_headers(sid)).status == 503);

    // The standalone and legacy streams end with a retry hint.
    std::optional<long> retry;
    while (auto e = g.next_event(3s))
        if (e->retry) retry = e->retry;
    CHECK(retry == 2500);
    std::optional<long> legacy_retry;
    while (auto e = legacy.stream.next_event(3s))
        if (e->retry) legacy_retry = e->retry;
    CHECK(legacy_retry == 2500);

    // Every response in flight arrives whole.
    const auto r1 = c.read_response();
    CHECK(r1.status == 200);
    CHECK(r1.json()["result"]["done"] == 6);
    const auto r2 = c2.read_response();
    CHECK(r2.status == 200);
    CHECK(r2.json()["result"]["done"] == 3);
    CHECK(s.run_finished(5s));
    CHECK(!s.finished.get());
    CHECK(s.probe.aborted.load() == 0);
    CHECK(s.stop_and_join(5s));
}

TEST_CASE("drain: a handler that never finishes is ended after drain_timeout") {
    auto o = probed();
    o.operations.drain_timeout = std::chrono::milliseconds(300);
    o.stop_timeout = std::chrono::milliseconds(200);
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid), rpc_request(5, "block").dump()));
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    const auto begun = std::chrono::steady_clock::now();
    s.transport->drain();
    CHECK(s.run_finished(5s));
    CHECK(std::chrono::steady_clock::now() - begun >= std::chrono::milliseconds(300));
    CHECK(s.stop_and_join(5s));
}

TEST_CASE("heartbeat_event: standalone and legacy streams get a named event with the time and no id") {
    auto o = probed();
    o.keep_alive_interval = std::chrono::milliseconds(100);
    o.operations.heartbeat_event = "heartbeat";
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    std::optional<SseEvent> beat;
    while (auto e = g.next_event(2s))
        if (e->event == "heartbeat") {
            beat = e;
            break;
        }
    REQUIRE(beat);
    CHECK(!beat->id);
    CHECK(beat->json()["time"].get<std::string>().size() >= 20);  // RFC 3339, e.g. 2026-12-06T03:40:41.123Z
    CHECK(g.comments() == 0);

    LegacySession legacy = open_legacy_session(s);
    REQUIRE(!legacy.endpoint.empty());
    const auto legacy_beat = legacy.stream.next_event(2s);
    REQUIRE(legacy_beat);
    CHECK(legacy_beat->event == "heartbeat");
}

TEST_CASE("observers: requests carry their route, session and traceparent; streams and JSON-RPC requests are reported") {
    ObservedSse observed;
    auto& recorder = observed.recorder;
    auto& c = *observed.client;
    const std::string& sid = observed.sid;
    const auto events = observed.call_echo(3);
    CHECK(!events.empty());
    CHECK(c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(4, "no/such").dump()).status == 200);
    CHECK(c.request("GET", "/healthz", {}).status == 200);
    CHECK(c.request("GET", "/elsewhere", {}).status == 404);

    json meta = stateless_meta();
    meta["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const auto stateless = c.request("POST", "/mcp", stateless_headers("echo"),
                                     rpc_request(9, "echo", {{"_meta", meta}}).dump());
    CHECK(stateless.status == 200);

    REQUIRE(eventually([&] {
        std::lock_guard lock(recorder->mutex);
        return recorder->traceparents.size() >= 7;
    }));
    std::lock_guard lock(recorder->mutex);
    // initialize, initialized, tools/call, no/such, /healthz, /elsewhere, the stateless echo
    CHECK(recorder->routes == std::vector<std::string>{"mcp", "mcp", "mcp", "mcp", "/healthz", "other", "mcp"});
    CHECK(recorder->session_ids[0].empty());  // initialize: the session is reported by on_session_open
    CHECK(recorder->session_ids[2] == sid);
    CHECK(recorder->traceparents[6] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    CHECK(recorder->traceparents[2].empty());
    // A stream per answered request (ResponseMode::sse), each closed; the tools/call stream's events.
    CHECK(recorder->streams_opened >= 3);
    CHECK(recorder->streams_opened == recorder->streams_closed);
    CHECK(recorder->events >= 3);
    CHECK(recorder->bytes > 0);
    for (const auto kind : recorder->kinds) CHECK(kind == mcpsse::StreamKind::response);
    // initialize, tools/call and the stateless echo ran handlers (no/such has none).
    CHECK(recorder->rpc_starts == std::vector<std::string>{"initialize", "tools/call", "echo"});
    REQUIRE(recorder->rpcs.size() == 3);
    CHECK(std::get<0>(recorder->rpcs[1]) == "tools/call");
    CHECK(std::get<1>(recorder->rpcs[1]) == "echo_tool");
    CHECK(std::get<2>(recorder->rpcs[1]) == mcpsse::RpcOutcome::success);
    CHECK(std::get<1>(recorder->rpcs[2]).empty());
}

TEST_CASE("observers: a resumption of a finished stream, answered from the event store, is reported with its replayed events") {
    ObservedSse observed;
    auto& recorder = observed.recorder;
    auto& s = observed.server;
    const std::string& sid = observed.sid;
    const auto events = observed.call_echo(3);
    std::vector<std::string> ids;
    for (const auto& e : events)
        if (e.id && !e.data.empty()) ids.push_back(*e.id);
    REQUIRE(!ids.empty());
    int resumptions_before = 0;
    {
        std::lock_guard lock(recorder->mutex);
        resumptions_before = recorder->resumptions;
    }
    // After the stream's priming event (its first id): every message event again.
    const std::string first_id = events.front().id.value_or("");
    REQUIRE(!first_id.empty());
    HttpClient g = s.client();
    const auto r = g.request("GET", "/mcp", get_headers(sid, first_id));
    CHECK(r.status == 200);
    CHECK(r.body.find(ids.back()) != std::string::npos);
    REQUIRE(eventually([&] {
        std::lock_guard lock(recorder->mutex);
        return recorder->resumptions == resumptions_before + 1;
    }));
    std::lock_guard lock(recorder->mutex);
    CHECK(recorder->replayed == ids.size());
}

TEST_CASE("observers: a JSON-RPC error and a cancelled request are told apart") {
    auto recorder = std::make_shared<Recorder>();
    auto o = probed();
    o.observers.push_back(recorder);
    TestServer s;
    s.dispatcher.on_request("fail", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "bad");
        co_return json();
    });
    s.start(o);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    CHECK(c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(2, "fail").dump()).status == 200);
    HttpClient b = s.client();
    REQUIRE(b.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(3, "block").dump()));
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    b.close();  // the client leaves: the request is cancelled
    REQUIRE(c.request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                      rpc_notification("notifications/cancelled", {{"requestId", 3}}).dump())
                .status == 202);
    REQUIRE(eventually([&] {
        std::lock_guard lock(recorder->mutex);
        return recorder->rpcs.size() == 3;
    }));
    std::lock_guard lock(recorder->mutex);
    CHECK(std::get<2>(recorder->rpcs[1]) == mcpsse::RpcOutcome::error);
    CHECK(std::get<3>(recorder->rpcs[1]) == mcpsse::error_code::invalid_params);
    CHECK(std::get<0>(recorder->rpcs[2]) == "block");
    CHECK(std::get<2>(recorder->rpcs[2]) == mcpsse::RpcOutcome::cancelled);
}

TEST_CASE("stats: sessions oldest first with their age and the events their streams sent; JSON for an endpoint") {
    TestServer s;
    s.start(probed());
    HttpClient c = s.client();
    const std::string first = open_session(c);
    REQUIRE(!first.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string second = open_session(c);
    REQUIRE(!second.empty());
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(second)));
    REQUIRE(g.read_head().status == 200);
    REQUIRE(g.next_event());  // the priming event
    notify_session(s, second, 1);
    notify_session(s, second, 2);
    REQUIRE(g.next_event());
    REQUIRE(g.next_event());

    const mcpsse::TransportStats stats = s.transport->stats();
    CHECK(stats.connections_open == 2);
    CHECK(stats.sessions_open == 2);
    CHECK(!stats.draining);
    REQUIRE(stats.sessions.size() == 2);
    CHECK(stats.sessions[0].id == first);
    CHECK(stats.sessions[1].id == second);
    CHECK(stats.sessions[0].age > stats.sessions[1].age);
    CHECK(stats.sessions[0].events_sent == 0);
    CHECK(stats.sessions[1].events_sent == 2);  // the two notifications (the priming event is the stream's own)
    CHECK(stats.sessions[1].bytes_sent > 2 * std::string("data: ").size());
    CHECK(stats.events_sent == 2);
    CHECK(stats.sessions_by_subject.at("") == 2);
    CHECK(stats.sessions[0].protocol_version == "2025-11-25");

    const json j = mcpsse::to_json(stats);
    CHECK(j["sessions_open"] == 2);
    CHECK(j["sessions"][1]["id"] == second);
    CHECK(j["oldest_session_age_seconds"].get<double>() >= j["newest_session_age_seconds"].get<double>());
    CHECK(!mcpsse::to_json(stats, false).contains("sessions"));
}

TEST_CASE("a transport without MCP endpoints serves only its routes (a metrics listener)") {
    auto metrics = std::make_shared<mcpsse::Metrics>();
    mcpsse::SseTransportOptions o;
    o.mcp_path.clear();
    o.sse_path.clear();
    o.routes.push_back(metrics->route("/metrics"));
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const auto scrape = c.request("GET", "/metrics", {});
    CHECK(scrape.status == 200);
    CHECK(scrape.body.find("mcpsse_connections_open") != std::string::npos);
    CHECK(c.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump()).status == 404);
    CHECK(c.request("GET", "/sse", {{"Accept", "text/event-stream"}}).status == 404);
    CHECK(s.transport->session_count() == 0);
}

TEST_CASE("metrics_path: the transport counts its own traffic and serves it in either format") {
    auto o = probed();
    o.operations.metrics_path = "/metrics";
    TestServer s;
    s.start(o);
    REQUIRE(s.transport->metrics());
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    for (int i = 0; i < 3; ++i)
        REQUIRE(c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(10 + i, "echo").dump()).status == 200);
    const auto text = c.request("GET", "/metrics", {});
    CHECK(text.status == 200);
    CHECK(text.header("content-type") == std::optional<std::string>("text/plain; version=0.0.4; charset=utf-8"));
    CHECK(text.body.find("mcpsse_rpc_requests_total{method=\"other\",outcome=\"success\"} 3\n") != std::string::npos);
    CHECK(text.body.find("mcpsse_sessions_open{protocol_version=\"2025-11-25\"} 1\n") != std::string::npos);
    CHECK(text.body.find("mcpsse_draining 0\n") != std::string::npos);
    const auto om = c.request("GET", "/metrics", {{"Accept", "application/openmetrics-text; version=1.0.0"}});
    CHECK(om.header("content-type") == std::optional<std::string>("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    CHECK(om.body.size() > 6);
    CHECK(om.body.substr(om.body.size() - 6) == "# EOF\n");
    s.transport->drain();
    REQUIRE(eventually([&] { return s.transport->metrics()->render(mcpsse::ExpositionFormat::text).find("mcpsse_draining 1\n") != std::string::npos; }));
}

TEST_CASE("observers: one that wants neither streams nor JSON-RPC requests hears only the rest") {
    struct RequestsOnly : Recorder {
        mcpsse::ObserverInterests interests() const noexcept override { return {true, false, false}; }
    };
    auto narrow = std::make_shared<RequestsOnly>();
    auto o = probed();
    o.observers.push_back(narrow);
    o.response_mode = mcpsse::ResponseMode::sse;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(3, "echo").dump()));
    REQUIRE(c.read_head().status == 200);
    CHECK(!read_events_until_response(c, 3).empty());
    REQUIRE(eventually([&] {
        std::lock_guard lock(narrow->mutex);
        return narrow->routes.size() == 3;
    }));
    std::lock_guard lock(narrow->mutex);
    CHECK(narrow->streams_opened == 0);
    CHECK(narrow->events == 0);
    CHECK(narrow->rpc_starts.empty());
    CHECK(narrow->rpcs.empty());
}

TEST_CASE("a legacy session whose stream a limit closed ends with SessionEndReason::limit") {
    auto recorder = std::make_shared<Recorder>();
    auto o = probed();
    o.observers.push_back(recorder);
    o.max_stream_queue_bytes = 64 * 1024;
    TestServer s;
    s.start(o);
    HttpClient slow(s.port(), 5s, 4096);  // a small receive buffer, never read: a slow consumer
    REQUIRE(slow.send_request("GET", "/sse", {{"Accept", "text/event-stream"}}));
    REQUIRE(eventually([&] { return s.transport->session_count() == 1; }));
    const std::string big(16 * 1024, 'x');
    for (int i = 0; i < 200 && s.transport->session_count() == 1; ++i) {
        s.transport->broadcast("notifications/message", {{"level", "info"}, {"data", big}});
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(eventually([&] {
        std::lock_guard lock(recorder->mutex);
        return recorder->ended.size() == 1;
    }));
    std::lock_guard lock(recorder->mutex);
    CHECK(recorder->ended[0] == mcpsse::SessionEndReason::limit);
}

TEST_CASE("hostile input: an oversized traceparent is cut to 256 bytes before observers see it") {
    auto recorder = std::make_shared<Recorder>();
    auto o = probed();
    o.observers.push_back(recorder);
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    json meta = stateless_meta();
    meta["traceparent"] = std::string(64 * 1024, 'a');
    CHECK(c.request("POST", "/mcp", stateless_headers("echo"), rpc_request(1, "echo", {{"_meta", meta}}).dump()).status == 200);
    REQUIRE(eventually([&] {
        std::lock_guard lock(recorder->mutex);
        return !recorder->traceparents.empty();
    }));
    std::lock_guard lock(recorder->mutex);
    CHECK(recorder->traceparents[0].size() == 256);
}
