// mcpsse internal: the tasks extension's side of `Server` (`io.modelcontextprotocol/
// tasks`, SEP-2663): starting a tool call as a task, and the `tasks/get`,
// `tasks/update` and `tasks/cancel` methods.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/tool.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/server/task_record.hpp>
#include <mcpsse/detail/server/task_runner.hpp>
#include <mcpsse/detail/server/task_table.hpp>
#include <mcpsse/detail/util/base64.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// Runs tool calls as tasks and answers the `tasks/*` methods from a `TaskTable` it
/// shares with the task coroutines.
///
/// With a `TaskOptions::store`, tasks held by other instances are answered from their
/// stored state (see `TaskStore`).
///
/// Errors (`RpcError`): `tasks/get` and `tasks/cancel` of an unknown or expired task ->
/// -32602; a `tasks/*` request from a client that did not declare the extension ->
/// -32021; over Streamable HTTP, an `Mcp-Name` header missing or differing from
/// `params.taskId` -> -32020; a full table -> -32603; `tasks/update` or `tasks/cancel`
/// of a task running at another instance, or a store that failed to load -> -32603.
/// Thread-safety: all member functions are thread-safe (see `TaskTable`).
class TaskService {
public:
    /// No tasks yet; `options` as in `ServerOptions::tasks`; a task's handler may ask for
    /// `max_input_rounds` rounds of input.
    TaskService(const TaskOptions& options, int max_input_rounds)
        : table_(std::make_shared<TaskTable>(options)), max_input_rounds_(max_input_rounds) {}

    /// Creates the task for `call` of `entry` (retrievable before this returns) and
    /// starts the handler, detached, on the request's executor; returns the
    /// `CreateTaskResult` (`resultType: "task"`). The handler gets a copy of `context`.
    asio::awaitable<nlohmann::json> start(std::shared_ptr<const ToolEntry> entry, ToolCall call,
                                          RequestContext& context) {
        const auto executor = co_await asio::this_coro::executor;
        auto task = table_->make_task(executor);
        task->owner = subject_of(context);
        nlohmann::json created = table_->add(task);
        created["resultType"] = "task";
        // Stored before its id goes out, so any instance sharing the store finds it.
        co_await table_->async_save(task);
        call.task_id = task->id;
        call.may_start_task = false;
        task->running = true;
        TaskRun run{table_, task, std::move(entry), std::move(call), context, max_input_rounds_, stateless(context)};
        asio::co_spawn(executor, run_task(std::move(run)),
                       // The completion owns the task, whose signal the slot belongs to: the
                       // signal must outlive the spawn (see detail::RethrowFailure in detail/rpc/handler_run.hpp).
                       asio::bind_cancellation_slot(task->signal.slot(), [owner = task](const std::exception_ptr&) {}));
        co_return created;
    }

    /// `tasks/get`: the `DetailedTask` (a task held elsewhere: its stored state).
    asio::awaitable<nlohmann::json> get(nlohmann::json params, RequestContext& context) {
        const std::string task_id = checked_task_id(params, context);
        nlohmann::json result;
        if (const auto task = find(task_id, context)) {
            result = table_->detailed(*task);
        } else {
            std::optional<nlohmann::json> stored = co_await load_stored(task_id, context);
            if (!stored) throw task_not_found(task_id);
            result = std::move(*stored);
        }
        result["resultType"] = "complete";
        co_return result;
    }

    /// `tasks/update`: delivers `inputResponses` (an object of objects, else -32602) to
    /// an `input_required` task; unknown tasks and keys are ignored. An empty result.
    asio::awaitable<nlohmann::json> update(nlohmann::json params, RequestContext& context) {
        const std::string task_id = checked_task_id(params, context);
        const auto responses = params.find("inputResponses");
        if (responses == params.end() || !responses->is_object())
            throw RpcError(error_code::invalid_params, "Invalid params: inputResponses must be an object");
        for (auto r = responses->begin(); r != responses->end(); ++r)
            if (!r->is_object())
                throw RpcError(error_code::invalid_params, "Invalid params: inputResponses." + r.key() + " must be an object");
        if (const auto task = find(task_id, context)) {
            table_->deliver(task, *responses);
        } else {
            const std::optional<nlohmann::json> stored = co_await load_stored(task_id, context);
            if (stored && !stored_terminal(*stored)) throw runs_elsewhere(task_id);
        }
        co_return complete_ack();
    }

