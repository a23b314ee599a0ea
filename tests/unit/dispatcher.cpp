// Tests of include/mcpsse/dispatcher.hpp and request_context.hpp through the session
// core: lifecycle, errors, progress, logging, cancellation, server-to-client requests.
#include <mcpsse/dispatcher.hpp>

#include "support/catch.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using namespace std::chrono_literals;
namespace error_code = mcpsse::error_code;

namespace {

// A sink that records what the session sends.
class CaptureSink final : public mcpsse::detail::MessageSink {
public:
    bool send(std::string message) override {
        if (closed) return false;
        sent.push_back(json::parse(message));
        return true;
    }
    bool accepts_requests() const noexcept override { return requests; }
    std::vector<json> sent;
    bool closed = false;
    bool requests = true;
};

// Drives one session on its own io_context.
struct Harness {
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    std::shared_ptr<CaptureSink> sink = std::make_shared<CaptureSink>();
    std::shared_ptr<mcpsse::detail::RpcSession> session;
    std::vector<std::optional<json>> replies;

    explicit Harness(mcpsse::DispatcherOptions options = {}) : dispatcher(std::move(options)) {}

    void start() {
        session = std::make_shared<mcpsse::detail::RpcSession>(asio::make_strand(io.get_executor()), dispatcher,
                                                                sink);
    }

    // Feeds one message text; the reply (if any) lands in `replies` when handled.
    std::size_t feed(const std::string& text) {
        if (!session) start();
        auto parsed = mcpsse::json_rpc::parse_messages(text, session->parse_options());
        REQUIRE(parsed.errors.empty());
        REQUIRE(parsed.messages.size() == 1);
        const std::size_t slot = replies.size();
        replies.emplace_back();
        asio::co_spawn(
            session->get_executor(),
            [this, slot, m = std::move(parsed.messages[0])]() mutable -> asio::awaitable<void> {
                auto reply = co_await session->async_handle(std::move(m), sink);
                if (reply) replies[slot] = json::parse(*reply);
            },
            asio::detached);
        return slot;
    }

    json call(const std::string& text) {
        const auto slot = feed(text);
        io.restart();
        io.run();
        REQUIRE(replies[slot].has_value());
        return *replies[slot];
    }

    void run_for(std::chrono::milliseconds duration) {
        io.restart();
        io.run_for(duration);
    }
};

std::string request(int id, const std::string& method, const json& params = json::object()) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

std::string initialize_request(const std::string& version) {
    return request(1, "initialize",
                   {{"protocolVersion", version},
                    {"capabilities", {{"sampling", json::object()}}},
                    {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("initialize echoes a supported protocol version and records the client") {
    Harness h;
    h.dispatcher.options().server_info.name = "unit";
    const json reply = h.call(initialize_request("2025-06-18"));
    CHECK(reply["id"] == 1);
    CHECK(reply["result"]["protocolVersion"] == "2025-06-18");
    CHECK(reply["result"]["serverInfo"]["name"] == "unit");
    CHECK(reply["result"]["capabilities"].contains("logging"));
    CHECK(h.session->protocol_version() == "2025-06-18");
    CHECK(h.session->client_capabilities().contains("sampling"));
    CHECK(h.session->client_info()["name"] == "test");
}

TEST_CASE("initialize answers the preferred version when the requested one is unsupported") {
    Harness h;
    CHECK(h.call(initialize_request("1999-01-01"))["result"]["protocolVersion"] == "2025-11-25");
}

TEST_CASE("a second initialize on a session is an invalid request (-32600)") {
    Harness h;
    h.call(initialize_request("2025-11-25"));
    const json again = h.call(initialize_request("2025-11-25"));
    CHECK(again["error"]["code"] == error_code::invalid_request);
}

TEST_CASE("initialize without a protocolVersion is invalid params (-32602)") {
    Harness h;
    CHECK(h.call(request(1, "initialize", json::object()))["error"]["code"] == error_code::invalid_params);
}

TEST_CASE("a host may replace initialize; the session adopts the version it answered") {
    Harness h;
    h.dispatcher.on_request("initialize", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"protocolVersion", "2025-03-26"}, {"capabilities", json::object()},
                       {"serverInfo", {{"name", "custom"}, {"version", "9"}}}};
    });
    CHECK(h.call(initialize_request("2025-11-25"))["result"]["serverInfo"]["name"] == "custom");
    CHECK(h.session->protocol_version() == "2025-03-26");
    CHECK(h.session->parse_options().allow_batches);
}

TEST_CASE("ping answers an empty object") {
    Harness h;
    CHECK(h.call(request(9, "ping"))["result"] == json::object());
}

TEST_CASE("an unknown method is -32601 with the method name in data") {
    Harness h;
    const json reply = h.call(request(2, "no/such"));
    CHECK(reply["error"]["code"] == error_code::method_not_found);
    CHECK(reply["error"]["data"]["method"] == "no/such");
}

TEST_CASE("RpcError thrown by a handler reaches the peer with code, message and data") {
    Harness h;
    h.dispatcher.on_request("fail", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw mcpsse::RpcError(error_code::resource_not_found, "Resource not found", {{"uri", "x://y"}});
        co_return json{};
    });
    const json reply = h.call(request(3, "fail"));
    CHECK(reply["id"] == 3);
    CHECK(reply["error"]["code"] == error_code::resource_not_found);
    CHECK(reply["error"]["message"] == "Resource not found");
    CHECK(reply["error"]["data"]["uri"] == "x://y");
}

TEST_CASE("any other exception becomes -32603 without leaking its text") {
    Harness h;
    h.dispatcher.on_request("boom", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw std::runtime_error("secret database password");
        co_return json{};
    });
    const json reply = h.call(request(4, "boom"));
    CHECK(reply["error"]["code"] == error_code::internal_error);
    CHECK(reply.dump().find("secret") == std::string::npos);
}

