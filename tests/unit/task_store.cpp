// Tests of include/mcpsse/task_store.hpp: two `Server` instances sharing one TaskStore
// whose every operation suspends. A task created at one is stored before its
// CreateTaskResult goes out, each change is saved in order, and the other instance
// answers `tasks/get` from the store (tasks extension, SEP-2663); `tasks/update` and
// `tasks/cancel` of a task running elsewhere fail with -32603.
#include <mcpsse/server.hpp>
#include <mcpsse/task_store.hpp>

#include "support/catch.hpp"
#include "support/server_harness.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

using nlohmann::json;
using namespace mcpsse_test;
using namespace std::chrono_literals;
namespace error_code = mcpsse::error_code;

namespace {

// A TaskStore in memory whose operations each wait 2 ms on the caller's executor first.
class PausingTaskStore final : public mcpsse::TaskStore {
public:
    asio::awaitable<void> async_save_task(std::string task_id, json task, std::chrono::milliseconds ttl) override {
        co_await pause();
        std::lock_guard lock(mutex_);
        statuses_[task_id].push_back(task.value("status", std::string()));
        ttls_[task_id] = ttl;
        tasks_[task_id] = std::move(task);
    }

    asio::awaitable<std::optional<json>> async_load_task(std::string task_id) override {
        co_await pause();
        std::lock_guard lock(mutex_);
        ++loads_;
        if (failing_) throw std::system_error(std::make_error_code(std::errc::connection_refused));
        const auto it = tasks_.find(task_id);
        if (it == tasks_.end()) co_return std::nullopt;
        co_return it->second;
    }

    std::optional<json> stored(const std::string& id) const {
        std::lock_guard lock(mutex_);
        const auto it = tasks_.find(id);
        return it == tasks_.end() ? std::nullopt : std::optional<json>(it->second);
    }
    std::vector<std::string> statuses(const std::string& id) const {
        std::lock_guard lock(mutex_);
        const auto it = statuses_.find(id);
        return it == statuses_.end() ? std::vector<std::string>{} : it->second;
    }
    std::chrono::milliseconds ttl(const std::string& id) const {
        std::lock_guard lock(mutex_);
        return ttls_.at(id);
    }
    int loads() const {
        std::lock_guard lock(mutex_);
        return loads_;
    }
    void set_failing(bool failing) {
        std::lock_guard lock(mutex_);
        failing_ = failing;
    }

private:
    static asio::awaitable<void> pause() {
        asio::steady_timer timer(co_await asio::this_coro::executor, 2ms);
        co_await timer.async_wait(asio::use_awaitable);
    }

    mutable std::mutex mutex_;
    std::map<std::string, json> tasks_;
    std::map<std::string, std::vector<std::string>> statuses_;
    std::map<std::string, std::chrono::milliseconds> ttls_;
    int loads_ = 0;
    bool failing_ = false;
};

mcpsse::ServerOptions sharing(const std::shared_ptr<PausingTaskStore>& store) {
    mcpsse::ServerOptions options;
    options.tasks.store = store;
    return options;
}

// Two instances of one service: the same tools, one store.
struct Pair {
    std::shared_ptr<PausingTaskStore> store = std::make_shared<PausingTaskStore>();
    Harness a{sharing(store), "2026-07-28", tasks_client({{"elicitation", json::object()}})};
    Harness b{sharing(store), "2026-07-28", tasks_client({{"elicitation", json::object()}})};

    template <class Handler>
    void add_tool(mcpsse::Tool tool, Handler handler) {
        a.server.add_tool(tool, handler);
        b.server.add_tool(std::move(tool), std::move(handler));
    }
    void install() {
        a.install();
        b.install();
    }
    // Lets `a` run (its tasks and their saves) until `done` holds.
    void run_a_until(const std::function<bool()>& done) { a.run_until(done); }
};

// A task tool that waits for one input ("v") and answers it.
asio::awaitable<json> waiting_tool(mcpsse::ToolCall call, mcpsse::RequestContext&) {
    if (call.input.empty())
        co_return mcpsse::input_required_result(
            {{"v", {{"method", "elicitation/create"}, {"params", {{"message", "v?"}, {"requestedSchema", {{"type", "object"}}}}}}}},
            "st");
    co_return mcpsse::tool_text_result("v=" + call.input.response("v")["content"]["v"].get<std::string>());
}

}  // namespace

TEST_CASE("task store: the task is stored before CreateTaskResult; the other instance answers tasks/get from the store") {
    Pair p;
    p.add_tool(task_tool("sleepy", mcpsse::TaskSupport::required), sleepy_tool);
    p.install();
    const json created = p.a.call("tools/call", {{"name", "sleepy"}, {"arguments", {{"ms", 40}}}});
    REQUIRE(created["result"]["resultType"] == "task");
    const std::string id = created["result"]["taskId"];
    // Stored before the answer: nothing else ran in between.
    const auto first = p.store->stored(id);
    REQUIRE(first);
    CHECK((*first)["status"] == "working");
    CHECK(p.store->ttl(id) > 3'500'000ms);
    CHECK(p.store->ttl(id) <= 3'600'000ms);

    const json seen = p.b.call("tasks/get", {{"taskId", id}}, 2);
    CHECK(seen["result"]["taskId"] == id);
    CHECK(seen["result"]["status"] == "working");
    CHECK(seen["result"]["resultType"] == "complete");
    CHECK(p.store->loads() == 1);
    CHECK(p.b.server.task_count() == 0);

    p.run_a_until([&] { return p.store->statuses(id).back() == "completed"; });
    const json done = p.b.call("tasks/get", {{"taskId", id}}, 3);
    CHECK(done["result"]["status"] == "completed");
    CHECK(done["result"]["result"]["content"][0]["text"] == "slept 40");
    CHECK(done["result"]["resultType"] == "complete");
    // Saved in order: created, then finished.
    CHECK(p.store->statuses(id) == std::vector<std::string>{"working", "completed"});
    // The instance that holds the task answers from its own table.
    CHECK(p.a.call("tasks/get", {{"taskId", id}}, 4)["result"]["status"] == "completed");
    // A finished task held elsewhere: cancelling is answered as for a local one.
    CHECK(p.b.call("tasks/cancel", {{"taskId", id}}, 5)["result"]["resultType"] == "complete");
}

