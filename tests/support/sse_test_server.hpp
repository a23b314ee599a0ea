// An SseTransport on its own io_context thread(s) with test tools, and MCP helpers for
// the socket-level tests (tests/unit/sse_transport_*.cpp).
#pragma once

#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <cstdlib>
#include <thread>
#include <vector>

namespace mcpsse_test {

using nlohmann::json;
using Transport = mcpsse::SseTransport<asio::any_io_executor>;

/// What the test tools observed.
struct Probe {
    std::atomic<int> started{0};
    std::atomic<int> completed{0};
    std::atomic<int> aborted{0};  // a wait ended with operation_aborted
    std::atomic<int> opened{0};   // on_session_open
    std::atomic<int> closed{0};   // on_session_close
    std::atomic<int> dropped{0};  // close_stream_connection() accepted
};

/// Polls `condition` until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// Waits `ms` on the handler's strand; counts an abort (cancellation) and rethrows it.
inline asio::awaitable<void> tool_sleep(Probe& probe, std::chrono::milliseconds ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor, ms);
    try {
        co_await timer.async_wait(asio::use_awaitable);
    } catch (const std::system_error& e) {
        if (e.code() == asio::error::operation_aborted) ++probe.aborted;
        throw;
    }
}

/// Test tools, as plain request methods:
/// - `echo`: returns its params;
/// - `big {bytes}`: returns `{"data": "xxx..."}` with `bytes` bytes of text;
/// - `slow {steps, interval_ms, drop_after}`: `steps` progress notifications (when a
///   progressToken is given), one every `interval_ms`, then `{"done": steps}`; after
///   step `drop_after` the server ends the stream's connection (SSE polling);
/// - `block {progress}`: optionally one progress notification, then waits 60 s (until
///   cancelled);
/// - `tools/call {name, arguments}`: `slow`/`block`/`echo` by name (2026-07-28 headers).
inline void add_test_tools(mcpsse::Dispatcher& d, Probe& probe) {
    using mcpsse::RequestContext;
    d.on_request("echo", [](json p, RequestContext&) -> asio::awaitable<json> { co_return p; });
    // `header {name}`: the value of that header of the HTTP request that carried it.
    d.on_request("header", [](json p, RequestContext& ctx) -> asio::awaitable<json> {
        const auto value = ctx.http_header(p.value("name", std::string()));
        co_return json{{"value", value ? json(std::string(*value)) : json(nullptr)}};
    });
    // `big {bytes}`: a result carrying `bytes` bytes of text (for write-side limits).
    d.on_request("big", [](json p, RequestContext&) -> asio::awaitable<json> {
        co_return json{{"data", std::string(p.value("bytes", std::size_t{1} << 20), 'x')}};
    });
    auto slow = [&probe](json p, RequestContext& ctx) -> asio::awaitable<json> {
        ++probe.started;
        const int steps = p.value("steps", 3);
        const auto interval = std::chrono::milliseconds(p.value("interval_ms", 20));
        const int drop_after = p.value("drop_after", 0);
        for (int i = 1; i <= steps; ++i) {
            co_await tool_sleep(probe, interval);
            co_await ctx.async_progress(i, steps);
            if (i == drop_after) probe.dropped += ctx.close_stream_connection(std::chrono::milliseconds(50)) ? 1 : 0;
        }
        ++probe.completed;
        co_return json{{"done", steps}};
    };
    auto block = [&probe](json p, RequestContext& ctx) -> asio::awaitable<json> {
        ++probe.started;
        if (p.value("progress", false)) co_await ctx.async_progress(1);
        co_await tool_sleep(probe, 60s);
        ++probe.completed;
        co_return json::object();
    };
    d.on_request("slow", slow);
    d.on_request("block", block);
    d.on_request("tools/call", [slow, block](json p, RequestContext& ctx) -> asio::awaitable<json> {
        const std::string name = p.value("name", "");
        json args = p.value("arguments", json::object());
        if (name == "slow") co_return co_await slow(std::move(args), ctx);
        if (name == "block") co_return co_await block(std::move(args), ctx);
        co_return json{{"content", json::array({{{"type", "text"}, {"text", args.dump()}}})}};
    });
}