TEST_CASE("handlers get params (an empty object when absent) and _meta") {
    Harness h;
    h.dispatcher.on_request("echo", [](json params, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return json{{"params", params}, {"meta", ctx.meta()}, {"method", ctx.method()}};
    });
    const json with = h.call(request(5, "echo", {{"a", 1}, {"_meta", {{"k", "v"}}}}));
    CHECK(with["result"]["params"]["a"] == 1);
    CHECK(with["result"]["meta"]["k"] == "v");
    CHECK(with["result"]["method"] == "echo");
    const json without = h.call(R"({"jsonrpc":"2.0","id":6,"method":"echo"})");
    CHECK(without["result"]["params"] == json::object());
    CHECK(without["result"]["meta"].is_null());
}

TEST_CASE("progress goes out for the request's token, strictly increasing, never after the response") {
    Harness h;
    h.dispatcher.on_request("work", [&](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        std::vector<bool> sent;
        sent.push_back(co_await ctx.async_progress(1, 3, "one"));
        sent.push_back(co_await ctx.async_progress(1, 3));    // not increasing: dropped
        sent.push_back(co_await ctx.async_progress(0.5, 3));  // decreasing: dropped
        sent.push_back(co_await ctx.async_progress(2));
        co_return json{{"sent", sent}};
    });
    const json reply = h.call(request(7, "work", {{"_meta", {{"progressToken", "tok"}}}}));
    CHECK(reply["result"]["sent"] == json::array({true, false, false, true}));
    REQUIRE(h.sink->sent.size() == 2);
    CHECK(h.sink->sent[0]["method"] == "notifications/progress");
    CHECK(h.sink->sent[0]["params"] == json{{"progressToken", "tok"}, {"progress", 1.0}, {"total", 3.0}, {"message", "one"}});
    CHECK(h.sink->sent[1]["params"] == json{{"progressToken", "tok"}, {"progress", 2.0}});
}

TEST_CASE("progress without a progress token sends nothing") {
    Harness h;
    h.dispatcher.on_request("work", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        const bool sent = co_await ctx.async_progress(1);
        co_return json{{"sent", sent}};
    });
    CHECK(h.call(request(8, "work"))["result"]["sent"] == false);
    CHECK(h.sink->sent.empty());
}