TEST_CASE("task store: input rounds are visible elsewhere; update and cancel go to the instance that runs the task") {
    Pair p;
    p.add_tool(task_tool("wait", mcpsse::TaskSupport::required), waiting_tool);
    p.install();
    const std::string id = p.a.call("tools/call", {{"name", "wait"}})["result"]["taskId"];
    p.run_a_until([&] {
        const auto s = p.store->statuses(id);
        return !s.empty() && s.back() == "input_required";
    });
    const json waiting = p.b.call("tasks/get", {{"taskId", id}}, 2)["result"];
    CHECK(waiting["status"] == "input_required");
    CHECK(waiting["inputRequests"]["v"]["method"] == "elicitation/create");

    const json answers = {{"v", {{"action", "accept"}, {"content", {{"v", "42"}}}}}};
    const json elsewhere = p.b.call("tasks/update", {{"taskId", id}, {"inputResponses", answers}}, 3);
    CHECK(elsewhere["error"]["code"] == error_code::internal_error);
    CHECK(elsewhere["error"]["data"]["taskId"] == id);
    CHECK(p.b.call("tasks/cancel", {{"taskId", id}}, 4)["error"]["code"] == error_code::internal_error);

    CHECK(p.a.call("tasks/update", {{"taskId", id}, {"inputResponses", answers}}, 5)["result"]["resultType"] == "complete");
    p.run_a_until([&] { return p.store->statuses(id).back() == "completed"; });
    const json done = p.b.call("tasks/get", {{"taskId", id}}, 6)["result"];
    CHECK(done["status"] == "completed");
    CHECK(done["result"]["content"][0]["text"] == "v=42");
    // Each change was saved, in order: created, waiting, answered, finished.
    CHECK(p.store->statuses(id) == std::vector<std::string>{"working", "input_required", "working", "completed"});
}

TEST_CASE("task store: a cancel at the running instance reaches the store; unknown ids and a failing store") {
    Pair p;
    p.add_tool(task_tool("sleepy", mcpsse::TaskSupport::required), sleepy_tool);
    p.install();
    const std::string id = p.a.call("tools/call", {{"name", "sleepy"}, {"arguments", {{"ms", 5000}}}})["result"]["taskId"];
    CHECK(p.a.call("tasks/cancel", {{"taskId", id}}, 2)["result"]["resultType"] == "complete");
    p.run_a_until([&] { return p.store->statuses(id).back() == "cancelled"; });
    CHECK(p.b.call("tasks/get", {{"taskId", id}}, 3)["result"]["status"] == "cancelled");

    const json unknown = p.b.call("tasks/get", {{"taskId", "no-such-task"}}, 4);
    CHECK(unknown["error"]["code"] == error_code::invalid_params);
    CHECK(unknown["error"]["data"]["taskId"] == "no-such-task");
    CHECK(p.b.call("tasks/cancel", {{"taskId", "no-such-task"}}, 5)["error"]["code"] == error_code::invalid_params);
    // tasks/update of an unknown task is ignored, as without a store.
    CHECK(p.b.call("tasks/update", {{"taskId", "no-such-task"}, {"inputResponses", json::object()}}, 6)["result"]["resultType"] ==
          "complete");

    p.store->set_failing(true);
    const json failed = p.b.call("tasks/get", {{"taskId", id}}, 7);
    CHECK(failed["error"]["code"] == error_code::internal_error);
    // The instance holding the task does not need the store to answer.
    CHECK(p.a.call("tasks/get", {{"taskId", id}}, 8)["result"]["status"] == "cancelled");
}

TEST_CASE("task store: a stored task names its owner, is found elsewhere only by that subject, and never shows the owner") {
    Pair p;
    p.add_tool(task_tool("sleepy", mcpsse::TaskSupport::required), sleepy_tool);
    p.install();
    const auto as = [](std::string subject) {
        mcpsse::Principal who;
        who.subject = std::move(subject);
        return std::make_shared<const mcpsse::Principal>(std::move(who));
    };
    p.a.sink->who = as("alice");
    const json created = p.a.call("tools/call", {{"name", "sleepy"}, {"arguments", {{"ms", 40}}}});
    const std::string id = created["result"]["taskId"];
    const auto stored = p.store->stored(id);
    REQUIRE(stored);
    CHECK((*stored)["io.mcpsse/owner"] == "alice");
    p.b.sink->who = as("bob");
    CHECK(p.b.call("tasks/get", {{"taskId", id}}, 2)["error"]["code"] == mcpsse::error_code::invalid_params);
    CHECK(p.b.call("tasks/cancel", {{"taskId", id}}, 3)["error"]["code"] == mcpsse::error_code::invalid_params);
    p.b.sink->who = as("alice");
    const json seen = p.b.call("tasks/get", {{"taskId", id}}, 4);
    CHECK(seen["result"]["taskId"] == id);
    CHECK_FALSE(seen["result"].contains("io.mcpsse/owner"));
}
