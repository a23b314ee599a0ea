// Tests of include/mcpsse/session.hpp and the dispatcher's fallbacks: message-level
// access. The sessions of both transports model `Session`, and one generic bridge
// (fallbacks that forward every method, plus server-to-client messages sent through the
// concept only) works over either.
#include <mcpsse/session.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/stdio_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/pipe_peer.hpp"
#include "support/sse_test_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <algorithm>
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

static_assert(mcpsse::Session<mcpsse::SseSession<>>);
static_assert(mcpsse::Session<mcpsse::SseSession<asio::any_io_executor>>);
static_assert(mcpsse::Session<mcpsse::StdioSession<>>);
static_assert(mcpsse::Session<mcpsse::SseTransport<asio::io_context::executor_type>::session_type>);
static_assert(mcpsse::Session<mcpsse::StdioTransport<asio::io_context::executor_type>::session_type>);
static_assert(!mcpsse::Session<int>);
static_assert(!mcpsse::Session<mcpsse::SseTransport<>>);

namespace {

// The messages a bridge's fallbacks saw, in order.
struct Seen {
    std::mutex mutex;
    std::vector<std::string> notifications;
    std::vector<std::string> requests;
    void note_request(std::string_view method) {
        std::lock_guard lock(mutex);
        requests.emplace_back(method);
    }
    void note_notification(std::string_view method) {
        std::lock_guard lock(mutex);
        notifications.emplace_back(method);
    }
    bool saw_notification(const std::string& method) {
        std::lock_guard lock(mutex);
        return std::find(notifications.begin(), notifications.end(), method) != notifications.end();
    }
};

// A bridge written once: every method nobody registered goes "upstream", which here
// answers `initialize` with the client's own revision, echoes other requests, fails
// `fail/this` with an error of its own, and records notifications.
void install_bridge(mcpsse::Dispatcher& dispatcher, Seen& seen) {
    dispatcher.set_request_fallback([&seen](json params, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        seen.note_request(ctx.method());
        if (ctx.method() == "initialize")
            co_return json{{"protocolVersion", params.at("protocolVersion")},
                           {"capabilities", json::object()},
                           {"serverInfo", {{"name", "upstream"}, {"version", "1"}}}};
        if (ctx.method() == "fail/this") throw mcpsse::RpcError(-32042, "upstream failed", {{"why", "test"}});
        co_return json{{"method", std::string(ctx.method())}, {"params", params}};
    });
    dispatcher.set_notification_fallback([&seen](json, mcpsse::RequestContext& ctx) -> asio::awaitable<void> {
        seen.note_notification(std::string(ctx.method()));
        co_return;
    });
}

// Server-to-client messages through the concept only: a notification, then a request
// whose answer comes back.
template <mcpsse::Session S>
asio::awaitable<json> ask_roots(S session) {
    session.notify("notifications/message", {{"level", "info"}, {"data", "bridged"}});
    co_return co_await session.async_request("roots/list", json::object(), 5s, asio::use_awaitable);
}

template <mcpsse::Session S>
std::future<json> start_ask_roots(asio::io_context& io, S session) {
    return asio::co_spawn(io, ask_roots(std::move(session)), asio::use_future);
}

// ask_roots, with a refusal turned into its JSON-RPC code on the thread that ran it
// (0: answered). The exception object then lives and dies on one thread: its reference
// count is kept by the uninstrumented libstdc++, which ThreadSanitizer cannot see.
template <mcpsse::Session S>
asio::awaitable<int> ask_roots_error_code(S session) {
    try {
        co_await ask_roots(std::move(session));
        co_return 0;
    } catch (const mcpsse::RpcError& e) {
        co_return e.code();
    }
}

json request(json id, const std::string& method, json params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}

}  // namespace

