// mcpsse internal: the coroutine a task's tool handler runs in, after `tools/call` was
// answered with a `CreateTaskResult` (tasks extension, SEP-2663).
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/result_builders.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/tool.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/input_rounds.hpp>
#include <mcpsse/detail/server/task_record.hpp>
#include <mcpsse/detail/server/task_table.hpp>

#include <asio/awaitable.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

namespace mcpsse::detail {

/// Everything one task's coroutine owns: it holds no reference to the `Server`.
struct TaskRun {
    /// The table the task is kept in.
    std::shared_ptr<TaskTable> table;
    /// The task.
    std::shared_ptr<TaskRecord> task;
    /// The tool, kept alive even if it is removed meanwhile.
    std::shared_ptr<const ToolEntry> entry;
    /// The call, with `task_id` set; its `input` is replaced by each round's.
    ToolCall call;
    /// A copy of the creating request's context (its stream is answered already).
    RequestContext context;
    /// Rounds of input the handler may request before the task fails with -32603.
    int max_rounds = 0;
    /// Add `resultType: "complete"` to the result (the creating request was stateless).
    bool result_type = false;
};

/// Waits until `task` leaves `input_required` with the round `required` (an
/// `InputRequiredResult`) answered through `tasks/update`; returns the answers under the
/// handler's keys, with its `requestState`. Errors: `std::system_error(operation_aborted)`
/// when the task is cancelled or expires meanwhile. Thread-safety: runs on the task's
/// executor (its timer is woken there by `TaskTable::deliver`).
inline asio::awaitable<RetryInput> await_task_input(std::shared_ptr<TaskTable> table, std::shared_ptr<TaskRecord> task,
                                                    nlohmann::json required) {
    table->open_round(task, required);
    for (;;) {
        if (std::optional<RetryInput> ready = table->take_round(*task)) co_return std::move(*ready);
        task->timer.expires_after(std::chrono::hours(24));
        std::error_code ec;
        co_await task->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) throw std::system_error(asio::error::operation_aborted);
    }
}

/// The body of a task: runs the handler, parks on each `InputRequiredResult` until
/// `tasks/update` answers it, and records the outcome in the table: the result
/// (handler exceptions other than `RpcError` become a `CallToolResult` with `isError`,
/// as for a synchronous call), the `RpcError` as `error`, or `cancelled` when the
/// coroutine was cancelled. A handler asking for a task inside its task, or for more
/// than `max_rounds` rounds of input, fails the task with -32603. Thread-safety: runs on
/// `run.task->executor`; touches only `run`.
inline asio::awaitable<void> run_task(TaskRun run) {
    TaskOutcome outcome;
    try {
        for (int round = 0;; ++round) {
            ToolCall attempt = run.call;
            nlohmann::json result = co_await run.entry->handler(std::move(attempt), run.context);
            if (is_start_task(result))
                throw RpcError(error_code::internal_error, "Internal error: the tool asked for a task inside its task");
            if (!is_input_required(result)) {
                outcome.result = std::move(result);
                break;
            }
            check_input_requests(result, run.context);
            if (round >= run.max_rounds) throw RpcError(error_code::internal_error, "Internal error: too many input rounds");
            run.call.input = co_await await_task_input(run.table, run.task, std::move(result));
        }
    } catch (const RpcError& failure) {
        outcome.error = {{"code", failure.code()}, {"message", failure.what()}};
        if (!failure.data().is_null()) outcome.error["data"] = failure.data();
    } catch (const std::system_error& failure) {
        if (failure.code() == asio::error::operation_aborted) outcome.aborted = true;
        else outcome.result = tool_error_result(failure.what());
    } catch (const std::exception& failure) {
        outcome.result = tool_error_result(failure.what());
    } catch (...) {
        outcome.result = tool_error_result("Tool execution failed");
    }
    run.task->running = false;
    if (run.result_type && outcome.result.is_object() && !outcome.result.contains("resultType"))
        outcome.result["resultType"] = "complete";
    run.table->finish(run.task, std::move(outcome));
}

}  // namespace mcpsse::detail
