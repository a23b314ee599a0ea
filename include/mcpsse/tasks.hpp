// mcpsse: vocabulary of the tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663)
// used by `Server`: task support of a tool, task status, settings, result builders,
// and the in-memory task records.
#pragma once

#include <mcpsse/error.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <random>
#include <set>
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
    /// How long a task stays retrievable after its creation, in ms, sent as `ttlMs`;
    /// afterwards it is discarded (a task still running then is cancelled). Zero means
    /// unlimited (`ttlMs: null`).
    std::int64_t ttl_ms = 3'600'000;
    /// Suggested polling interval, in ms, sent as `pollIntervalMs`; zero omits it.
    std::int64_t poll_interval_ms = 500;
    /// Most tasks kept at once. When full, expired and then the oldest terminal tasks
    /// are discarded; when all are still running, creating another fails with -32603.
    std::size_t max_tasks = 10'000;
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

namespace detail {

/// `time` as ISO 8601 UTC with milliseconds, e.g. `2026-07-28T10:30:00.125Z`.
[[nodiscard]] inline std::string iso8601_utc(std::chrono::system_clock::time_point time) {
    const auto since_epoch = time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm parts{};
    gmtime_r(&t, &parts);
    std::array<char, 128> buffer{};  // ample: GCC sizes each %d for any int
    std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  static_cast<int>(millis));
    return buffer.data();
}

/// An unguessable task id: 128 random bits from `std::random_device`, as 32 lowercase
/// hex digits (SEP-2663 security: task ids may act as bearer handles).
[[nodiscard]] inline std::string random_task_id() {
    static constexpr char hex[] = "0123456789abcdef";
    std::random_device random;
    std::string id;
    id.reserve(32);
    for (int i = 0; i < 4; ++i) {
        const auto word = static_cast<std::uint32_t>(random());
        for (int shift = 28; shift >= 0; shift -= 4) id.push_back(hex[(word >> shift) & 15u]);
    }
    return id;
}

/// One task's state. `executor`, `timer` and `signal` belong to the task's coroutine
/// and are touched on `executor` only; every other member is guarded by the owning
/// `Server`'s mutex.
struct TaskRecord {
    TaskRecord(std::string task_id, asio::any_io_executor ex)
        : id(std::move(task_id)), executor(std::move(ex)), timer(executor) {}

    /// The task id.
    const std::string id;
    /// The strand the task's coroutine runs on (the creating request's).
    asio::any_io_executor executor;
    /// Wakes the coroutine while it waits for input (cancelled on `tasks/update`).
    asio::steady_timer timer;
    /// Cancels the coroutine (emitted on `tasks/cancel` or expiry).
    asio::cancellation_signal signal;
    /// True while the coroutine runs (the signal is only emitted then).
    bool running = false;

    TaskStatus status = TaskStatus::working;
    std::string status_message;
    std::chrono::system_clock::time_point created_at = std::chrono::system_clock::now();
    std::chrono::system_clock::time_point updated_at = created_at;
    /// When the task may be discarded; `time_point::max()` for unlimited.
    std::chrono::steady_clock::time_point expires_at = std::chrono::steady_clock::time_point::max();
    /// `ttlMs` as sent (null for unlimited).
    nlohmann::json ttl_ms;
    /// The final result (`completed`) or JSON-RPC error object (`failed`).
    nlohmann::json result;
    nlohmann::json error;
    /// Outstanding input requests, wire key -> request (`input_required`).
    nlohmann::json input_requests = nlohmann::json::object();
    /// Answers received for the current round, wire key -> response.
    nlohmann::json answers = nlohmann::json::object();
    /// The current round: wire key -> the key the handler used.
    std::map<std::string, std::string> round_keys;
    /// `requestState` the handler returned with the current round's input requests.
    std::optional<std::string> request_state;
    /// Every wire key issued so far (keys are unique over a task's lifetime).
    std::set<std::string> issued_keys;

    /// Marks a change (`lastUpdatedAt`).
    void touch() { updated_at = std::chrono::system_clock::now(); }
};

}  // namespace detail
}  // namespace mcpsse
