// Micro-benchmarks of the JSON-RPC path of one message through mcpsse's session core:
// parse (json_rpc::parse_messages) + dispatch (detail::RpcSession::async_handle with a
// trivial tools/call handler) + serialize the response, on one thread, no sockets.
#include <mcpsse/dispatcher.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/rpc/session.hpp>

#include "alloc_counter.hpp"

#include <benchmark/benchmark.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>
#include <optional>
#include <string>

namespace {

using nlohmann::json;

// A sink that accepts and drops everything (no notification is sent on this path).
class NullSink final : public mcpsse::detail::MessageSink {
public:
    bool send(std::string message) override {
        benchmark::DoNotOptimize(message.data());
        return true;
    }
};

const std::string& tools_call_text() {
    static const std::string text =
        R"({"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}})";
    return text;
}

// A dispatcher whose tools/call answers the conformance suite's simple text result.
void register_tools(mcpsse::Dispatcher& dispatcher) {
    dispatcher.on_request("tools/call", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        json content = json::array();
        content.push_back({{"type", "text"}, {"text", "This is a simple text response for testing."}});
        co_return json{{"content", std::move(content)}};
    });
}

// An initialized session on `io`.
std::shared_ptr<mcpsse::detail::RpcSession> make_session(asio::io_context& io,
                                                          const mcpsse::Dispatcher& dispatcher,
                                                          const std::shared_ptr<NullSink>& sink) {
    auto session = std::make_shared<mcpsse::detail::RpcSession>(asio::make_strand(io.get_executor()),
                                                                 dispatcher, sink, "bench-session");
    const std::string init =
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
        R"("capabilities":{},"clientInfo":{"name":"bench","version":"1"}}})";
    auto parsed = mcpsse::json_rpc::parse_messages(init, session->parse_options());
    asio::co_spawn(
        session->get_executor(),
        [session, sink, m = std::move(parsed.messages.at(0))]() mutable -> asio::awaitable<void> {
            auto reply = co_await session->async_handle(std::move(m), sink);
            benchmark::DoNotOptimize(reply);
        },
        asio::detached);
    io.run();
    io.restart();
    return session;
}

// Parse + dispatch + serialize of one tools/call; the whole benchmark loop runs inside
// one coroutine on the session's strand, so each iteration is exactly one
// async_handle (including its co_spawn of the handler on the strand).
void BM_Rpc_ToolsCall(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    asio::io_context io(1);
    mcpsse::Dispatcher dispatcher;
    register_tools(dispatcher);
    auto sink = std::make_shared<NullSink>();
    auto session = make_session(io, dispatcher, sink);
    const std::string& text = tools_call_text();
    std::size_t reply_bytes = 0;
    bool failed = false;
    asio::co_spawn(
        session->get_executor(),
        [&]() -> asio::awaitable<void> {
            for (auto _ : state) {
                auto parsed = mcpsse::json_rpc::parse_messages(text, session->parse_options());
                auto reply = co_await session->async_handle(std::move(parsed.messages.front()), sink);
                if (!reply) {
                    failed = true;
                    break;
                }
                reply_bytes = reply->size();
                benchmark::DoNotOptimize(reply->data());
            }
        },
        asio::detached);
    io.run();
    if (failed) state.SkipWithError("tools/call produced no reply");
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.counters["reply_bytes"] = static_cast<double>(reply_bytes);
}
BENCHMARK(BM_Rpc_ToolsCall);

// The same, but each message is started with its own co_spawn and io_context turn, as a
// transport that spawns one coroutine per received message does.
void BM_Rpc_ToolsCall_SpawnEach(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    asio::io_context io(1);
    mcpsse::Dispatcher dispatcher;
    register_tools(dispatcher);
    auto sink = std::make_shared<NullSink>();
    auto session = make_session(io, dispatcher, sink);
    const std::string& text = tools_call_text();
    for (auto _ : state) {
        auto parsed = mcpsse::json_rpc::parse_messages(text, session->parse_options());
        asio::co_spawn(
            session->get_executor(),
            [&session, &sink, m = std::move(parsed.messages.front())]() mutable -> asio::awaitable<void> {
                auto reply = co_await session->async_handle(std::move(m), sink);
                benchmark::DoNotOptimize(reply);
            },
            asio::detached);
        io.run();
        io.restart();
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Rpc_ToolsCall_SpawnEach);

// ping: the built-in handler, the shortest request path.
void BM_Rpc_Ping(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    asio::io_context io(1);
    mcpsse::Dispatcher dispatcher;
    auto sink = std::make_shared<NullSink>();
    auto session = make_session(io, dispatcher, sink);
    const std::string text = R"({"jsonrpc":"2.0","id":7,"method":"ping"})";
    asio::co_spawn(
        session->get_executor(),
        [&]() -> asio::awaitable<void> {
            for (auto _ : state) {
                auto parsed = mcpsse::json_rpc::parse_messages(text, session->parse_options());
                auto reply = co_await session->async_handle(std::move(parsed.messages.front()), sink);
                benchmark::DoNotOptimize(reply);
            }
        },
        asio::detached);
    io.run();
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Rpc_Ping);

// The parts on their own: parse + validate only.
void BM_Rpc_ParseOnly(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string& text = tools_call_text();
    const mcpsse::ParseOptions options{};
    for (auto _ : state) {
        auto parsed = mcpsse::json_rpc::parse_messages(text, options);
        benchmark::DoNotOptimize(parsed.messages.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_Rpc_ParseOnly);

// Serialize only: the tools/call response.
void BM_Rpc_SerializeOnly(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    json content = json::array();
    content.push_back({{"type", "text"}, {"text", "This is a simple text response for testing."}});
    const mcpsse::Message response = mcpsse::Response{mcpsse::RequestId{std::int64_t{42}}, json{{"content", content}}};
    for (auto _ : state) {
        std::string out = mcpsse::json_rpc::serialize(response);
        benchmark::DoNotOptimize(out.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Rpc_SerializeOnly);

// Building the handler's result JSON (what a host's trivial handler costs).
void BM_Rpc_BuildResult(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    for (auto _ : state) {
        json content = json::array();
        content.push_back({{"type", "text"}, {"text", "This is a simple text response for testing."}});
        json result{{"content", std::move(content)}};
        benchmark::DoNotOptimize(&result);
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Rpc_BuildResult);

}  // namespace
