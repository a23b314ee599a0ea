// mcpsse: an optional feature layer over `Dispatcher`: tools, resources, prompts,
// completion, subscriptions and multi-round-trip requests, for every protocol revision.
//
// This header is the facade: `Server` owns one object per concern and wires their
// methods into a `Dispatcher`. The concerns live in <mcpsse/detail/server/...>:
//   catalog.hpp, registry.hpp        what is registered (one mutex per kind)
//   listing.hpp, pagination.hpp      tools/list, resources/list, ... with cursors
//   param_headers.hpp                the Mcp-Param-* check of tools/call (here, for now)
//   resource_reads.hpp, prompt_gets.hpp, completion.hpp  the other catalog methods
//   input_rounds.hpp, request_state.hpp  multi-round-trip requests, sealed state
//   task_record.hpp, task_id.hpp     the tasks extension (its methods are here, for now)
//   subscriptions.hpp, change_notifier.hpp  resources/subscribe, subscriptions/listen
//   discovery.hpp, result_members.hpp, params.hpp  capabilities, server/discover, helpers
#pragma once

#include <mcpsse/completer.hpp>
#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/meta_key.hpp>
#include <mcpsse/prompt.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/resource.hpp>
#include <mcpsse/result_builders.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/server_options.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/tool.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/change_notifier.hpp>
#include <mcpsse/detail/server/completion.hpp>
#include <mcpsse/detail/server/discovery.hpp>
#include <mcpsse/detail/server/listing.hpp>
#include <mcpsse/detail/server/prompt_gets.hpp>
#include <mcpsse/detail/server/request_state.hpp>
#include <mcpsse/detail/server/resource_reads.hpp>
#include <mcpsse/detail/server/subscriptions.hpp>
#include <mcpsse/detail/server/input_rounds.hpp>
#include <mcpsse/detail/server/param_headers.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/server/task_id.hpp>
#include <mcpsse/detail/server/task_record.hpp>
#include <mcpsse/detail/util/base64.hpp>
#include <mcpsse/detail/util/iso8601.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <concepts>
#include <cstddef>
#include <chrono>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse {

/// The MCP server features on top of a `Dispatcher`: a tool registry (`tools/*`), static
/// resources and resource templates (`resources/*`), prompts (`prompts/*`),
/// argument completion (`completion/complete`), resource subscriptions, the 2026-07-28
/// `server/discover` and `subscriptions/listen`, caching hints, and multi-round-trip
/// requests (`InputRequiredResult`) for every revision.
///
/// Usage: register features, then `install(dispatcher)` once, before any transport runs.
///
/// Errors (JSON-RPC codes): unknown tool or prompt, a URI no resource or template
/// serves, a malformed cursor or malformed retry input -> -32602; a method of a
/// revision that does not have it (`resources/subscribe` under 2026-07-28,
/// `subscriptions/listen` before it) -> -32601. A tool handler throwing `RpcError`
/// answers with that error; a tool handler throwing anything else yields a
/// `CallToolResult` with `isError: true` carrying the exception's message, because MCP
/// reports tool execution failures in the result (server/tools, error handling). Other
/// handlers throwing non-`RpcError` exceptions answer -32603.
///
/// Header checks (2026-07-28 Streamable HTTP, SEP-2243): for every `x-mcp-header`
/// annotation in a tool's `inputSchema` (at any depth of nested `properties`), a
/// `tools/call` whose arguments carry that value must carry the `Mcp-Param-<Name>` header
/// with the same value (plain or `=?base64?...?=`; strings compared as-is, numbers
/// numerically, booleans as `true`/`false`); a missing or different header answers
/// -32020 (the transport replies HTTP 400). Only requests of 2026-07-28 or later that
/// came over HTTP are checked (stdio has no headers).
///
/// Tasks (extension `io.modelcontextprotocol/tasks`, SEP-2663; `ServerOptions::tasks`):
/// a tool with `Tool::task_support` other than `forbidden` runs as a task when the
/// request's client capabilities declare the extension: `tools/call` answers a
/// `CreateTaskResult` (`resultType: "task"`, `taskId`, `status`, `createdAt`,
/// `lastUpdatedAt`, `ttlMs`, `pollIntervalMs`) and the handler runs on, detached, on the
/// request's executor. `tasks/get` returns the task with its `result` (completed: the
/// `CallToolResult`, `isError` included), `error` (failed: an `RpcError` the handler
/// threw) or `inputRequests` (input_required: the handler returned an
/// `InputRequiredResult`; each key is unique over the task's life). `tasks/update`
/// delivers `inputResponses` (a subset is fine; unknown or answered keys are ignored;
/// once every key of a round is answered the handler runs again with them) and
/// `tasks/cancel` cancels; both answer an empty result. `tasks/get` and `tasks/cancel`
/// of an unknown (or expired) task -> -32602; any `tasks/*` method from a client that
/// did not declare the extension -> -32021; over HTTP, an `Mcp-Name` header that is
/// missing or differs from `params.taskId` -> -32020. `tasks/result` and `tasks/list`
/// do not exist (-32601). Every `tasks/*` result and `CreateTaskResult` carries
/// `resultType` in any revision (the extension defines it). Tasks live in memory, per
/// `Server`, until `TaskOptions::ttl_ms` after their creation; a task coroutine holds
/// what it needs (not the `Server`) and ends with its `io_context`.
///
/// Multi-round-trip requests: a tool, prompt or resource handler may return
/// `input_required_result(...)`. Under 2026-07-28 it goes to the client, which retries
/// with `inputResponses` (see `RetryInput`). Under the session-based revisions the
/// `Server` fulfils each input request itself with `RequestContext::async_request` and
/// calls the handler again, so one handler serves both eras. Either way an input
/// request needing a capability the client did not declare fails with -32021.
///
/// Thread-safety: all member functions are thread-safe. Features may be added or
/// removed while transports run; the change is announced on open
/// `subscriptions/listen` streams. Handlers are called on the request's executor (the
/// session's strand, or in `SseTransport`'s share-nothing mode the connection's thread:
/// then handlers of one session may run at the same time).
/// The `Server` must outlive every transport run using a dispatcher it installed into.
class Server {
public:
    /// Creates an empty server with `options`; an empty `ServerOptions::state_key` is
    /// replaced by 32 random bytes (visible through `options()`).
    explicit Server(ServerOptions options = {}) : options_(std::move(options)) {
        if (options_.state_key.empty()) options_.state_key = detail::random_state_key();
    }

    /// Not copyable: the handlers `install` registers refer to this object.
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The server's settings.
    [[nodiscard]] const ServerOptions& options() const noexcept { return options_; }

    // ---- registration ---------------------------------------------------------------------

    /// Adds (or replaces, by name) a tool whose handler gets the `arguments` object.
    /// Listing order is registration order (deterministic across requests).
    template <class Handler>
        requires std::invocable<Handler&, nlohmann::json, RequestContext&>
    void add_tool(Tool tool, Handler handler) {
        add_tool_entry(std::move(tool),
                       [handler = std::move(handler)](ToolCall call, RequestContext& context) mutable {
                           return handler(std::move(call.arguments), context);
                       });
    }

    /// Adds (or replaces, by name) a tool whose handler gets the whole `ToolCall`,
    /// including retry input of multi-round-trip calls.
    template <class Handler>
        requires std::invocable<Handler&, ToolCall, RequestContext&>
    void add_tool(Tool tool, Handler handler) {
        add_tool_entry(std::move(tool), ToolCallHandler(std::move(handler)));
    }

    /// Removes the tool `name`; false when there was none.
    bool remove_tool(std::string_view name) {
        return removed(catalog_.tools.erase(name), detail::ListKind::tools);
    }

    /// Adds (or replaces, by URI) a resource with a fixed URI.
    void add_resource(Resource resource, ResourceHandler handler) {
        catalog_.resources.put(std::make_shared<const detail::ResourceEntry>(
            detail::ResourceEntry{std::move(resource), std::move(handler)}));
        changes_.list_changed(detail::ListKind::resources);
    }