    /// `tasks/cancel`: cancels a task that has not finished. An empty result either way.
    asio::awaitable<nlohmann::json> cancel(nlohmann::json params, RequestContext& context) {
        const std::string task_id = checked_task_id(params, context);
        if (const auto task = find(task_id, context)) {
            table_->cancel(task);
        } else {
            const std::optional<nlohmann::json> stored = co_await load_stored(task_id, context);
            if (!stored) throw task_not_found(task_id);
            if (!stored_terminal(*stored)) throw runs_elsewhere(task_id);
        }
        co_return complete_ack();
    }

    /// Number of tasks kept (see `TaskTable::size`).
    [[nodiscard]] std::size_t count() const { return table_->size(); }

private:
    static nlohmann::json complete_ack() {
        nlohmann::json ack = nlohmann::json::object();
        ack["resultType"] = "complete";
        return ack;
    }

    static RpcError task_not_found(const std::string& task_id) {
        return RpcError(error_code::invalid_params, "Task not found", {{"taskId", task_id}});
    }

    static RpcError runs_elsewhere(const std::string& task_id) {
        return RpcError(error_code::internal_error, "Internal error: the task runs at another server instance",
                        {{"taskId", task_id}});
    }

    // True when a stored task's status is terminal.
    static bool stored_terminal(const nlohmann::json& stored) {
        const auto status = stored.find("status");
        if (status == stored.end() || !status->is_string()) return false;
        const auto& s = status->get_ref<const std::string&>();
        return s == to_string(TaskStatus::completed) || s == to_string(TaskStatus::failed) ||
               s == to_string(TaskStatus::cancelled);
    }

    // The subject of the request's principal (empty without authorization).
    static std::string subject_of(const RequestContext& context) {
        const Principal* p = context.principal();
        return p ? p->subject : std::string();
    }

    // The task `task_id` held here, when the request's subject owns it (tasks are bound
    // to their creator: another subject finds nothing, as for an unknown id).
    [[nodiscard]] std::shared_ptr<TaskRecord> find(const std::string& task_id, const RequestContext& context) const {
        auto task = table_->find(task_id);
        if (task && task->owner != subject_of(context)) return nullptr;
        return task;
    }

    // A task's stored state (nullopt: none, no store, or another subject's); a failing
    // store -> -32603.
    asio::awaitable<std::optional<nlohmann::json>> load_stored(std::string task_id, const RequestContext& context) {
        const auto& store = table_->store();
        if (!store) co_return std::nullopt;
        std::optional<nlohmann::json> stored;
        bool failed = false;
        try {
            stored = co_await store->async_load_task(std::move(task_id));
        } catch (const std::exception&) {
            failed = true;
        }
        if (failed) throw RpcError(error_code::internal_error, "Internal error: the task store failed");
        if (stored && !stored->is_object()) stored.reset();
        if (stored) {
            const auto owner = stored->find(owner_member);
            const std::string stored_owner = owner != stored->end() && owner->is_string() ? owner->get<std::string>() : "";
            if (stored_owner != subject_of(context)) stored.reset();
            else if (owner != stored->end()) stored->erase(owner);
        }
        co_return stored;
    }

    // Common part of tasks/*: Mcp-Name routing header, extension gate, the task id.
    std::string checked_task_id(const nlohmann::json& params, const RequestContext& context) {
        std::string task_id;
        if (const auto it = params.find("taskId"); it != params.end() && it->is_string()) task_id = it->get<std::string>();
        if (context.http_header("mcp-method")) {  // Streamable HTTP: Mcp-Name must carry the task id
            const auto raw = context.http_header("mcp-name");
            if (!raw) throw RpcError(error_code::header_mismatch, "Header mismatch: Mcp-Name header is required");
            const auto decoded = decode_mcp_header_value(*raw);
            if (!decoded || *decoded != task_id)
                throw RpcError(error_code::header_mismatch, "Header mismatch: Mcp-Name does not match params.taskId");
        }
        if (!declares_tasks_extension(context.client_capabilities())) throw tasks_extension_required_error();
        if (task_id.empty()) throw RpcError(error_code::invalid_params, "Invalid params: taskId must be a non-empty string");
        return task_id;
    }

    // Shared with running task coroutines, which never touch the Server or this object.
    std::shared_ptr<TaskTable> table_;
    int max_input_rounds_;
};

}  // namespace mcpsse::detail
