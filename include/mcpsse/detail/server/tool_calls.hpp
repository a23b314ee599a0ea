// mcpsse internal: `tools/call` of `Server`: finding the tool, the header check, input
// rounds, handler failures as `isError` results, and the hand-over to tasks.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/result_builders.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/server_options.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/tool.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/input_rounds.hpp>
#include <mcpsse/detail/server/param_headers.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/server/task_service.hpp>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <nlohmann/json.hpp>

#include <exception>
#include <memory>
#include <system_error>
#include <utility>

namespace mcpsse::detail {

/// Serves `tools/call`. This is the hot path of a tool server: per call it copies one
/// `shared_ptr` under the tool registry's mutex and allocates the coroutine frames of
/// `call`, `run` and `run_rounds` (besides the handler's own); nothing else is shared.
///
/// Errors: an unknown tool -> -32602; a header mismatch -> -32020; a required task from
/// a client without the extension -> -32021; a handler's `RpcError` as is; any other
/// handler exception becomes a `CallToolResult` with `isError: true` (MCP reports tool
/// execution failures in the result), except a cancellation, which propagates. Holds
/// references: `tools`, `tasks` and `options` must outlive it. Thread-safety: `call` may
/// run on many threads at once.
class ToolCalls {
public:
    /// Calls the tools of `tools`; starts tasks through `tasks`; reads
    /// `ServerOptions::tasks` and `max_input_rounds` from `options`.
    ToolCalls(const Registry<ToolEntry>& tools, TaskService& tasks, const ServerOptions& options)
        : tools_(tools), tasks_(tasks), options_(options) {}

    /// `tools/call`: runs the tool synchronously (its result) or as a task (a
    /// `CreateTaskResult`) as `Tool::task_support`, `Tool::task_start` and the client's
    /// declared extensions decide.
    asio::awaitable<nlohmann::json> call(nlohmann::json params, RequestContext& context) {
        ToolCall call{required_string(params, "name"), take_optional_object(params, "arguments"), RetryInput{}, {}, false};
        std::shared_ptr<const ToolEntry> entry = tools_.find(call.name);
        if (!entry) throw RpcError(error_code::invalid_params, "Unknown tool: " + call.name, {{"name", call.name}});
        check_param_headers(entry->tool, call.arguments, context);
        read_retry_input(params, call.input, context, options_.state_key);
        // Tasks (SEP-2663): server-directed, gated on the request's declared extension.
        bool as_task = false;
        if (options_.tasks.enabled && entry->tool.task_support != TaskSupport::forbidden) {
            const bool declared = declares_tasks_extension(context.client_capabilities());
            if (!declared && entry->tool.task_support == TaskSupport::required) throw tasks_extension_required_error();
            if (declared && entry->tool.task_start == TaskStart::immediately) as_task = true;
            if (declared && entry->tool.task_start == TaskStart::on_request) call.may_start_task = true;
        }
        if (as_task) co_return co_await tasks_.start(entry, std::move(call), context);
        co_return co_await run(std::move(entry), std::move(call), context);
    }

private:
    // Runs a tool's input rounds and shapes its result. (Separate from `call` so that
    // each coroutine frame stays small enough for the allocator's fast path.)
    asio::awaitable<nlohmann::json> run(std::shared_ptr<const ToolEntry> entry, ToolCall call, RequestContext& context) {
        nlohmann::json result;
        RetryInput input = std::move(call.input);  // each round's; the final round's at the end
        try {
            // Each round's handler gets a copy of the call with that round's input.
            auto attempt = [&](const RetryInput& in) {
                return entry->handler(ToolCall{call.name, call.arguments, in, call.task_id, call.may_start_task}, context);
            };
            result = co_await run_rounds(input, context, options_.max_input_rounds, options_.state_key, attempt);
        } catch (const RpcError&) {
            throw;
        } catch (const std::system_error& error) {
            if (error.code() == asio::error::operation_aborted) throw;  // cancelled: no reply anyway
            result = tool_error_result(error.what());
        } catch (const std::exception& error) {
            result = tool_error_result(error.what());
        } catch (...) {
            result = tool_error_result("Tool execution failed");
        }
        if (is_start_task(result)) {
            if (!call.may_start_task)
                throw RpcError(error_code::internal_error, "Internal error: the tool asked for a task where none may start");
            call.input = std::move(input);  // the input of the round that asked for the task
            call.may_start_task = false;
            co_return co_await tasks_.start(entry, std::move(call), context);
        }
        finish_result(result, context);
        co_return result;
    }

    const Registry<ToolEntry>& tools_;
    TaskService& tasks_;
    const ServerOptions& options_;
};

}  // namespace mcpsse::detail
