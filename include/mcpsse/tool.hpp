// mcpsse: a tool (`Tool`), one call of it (`ToolCall`) and the tool handler types.
#pragma once

#include <mcpsse/request_context.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/tasks.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mcpsse {

/// A tool as listed by `tools/list` (MCP server/tools, `Tool`).
struct Tool {
    /// Unique programmatic name; 1-128 characters of `[A-Za-z0-9_.-]` (2025-11-25 on).
    std::string name;
    /// Optional human-readable name; omitted when empty.
    std::string title;
    /// What the tool does, for the model; omitted when empty.
    std::string description;
    /// JSON Schema of the `arguments` object (`type` must be "object"). Kept verbatim,
    /// so any JSON Schema 2020-12 keyword (`$schema`, `$defs`, `$ref`, `allOf`, ...)
    /// and the 2026-07-28 `x-mcp-header` annotation reach the client unchanged.
    nlohmann::json input_schema = nlohmann::json{{"type", "object"}};
    /// Optional JSON Schema of `structuredContent`; omitted when null.
    nlohmann::json output_schema;
    /// Optional `ToolAnnotations` object; omitted when null.
    nlohmann::json annotations;
    /// Further members merged verbatim into the listing (e.g. `icons`, `_meta`);
    /// must be an object or null.
    nlohmann::json extra;
    /// Whether calls may run as tasks (tasks extension, SEP-2663); listed as
    /// `execution.taskSupport` to clients using the extension (2026-07-28 requests, or
    /// clients that declared it) unless `extra` sets `execution`.
    TaskSupport task_support = TaskSupport::forbidden;
    /// When the task of a task-supporting call is created (see `TaskStart`).
    TaskStart task_start = TaskStart::immediately;
    /// OAuth scopes a principal needs to see it listed and to use it, when the transport
    /// authorizes requests (`SseTransportOptions::authorization`): a client without them
    /// does not see it, and using it gets 403 `insufficient_scope` naming them (MCP
    /// 2025-11-25 step-up). Ignored without authorization. Empty: no scope needed.
    std::vector<std::string> required_scopes;
};

/// One `tools/call`: the tool's name, its `arguments` (an object), retry input and,
/// for task-supporting tools, where it runs (tasks extension, SEP-2663).
struct ToolCall {
    /// The tool being called.
    std::string name;
    /// The `arguments` object (empty when the client sent none).
    nlohmann::json arguments = nlohmann::json::object();
    /// Answers to an earlier `InputRequiredResult` (inside a task: answers the client
    /// gave through `tasks/update`).
    RetryInput input;
    /// The id of the task this call runs in; empty when it runs synchronously. Inside
    /// a task the handler runs after `tools/call` was answered: the `RequestContext`
    /// can no longer send on the request's stream (log, progress and server-to-client
    /// requests fail or return false); ask for input by returning an
    /// `InputRequiredResult` instead. `tasks/cancel` cancels the handler's coroutine
    /// (Asio terminal cancellation: waits end with `asio::error::operation_aborted`).
    std::string task_id;
    /// True when the handler may return `start_task_result()` to continue as a task
    /// (`TaskStart::on_request` tools, outside a task, client declared the extension).
    bool may_start_task = false;
};

/// A tool handler in its simplest form: gets the `arguments` object and returns a
/// `CallToolResult` (`content`, optional `structuredContent`, `isError`) or an
/// `InputRequiredResult` (see `input_required_result`).
using ToolHandler = std::function<asio::awaitable<nlohmann::json>(nlohmann::json arguments, RequestContext& context)>;
/// A tool handler that also sees retry input (multi-round-trip tools).
using ToolCallHandler = std::function<asio::awaitable<nlohmann::json>(ToolCall call, RequestContext& context)>;

}  // namespace mcpsse