/// An SseTransport served by `threads` threads on its own io_context. With
/// MCPSSE_TEST_SHARE_NOTHING set (and one thread asked for), the transport runs in
/// share-nothing mode on `io` and `io2`, one thread each, so connections alternate
/// between two threads.
struct TestServer {
    Probe probe;
    mcpsse::Dispatcher dispatcher;
    asio::io_context io;
    asio::io_context io2;  // share-nothing mode only
    std::optional<Transport> transport;
    std::promise<std::exception_ptr> done;
    std::shared_future<std::exception_ptr> finished = done.get_future().share();
    std::vector<std::thread> threads;

    TestServer() { add_test_tools(dispatcher, probe); }

    /// Binds port 0 and starts serving.
    void start(mcpsse::SseTransportOptions options = {}, int thread_count = 1,
               mcpsse::InMemoryEventStore store = mcpsse::InMemoryEventStore{}) {
        options.port = 0;
        // The suites run three times: with strands, and (one thread asked for, a variable
        // set) without them on one thread, or share-nothing on two.
        if (thread_count == 1 && std::getenv("MCPSSE_TEST_SINGLE_THREADED") != nullptr) options.single_threaded = true;
        const bool share_nothing = thread_count == 1 && std::getenv("MCPSSE_TEST_SHARE_NOTHING") != nullptr;
        if (!options.on_session_open) options.on_session_open = [this](const mcpsse::SseSession<>&) { ++probe.opened; };
        if (!options.on_session_close) options.on_session_close = [this](const mcpsse::SseSession<>&) { ++probe.closed; };
        if (share_nothing) {
            const std::vector<asio::any_io_executor> executors{io.get_executor(), io2.get_executor()};
            transport.emplace(executors, std::move(options), std::move(store));
        } else {
            transport.emplace(io.get_executor(), std::move(options), std::move(store));
        }
        port_ = transport->local_port();
        transport->async_run(dispatcher, [this](std::exception_ptr e) { done.set_value(e); });
        for (int i = 0; i < thread_count; ++i) threads.emplace_back([this] { io.run(); });
        if (share_nothing) threads.emplace_back([this] { io2.run(); });
    }

    /// The bound port (kept: `local_port()` needs the open acceptor, closed by stop).
    [[nodiscard]] std::uint16_t port() const { return port_; }
    std::uint16_t port_ = 0;

    HttpClient client(std::chrono::milliseconds timeout = 5s) const { return HttpClient(port(), timeout); }

    [[nodiscard]] bool run_finished(std::chrono::milliseconds timeout) const {
        return finished.wait_for(timeout) == std::future_status::ready;
    }

    /// Stops and joins; false when the run did not complete within `timeout`.
    bool stop_and_join(std::chrono::milliseconds timeout = 10s) {
        if (threads.empty()) return true;
        transport->stop();
        const bool ok = run_finished(timeout);
        if (!ok) {
            io.stop();
            io2.stop();
        }
        for (auto& t : threads) t.join();
        threads.clear();
        return ok;
    }

    ~TestServer() { stop_and_join(); }
};

// ---- MCP message helpers ---------------------------------------------------------------

inline json rpc_request(json id, std::string method, json params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", std::move(method)}, {"params", std::move(params)}};
}

inline json rpc_notification(std::string method, json params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", std::move(params)}};
}

inline json initialize_request(const std::string& version, json id = 1) {
    return rpc_request(std::move(id), "initialize",
                       {{"protocolVersion", version},
                        {"capabilities", json::object()},
                        {"clientInfo", {{"name", "socket-test"}, {"version", "1"}}}});
}

