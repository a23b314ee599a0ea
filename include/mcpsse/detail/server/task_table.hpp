// mcpsse internal: the in-memory task table of a `Server` (tasks extension, SEP-2663):
// every task's record, its expiry, its status transitions and its input rounds, under
// one mutex.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/detail/server/task_id.hpp>
#include <mcpsse/detail/server/task_record.hpp>
#include <mcpsse/detail/util/iso8601.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// The member of a stored `DetailedTask` naming the task's owner (`TaskRecord::owner`);
/// never sent to clients.
inline constexpr std::string_view owner_member = "io.mcpsse/owner";

/// How a task's handler ended, for `TaskTable::finish`: `aborted` (its coroutine was
/// cancelled), else `error` when not null (a JSON-RPC error object), else `result`.
struct TaskOutcome {
    /// The handler's final result (a `CallToolResult`).
    nlohmann::json result;
    /// The JSON-RPC error object of an `RpcError` the handler threw; null otherwise.
    nlohmann::json error;
    /// True when the coroutine was cancelled.
    bool aborted = false;
};

/// The tasks of one `Server`, by id, until `TaskOptions::ttl` after their creation
/// (expired tasks are dropped, and cancelled if still running, whenever a task is added
/// or looked up). Shared (`shared_ptr`) between the server and the task coroutines, which
/// therefore never touch the `Server`.
///
/// Errors: `add` throws `RpcError` -32603 when `TaskOptions::max_tasks` tasks are still
/// running; the input-round calls throw `std::system_error(operation_aborted)` once the
/// task is terminal; otherwise only std::bad_alloc. Thread-safety: all member functions
/// are thread-safe; one mutex guards the map and the guarded members of every record
/// (see `TaskRecord`), and is never held while cancelling or waking a coroutine (that is
/// posted to the task's executor).
///
/// With a `TaskOptions::store`, every change of a task's status or input requests is
/// saved there (`publish`): a save is started on the task's executor and takes the
/// task's state when it starts, so later saves never carry older states.
class TaskTable : public std::enable_shared_from_this<TaskTable> {
public:
    /// An empty table with the settings `options`.
    explicit TaskTable(const TaskOptions& options) : options_(options) {}

    /// A new `working` record with a fresh random id whose coroutine will run on
    /// `executor`, with this table's `ttlMs` and expiry. Not yet in the table.
    [[nodiscard]] std::shared_ptr<TaskRecord> make_task(asio::any_io_executor executor) const {
        auto task = std::make_shared<TaskRecord>(random_task_id(), std::move(executor));
        if (options_.ttl.count() > 0) {
            task->ttl_ms = options_.ttl.count();
            task->expires_at = std::chrono::steady_clock::now() + options_.ttl;
        }
        return task;
    }

    /// Adds `task` (strongly consistent: `find` sees it as soon as this returns) and
    /// returns its `Task` object. When full, expired and then the oldest terminal tasks
    /// make room first. Errors: -32603 when there is still no room.
    [[nodiscard]] nlohmann::json add(const std::shared_ptr<TaskRecord>& task) {
        const std::size_t limit = std::max<std::size_t>(options_.max_tasks, 1);
        nlohmann::json created;
        std::vector<std::shared_ptr<TaskRecord>> expired;
        bool full = false;
        {
            std::lock_guard lock(mutex_);
            purge(limit, expired);
            if (tasks_.size() >= limit) {
                full = true;
            } else {
                tasks_.emplace(task->id, task);
                created = to_json(*task, false);
            }
        }
        for (const auto& t : expired) signal_cancel(t);
        if (full) throw RpcError(error_code::internal_error, "Internal error: too many tasks");
        return created;
    }

    /// The task `task_id`, or null when there is none (or it expired).
    [[nodiscard]] std::shared_ptr<TaskRecord> find(const std::string& task_id) {
        std::shared_ptr<TaskRecord> task;
        std::vector<std::shared_ptr<TaskRecord>> expired;
        {
            std::lock_guard lock(mutex_);
            purge(std::numeric_limits<std::size_t>::max(), expired);
            if (const auto it = tasks_.find(task_id); it != tasks_.end()) task = it->second;
        }
        for (const auto& t : expired) signal_cancel(t);
        return task;
    }

    /// The `DetailedTask` object of `task`: the `Task` members plus `result` (completed),
    /// `error` (failed) or `inputRequests` (input_required).
    [[nodiscard]] nlohmann::json detailed(const TaskRecord& task) const {
        std::lock_guard lock(mutex_);
        return to_json(task, true);
    }