    /// Removes the resource `uri`; false when there was none.
    bool remove_resource(std::string_view uri) {
        return removed(catalog_.resources.erase(uri), detail::ListKind::resources);
    }

    /// Adds (or replaces, by template) a resource template; `completers` suggest values
    /// for its variables (`completion/complete` with `ref/resource`).
    void add_resource_template(ResourceTemplate resource_template, ResourceHandler handler,
                               std::map<std::string, Completer> completers = {}) {
        catalog_.templates.put(std::make_shared<const detail::TemplateEntry>(
            detail::TemplateEntry{std::move(resource_template), std::move(handler), std::move(completers)}));
        changes_.list_changed(detail::ListKind::resources);
    }

    /// Adds (or replaces, by name) a prompt; `completers` suggest values for its
    /// arguments (`completion/complete` with `ref/prompt`).
    void add_prompt(Prompt prompt, PromptHandler handler, std::map<std::string, Completer> completers = {}) {
        catalog_.prompts.put(std::make_shared<const detail::PromptEntry>(
            detail::PromptEntry{std::move(prompt), std::move(handler), std::move(completers)}));
        changes_.list_changed(detail::ListKind::prompts);
    }

    /// Removes the prompt `name`; false when there was none.
    bool remove_prompt(std::string_view name) {
        return removed(catalog_.prompts.erase(name), detail::ListKind::prompts);
    }

    // ---- installation -----------------------------------------------------------------

    /// Registers the feature methods on `dispatcher` and merges the capabilities
    /// (`tools`, `resources` with `subscribe`/`listChanged`, `prompts`, `completions`,
    /// `logging`, and `extensions["io.modelcontextprotocol/tasks"]` when tasks are
    /// enabled) into `dispatcher.options().capabilities`, keeping members the host set.
    /// Call once per dispatcher, before transports run (registration on a `Dispatcher`
    /// is not thread-safe).
    void install(Dispatcher& dispatcher) {
        dispatcher_ = &dispatcher;
        detail::merge_capabilities(dispatcher.options().capabilities, options_);
        dispatcher.on_request("tools/list", serve(listing_, &detail::Listing::tools));
        dispatcher.on_request("resources/list", serve(listing_, &detail::Listing::resources));
        dispatcher.on_request("resources/templates/list", serve(listing_, &detail::Listing::templates));
        dispatcher.on_request("prompts/list", serve(listing_, &detail::Listing::prompts));
        dispatcher.on_request("tools/call", member(&Server::call_tool));
        dispatcher.on_request("resources/read", serve(resource_reads_, &detail::ResourceReads::read));
        dispatcher.on_request("prompts/get", serve(prompt_gets_, &detail::PromptGets::get));
        dispatcher.on_request("resources/subscribe", serve(subscriptions_, &detail::ResourceSubscriptions::subscribe));
        dispatcher.on_request("resources/unsubscribe", serve(subscriptions_, &detail::ResourceSubscriptions::unsubscribe));
        if (options_.completions)
            dispatcher.on_request("completion/complete", serve(completion_, &detail::Completion::complete));
        dispatcher.on_request("server/discover", serve(*this, &Server::discover));
        dispatcher.on_request("subscriptions/listen", serve(changes_, &detail::ChangeNotifier::listen));
        if (options_.tasks.enabled) {
            dispatcher.on_request("tasks/get", member(&Server::get_task));
            dispatcher.on_request("tasks/update", member(&Server::update_task));
            dispatcher.on_request("tasks/cancel", member(&Server::cancel_task));
        }
    }

    // ---- request state ----------------------------------------------------------------

    /// Seals `payload` for a `requestState`: the result is `payload` plus an
    /// HMAC-SHA-256 tag under `ServerOptions::state_key`, so a retry can prove the state
    /// came from this server unaltered (MCP 2026-07-28 mrtr: servers must verify the
    /// integrity of state they rely on). Not encryption: the payload stays readable.
    [[nodiscard]] std::string seal_state(std::string_view payload) const {
        return detail::seal_state(options_.state_key, payload);
    }

