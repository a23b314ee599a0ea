// Test support: a `Server` installed into a dispatcher and driven through one session
// core (session-based, or stateless when the revision is 2026-07-28), with no transport:
// replies and server-to-client messages are captured. Shared by the tests of
// include/mcpsse/server.hpp and include/mcpsse/task_store.hpp.
#pragma once

#include <mcpsse/server.hpp>

#include "catch.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse_test {

using nlohmann::json;
using namespace std::chrono_literals;

class CaptureSink final : public mcpsse::detail::MessageSink {
public:
    bool send(std::string message) override {
        sent.push_back(json::parse(message));
        return true;
    }
    bool accepts_requests() const noexcept override { return requests; }
    std::optional<std::string_view> request_header(std::string_view name) const override {
        std::string key(name);
        for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto it = headers.find(key);
        if (it == headers.end()) return std::nullopt;
        return std::string_view(it->second);
    }
    const mcpsse::Principal* principal() const noexcept override { return who.get(); }
    std::vector<json> sent;
    bool requests = true;
    std::shared_ptr<const mcpsse::Principal> who;  // the request's principal, as if authorized
    std::map<std::string, std::string> headers;  // lowercase name -> value, as if the request came over HTTP
};

// One session (session-based, or stateless when `version` is 2026-07-28) driving a
// dispatcher the Server installed into.
struct Harness {
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    mcpsse::Server server;
    std::shared_ptr<CaptureSink> sink = std::make_shared<CaptureSink>();
    std::shared_ptr<mcpsse::detail::RpcSession> session;
    std::vector<std::optional<json>> replies;

    explicit Harness(mcpsse::ServerOptions options = {}, std::string version = "2025-11-25",
                     json client_capabilities = json::object())
        : server(std::move(options)) {
        session = std::make_shared<mcpsse::detail::RpcSession>(asio::make_strand(io.get_executor()), dispatcher,
                                                                sink);
        session->set_protocol_version(std::move(version));
        session->set_client_capabilities(std::move(client_capabilities));
    }

    void install() { server.install(dispatcher); }

    std::size_t feed(const std::string& text) {
        auto parsed = mcpsse::json_rpc::parse_messages(text, session->parse_options());
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

    // Runs handlers until `done` holds (at most ~2 s).
    void run_until(const std::function<bool()>& done) {
        io.restart();
        for (int i = 0; i < 2000 && !done(); ++i) io.run_one_for(1ms);
    }

    json call(const std::string& method, const json& params = json::object(), int id = 1) {
        const auto slot = feed(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
        run_until([&] { return replies[slot].has_value(); });
        REQUIRE(replies[slot].has_value());
        return *replies[slot];
    }
};

inline mcpsse::Tool tool_named(std::string name) {
    mcpsse::Tool tool;
    tool.name = std::move(name);
    tool.description = "test tool";
    return tool;
}

inline json tasks_client(json more = json::object()) {
    more["extensions"] = {{"io.modelcontextprotocol/tasks", json::object()}};
    return more;
}

inline mcpsse::Tool task_tool(std::string name, mcpsse::TaskSupport support,
                       mcpsse::TaskStart start = mcpsse::TaskStart::immediately) {
    auto tool = tool_named(std::move(name));
    tool.task_support = support;
    tool.task_start = start;
    return tool;
}

// Sleeps `ms` (argument), then answers.
inline asio::awaitable<json> sleepy_tool(json arguments, mcpsse::RequestContext&) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, std::chrono::milliseconds(arguments.value("ms", 0)));
    co_await timer.async_wait(asio::use_awaitable);
    co_return mcpsse::tool_text_result("slept " + std::to_string(arguments.value("ms", 0)));
}

// Polls tasks/get until the task leaves `working`/`input_required` or shows `status`.
inline json poll_task(Harness& h, const std::string& id, const std::string& status, int& rpc_id) {
    json task;
    for (int i = 0; i < 200; ++i) {
        task = h.call("tasks/get", {{"taskId", id}}, ++rpc_id)["result"];
        if (task["status"] == status || task["status"] == "completed" || task["status"] == "failed" ||
            task["status"] == "cancelled")
            break;
        h.run_until([] { return false; });  // let the task run (~2 ms per round)
    }
    return task;
}

}  // namespace mcpsse_test