    /// Delivers `responses` (an object of objects, validated by the caller) to `task`
    /// when it waits for input: answers to keys it does not wait for are ignored. Once
    /// every key of the round is answered the task is `working` again. Returns true
    /// when an answer was taken, and then wakes the task's coroutine.
    bool deliver(const std::shared_ptr<TaskRecord>& task, const nlohmann::json& responses) {
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            if (task->status != TaskStatus::input_required) return false;
            for (auto r = responses.begin(); r != responses.end(); ++r) {
                if (!task->input_requests.contains(r.key())) continue;  // unknown or already answered
                task->answers[r.key()] = *r;
                task->input_requests.erase(r.key());
                wake = true;
            }
            if (wake) {
                task->touch();
                if (task->input_requests.empty()) {
                    task->status = TaskStatus::working;
                    task->status_message.clear();
                }
            }
        }
        if (wake) {
            asio::post(task->executor, [task] { task->timer.cancel(); });
            publish(task);
        }
        return wake;
    }

    /// Marks `task` cancelled unless it is terminal already, and then cancels its
    /// coroutine. Returns true when it was cancelled now.
    bool cancel(const std::shared_ptr<TaskRecord>& task) {
        {
            std::lock_guard lock(mutex_);
            if (is_terminal(task->status)) return false;
            task->status = TaskStatus::cancelled;
            task->status_message = "The task was cancelled";
            task->input_requests = nlohmann::json::object();
            task->touch();
        }
        signal_cancel(task);
        publish(task);
        return true;
    }

    /// The store tasks are shared through (null: none).
    [[nodiscard]] const std::shared_ptr<TaskStore>& store() const noexcept { return options_.store; }

    /// Number of tasks kept (running, waiting for input, or finished and not expired).
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return tasks_.size();
    }

    // ---- the task coroutine's side -----------------------------------------------------

    /// Puts `task` in `input_required` with the `inputRequests` of `required` (an
    /// `InputRequiredResult`), renaming keys already issued to the task (`key-2`, ...) so
    /// each key is unique over its life, and keeps `required.requestState` for the round.
    /// Errors: `std::system_error(operation_aborted)` when the task is terminal.
    void open_round(const std::shared_ptr<TaskRecord>& shared, const nlohmann::json& required) {
        open_round_locked(*shared, required);
        publish(shared);
    }

    /// The round's answers under the handler's own keys, with its `requestState`, once
    /// every input request of the round is answered (the round is then closed);
    /// nullopt while some are outstanding. Errors: `std::system_error(operation_aborted)`
    /// when the task is terminal.
    [[nodiscard]] std::optional<RetryInput> take_round(TaskRecord& task) {
        std::lock_guard lock(mutex_);
        if (is_terminal(task.status)) throw std::system_error(asio::error::operation_aborted);
        if (!task.input_requests.empty()) return std::nullopt;
        RetryInput input;
        for (const auto& [wire, key] : task.round_keys)
            if (const auto a = task.answers.find(wire); a != task.answers.end()) input.responses[key] = *a;
        input.request_state = std::move(task.request_state);
        task.request_state.reset();
        task.round_keys.clear();
        task.answers = nlohmann::json::object();
        return input;
    }

    /// Records how `task`'s handler ended: cancelled, failed or completed. Dropped when
    /// the task became terminal meanwhile (`tasks/cancel`, expiry).
    void finish(const std::shared_ptr<TaskRecord>& shared, TaskOutcome outcome) {
        if (finish_locked(*shared, std::move(outcome))) publish(shared);
    }

    /// Saves `task`'s state in the store now (its creation: the caller waits, so that
    /// other instances find the task before its id goes out). A failed save is dropped.
    asio::awaitable<void> async_save(std::shared_ptr<TaskRecord> task) {
        if (options_.store) co_await save_latest(shared_from_this(), std::move(task));
    }

    /// Starts saving `task`'s state in the store on the task's executor (nothing without
    /// a store).
    void publish(const std::shared_ptr<TaskRecord>& task) {
        if (!options_.store) return;
        asio::co_spawn(task->executor, save_latest(shared_from_this(), task), [](const std::exception_ptr&) {});
    }