    /// Verifies a sealed state; returns the payload, or nullopt when the tag does not
    /// match (tampered, foreign, or not sealed). Callers usually answer nullopt with
    /// `RpcError(error_code::invalid_params, ...)`.
    [[nodiscard]] std::optional<std::string> open_state(std::string_view sealed) const {
        return detail::open_state(options_.state_key, sealed);
    }

    // ---- subscriptions and change notifications ---------------------------------------

    /// Sends `notifications/resources/updated` for `uri` to every open 2026-07-28
    /// `subscriptions/listen` stream whose filter lists it. Returns the number of streams
    /// notified. (Session-based subscribers are recorded by `resources/subscribe`; see
    /// `is_subscribed`. Reaching their sessions outside a request is up to the transport.)
    std::size_t notify_resource_updated(const std::string& uri) { return changes_.resource_updated(uri); }

    /// Sends `notifications/tools/list_changed` to listen streams that asked for it;
    /// `add_tool`/`remove_tool` call it. Returns the number of streams notified.
    std::size_t notify_tools_list_changed() { return changes_.list_changed(detail::ListKind::tools); }
    /// Sends `notifications/prompts/list_changed` (see `notify_tools_list_changed`).
    std::size_t notify_prompts_list_changed() { return changes_.list_changed(detail::ListKind::prompts); }
    /// Sends `notifications/resources/list_changed` (see `notify_tools_list_changed`).
    std::size_t notify_resources_list_changed() { return changes_.list_changed(detail::ListKind::resources); }

    /// True when session `session_id` (a transport's session id; empty for stdio)
    /// subscribed to `uri` with `resources/subscribe` and has not unsubscribed.
    [[nodiscard]] bool is_subscribed(std::string_view session_id, std::string_view uri) const {
        return subscriptions_.contains(session_id, uri);
    }

    /// Observes every change notification the server emits (`notifications/*/list_changed`,
    /// `notifications/resources/updated` with `params.uri`), so the host can forward them
    /// to session-based clients, e.g. `SseTransport::broadcast` (filtering
    /// `resources/updated` with `is_subscribed`). Called on the thread that caused the
    /// change; must not block. Replaces any earlier observer.
    void on_change(std::function<void(const std::string& method, const nlohmann::json& params)> observer) {
        changes_.set_observer(std::move(observer));
    }

    /// Forgets what `session_id` subscribed to (call when the session ends; the
    /// `on_session_close` of `SseTransportOptions` is the place). Thread-safe.
    void forget_session(std::string_view session_id) { subscriptions_.forget_session(session_id); }

    /// Number of open `subscriptions/listen` streams.
    [[nodiscard]] std::size_t listener_count() const { return changes_.listener_count(); }

    /// Number of tasks currently kept (running, waiting for input, or finished and not
    /// yet expired). Thread-safe.
    [[nodiscard]] std::size_t task_count() const {
        std::lock_guard lock(tasks_->mutex);
        return tasks_->tasks.size();
    }

    /// Ends every open `subscriptions/listen` stream with its final result, e.g. before a
    /// graceful transport stop. New listen requests are still accepted.
    void close_listeners() { changes_.close_listeners(); }

private:
    // The tasks of this Server; `mutex` guards `tasks` and every guarded member of the
    // records (see detail::TaskRecord).
    struct TaskTable {
        std::mutex mutex;
        std::map<std::string, std::shared_ptr<detail::TaskRecord>> tasks;
    };
    using MemberHandler = asio::awaitable<nlohmann::json> (Server::*)(nlohmann::json, RequestContext&);
    Dispatcher::RequestHandler member(MemberHandler handler) {
        return [this, handler](nlohmann::json params, RequestContext& context) {
            return (this->*handler)(std::move(params), context);
        };
    }

