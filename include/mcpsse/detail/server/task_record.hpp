// mcpsse internal: one task's state in the in-memory task table of `Server`
// (`TaskTable`).
#pragma once

#include <mcpsse/tasks.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// One task's state. `id` never changes; `executor`, `timer`, `signal` and `running`
/// belong to the task's coroutine and are touched on `executor` only; every other
/// member is guarded by the mutex of the `TaskTable` that holds the record.
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
    /// The subject of the principal that created the task (empty without
    /// authorization): only requests from it find the task.
    std::string owner;

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

}  // namespace mcpsse::detail
