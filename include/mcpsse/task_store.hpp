// mcpsse: TaskStore, where a `Server` keeps what clients poll of its tasks, so that
// another server instance can answer `tasks/get` (tasks extension, SEP-2663).
#pragma once

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace mcpsse {

/// A store of task states shared by several `Server` instances, whose operations may
/// suspend (a store on another machine, e.g. Redis). Set `TaskOptions::store` to use
/// one; a `Server` then
/// - saves a task's `DetailedTask` object (the `tasks/get` result without
///   `resultType`: `taskId`, `status`, `createdAt`, `lastUpdatedAt`, `ttlMs`, and
///   `result`, `error` or `inputRequests` where the status has them) when the task is
///   created, before `tools/call` answers its `CreateTaskResult`, and again after each
///   change of status or input requests. The saves of one task are started one after
///   another, in order, each with the task's state when it starts; a store must apply
///   them in that order. A failed save is not reported to any client: the task goes on,
///   and other instances see its last saved state;
/// - answers `tasks/get` for a task it does not hold from the stored object; `tasks/update`
///   and `tasks/cancel` of a task that runs at another instance fail with -32603 (its
///   coroutine is there), and of a stored terminal task answer as for a local one. A task
///   neither held nor stored is -32602, as without a store.
///
/// The task's coroutine, its input rounds and its cancellation stay with the instance
/// that runs it.
///
/// Errors: the operations report failures by throwing (e.g. `std::system_error`); a
/// failed load answers `tasks/*` with -32603. Thread-safety: implementations must
/// accept calls from several threads at once; each coroutine runs on the caller's
/// executor. `Server` keeps the store (a `shared_ptr`) as long as it or a task runs.
class TaskStore {
public:
    virtual ~TaskStore() = default;

    /// Keeps `task` (a `DetailedTask` object) under `task_id`, replacing an older one,
    /// for `ttl` (ms; zero: until the store drops it on its own).
    virtual asio::awaitable<void> async_save_task(std::string task_id, nlohmann::json task,
                                                  std::chrono::milliseconds ttl) = 0;

    /// The object kept under `task_id`, or nullopt when there is none (or it expired).
    virtual asio::awaitable<std::optional<nlohmann::json>> async_load_task(std::string task_id) = 0;
};

}  // namespace mcpsse