TEST_CASE("no progress is sent once the response has been produced") {
    Harness h;
    auto late = std::make_shared<std::optional<bool>>();
    h.dispatcher.on_request("work", [late](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        // A task that outlives the handler, holding a copy of the context. (The executor
        // is fetched first: GCC 12 mishandles a temporary lambda next to a co_await.)
        const auto executor = co_await asio::this_coro::executor;
        asio::co_spawn(
            executor,
            [late, copy = ctx]() mutable -> asio::awaitable<void> {
                co_await sleep_for(5ms);
                *late = co_await copy.async_progress(2);
            },
            asio::detached);
        co_await ctx.async_progress(1);
        co_return json::object();
    });
    h.call(request(10, "work", {{"_meta", {{"progressToken", 1}}}}));
    REQUIRE(late->has_value());
    CHECK(**late == false);
    CHECK(h.sink->sent.size() == 1);
}

TEST_CASE("log messages are filtered by logging/setLevel") {
    Harness h;
    h.dispatcher.on_request("log", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        const bool debug = co_await ctx.async_log(mcpsse::LoggingLevel::debug, "d");
        json data = {{"k", 1}};  // GCC 12 rejects a braced list inside a co_await expression
        const bool error = co_await ctx.async_log(mcpsse::LoggingLevel::error, std::move(data), "db");
        co_return json{{"debug", debug}, {"error", error}};
    });
    CHECK(h.call(request(1, "logging/setLevel", {{"level", "warning"}}))["result"] == json::object());
    const json reply = h.call(request(2, "log"));
    CHECK(reply["result"] == json{{"debug", false}, {"error", true}});
    REQUIRE(h.sink->sent.size() == 1);
    CHECK(h.sink->sent[0]["method"] == "notifications/message");
    CHECK(h.sink->sent[0]["params"] == json{{"level", "error"}, {"data", {{"k", 1}}}, {"logger", "db"}});
    CHECK(h.call(request(3, "logging/setLevel", {{"level", "loud"}}))["error"]["code"] == error_code::invalid_params);
}

TEST_CASE("notifications/cancelled cancels the handler through its cancellation slot; no response") {
    Harness h;
    auto observed = std::make_shared<std::string>();
    h.dispatcher.on_request("slow", [observed](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        try {
            co_await sleep_for(10s);
            *observed = "finished";
        } catch (const std::system_error& e) {
            *observed = e.code() == asio::error::operation_aborted ? "aborted" : "other";
        }
        CHECK(ctx.is_cancelled());
        co_return json{{"late", true}};
    });
    const auto slot = h.feed(request(11, "slow"));
    h.run_for(20ms);
    CHECK(h.session->in_flight_count() == 1);
    h.feed(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":11,"reason":"user"}})");
    const auto start = std::chrono::steady_clock::now();
    h.run_for(2s);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(*observed == "aborted");
    CHECK_FALSE(h.replies[slot].has_value());
    CHECK(h.session->in_flight_count() == 0);
}

TEST_CASE("cancelling an unknown id, or initialize, changes nothing") {
    Harness h;
    h.start();
    CHECK_FALSE(h.session->cancel_request(mcpsse::RequestId{std::int64_t{99}}));
    CHECK(h.call(request(12, "ping"))["result"] == json::object());
}

TEST_CASE("a server-to-client request resolves with the client's result") {
    Harness h;
    h.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        json params = {{"maxTokens", 5}};
        json answer = co_await ctx.async_request("sampling/createMessage", std::move(params), 5s);
        co_return json{{"answer", answer}};
    });
    const auto slot = h.feed(request(13, "ask"));
    h.run_for(20ms);
    REQUIRE(h.sink->sent.size() == 1);
    const json outbound = h.sink->sent[0];
    CHECK(outbound["method"] == "sampling/createMessage");
    CHECK(outbound["params"]["maxTokens"] == 5);
    h.feed(json{{"jsonrpc", "2.0"}, {"id", outbound["id"]}, {"result", {{"text", "hi"}}}}.dump());
    h.run_for(200ms);
    REQUIRE(h.replies[slot].has_value());
    CHECK((*h.replies[slot])["result"]["answer"]["text"] == "hi");
    CHECK(h.session->pending_request_count() == 0);
}

