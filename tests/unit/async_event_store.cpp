// Tests of include/mcpsse/async_event_store.hpp: SseTransport over an event store whose
// every operation suspends (tests/support/suspending_event_store.hpp: applied in order,
// 20 ms apart, on a thread of its own). Resumptions (MCP Streamable HTTP R3, R4) replay
// from it with nothing lost, nothing twice and no gap served; event ids differ between
// transport instances.
#include <mcpsse/async_event_store.hpp>
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"
#include "support/suspending_event_store.hpp"

#include <asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using namespace mcpsse_test;
using namespace std::chrono_literals;

static_assert(mcpsse::AsyncEventStore<SuspendingEventStore>);
static_assert(!mcpsse::EventStore<SuspendingEventStore>);
static_assert(!mcpsse::AsyncEventStore<mcpsse::InMemoryEventStore>);

namespace {

using AsyncTransport = mcpsse::SseTransport<asio::any_io_executor, SuspendingEventStore>;

// An SseTransport over a SuspendingEventStore, served by one thread.
struct AsyncServer {
    Probe probe;
    mcpsse::Dispatcher dispatcher;
    asio::io_context io;
    std::optional<AsyncTransport> transport;
    std::mutex mutex;
    std::vector<mcpsse::SseSession<>> sessions;
    std::promise<std::exception_ptr> done;
    std::thread thread;

    explicit AsyncServer(mcpsse::InMemoryEventStoreLimits limits = {}) {
        add_test_tools(dispatcher, probe);
        mcpsse::SseTransportOptions options;
        options.port = 0;
        options.on_session_open = [this](const mcpsse::SseSession<>& s) {
            std::lock_guard lock(mutex);
            sessions.push_back(s);
        };
        transport.emplace(io.get_executor(), std::move(options), SuspendingEventStore(io.get_executor(), 20ms, limits));
        transport->async_run(dispatcher, [this](std::exception_ptr e) { done.set_value(e); });
        thread = std::thread([this] { io.run(); });
    }
    ~AsyncServer() {
        transport->stop();
        if (done.get_future().wait_for(10s) != std::future_status::ready) io.stop();
        thread.join();
    }

    HttpClient client() const { return HttpClient(transport->local_port(), 5s); }

    mcpsse::SseSession<> session(const std::string& id) {
        std::lock_guard lock(mutex);
        for (auto& s : sessions)
            if (s.id() == id) return s;
        throw std::runtime_error("no such session");
    }
};

// Sends notifications `from`..`to` (data: n) on the session's standalone stream.
void notify_range(mcpsse::SseSession<>& session, int from, int to) {
    for (int n = from; n <= to; ++n) session.notify("notifications/message", {{"level", "info"}, {"data", n}});
}

// The `data` numbers of the events read from `g` until `last` arrives (or none comes
// for 5 s), and their ids.
std::vector<int> read_until(HttpClient& g, int last, std::vector<std::string>* ids = nullptr) {
    std::vector<int> seen;
    while (auto e = g.next_event(5s)) {
        const json message = e->json();
        if (!message.contains("params")) continue;
        seen.push_back(message["params"]["data"].get<int>());
        if (ids && e->id) ids->push_back(*e->id);
        if (seen.back() == last) break;
    }
    return seen;
}

std::vector<int> range(int from, int to) {
    std::vector<int> all;
    for (int n = from; n <= to; ++n) all.push_back(n);
    return all;
}

// A session of `s` with its standalone GET stream open and read past the priming
// event; `c` (the connection that initialized it) stays open.
struct StandaloneStream {
    HttpClient c;
    std::string sid;
    HttpClient g;
    std::optional<SseEvent> priming;
};

StandaloneStream open_standalone(AsyncServer& s) {
    StandaloneStream out;
    out.c = s.client();
    out.sid = open_session(out.c);
    REQUIRE(!out.sid.empty());
    out.g = s.client();
    REQUIRE(out.g.send_request("GET", "/mcp", get_headers(out.sid)));
    REQUIRE(out.g.read_head().status == 200);
    out.priming = out.g.next_event();
    REQUIRE(out.priming);
    return out;
}

}  // namespace

TEST_CASE("async store R3/R4: a resumed GET stream replays from the store, nothing lost or twice while events go on") {
    AsyncServer s;
    auto [c, sid, g, priming] = open_standalone(s);
    auto session = s.session(sid);
    notify_range(session, 1, 10);
    std::vector<std::string> ids;
    REQUIRE(read_until(g, 5, &ids) == range(1, 5));
    const std::string resume_from = ids.back();
    g.close();
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }));

    // Sent while no connection holds the stream: kept by the store (its appends land
    // 20 ms apart, so most are still unconfirmed when the client comes back).
    notify_range(session, 11, 30);
    HttpClient r = s.client();
    REQUIRE(r.send_request("GET", "/mcp", get_headers(sid, resume_from)));
    REQUIRE(r.read_head().status == 200);
    // More arrive while the store answers the replay.
    std::thread more([&] {
        for (int n = 31; n <= 60; ++n) {
            session.notify("notifications/message", {{"level", "info"}, {"data", n}});
            std::this_thread::sleep_for(1ms);
        }
    });
    std::vector<std::string> resumed_ids;
    const auto resumed = read_until(r, 60, &resumed_ids);
    more.join();
    CHECK(resumed == range(6, 60));
    // Ids go on from the one resumed after, one stream, no sequence skipped.
    REQUIRE(!resumed_ids.empty());
    const auto first = mcpsse::detail::parse_event_id(resumed_ids.front());
    const auto from = mcpsse::detail::parse_event_id(resume_from);
    REQUIRE(first);
    REQUIRE(from);
    CHECK(first->stream == from->stream);
    CHECK(first->sequence == from->sequence + 1);
    CHECK(eventually([&] { return s.transport->event_store().replays() >= 1; }));
}