    asio::awaitable<nlohmann::json> call_tool(nlohmann::json params, RequestContext& context) {
        ToolCall call{detail::required_string(params, "name"), detail::take_optional_object(params, "arguments"), RetryInput{}, {}, false};
        std::shared_ptr<const detail::ToolEntry> entry = catalog_.tools.find(call.name);
        if (!entry)
            throw RpcError(error_code::invalid_params, "Unknown tool: " + call.name, {{"name", call.name}});
        detail::check_param_headers(entry->tool, call.arguments, context);
        detail::read_retry_input(params, call.input);
        // Tasks (SEP-2663): server-directed, gated on the request's declared extension.
        bool as_task = false;
        if (options_.tasks.enabled && entry->tool.task_support != TaskSupport::forbidden) {
            const bool declared = declares_tasks_extension(context.client_capabilities());
            if (!declared && entry->tool.task_support == TaskSupport::required) throw tasks_extension_required_error();
            if (declared && entry->tool.task_start == TaskStart::immediately) as_task = true;
            if (declared && entry->tool.task_start == TaskStart::on_request) call.may_start_task = true;
        }
        if (as_task) co_return co_await start_task(entry, std::move(call), context);
        co_return co_await run_tool(std::move(entry), std::move(call), context);
    }

    // Runs a tool's input rounds and shapes its result. (Separate from call_tool so
    // that each coroutine frame stays small enough for the allocator's fast path.)
    asio::awaitable<nlohmann::json> run_tool(std::shared_ptr<const detail::ToolEntry> entry, ToolCall call,
                                             RequestContext& context) {
        nlohmann::json result;
        RetryInput input = std::move(call.input);  // each round's; the final round's at the end
        try {
            // Each round's handler gets a copy of the call with that round's input.
            auto attempt = [&](const RetryInput& in) {
                return entry->handler(ToolCall{call.name, call.arguments, in, call.task_id, call.may_start_task},
                                      context);
            };
            result = co_await detail::run_rounds(input, context, options_.max_input_rounds, attempt);
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
            co_return co_await start_task(entry, std::move(call), context);
        }
        detail::finish_result(result, context);
        co_return result;
    }

    // ---- tasks (extension io.modelcontextprotocol/tasks, SEP-2663) ---------------------

    // The Task object: base members, plus result/error/inputRequests when `detailed`.
    nlohmann::json task_json(const detail::TaskRecord& task, bool detailed) const {
        nlohmann::json out = nlohmann::json::object();
        out["taskId"] = task.id;
        out["status"] = std::string(to_string(task.status));
        if (!task.status_message.empty()) out["statusMessage"] = task.status_message;
        out["createdAt"] = detail::iso8601_utc(task.created_at);
        out["lastUpdatedAt"] = detail::iso8601_utc(task.updated_at);
        out["ttlMs"] = task.ttl_ms;
        if (options_.tasks.poll_interval_ms > 0) out["pollIntervalMs"] = options_.tasks.poll_interval_ms;
        if (detailed) {
            if (task.status == TaskStatus::completed) out["result"] = task.result;
            if (task.status == TaskStatus::failed) out["error"] = task.error;
            if (task.status == TaskStatus::input_required) out["inputRequests"] = task.input_requests;
        }
        return out;
    }

    // Drops expired tasks (cancelling those still running: returned for signalling
    // outside the lock) and, when `room` is needed, the oldest finished ones.
    static void purge_tasks(TaskTable& table, std::size_t limit, std::vector<std::shared_ptr<detail::TaskRecord>>& running) {
        const auto now = std::chrono::steady_clock::now();
        for (auto it = table.tasks.begin(); it != table.tasks.end();) {
            if (it->second->expires_at <= now) {
                if (!is_terminal(it->second->status)) running.push_back(it->second);
                it = table.tasks.erase(it);
            } else {
                ++it;
            }
        }
        while (table.tasks.size() >= limit) {
            auto oldest = table.tasks.end();
            for (auto it = table.tasks.begin(); it != table.tasks.end(); ++it)
                if (is_terminal(it->second->status) &&
                    (oldest == table.tasks.end() || it->second->updated_at < oldest->second->updated_at))
                    oldest = it;
            if (oldest == table.tasks.end()) break;
            table.tasks.erase(oldest);
        }
    }

    // Cancels a task's coroutine (on its strand) if it still runs.
    static void signal_cancel(const std::shared_ptr<detail::TaskRecord>& task) {
        asio::post(task->executor, [task] {
            if (task->running) task->signal.emit(asio::cancellation_type::terminal);
            task->timer.cancel();
        });
    }