TEST_CASE("a client's error answer reaches the handler as RpcError") {
    Harness h;
    h.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        try {
            co_await ctx.async_request("elicitation/create", json::object(), 5s);
        } catch (const mcpsse::RpcError& e) {
            co_return json{{"code", e.code()}, {"message", e.what()}};
        }
        co_return json{};
    });
    const auto slot = h.feed(request(14, "ask"));
    h.run_for(20ms);
    REQUIRE(h.sink->sent.size() == 1);
    h.feed(json{{"jsonrpc", "2.0"}, {"id", h.sink->sent[0]["id"]}, {"error", {{"code", -1}, {"message", "declined"}}}}.dump());
    h.run_for(200ms);
    REQUIRE(h.replies[slot].has_value());
    CHECK((*h.replies[slot])["result"] == json{{"code", -1}, {"message", "declined"}});
}

TEST_CASE("a server-to-client request times out with -32001 and tells the client to cancel") {
    Harness h;
    h.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_await ctx.async_request("roots/list", json::object(), 30ms);
        co_return json{};
    });
    const json reply = h.call(request(15, "ask"));
    CHECK(reply["error"]["code"] == error_code::request_timeout);
    REQUIRE(h.sink->sent.size() == 2);
    CHECK(h.sink->sent[1]["method"] == "notifications/cancelled");
    CHECK(h.sink->sent[1]["params"]["requestId"] == h.sink->sent[0]["id"]);
    CHECK(h.sink->sent[1]["params"]["reason"] == "timeout");
}

TEST_CASE("closing the session fails waiting server-to-client requests with -32000") {
    Harness h;
    h.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_await ctx.async_request("roots/list", json::object(), 10s);
        co_return json{};
    });
    const auto slot = h.feed(request(16, "ask"));
    h.run_for(20ms);
    asio::post(h.session->get_executor(), [&] { h.session->close(); });
    h.run_for(500ms);
    REQUIRE(h.replies[slot].has_value());
    CHECK((*h.replies[slot])["error"]["code"] == error_code::connection_closed);
}

TEST_CASE("a channel that cannot carry requests fails async_request at once with -32000") {
    Harness h;
    h.sink->requests = false;
    h.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_await ctx.async_request("roots/list", json::object(), 10s);
        co_return json{};
    });
    CHECK(h.call(request(17, "ask"))["error"]["code"] == error_code::connection_closed);
    CHECK(h.sink->sent.empty());
}

TEST_CASE("cancelling a handler that waits on the client aborts the wait and cancels upstream") {
    Harness h;
    auto outcome = std::make_shared<std::string>();
    h.dispatcher.on_request("ask", [outcome](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        try {
            co_await ctx.async_request("sampling/createMessage", json::object(), 10s);
        } catch (const std::system_error& e) {
            *outcome = e.code() == asio::error::operation_aborted ? "aborted" : "other";
        }
        co_return json{};
    });
    const auto slot = h.feed(request(18, "ask"));
    h.run_for(20ms);
    h.feed(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":18}})");
    h.run_for(500ms);
    CHECK(*outcome == "aborted");
    CHECK_FALSE(h.replies[slot].has_value());
    REQUIRE(h.sink->sent.size() == 2);
    CHECK(h.sink->sent[1]["method"] == "notifications/cancelled");
    CHECK(h.sink->sent[1]["params"]["reason"] == "cancelled");
}

TEST_CASE("a duplicate id of a running request is refused with -32600") {
    Harness h;
    h.dispatcher.on_request("slow", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_await sleep_for(50ms);
        co_return json::object();
    });
    const auto first = h.feed(request(19, "slow"));
    const auto second = h.feed(request(19, "slow"));
    h.run_for(1s);
    REQUIRE(h.replies[first].has_value());
    REQUIRE(h.replies[second].has_value());
    CHECK((*h.replies[first]).contains("result"));
    CHECK((*h.replies[second])["error"]["code"] == error_code::invalid_request);
}

