// mcpsse: an optional feature layer over `Dispatcher`: tools, resources, prompts,
// completion, subscriptions and multi-round-trip requests, for every protocol revision.
//
// This header is the facade: `Server` owns one object per concern and wires their
// methods into a `Dispatcher`. The concerns live in <mcpsse/detail/server/...>:
//   catalog.hpp, registry.hpp        what is registered (one mutex per kind)
//   listing.hpp, pagination.hpp      tools/list, resources/list, ... with cursors
//   tool_calls.hpp, param_headers.hpp  tools/call and its Mcp-Param-* check
//   resource_reads.hpp, prompt_gets.hpp, completion.hpp  the other catalog methods
//   input_rounds.hpp, request_state.hpp  multi-round-trip requests, sealed state (bound to
//                                    the principal under authorization)
//   capability_scopes.hpp            OAuth scopes of tools, resources, prompts: listings and
//                                    the scope rule an authorizing transport applies
//   task_service.hpp, task_table.hpp, task_runner.hpp  the tasks extension
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
#include <mcpsse/detail/server/capability_scopes.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/change_notifier.hpp>
#include <mcpsse/detail/server/completion.hpp>
#include <mcpsse/detail/server/discovery.hpp>
#include <mcpsse/detail/server/listing.hpp>
#include <mcpsse/detail/server/prompt_gets.hpp>
#include <mcpsse/detail/server/request_state.hpp>
#include <mcpsse/detail/server/resource_reads.hpp>
#include <mcpsse/detail/server/subscriptions.hpp>
#include <mcpsse/detail/server/task_service.hpp>
#include <mcpsse/detail/server/tool_calls.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <string_view>
#include <utility>

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
/// `Server`, until `TaskOptions::ttl` after their creation; a task coroutine holds
/// what it needs (not the `Server`) and ends with its `io_context`. With
/// `TaskOptions::store` their states are also shared with other instances (see
/// `TaskStore`).
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
        dispatcher.set_scope_rule(detail::CapabilityScopes(catalog_));
        dispatcher.on_request("tools/list", serve(listing_, &detail::Listing::tools));
        dispatcher.on_request("resources/list", serve(listing_, &detail::Listing::resources));
        dispatcher.on_request("resources/templates/list", serve(listing_, &detail::Listing::templates));
        dispatcher.on_request("prompts/list", serve(listing_, &detail::Listing::prompts));
        dispatcher.on_request("tools/call", serve(tool_calls_, &detail::ToolCalls::call));
        dispatcher.on_request("resources/read", serve(resource_reads_, &detail::ResourceReads::read));
        dispatcher.on_request("prompts/get", serve(prompt_gets_, &detail::PromptGets::get));
        dispatcher.on_request("resources/subscribe", serve(subscriptions_, &detail::ResourceSubscriptions::subscribe));
        dispatcher.on_request("resources/unsubscribe", serve(subscriptions_, &detail::ResourceSubscriptions::unsubscribe));
        if (options_.completions)
            dispatcher.on_request("completion/complete", serve(completion_, &detail::Completion::complete));
        dispatcher.on_request("server/discover", serve(*this, &Server::discover));
        dispatcher.on_request("subscriptions/listen", serve(changes_, &detail::ChangeNotifier::listen));
        if (options_.tasks.enabled) {
            dispatcher.on_request("tasks/get", serve(tasks_, &detail::TaskService::get));
            dispatcher.on_request("tasks/update", serve(tasks_, &detail::TaskService::update));
            dispatcher.on_request("tasks/cancel", serve(tasks_, &detail::TaskService::cancel));
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

    /// Forgets what `session_id` subscribed to here (call when the session ends; the
    /// `on_session_close` of `SseTransportOptions` is the place). Thread-safe. Leaves a
    /// `SubscriptionStore` alone (the session may go on at another instance): see
    /// `async_forget_shared_session`.
    void forget_session(std::string_view session_id) { subscriptions_.forget_session(session_id); }

    /// True when resource subscriptions are shared (`ServerOptions::subscription_store`).
    [[nodiscard]] bool shares_subscriptions() const noexcept { return subscriptions_.shared(); }

    /// The sessions subscribed to `uri` with `resources/subscribe`: every instance's,
    /// from the `SubscriptionStore` when there is one (throws what it throws, e.g.
    /// `std::system_error`), else this `Server`'s. Thread-safe; runs on the caller's
    /// executor. (MCP server/resources, "Subscriptions".)
    asio::awaitable<std::vector<std::string>> async_subscribers(std::string uri) const {
        return subscriptions_.async_subscribers(std::move(uri));
    }

    /// Forgets every subscription of `session_id` in the `SubscriptionStore` (nothing
    /// without one): the client ended the session (DELETE). Throws what the store throws.
    /// Thread-safe.
    asio::awaitable<void> async_forget_shared_session(std::string session_id) const {
        return subscriptions_.async_forget_shared(std::move(session_id));
    }

    /// Number of open `subscriptions/listen` streams.
    [[nodiscard]] std::size_t listener_count() const { return changes_.listener_count(); }

    /// Number of tasks currently kept (running, waiting for input, or finished and not
    /// yet expired). Thread-safe.
    [[nodiscard]] std::size_t task_count() const { return tasks_.count(); }

    /// Ends every open `subscriptions/listen` stream with its final result, e.g. before a
    /// graceful transport stop. New listen requests are still accepted.
    void close_listeners() { changes_.close_listeners(); }

private:
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
    detail::ResourceSubscriptions subscriptions_{options_.max_subscriptions_per_session, options_.subscription_store};
    detail::ChangeNotifier changes_{options_.list_changed};
    detail::TaskService tasks_{options_.tasks, options_.max_input_rounds};
    detail::Listing listing_{catalog_, options_};
    detail::ToolCalls tool_calls_{catalog_.tools, tasks_, options_};
    detail::ResourceReads resource_reads_{catalog_, options_};
    detail::PromptGets prompt_gets_{catalog_.prompts, options_};
    detail::Completion completion_{catalog_};
};

}  // namespace mcpsse