TEST_CASE("async store R3: a finished POST stream is replayed from the store alone") {
    AsyncServer s;
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    // A call that reports progress (an SSE answer); the client leaves after the first event.
    HttpClient p = s.client();
    REQUIRE(p.send_request("POST", "/mcp", post_headers(sid),
                           rpc_request(7, "slow", {{"steps", 4}, {"interval_ms", 30}, {"_meta", {{"progressToken", "t"}}}})
                               .dump()));
    REQUIRE(p.read_head().status == 200);
    auto first = p.next_event(5s);  // the priming event (2025-11-25), then progress 1
    while (first && first->data.empty()) first = p.next_event(5s);
    REQUIRE(first);
    REQUIRE(first->id);
    CHECK(first->json()["params"]["progress"] == 1);
    p.close();
    REQUIRE(eventually([&] { return s.probe.completed.load() == 1; }));
    // Let every append land, so the stream leaves the session's table (finished).
    REQUIRE(eventually([&] { return s.transport->event_store().appends() >= 5; }));

    HttpClient r = s.client();
    REQUIRE(r.send_request("GET", "/mcp", get_headers(sid, *first->id)));
    REQUIRE(r.read_head().status == 200);
    std::vector<json> rest;
    while (auto e = r.next_event(3s)) {
        rest.push_back(e->json());
        if (rest.back().contains("id")) break;
    }
    INFO(json(rest).dump());
    REQUIRE(rest.size() == 4);  // progress 2..4, then the response
    CHECK(rest[0]["params"]["progress"] == 2);
    CHECK(rest[2]["params"]["progress"] == 4);
    CHECK(rest[3]["id"] == 7);
    CHECK(rest[3]["result"]["done"] == 4);
}

TEST_CASE("async store L3: evicted events refuse the resumption with 410, never a stream with a gap") {
    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_events = 3;
    AsyncServer s(limits);
    auto [c, sid, g, priming] = open_standalone(s);
    auto session = s.session(sid);
    notify_range(session, 1, 2);
    std::vector<std::string> ids;
    REQUIRE(read_until(g, 1, &ids) == range(1, 1));
    g.close();
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }));
    notify_range(session, 3, 12);
    // Every append lands: the store then keeps only the last three.
    REQUIRE(eventually([&] { return s.transport->event_store().appends() >= 12; }));

    HttpClient r = s.client();
    const auto refused = r.request("GET", "/mcp", get_headers(sid, ids.front()));
    CHECK(refused.status == 410);
}

TEST_CASE("event ids: two transport instances number their streams apart (unique across processes)") {
    AsyncServer a;
    AsyncServer b;
    std::vector<std::uint64_t> streams;
    for (AsyncServer* s : {&a, &b}) {
        const auto opened = open_standalone(*s);
        REQUIRE(opened.priming->id);
        const auto id = mcpsse::detail::parse_event_id(*opened.priming->id);
        REQUIRE(id);
        streams.push_back(id->stream);
    }
    // The high halves are each instance's random tag; the low halves count streams.
    CHECK((streams[0] >> 32) != 0);
    CHECK((streams[0] >> 32) != (streams[1] >> 32));
    CHECK((streams[0] & 0xffffffffu) == (streams[1] & 0xffffffffu));
}

TEST_CASE("async store R4: a Last-Event-ID past the stream's end or malformed replays nothing; a stream not live is asked of the store") {
    AsyncServer s;
    auto [c, sid, g, priming] = open_standalone(s);
    REQUIRE(priming->id);
    const auto first = mcpsse::detail::parse_event_id(*priming->id);
    REQUIRE(first);
    auto session = s.session(sid);
    notify_range(session, 1, 3);
    REQUIRE(read_until(g, 3) == range(1, 3));
    g.close();
    REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }));
    const std::string stream = std::to_string(first->stream);
    const std::string past_end = stream + "-" + std::to_string(std::numeric_limits<std::uint64_t>::max());
    for (const std::string& last : {past_end, stream + "-1000", std::string("999999999999999999999999-1"),
                                    std::string("not-an-id"), std::string("-"), std::string("1-")}) {
        INFO(last);
        HttpClient r = s.client();
        REQUIRE(r.send_request("GET", "/mcp", get_headers(sid, last)));
        const auto head = r.read_head();
        REQUIRE(head.status == 200);
        // Nothing replayed: what arrives next is live, in order.
        notify_range(session, 100, 101);
        CHECK(read_until(r, 101) == range(100, 101));
        r.close();
        REQUIRE(eventually([&] { return s.transport->connection_count() == 1; }));
    }
    // The store was never asked to replay from an id the stream did not produce.
    CHECK(s.transport->event_store().replays() == 0);
    // A stream that is not live: the store is asked, has nothing after the id, and the
    // answer is that nothing: an event stream that ends at once.
    HttpClient r = s.client();
    const auto unknown = r.request("GET", "/mcp", get_headers(sid, std::to_string(first->stream + 1) + "-1"));
    CHECK(unknown.status == 200);
    CHECK(unknown.body.find("data:") == std::string::npos);
    CHECK(s.transport->event_store().replays() == 1);
}