TEST_CASE("notification handlers run; their exceptions are swallowed; initialized is recorded") {
    Harness h;
    auto calls = std::make_shared<int>(0);
    h.dispatcher.on_notification("notifications/initialized", [calls](json, mcpsse::RequestContext& ctx) -> asio::awaitable<void> {
        ++*calls;
        CHECK_FALSE(ctx.id().has_value());
        throw std::runtime_error("ignored");
        co_return;
    });
    h.feed(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    h.run_for(100ms);
    CHECK(*calls == 1);
    CHECK(h.session->client_initialized());
    CHECK(h.call(request(20, "ping"))["result"] == json::object());
}

TEST_CASE("a batch under 2025-03-26 is answered as one array; initialize inside it is refused") {
    Harness h;
    h.call(initialize_request("2025-03-26"));
    auto parsed = mcpsse::json_rpc::parse_messages(
        R"([{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},)"
        R"({"jsonrpc":"2.0","id":3,"method":"initialize","params":{}},{"jsonrpc":"2.0","id":4}])",
        h.session->parse_options());
    REQUIRE(parsed.batch);
    std::optional<std::string> reply;
    asio::co_spawn(
        h.session->get_executor(),
        [&]() -> asio::awaitable<void> {
            reply = co_await h.session->async_handle_batch(std::move(parsed.messages), std::move(parsed.errors), h.sink);
        },
        asio::detached);
    h.run_for(1s);
    REQUIRE(reply.has_value());
    const json replies = json::parse(*reply);
    REQUIRE(replies.size() == 3);
    CHECK(replies[0]["id"] == 4);  // the invalid element first
    CHECK(replies[0]["error"]["code"] == error_code::invalid_request);
    CHECK(replies[1]["id"] == 2);
    CHECK(replies[2]["id"] == 3);
    CHECK(replies[2]["error"]["code"] == error_code::invalid_request);
}

TEST_CASE("under 2026-07-28, initialize, ping and logging/setLevel are gone (-32601)") {
    Harness h;
    h.start();
    h.session->set_protocol_version("2026-07-28");
    for (const char* method : {"initialize", "ping", "logging/setLevel"}) {
        INFO(method);
        CHECK(h.call(request(30, method, {{"protocolVersion", "2026-07-28"}, {"level", "info"}}))["error"]["code"] ==
              error_code::method_not_found);
    }
}

TEST_CASE("an empty log level (2026-07-28 request without _meta logLevel) sends no log messages") {
    Harness h;
    h.dispatcher.on_request("log", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        const bool sent = co_await ctx.async_log(mcpsse::LoggingLevel::emergency, "x");
        co_return json{{"sent", sent}};
    });
    h.start();
    h.session->set_log_level(std::nullopt);
    CHECK(h.call(request(31, "log"))["result"]["sent"] == false);
    CHECK(h.sink->sent.empty());
    h.session->set_log_level(mcpsse::LoggingLevel::error);
    CHECK(h.call(request(32, "log"))["result"]["sent"] == true);
}

TEST_CASE("http_header is empty for channels that are not HTTP") {
    Harness h;
    h.dispatcher.on_request("hdr", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return json{{"has", ctx.http_header("mcp-method").has_value()}};
    });
    CHECK(h.call(request(33, "hdr"))["result"]["has"] == false);
}

TEST_CASE("start_request answers at once when no handler runs, otherwise once the handler ends") {
    Harness h;
    h.start();
    h.dispatcher.on_request("slow", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_await sleep_for(5ms);
        co_return json{{"slow", true}};
    });
    auto parse = [](const std::string& text) {
        auto parsed = mcpsse::json_rpc::parse_messages(text);
        REQUIRE(parsed.messages.size() == 1);
        return std::get<mcpsse::Request>(std::move(parsed.messages[0]));
    };
    std::vector<json> done;
    auto record = [&done](std::optional<std::string> reply) {
        REQUIRE(reply.has_value());
        done.push_back(json::parse(*reply));
    };
    // Unknown method and the built-in logging/setLevel: answered before start_request returns.
    h.session->start_request(parse(request(1, "no/such")), h.sink, record);
    REQUIRE(done.size() == 1);
    CHECK(done[0]["error"]["code"] == error_code::method_not_found);
    h.session->start_request(parse(request(2, "logging/setLevel", {{"level", "warning"}})), h.sink, record);
    REQUIRE(done.size() == 2);
    CHECK(done[1]["result"] == json::object());
    CHECK(h.session->log_level() == mcpsse::LoggingLevel::warning);

    // A handler: nothing until the session's executor runs it to the end.
    h.session->start_request(parse(request(3, "slow")), h.sink, record);
    CHECK(done.size() == 2);
    CHECK(h.session->in_flight_count() == 1);
    h.run_for(1s);
    REQUIRE(done.size() == 3);
    CHECK(done[2]["id"] == 3);
    CHECK(done[2]["result"]["slow"] == true);
    CHECK(h.session->in_flight_count() == 0);
}

