// mcpsse: vocabulary of the tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663)
// used by `Server`: task support of a tool, task status, settings and result builders.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/task_store.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse {

/// The identifier of the tasks extension, the key under `capabilities.extensions` on
/// both sides (SEP-2663, "Extension Identifier").
inline constexpr std::string_view tasks_extension = "io.modelcontextprotocol/tasks";

/// Whether a tool may run as a task (SEP-2663, server-directed task creation). Listed
/// by `tools/list` as `execution.taskSupport` to clients that use the extension.
enum class TaskSupport {
    /// Never runs as a task (the default): `tools/call` always answers its result.
    forbidden,
    /// Runs as a task when the request's client capabilities declare the extension;
    /// otherwise synchronously, as if `forbidden`.
    optional,
    /// Runs only as a task; a request whose client capabilities do not declare the
    /// extension is refused with -32021 (`data.requiredCapabilities.extensions`)
    /// before the handler runs.
    required,
};

/// When the task of a task-supporting tool is created.
enum class TaskStart {
    /// Before the handler runs: the call answers a `CreateTaskResult` at once and the
    /// handler runs inside the task (the default).
    immediately,
    /// The handler first runs synchronously with `ToolCall::may_start_task` set, so it
    /// can gather input through multi-round-trip requests (`InputRequiredResult`) and
    /// return `start_task_result()` when it wants to continue as a task; the `Server`
    /// then creates the task and calls the handler again inside it with the same input
    /// (SEP-2663 MRTR composition). Any other result is answered as is.
    on_request,
};

/// The status of a task (SEP-2663, "Task Status").
enum class TaskStatus {
    /// Being processed.
    working,
    /// Waiting for the client to answer `inputRequests` through `tasks/update`.
    input_required,
    /// Finished with a result (including a `CallToolResult` with `isError: true`).
    completed,
    /// Finished with a JSON-RPC error (inlined as `error`).
    failed,
    /// Cancelled by `tasks/cancel` (or expired) before it finished.
    cancelled,
};

/// The wire name of `status` ("working", "input_required", "completed", "failed",
/// "cancelled").
[[nodiscard]] constexpr std::string_view to_string(TaskStatus status) noexcept {
    switch (status) {
        case TaskStatus::working: return "working";
        case TaskStatus::input_required: return "input_required";
        case TaskStatus::completed: return "completed";
        case TaskStatus::failed: return "failed";
        case TaskStatus::cancelled: return "cancelled";
    }
    return "working";
}

/// True for the terminal statuses (`completed`, `failed`, `cancelled`), which never
/// change again.
[[nodiscard]] constexpr bool is_terminal(TaskStatus status) noexcept {
    return status == TaskStatus::completed || status == TaskStatus::failed || status == TaskStatus::cancelled;
}

/// Settings of the tasks extension in a `Server` (`ServerOptions::tasks`).
struct TaskOptions {
    /// Offer the extension: advertise `capabilities.extensions["io.modelcontextprotocol/tasks"]`,
    /// answer `tasks/get`, `tasks/update` and `tasks/cancel`, and run task-supporting
    /// tools as tasks. When false, every tool runs synchronously.
    bool enabled = true;
    /// How long a task stays retrievable after its creation, sent as `ttlMs` (in ms);
    /// afterwards it is discarded (a task still running then is cancelled). Zero means
    /// unlimited (`ttlMs: null`).
    std::chrono::milliseconds ttl{3'600'000};
    /// Suggested polling interval, sent as `pollIntervalMs` (in ms); zero omits it.
    std::chrono::milliseconds poll_interval{500};
    /// Most tasks kept at once. When full, expired and then the oldest terminal tasks
    /// are discarded; when all are still running, creating another fails with -32603.
    std::size_t max_tasks = 10'000;
    /// Where tasks' states are shared with other server instances (see `TaskStore`);
    /// null: each `Server` knows only its own tasks.
    std::shared_ptr<TaskStore> store;
};

/// The result a `TaskStart::on_request` tool handler returns to continue the call as a
/// task: `{"resultType": "task"}`. Only valid when `ToolCall::may_start_task` is set;
/// otherwise the call fails with -32603.
[[nodiscard]] inline nlohmann::json start_task_result() { return {{"resultType", "task"}}; }

/// True when `result` is `start_task_result()` or any other result with
/// `resultType: "task"`.
[[nodiscard]] inline bool is_start_task(const nlohmann::json& result) {
    if (!result.is_object()) return false;
    const auto it = result.find("resultType");
    return it != result.end() && it->is_string() && it->get_ref<const std::string&>() == "task";
}

/// True when `client_capabilities` (a `ClientCapabilities` object) declares the tasks
/// extension under `extensions` (SEP-2663, capability negotiation).
[[nodiscard]] inline bool declares_tasks_extension(const nlohmann::json& client_capabilities) {
    if (!client_capabilities.is_object()) return false;
    const auto extensions = client_capabilities.find("extensions");
    return extensions != client_capabilities.end() && extensions->is_object() &&
           extensions->contains(std::string(tasks_extension));
}

/// The error for a request that needs the tasks extension from a client that did not
/// declare it: -32021 with `data.requiredCapabilities = {"extensions":
/// {"io.modelcontextprotocol/tasks": {}}}` (SEP-2575 missing required capabilities,
/// SEP-2663 required capabilities).
[[nodiscard]] inline RpcError tasks_extension_required_error() {
    nlohmann::json extensions = nlohmann::json::object();
    extensions[std::string(tasks_extension)] = nlohmann::json::object();
    return RpcError(error_code::missing_client_capability, "Missing required client capability",
                    {{"requiredCapabilities", {{"extensions", std::move(extensions)}}}});
}

}  // namespace mcpsse