TEST_CASE("stdio: fallbacks receive every unregistered method; the session sends and asks through the concept") {
    PipePeer peer;
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    Seen seen;
    install_bridge(dispatcher, seen);
    mcpsse::StdioOptions options;
    options.input_fd = peer.server_input();
    options.output_fd = peer.server_output();
    mcpsse::StdioTransport<asio::any_io_executor> transport(io.get_executor(), options);
    peer.release_server_ends();
    const mcpsse::StdioSession<> session = transport.session();
    CHECK(session.id().empty());
    CHECK(session.protocol_version().empty());

    // Outside a run a server-to-client request fails at once.
    auto early = start_ask_roots(io, session);
    io.run();
    io.restart();
    CHECK_THROWS_AS(early.get(), mcpsse::RpcError);
    const auto written = peer.read_line();  // a notification needs no run: the output is open
    REQUIRE(written);
    CHECK(json::parse(*written)["params"]["data"] == "bridged");

    std::promise<std::exception_ptr> done;
    transport.async_run(dispatcher, [&](std::exception_ptr e) { done.set_value(e); });
    std::thread runner([&] { io.run(); });

    // initialize goes to the fallback, and the session adopts what it answered.
    peer.send(request(1, "initialize",
                      {{"protocolVersion", "2025-06-18"},
                       {"capabilities", json::object()},
                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    const json init = peer.receive();
    CHECK(init["result"]["serverInfo"]["name"] == "upstream");
    CHECK(session.protocol_version() == "2025-06-18");

    peer.send(request(2, "tools/echo", {{"x", 1}}));
    json reply = peer.receive();
    CHECK(reply["id"] == 2);
    CHECK(reply["result"]["method"] == "tools/echo");
    CHECK(reply["result"]["params"]["x"] == 1);

    peer.send(request(3, "fail/this"));
    reply = peer.receive();
    CHECK(reply["error"]["code"] == -32042);
    CHECK(reply["error"]["message"] == "upstream failed");
    CHECK(reply["error"]["data"]["why"] == "test");

    peer.send({{"jsonrpc", "2.0"}, {"method", "notifications/custom"}, {"params", {{"n", 1}}}});
    CHECK(eventually([&] { return seen.saw_notification("notifications/custom"); }));

    // The server's own notification and request reach the client; its answer completes
    // the request.
    auto roots = start_ask_roots(io, session);
    const json note = peer.receive();
    CHECK(note["method"] == "notifications/message");
    CHECK(note["params"]["data"] == "bridged");
    const json ask = peer.receive();
    CHECK(ask["method"] == "roots/list");
    REQUIRE(ask.contains("id"));
    peer.send({{"jsonrpc", "2.0"}, {"id", ask["id"]}, {"result", {{"roots", json::array({{{"uri", "file:///w"}}})}}}});
    REQUIRE(roots.wait_for(5s) == std::future_status::ready);
    CHECK(roots.get()["roots"][0]["uri"] == "file:///w");

    // A client's error answer becomes an RpcError with its code.
    auto refused = asio::co_spawn(io, ask_roots_error_code(session), asio::use_future);
    CHECK(peer.receive()["method"] == "notifications/message");
    const json ask2 = peer.receive();
    peer.send({{"jsonrpc", "2.0"}, {"id", ask2["id"]}, {"error", {{"code", -32601}, {"message", "no roots"}}}});
    REQUIRE(refused.wait_for(5s) == std::future_status::ready);
    CHECK(refused.get() == -32601);

    peer.close_input();
    auto finished = done.get_future();
    REQUIRE(finished.wait_for(5s) == std::future_status::ready);
    CHECK(finished.get() == nullptr);
    runner.join();
    std::lock_guard lock(seen.mutex);
    CHECK(seen.requests == std::vector<std::string>{"initialize", "tools/echo", "fail/this"});
}

TEST_CASE("http: the same bridge and the same generic session code over SseTransport") {
    TestServer s;
    Seen seen;
    install_bridge(s.dispatcher, seen);
    std::mutex mutex;
    std::optional<mcpsse::SseSession<>> opened;
    mcpsse::SseTransportOptions options;
    options.on_session_open = [&](const mcpsse::SseSession<>& session) {
        std::lock_guard lock(mutex);
        opened = session;
    };
    s.start(options);
    HttpClient c = s.client();
    const auto init = c.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump());
    REQUIRE(init.status == 200);
    CHECK(init.json()["result"]["serverInfo"]["name"] == "upstream");
    const std::string sid = init.header("mcp-session-id").value_or("");
    REQUIRE(!sid.empty());
    mcpsse::SseSession<> session = [&] {
        std::lock_guard lock(mutex);
        REQUIRE(opened);
        return *opened;
    }();
    CHECK(session.id() == sid);
    CHECK(session.protocol_version() == "2025-11-25");
    CHECK(!session.legacy());

    auto r = c.request("POST", "/mcp", post_headers(sid), request(2, "tools/echo", {{"x", 1}}).dump());
    REQUIRE(r.status == 200);
    CHECK(r.json()["result"]["method"] == "tools/echo");
    CHECK(r.json()["result"]["params"]["x"] == 1);
    r = c.request("POST", "/mcp", post_headers(sid), request(3, "fail/this").dump());
    REQUIRE(r.status == 200);
    CHECK(r.json()["error"]["code"] == -32042);
    CHECK(r.json()["error"]["data"]["why"] == "test");
    r = c.request("POST", "/mcp", post_headers(sid), rpc_notification("notifications/custom").dump());
    CHECK(r.status == 202);
    CHECK(eventually([&] { return seen.saw_notification("notifications/custom"); }));

    // No standalone stream yet: the session cannot carry a request of its own.
    asio::io_context io;
    auto early = start_ask_roots(io, session);
    io.run();
    io.restart();
    CHECK_THROWS_AS(early.get(), mcpsse::RpcError);

    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    REQUIRE(g.next_event());  // priming
    auto roots = start_ask_roots(io, session);
    std::thread runner([&] { io.run(); });
    auto note = g.next_event(5s);
    REQUIRE(note);
    CHECK(note->json()["method"] == "notifications/message");
    CHECK(note->json()["params"]["data"] == "bridged");
    auto ask = g.next_event(5s);
    REQUIRE(ask);
    CHECK(ask->json()["method"] == "roots/list");
    r = c.request("POST", "/mcp", post_headers(sid),
                  json{{"jsonrpc", "2.0"}, {"id", ask->json()["id"]}, {"result", {{"roots", json::array()}}}}.dump());
    CHECK(r.status == 202);
    REQUIRE(roots.wait_for(5s) == std::future_status::ready);
    CHECK(roots.get()["roots"].empty());
    runner.join();

    // A kept handle outlives its session: the session ends, the handle says so.
    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    CHECK(session.ended());
    std::lock_guard lock(seen.mutex);
    CHECK(seen.requests == std::vector<std::string>{"initialize", "tools/echo", "fail/this"});
}