// ---- requests started on another executor (SseTransport's share-nothing mode) ----------

namespace {

// A sink safe from any thread that lets the test wait for a message.
class SharedSink final : public mcpsse::detail::MessageSink {
public:
    bool send(std::string message) override {
        std::lock_guard lock(mutex_);
        sent_.push_back(json::parse(message));
        changed_.notify_all();
        return true;
    }
    bool accepts_requests() const noexcept override { return true; }
    // The first message whose `method` is `method`, waiting up to 5 s for it.
    std::optional<json> wait_for(const std::string& method) {
        std::unique_lock lock(mutex_);
        std::optional<json> found;
        changed_.wait_for(lock, 5s, [&] {
            for (const auto& m : sent_)
                if (m.value("method", "") == method) return found = m, true;
            return false;
        });
        return found;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<json> sent_;
};

// Two contexts on two threads: the session's, and another one requests are started on.
struct TwoContexts {
    asio::io_context session_io;
    asio::io_context other_io;
    asio::executor_work_guard<asio::io_context::executor_type> session_work{session_io.get_executor()};
    asio::executor_work_guard<asio::io_context::executor_type> other_work{other_io.get_executor()};
    std::thread session_thread{[this] { session_io.run(); }};
    std::thread other_thread{[this] { other_io.run(); }};
    ~TwoContexts() {
        session_work.reset();
        other_work.reset();
        session_io.stop();
        other_io.stop();
        session_thread.join();
        other_thread.join();
    }
};

bool eventually_true(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

mcpsse::Request parse_request(const std::string& text) {
    auto parsed = mcpsse::json_rpc::parse_messages(text);
    REQUIRE(parsed.messages.size() == 1);
    return std::get<mcpsse::Request>(std::move(parsed.messages[0]));
}

}  // namespace

TEST_CASE("a handler that completes without suspending is answered before start_request returns") {
    Harness h;
    h.start();
    h.dispatcher.on_request("quick", [](json params, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"echo", params["n"]}};
    });
    h.dispatcher.on_request("quick/fail", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw mcpsse::RpcError(error_code::invalid_params, "bad n");
        co_return json();
    });
    h.dispatcher.on_request("slow", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_await sleep_for(5ms);
        co_return json{{"slow", true}};
    });
    std::vector<json> done;
    auto record = [&done](std::optional<std::string> reply) {
        REQUIRE(reply.has_value());
        done.push_back(json::parse(*reply));
    };
    std::vector<std::size_t> answered_on_return;  // replies seen as each start_request returned
    std::vector<std::size_t> in_flight_on_return;
    asio::dispatch(h.session->get_executor(), [&] {
        // On the session's executor: co_spawn starts each handler at once.
        h.session->start_request(parse_request(request(1, "quick", {{"n", 7}})), h.sink, record);
        answered_on_return.push_back(done.size());
        in_flight_on_return.push_back(h.session->in_flight_count());
        h.session->start_request(parse_request(request(2, "quick/fail")), h.sink, record);
        answered_on_return.push_back(done.size());
        in_flight_on_return.push_back(h.session->in_flight_count());
        h.session->start_request(parse_request(request(3, "slow")), h.sink, record);
        answered_on_return.push_back(done.size());
        in_flight_on_return.push_back(h.session->in_flight_count());
    });
    h.run_for(1s);
    CHECK(answered_on_return == std::vector<std::size_t>{1, 2, 2});
    CHECK(in_flight_on_return == std::vector<std::size_t>{0, 0, 1});
    REQUIRE(done.size() == 3);
    CHECK(done[0]["id"] == 1);
    CHECK(done[0]["result"]["echo"] == 7);
    CHECK(done[1]["id"] == 2);
    CHECK(done[1]["error"]["code"] == error_code::invalid_params);
    CHECK(done[1]["error"]["message"] == "bad n");
    CHECK(done[2]["id"] == 3);
    CHECK(done[2]["result"]["slow"] == true);
    CHECK(h.session->in_flight_count() == 0);
}