private:
    // Saves the task's state as it is when this starts; errors are dropped (the other
    // instances keep the last saved state).
    static asio::awaitable<void> save_latest(std::shared_ptr<TaskTable> self, std::shared_ptr<TaskRecord> task) {
        nlohmann::json snapshot = self->detailed(*task);
        if (!task->owner.empty()) snapshot[std::string(owner_member)] = task->owner;  // removed again on load
        const std::chrono::milliseconds ttl = self->remaining_ttl(*task);
        try {
            co_await self->options_.store->async_save_task(task->id, std::move(snapshot), ttl);
        } catch (const std::exception&) {
        }
    }

    // The time `task` has left (ms; zero: unlimited).
    [[nodiscard]] std::chrono::milliseconds remaining_ttl(const TaskRecord& task) const {
        if (options_.ttl.count() <= 0) return std::chrono::milliseconds(0);
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(task.expires_at - std::chrono::steady_clock::now());
        return std::max(left, std::chrono::milliseconds(1));
    }

    // open_round's change, under the lock.
    void open_round_locked(TaskRecord& task, const nlohmann::json& required) {
        std::lock_guard lock(mutex_);
        if (is_terminal(task.status)) throw std::system_error(asio::error::operation_aborted);
        task.round_keys.clear();
        task.answers = nlohmann::json::object();
        task.input_requests = nlohmann::json::object();
        const auto& requests = required["inputRequests"];
        for (auto r = requests.begin(); r != requests.end(); ++r) {
            std::string wire = r.key();
            for (int n = 2; task.issued_keys.contains(wire); ++n) wire = r.key() + "-" + std::to_string(n);
            task.issued_keys.insert(wire);
            task.round_keys[wire] = r.key();
            task.input_requests[wire] = *r;
        }
        task.request_state.reset();
        if (const auto s = required.find("requestState"); s != required.end() && s->is_string())
            task.request_state = s->get<std::string>();
        task.status = TaskStatus::input_required;
        task.status_message = "Waiting for input";
        task.touch();
    }

    // finish's change, under the lock; false when the task was terminal already.
    bool finish_locked(TaskRecord& task, TaskOutcome outcome) {
        std::lock_guard lock(mutex_);
        if (is_terminal(task.status)) return false;
        task.input_requests = nlohmann::json::object();
        task.touch();
        if (outcome.aborted) {
            task.status = TaskStatus::cancelled;
            task.status_message = "The task was cancelled";
        } else if (!outcome.error.is_null()) {
            task.status = TaskStatus::failed;
            task.status_message = outcome.error.value("message", std::string("The task failed"));
            task.error = std::move(outcome.error);
        } else {
            task.status = TaskStatus::completed;
            task.status_message.clear();
            task.result = std::move(outcome.result);
        }
        return true;
    }

    // The Task object: base members, plus result/error/inputRequests when `detailed`.
    // The caller holds mutex_.
    nlohmann::json to_json(const TaskRecord& task, bool detailed) const {
        nlohmann::json out = nlohmann::json::object();
        out["taskId"] = task.id;
        out["status"] = std::string(to_string(task.status));
        if (!task.status_message.empty()) out["statusMessage"] = task.status_message;
        out["createdAt"] = iso8601_utc(task.created_at);
        out["lastUpdatedAt"] = iso8601_utc(task.updated_at);
        out["ttlMs"] = task.ttl_ms;
        if (options_.poll_interval.count() > 0) out["pollIntervalMs"] = options_.poll_interval.count();
        if (detailed) {
            if (task.status == TaskStatus::completed) out["result"] = task.result;
            if (task.status == TaskStatus::failed) out["error"] = task.error;
            if (task.status == TaskStatus::input_required) out["inputRequests"] = task.input_requests;
        }
        return out;
    }

    // Drops expired tasks (those still running go to `running`, to be cancelled outside
    // the lock) and then, while `limit` tasks are kept, the oldest terminal one. The
    // caller holds mutex_.
    void purge(std::size_t limit, std::vector<std::shared_ptr<TaskRecord>>& running) {
        const auto now = std::chrono::steady_clock::now();
        for (auto it = tasks_.begin(); it != tasks_.end();) {
            if (it->second->expires_at <= now) {
                if (!is_terminal(it->second->status)) running.push_back(it->second);
                it = tasks_.erase(it);
            } else {
                ++it;
            }
        }
        while (tasks_.size() >= limit) {
            auto oldest = tasks_.end();
            for (auto it = tasks_.begin(); it != tasks_.end(); ++it)
                if (is_terminal(it->second->status) &&
                    (oldest == tasks_.end() || it->second->updated_at < oldest->second->updated_at))
                    oldest = it;
            if (oldest == tasks_.end()) break;
            tasks_.erase(oldest);
        }
    }

    // Cancels a task's coroutine (on its executor) if it still runs.
    static void signal_cancel(const std::shared_ptr<TaskRecord>& task) {
        asio::post(task->executor, [task] {
            if (task->running) task->signal.emit(asio::cancellation_type::terminal);
            task->timer.cancel();
        });
    }

    const TaskOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<TaskRecord>> tasks_;
};

}  // namespace mcpsse::detail