/// Headers of a Streamable HTTP POST.
inline Headers post_headers(const std::optional<std::string>& session = std::nullopt,
                            const std::optional<std::string>& version = std::nullopt) {
    Headers h{{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    if (session) h.emplace_back("Mcp-Session-Id", *session);
    if (version) h.emplace_back("MCP-Protocol-Version", *version);
    return h;
}

/// Headers of a GET stream request.
inline Headers get_headers(const std::string& session, const std::optional<std::string>& last_event_id = std::nullopt) {
    Headers h{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}};
    if (last_event_id) h.emplace_back("Last-Event-ID", *last_event_id);
    return h;
}

/// Initializes a session on `client` under `version` and sends
/// `notifications/initialized`; returns the session id (empty on failure).
inline std::string open_session(HttpClient& client, const std::string& version = "2025-11-25") {
    const auto init = client.request("POST", "/mcp", post_headers(), initialize_request(version).dump());
    if (init.status != 200) return {};
    const auto id = init.header("mcp-session-id");
    if (!id) return {};
    const auto note = client.request("POST", "/mcp", post_headers(*id, version),
                                     rpc_notification("notifications/initialized").dump());
    if (note.status != 202) return {};
    return *id;
}

/// A legacy HTTP+SSE (2024-11-05) session: its stream and the endpoint to POST to.
struct LegacySession {
    HttpClient stream;
    std::string endpoint;  // "/messages?sessionId=..."
};

/// Opens a legacy stream on `server` and initializes its session (the initialize reply
/// is read off the stream); `endpoint` is empty on failure.
inline LegacySession open_legacy_session(const TestServer& server) {
    LegacySession legacy{server.client(), {}};
    if (!legacy.stream.send_request("GET", "/sse", {{"Accept", "text/event-stream"}})) return legacy;
    if (legacy.stream.read_head().status != 200) return legacy;
    const auto endpoint = legacy.stream.next_event();
    if (!endpoint || endpoint->event != "endpoint") return legacy;
    HttpClient poster = server.client();
    if (poster.request("POST", endpoint->data, {{"Content-Type", "application/json"}},
                       initialize_request("2024-11-05").dump())
            .status != 202)
        return legacy;
    if (!legacy.stream.next_event()) return legacy;
    legacy.endpoint = endpoint->data;
    return legacy;
}

/// Sends `notifications/message` with `data: n` to session `sid`'s standalone stream.
inline void notify_session(TestServer& server, const std::string& sid, int n) {
    server.transport->for_each_session([&](const mcpsse::SseSession<>& session) {
        if (session.id() == sid) session.notify("notifications/message", {{"level", "info"}, {"data", n}});
    });
}

/// The `_meta` of a 2026-07-28 request.
inline json stateless_meta(const std::string& version = "2026-07-28") {
    return {{"io.modelcontextprotocol/protocolVersion", version},
            {"io.modelcontextprotocol/clientInfo", {{"name", "socket-test"}, {"version", "1"}}},
            {"io.modelcontextprotocol/clientCapabilities", json::object()}};
}

/// Headers of a 2026-07-28 POST for `method` (and `name` for Mcp-Name).
inline Headers stateless_headers(const std::string& method, const std::optional<std::string>& name = std::nullopt,
                                 const std::string& version = "2026-07-28") {
    Headers h = post_headers(std::nullopt, version);
    h.emplace_back("Mcp-Method", method);
    if (name) h.emplace_back("Mcp-Name", *name);
    return h;
}

/// Reads SSE events until the JSON-RPC response with `id` (inclusive) or the end; then
/// reads to the end of the stream's body (the server ends it after the response, P8)
/// so that the connection can carry the next request.
inline std::vector<SseEvent> read_events_until_response(HttpClient& client, const json& id,
                                                        std::chrono::milliseconds timeout = 5s) {
    std::vector<SseEvent> events;
    while (auto e = client.next_event(timeout)) {
        events.push_back(*e);
        const json m = e->json();
        if (m.is_object() && m.contains("id") && m["id"] == id && (m.contains("result") || m.contains("error"))) break;
    }
    while (client.body_pending())
        if (auto extra = client.next_event(timeout)) events.push_back(*extra);
        else break;
    return events;
}

}  // namespace mcpsse_test