    // Creates the task for `call` (strongly consistent: retrievable before the
    // CreateTaskResult is returned) and starts the handler on this request's strand.
    asio::awaitable<nlohmann::json> start_task(std::shared_ptr<const detail::ToolEntry> entry, ToolCall call,
                                               RequestContext& context) {
        const auto executor = co_await asio::this_coro::executor;
        auto task = std::make_shared<detail::TaskRecord>(detail::random_task_id(), executor);
        if (options_.tasks.ttl_ms > 0) {
            task->ttl_ms = options_.tasks.ttl_ms;
            task->expires_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.tasks.ttl_ms);
        }
        nlohmann::json created;
        std::vector<std::shared_ptr<detail::TaskRecord>> expired;
        bool full = false;
        {
            std::lock_guard lock(tasks_->mutex);
            purge_tasks(*tasks_, std::max<std::size_t>(options_.tasks.max_tasks, 1), expired);
            if (tasks_->tasks.size() >= std::max<std::size_t>(options_.tasks.max_tasks, 1)) {
                full = true;
            } else {
                tasks_->tasks.emplace(task->id, task);
                created = task_json(*task, false);
            }
        }
        for (const auto& t : expired) signal_cancel(t);
        if (full) throw RpcError(error_code::internal_error, "Internal error: too many tasks");
        created["resultType"] = "task";
        call.task_id = task->id;
        call.may_start_task = false;
        task->running = true;
        asio::co_spawn(executor,
                       run_task(tasks_, task, std::move(entry), std::move(call), context, options_.max_input_rounds,
                                detail::stateless(context)),
                       // The completion owns the task, whose signal the slot belongs to: the
                       // signal must outlive the spawn (see RpcSession::RethrowFailure).
                       asio::bind_cancellation_slot(task->signal.slot(),
                                                    [owner = task](const std::exception_ptr&) {}));
        co_return created;
    }

    // The body of a task: runs the handler, parks on InputRequiredResults until
    // `tasks/update` answers them, and records the outcome. Touches only the table.
    static asio::awaitable<void> run_task(std::shared_ptr<TaskTable> table, std::shared_ptr<detail::TaskRecord> task,
                                          std::shared_ptr<const detail::ToolEntry> entry, ToolCall call, RequestContext context,
                                          int max_rounds, bool result_type) {
        nlohmann::json result;
        nlohmann::json error;
        bool aborted = false;
        try {
            for (int round = 0;; ++round) {
                ToolCall attempt = call;
                nlohmann::json outcome = co_await entry->handler(std::move(attempt), context);
                if (is_start_task(outcome))
                    throw RpcError(error_code::internal_error, "Internal error: the tool asked for a task inside its task");
                if (!is_input_required(outcome)) {
                    result = std::move(outcome);
                    break;
                }
                detail::check_input_requests(outcome, context);
                if (round >= max_rounds) throw RpcError(error_code::internal_error, "Internal error: too many input rounds");
                call.input = co_await await_task_input(table, task, std::move(outcome));
            }
        } catch (const RpcError& failure) {
            error = {{"code", failure.code()}, {"message", failure.what()}};
            if (!failure.data().is_null()) error["data"] = failure.data();
        } catch (const std::system_error& failure) {
            if (failure.code() == asio::error::operation_aborted) aborted = true;
            else result = tool_error_result(failure.what());
        } catch (const std::exception& failure) {
            result = tool_error_result(failure.what());
        } catch (...) {
            result = tool_error_result("Tool execution failed");
        }
        task->running = false;
        if (result_type && result.is_object() && !result.contains("resultType")) result["resultType"] = "complete";
        std::lock_guard lock(table->mutex);
        if (is_terminal(task->status)) co_return;  // cancelled meanwhile: the outcome is dropped
        task->input_requests = nlohmann::json::object();
        task->touch();
        if (aborted) {
            task->status = TaskStatus::cancelled;
            task->status_message = "The task was cancelled";
        } else if (!error.is_null()) {
            task->status = TaskStatus::failed;
            task->status_message = error.value("message", std::string("The task failed"));
            task->error = std::move(error);
        } else {
            task->status = TaskStatus::completed;
            task->status_message.clear();
            task->result = std::move(result);
        }
    }

    // Parks the task in input_required with the requests of `required` (keys made
    // unique over the task's life) until every one is answered; returns the answers
    // under the handler's keys, with its requestState.
    static asio::awaitable<RetryInput> await_task_input(std::shared_ptr<TaskTable> table,
                                                        std::shared_ptr<detail::TaskRecord> task,
                                                        nlohmann::json required) {
        {
            std::lock_guard lock(table->mutex);
            if (is_terminal(task->status)) throw std::system_error(asio::error::operation_aborted);
            task->round_keys.clear();
            task->answers = nlohmann::json::object();
            task->input_requests = nlohmann::json::object();
            const auto& requests = required["inputRequests"];
            for (auto r = requests.begin(); r != requests.end(); ++r) {
                std::string wire = r.key();
                for (int n = 2; task->issued_keys.contains(wire); ++n) wire = r.key() + "-" + std::to_string(n);
                task->issued_keys.insert(wire);
                task->round_keys[wire] = r.key();
                task->input_requests[wire] = *r;
            }
            task->request_state.reset();
            if (const auto s = required.find("requestState"); s != required.end() && s->is_string())
                task->request_state = s->get<std::string>();
            task->status = TaskStatus::input_required;
            task->status_message = "Waiting for input";
            task->touch();
        }
        for (;;) {
            std::optional<RetryInput> ready;
            {
                std::lock_guard lock(table->mutex);
                if (is_terminal(task->status)) throw std::system_error(asio::error::operation_aborted);
                if (task->input_requests.empty()) {
                    RetryInput input;
                    for (const auto& [wire, key] : task->round_keys)
                        if (const auto a = task->answers.find(wire); a != task->answers.end()) input.responses[key] = *a;
                    input.request_state = std::move(task->request_state);
                    task->request_state.reset();
                    task->round_keys.clear();
                    task->answers = nlohmann::json::object();
                    ready = std::move(input);
                }
            }
            if (ready) co_return std::move(*ready);
            task->timer.expires_after(std::chrono::hours(24));
            std::error_code ec;
            co_await task->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            const auto state = co_await asio::this_coro::cancellation_state;
            if (state.cancelled() != asio::cancellation_type::none)
                throw std::system_error(asio::error::operation_aborted);
        }
    }

    // Common part of tasks/*: Mcp-Name routing header, extension gate, task lookup.
    std::shared_ptr<detail::TaskRecord> find_task(const nlohmann::json& params, const RequestContext& context,
                                                  bool must_exist) {
        std::string task_id;
        if (const auto it = params.find("taskId"); it != params.end() && it->is_string()) task_id = it->get<std::string>();
        if (context.http_header("mcp-method")) {  // Streamable HTTP: Mcp-Name must carry the task id
            const auto raw = context.http_header("mcp-name");
            if (!raw) throw RpcError(error_code::header_mismatch, "Header mismatch: Mcp-Name header is required");
            const auto decoded = detail::decode_mcp_header_value(*raw);
            if (!decoded || *decoded != task_id)
                throw RpcError(error_code::header_mismatch, "Header mismatch: Mcp-Name does not match params.taskId");
        }
        if (!declares_tasks_extension(context.client_capabilities())) throw tasks_extension_required_error();
        if (task_id.empty()) throw RpcError(error_code::invalid_params, "Invalid params: taskId must be a non-empty string");
        std::shared_ptr<detail::TaskRecord> task;
        std::vector<std::shared_ptr<detail::TaskRecord>> expired;
        {
            std::lock_guard lock(tasks_->mutex);
            purge_tasks(*tasks_, std::numeric_limits<std::size_t>::max(), expired);
            if (const auto it = tasks_->tasks.find(task_id); it != tasks_->tasks.end()) task = it->second;
        }
        for (const auto& t : expired) signal_cancel(t);
        if (!task && must_exist) throw RpcError(error_code::invalid_params, "Task not found", {{"taskId", task_id}});
        return task;
    }

    // tasks/get: the DetailedTask.
    asio::awaitable<nlohmann::json> get_task(nlohmann::json params, RequestContext& context) {
        const auto task = find_task(params, context, true);
        nlohmann::json result;
        {
            std::lock_guard lock(tasks_->mutex);
            result = task_json(*task, true);
        }
        result["resultType"] = "complete";
        co_return result;
    }

    // tasks/update: delivers inputResponses to an input_required task; an empty ack.
    asio::awaitable<nlohmann::json> update_task(nlohmann::json params, RequestContext& context) {
        const auto task = find_task(params, context, false);
        const auto responses = params.find("inputResponses");
        if (responses == params.end() || !responses->is_object())
            throw RpcError(error_code::invalid_params, "Invalid params: inputResponses must be an object");
        for (auto r = responses->begin(); r != responses->end(); ++r)
            if (!r->is_object())
                throw RpcError(error_code::invalid_params, "Invalid params: inputResponses." + r.key() + " must be an object");
        bool wake = false;
        if (task) {
            std::lock_guard lock(tasks_->mutex);
            if (task->status == TaskStatus::input_required) {
                for (auto r = responses->begin(); r != responses->end(); ++r) {
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
        }
        if (wake) asio::post(task->executor, [task] { task->timer.cancel(); });
        nlohmann::json ack = nlohmann::json::object();
        ack["resultType"] = "complete";
        co_return ack;
    }

    // tasks/cancel: cancels a task that has not finished; an empty ack either way.
    asio::awaitable<nlohmann::json> cancel_task(nlohmann::json params, RequestContext& context) {
        const auto task = find_task(params, context, true);
        bool cancel = false;
        {
            std::lock_guard lock(tasks_->mutex);
            if (!is_terminal(task->status)) {
                task->status = TaskStatus::cancelled;
                task->status_message = "The task was cancelled";
                task->input_requests = nlohmann::json::object();
                task->touch();
                cancel = true;
            }
        }
        if (cancel) signal_cancel(task);
        nlohmann::json ack = nlohmann::json::object();
        ack["resultType"] = "complete";
        co_return ack;
    }

    // The dispatcher's handler for `method` of `component`, a member of this Server
    // (which outlives every transport run using the dispatcher). It returns the
    // method's awaitable itself: no coroutine frame of its own.
    template <class Component, class Method>
    static Dispatcher::RequestHandler serve(Component& component, Method method) {
        return [&component, method](nlohmann::json params, RequestContext& context) {
            return (component.*method)(std::move(params), context);
        };
    }

    void add_tool_entry(Tool tool, ToolCallHandler handler) {
        catalog_.tools.put(std::make_shared<const detail::ToolEntry>(detail::ToolEntry{std::move(tool), std::move(handler)}));
        changes_.list_changed(detail::ListKind::tools);
    }

    // Announces the removal of an entry of `kind` when there was one; returns `erased`.
    bool removed(bool erased, detail::ListKind kind) {
        if (erased) changes_.list_changed(kind);
        return erased;
    }

    // `server/discover`, from the settings of the dispatcher installed into last.
    asio::awaitable<nlohmann::json> discover(nlohmann::json, RequestContext& context) {
        co_return detail::discover(*dispatcher_, context, options_);
    }

    // Declaration order is construction order: the pieces below refer to `options_` and
    // to each other, never to the Server.
    ServerOptions options_;
    Dispatcher* dispatcher_ = nullptr;
    detail::Catalog catalog_;
    detail::ResourceSubscriptions subscriptions_{options_.max_subscriptions_per_session};
    detail::ChangeNotifier changes_{options_.list_changed};
    detail::Listing listing_{catalog_, options_};
    detail::ResourceReads resource_reads_{catalog_, options_};
    detail::PromptGets prompt_gets_{catalog_.prompts, options_};
    detail::Completion completion_{catalog_};
    // Shared with running task coroutines, which never touch the Server itself.
    std::shared_ptr<TaskTable> tasks_ = std::make_shared<TaskTable>();
};

}  // namespace mcpsse