TEST_CASE("a request started on another executor runs there; cancellation and answers from other threads reach it") {
    mcpsse::Dispatcher dispatcher;
    std::atomic<bool> ran_on_other{false};
    std::atomic<bool> started{false};
    std::atomic<bool> saw_abort{false};
    TwoContexts contexts;
    const auto other = contexts.other_io.get_executor();
    dispatcher.on_request("block", [&](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        ran_on_other = other.running_in_this_thread();
        asio::steady_timer timer(co_await asio::this_coro::executor, 60s);
        started = true;  // the wait below begins before `other` runs anything else
        try {
            co_await timer.async_wait(asio::use_awaitable);
        } catch (const std::system_error& e) {
            saw_abort = e.code() == asio::error::operation_aborted;
            throw;
        }
        co_return json::object();
    });
    dispatcher.on_request("ask", [&](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return co_await ctx.async_request("roots/list", json::object(), 5s);
    });
    auto sink = std::make_shared<SharedSink>();
    auto session = std::make_shared<mcpsse::detail::RpcSession>(contexts.session_io.get_executor(), dispatcher, sink);

    // Starts request `id` on `other` (where start_request must be called); its reply arrives in the future.
    auto start_on_other = [&](int id, const std::string& method) {
        auto done = std::make_shared<std::promise<std::optional<std::string>>>();
        auto future = done->get_future();
        asio::post(other, [&, done, id, method] {
            session->start_request(parse_request(request(id, method)), sink,
                                   [done](std::optional<std::string> reply) { done->set_value(std::move(reply)); },
                                   other);
        });
        return future;
    };
    auto blocked = start_on_other(1, "block");
    REQUIRE(eventually_true([&] { return started.load(); }));
    CHECK(session->in_flight_count() == 1);
    // notifications/cancelled arrives on this (a third) thread.
    CHECK(session->cancel_request(mcpsse::RequestId{std::int64_t{1}}));
    CHECK_FALSE(session->cancel_request(mcpsse::RequestId{std::int64_t{1}}));  // already cancelled
    REQUIRE(blocked.wait_for(5s) == std::future_status::ready);
    CHECK_FALSE(blocked.get().has_value());  // a cancelled request gets no response
    CHECK(ran_on_other);
    CHECK(saw_abort);
    CHECK(session->in_flight_count() == 0);

    // A server-to-client request sent by a handler on `other`, answered on the session's thread.
    auto asked = start_on_other(2, "ask");
    const auto sent = sink->wait_for("roots/list");
    REQUIRE(sent.has_value());
    auto answer = mcpsse::json_rpc::parse_messages(
        json{{"jsonrpc", "2.0"}, {"id", (*sent)["id"]}, {"result", {{"roots", json::array()}}}}.dump());
    REQUIRE(answer.messages.size() == 1);
    asio::co_spawn(contexts.session_io,
                   session->async_handle(std::move(answer.messages[0]), nullptr), asio::detached);
    REQUIRE(asked.wait_for(5s) == std::future_status::ready);
    const auto reply = asked.get();
    REQUIRE(reply.has_value());
    CHECK(json::parse(*reply)["result"] == json{{"roots", json::array()}});
    CHECK(session->pending_request_count() == 0);

    // close() from this thread fails a waiting server-to-client request on its own executor.
    auto closed = start_on_other(3, "ask");
    REQUIRE(eventually_true([&] { return session->pending_request_count() == 1; }));
    session->close();
    REQUIRE(closed.wait_for(5s) == std::future_status::ready);
    const auto closed_reply = closed.get();
    REQUIRE(closed_reply.has_value());
    CHECK(json::parse(*closed_reply)["error"]["code"] == error_code::connection_closed);
}
