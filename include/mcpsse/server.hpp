// mcpsse: an optional feature layer over `Dispatcher`: tools, resources, prompts,
// completion, subscriptions and multi-round-trip requests, for every protocol revision.
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
#include <mcpsse/detail/util/base64.hpp>
#include <mcpsse/detail/util/iso8601.hpp>
#include <mcpsse/detail/util/merge_extra.hpp>
#include <mcpsse/detail/util/sha256.hpp>
#include <mcpsse/detail/server/change_notifier.hpp>
#include <mcpsse/detail/server/input_rounds.hpp>
#include <mcpsse/detail/server/param_headers.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/request_state.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/server/subscriptions.hpp>
#include <mcpsse/detail/server/task_id.hpp>
#include <mcpsse/detail/server/task_record.hpp>
#include <mcpsse/detail/server/uri_template.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
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
    /// Creates an empty server with `options`.
    explicit Server(ServerOptions options = {}) : options_(std::move(options)) {
        if (options_.state_key.empty()) options_.state_key = detail::random_state_key();
    }

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
        return erase_entry(tools_, [&](const auto& e) { return e->tool.name == name; }, detail::ListKind::tools);
    }

    /// Adds (or replaces, by URI) a resource with a fixed URI.
    void add_resource(Resource resource, ResourceHandler handler) {
        auto entry = std::make_shared<const ResourceEntry>(ResourceEntry{std::move(resource), std::move(handler)});
        upsert(resources_, std::move(entry), [](const auto& a, const auto& b) { return a->resource.uri == b->resource.uri; });
        changes_.list_changed(detail::ListKind::resources);
    }

    /// Removes the resource `uri`; false when there was none.
    bool remove_resource(std::string_view uri) {
        return erase_entry(resources_, [&](const auto& e) { return e->resource.uri == uri; }, detail::ListKind::resources);
    }

    /// Adds (or replaces, by template) a resource template; `completers` suggest values
    /// for its variables (`completion/complete` with `ref/resource`).
    void add_resource_template(ResourceTemplate resource_template, ResourceHandler handler,
                               std::map<std::string, Completer> completers = {}) {
        auto entry = std::make_shared<const TemplateEntry>(
            TemplateEntry{std::move(resource_template), std::move(handler), std::move(completers)});
        upsert(templates_, std::move(entry), [](const auto& a, const auto& b) {
            return a->resource_template.uri_template == b->resource_template.uri_template;
        });
        changes_.list_changed(detail::ListKind::resources);
    }

    /// Adds (or replaces, by name) a prompt; `completers` suggest values for its
    /// arguments (`completion/complete` with `ref/prompt`).
    void add_prompt(Prompt prompt, PromptHandler handler, std::map<std::string, Completer> completers = {}) {
        auto entry = std::make_shared<const PromptEntry>(
            PromptEntry{std::move(prompt), std::move(handler), std::move(completers)});
        upsert(prompts_, std::move(entry), [](const auto& a, const auto& b) { return a->prompt.name == b->prompt.name; });
        changes_.list_changed(detail::ListKind::prompts);
    }

    /// Removes the prompt `name`; false when there was none.
    bool remove_prompt(std::string_view name) {
        return erase_entry(prompts_, [&](const auto& e) { return e->prompt.name == name; }, detail::ListKind::prompts);
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
        merge_capabilities(dispatcher.options().capabilities);
        dispatcher.on_request("tools/list", [this](nlohmann::json params, RequestContext& context)
                                                -> asio::awaitable<nlohmann::json> {
            nlohmann::json result = tools_page(params, lists_task_support(context));
            detail::finish_cacheable_result(result, context, options_);
            co_return result;
        });
        dispatcher.on_request("resources/list", list_handler(&Server::resources_page, "resources"));
        dispatcher.on_request("resources/templates/list",
                              list_handler(&Server::templates_page, "resourceTemplates"));
        dispatcher.on_request("prompts/list", list_handler(&Server::prompts_page, "prompts"));
        dispatcher.on_request("tools/call", member(&Server::call_tool));
        dispatcher.on_request("resources/read", member(&Server::read_resource));
        dispatcher.on_request("prompts/get", member(&Server::get_prompt));
        dispatcher.on_request("resources/subscribe", serve(subscriptions_, &detail::ResourceSubscriptions::subscribe));
        dispatcher.on_request("resources/unsubscribe", serve(subscriptions_, &detail::ResourceSubscriptions::unsubscribe));
        if (options_.completions) dispatcher.on_request("completion/complete", member(&Server::complete));
        dispatcher.on_request("server/discover", member(&Server::discover));
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
    struct ToolEntry {
        Tool tool;
        ToolCallHandler handler;
    };
    struct ResourceEntry {
        Resource resource;
        ResourceHandler handler;
    };
    struct TemplateEntry {
        ResourceTemplate resource_template;
        ResourceHandler handler;
        std::map<std::string, Completer> completers;
    };
    struct PromptEntry {
        Prompt prompt;
        PromptHandler handler;
        std::map<std::string, Completer> completers;
    };
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

    // The handler calling `method` of `component` (a member of this Server).
    template <class Component, class Method>
    static Dispatcher::RequestHandler serve(Component& component, Method method) {
        return [&component, method](nlohmann::json params, RequestContext& context) {
            return (component.*method)(std::move(params), context);
        };
    }

    // ---- helpers ----------------------------------------------------------------------

    void add_tool_entry(Tool tool, ToolCallHandler handler) {
        auto entry = std::make_shared<const ToolEntry>(ToolEntry{std::move(tool), std::move(handler)});
        upsert(tools_, std::move(entry), [](const auto& a, const auto& b) { return a->tool.name == b->tool.name; });
        changes_.list_changed(detail::ListKind::tools);
    }

    template <class Entry, class Same>
    void upsert(std::vector<std::shared_ptr<const Entry>>& list, std::shared_ptr<const Entry> entry, Same same) {
        std::lock_guard lock(mutex_);
        const auto it = std::find_if(list.begin(), list.end(), [&](const auto& e) { return same(e, entry); });
        if (it != list.end()) *it = std::move(entry);
        else list.push_back(std::move(entry));
    }

    template <class Entry, class Pred>
    bool erase_entry(std::vector<std::shared_ptr<const Entry>>& list, Pred pred, detail::ListKind kind) {
        {
            std::lock_guard lock(mutex_);
            const auto it = std::find_if(list.begin(), list.end(), pred);
            if (it == list.end()) return false;
            list.erase(it);
        }
        changes_.list_changed(kind);
        return true;
    }

    template <class Entry>
    std::vector<std::shared_ptr<const Entry>> snapshot(const std::vector<std::shared_ptr<const Entry>>& list) const {
        std::lock_guard lock(mutex_);
        return list;
    }

    void merge_capabilities(nlohmann::json& capabilities) const {
        if (!capabilities.is_object()) capabilities = nlohmann::json::object();
        auto ensure = [&](const char* name) -> nlohmann::json& {
            auto& slot = capabilities[name];
            if (!slot.is_object()) slot = nlohmann::json::object();
            return slot;
        };
        auto set_default = [](nlohmann::json& object, const char* key, bool value) {
            if (!object.contains(key)) object[key] = value;
        };
        auto& tools = ensure("tools");
        auto& resources = ensure("resources");
        auto& prompts = ensure("prompts");
        if (options_.list_changed) {
            set_default(tools, "listChanged", true);
            set_default(resources, "listChanged", true);
            set_default(prompts, "listChanged", true);
        }
        set_default(resources, "subscribe", true);
        if (options_.completions) ensure("completions");
        ensure("logging");
        if (options_.tasks.enabled) {
            auto& extensions = ensure("extensions");
            if (!extensions.contains(std::string(tasks_extension)))
                extensions[std::string(tasks_extension)] = nlohmann::json::object();
        }
    }

    static std::size_t parse_cursor(const nlohmann::json& params) {
        const auto it = params.find("cursor");
        if (it == params.end() || it->is_null()) return 0;
        if (!it->is_string()) throw RpcError(error_code::invalid_params, "Invalid params: cursor must be a string");
        const auto& text = it->get_ref<const std::string&>();
        std::size_t offset = 0;
        if (text.size() < 2 || text[0] != 'o' || text.size() > 20) throw RpcError(error_code::invalid_params, "Invalid cursor");
        for (std::size_t i = 1; i < text.size(); ++i) {
            if (text[i] < '0' || text[i] > '9') throw RpcError(error_code::invalid_params, "Invalid cursor");
            offset = offset * 10 + static_cast<std::size_t>(text[i] - '0');
        }
        return offset;
    }

    template <class Entry, class Describe>
    nlohmann::json page(const std::vector<std::shared_ptr<const Entry>>& all, const nlohmann::json& params,
                        const char* key, Describe describe) const {
        const std::size_t offset = parse_cursor(params);
        if (offset > all.size()) throw RpcError(error_code::invalid_params, "Invalid cursor");
        const std::size_t count = options_.page_size == 0 ? all.size() - offset
                                                          : std::min(options_.page_size, all.size() - offset);
        nlohmann::json items = nlohmann::json::array();
        for (std::size_t i = offset; i < offset + count; ++i) items.push_back(describe(*all[i]));
        nlohmann::json result = {{key, std::move(items)}};
        if (offset + count < all.size()) result["nextCursor"] = "o" + std::to_string(offset + count);
        return result;
    }

    // `with_task_support`: add `execution.taskSupport` for task-supporting tools.
    nlohmann::json tools_page(const nlohmann::json& params, bool with_task_support) const {
        return page(snapshot(tools_), params, "tools", [with_task_support](const ToolEntry& e) {
            nlohmann::json item = {{"name", e.tool.name}, {"inputSchema", e.tool.input_schema}};
            if (!e.tool.title.empty()) item["title"] = e.tool.title;
            if (!e.tool.description.empty()) item["description"] = e.tool.description;
            if (!e.tool.output_schema.is_null()) item["outputSchema"] = e.tool.output_schema;
            if (!e.tool.annotations.is_null()) item["annotations"] = e.tool.annotations;
            detail::merge_extra(item, e.tool.extra);
            if (with_task_support && e.tool.task_support != TaskSupport::forbidden && !item.contains("execution"))
                item["execution"] = {
                    {"taskSupport", e.tool.task_support == TaskSupport::required ? "required" : "optional"}};
            return item;
        });
    }

    // Task support is listed to clients that use the extension: 2026-07-28 requests, or
    // clients that declared it (a session's `initialize` capabilities).
    bool lists_task_support(const RequestContext& context) const {
        return options_.tasks.enabled &&
               (detail::stateless(context) || declares_tasks_extension(context.client_capabilities()));
    }
    nlohmann::json resources_page(const nlohmann::json& params) const {
        return page(snapshot(resources_), params, "resources", [](const ResourceEntry& e) {
            nlohmann::json item = {{"uri", e.resource.uri}, {"name", e.resource.name}};
            if (!e.resource.title.empty()) item["title"] = e.resource.title;
            if (!e.resource.description.empty()) item["description"] = e.resource.description;
            if (!e.resource.mime_type.empty()) item["mimeType"] = e.resource.mime_type;
            detail::merge_extra(item, e.resource.extra);
            return item;
        });
    }
    nlohmann::json templates_page(const nlohmann::json& params) const {
        return page(snapshot(templates_), params, "resourceTemplates", [](const TemplateEntry& e) {
            const auto& t = e.resource_template;
            nlohmann::json item = {{"uriTemplate", t.uri_template}, {"name", t.name}};
            if (!t.title.empty()) item["title"] = t.title;
            if (!t.description.empty()) item["description"] = t.description;
            if (!t.mime_type.empty()) item["mimeType"] = t.mime_type;
            detail::merge_extra(item, t.extra);
            return item;
        });
    }
    nlohmann::json prompts_page(const nlohmann::json& params) const {
        return page(snapshot(prompts_), params, "prompts", [](const PromptEntry& e) {
            nlohmann::json item = {{"name", e.prompt.name}};
            if (!e.prompt.title.empty()) item["title"] = e.prompt.title;
            if (!e.prompt.description.empty()) item["description"] = e.prompt.description;
            if (!e.prompt.arguments.empty()) {
                nlohmann::json args = nlohmann::json::array();
                for (const auto& a : e.prompt.arguments) {
                    nlohmann::json arg = {{"name", a.name}, {"required", a.required}};
                    if (!a.description.empty()) arg["description"] = a.description;
                    args.push_back(std::move(arg));
                }
                item["arguments"] = std::move(args);
            }
            detail::merge_extra(item, e.prompt.extra);
            return item;
        });
    }

    using PageFn = nlohmann::json (Server::*)(const nlohmann::json&) const;
    Dispatcher::RequestHandler list_handler(PageFn fn, const char*) {
        return [this, fn](nlohmann::json params, RequestContext& context) -> asio::awaitable<nlohmann::json> {
            nlohmann::json result = (this->*fn)(params);
            detail::finish_cacheable_result(result, context, options_);
            co_return result;
        };
    }

    // ---- method handlers --------------------------------------------------------------

    asio::awaitable<nlohmann::json> call_tool(nlohmann::json params, RequestContext& context) {
        ToolCall call{detail::required_string(params, "name"), detail::take_optional_object(params, "arguments"), RetryInput{}, {}, false};
        std::shared_ptr<const ToolEntry> entry;
        {
            std::lock_guard lock(mutex_);
            for (const auto& e : tools_)
                if (e->tool.name == call.name) entry = e;
        }
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
    asio::awaitable<nlohmann::json> run_tool(std::shared_ptr<const ToolEntry> entry, ToolCall call,
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
    asio::awaitable<nlohmann::json> start_task(std::shared_ptr<const ToolEntry> entry, ToolCall call,
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
                                          std::shared_ptr<const ToolEntry> entry, ToolCall call, RequestContext context,
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

    asio::awaitable<nlohmann::json> read_resource(nlohmann::json params, RequestContext& context) {
        ResourceRead read;
        read.uri = detail::required_string(params, "uri");
        ResourceHandler handler;
        {
            std::lock_guard lock(mutex_);
            for (const auto& e : resources_)
                if (e->resource.uri == read.uri) handler = e->handler;
        }
        // Templates are matched outside mutex_, on a snapshot of the (immutable) entries:
        // a match takes time linear in the URI, which may be megabytes long.
        if (!handler)
            for (const auto& e : snapshot(templates_)) {
                std::map<std::string, std::string> variables;
                if (detail::match_uri_template(e->resource_template.uri_template, read.uri, variables)) {
                    handler = e->handler;
                    read.variables = std::move(variables);
                    break;
                }
            }
        // SEP-2164: an unknown resource is -32602 with the URI in `data` (2026-07-28);
        // earlier revisions used -32002.
        if (!handler)
            throw RpcError(detail::stateless(context) ? error_code::invalid_params : error_code::resource_not_found,
                           "Resource not found", {{"uri", read.uri}});
        RetryInput input = detail::retry_input(params);
        auto attempt = [&](const RetryInput& in) { return handler(ResourceRead{read.uri, read.variables, in}, context); };
        nlohmann::json result = co_await detail::run_rounds(input, context, options_.max_input_rounds, attempt);
        if (result.is_array()) result = nlohmann::json{{"contents", std::move(result)}};
        if (!is_input_required(result)) {
            const auto contents = result.find("contents");
            if (contents == result.end() || !contents->is_array() || contents->empty())
                throw RpcError(detail::stateless(context) ? error_code::invalid_params : error_code::resource_not_found,
                               "Resource not found", {{"uri", read.uri}});
        }
        detail::finish_cacheable_result(result, context, options_);
        co_return result;
    }

    asio::awaitable<nlohmann::json> get_prompt(nlohmann::json params, RequestContext& context) {
        PromptGet get;
        get.name = detail::required_string(params, "name");
        get.arguments = detail::optional_object(params, "arguments");
        std::shared_ptr<const PromptEntry> entry;
        {
            std::lock_guard lock(mutex_);
            for (const auto& e : prompts_)
                if (e->prompt.name == get.name) entry = e;
        }
        if (!entry) throw RpcError(error_code::invalid_params, "Unknown prompt: " + get.name, {{"name", get.name}});
        for (const auto& argument : entry->prompt.arguments)
            if (argument.required && !get.arguments.contains(argument.name))
                throw RpcError(error_code::invalid_params, "Missing required argument: " + argument.name);
        RetryInput input = detail::retry_input(params);
        auto attempt = [&](const RetryInput& in) { return entry->handler(PromptGet{get.name, get.arguments, in}, context); };
        nlohmann::json result = co_await detail::run_rounds(input, context, options_.max_input_rounds, attempt);
        detail::finish_result(result, context);
        co_return result;
    }

    asio::awaitable<nlohmann::json> complete(nlohmann::json params, RequestContext& context) {
        const auto ref = detail::optional_object(params, "ref");
        const auto argument = detail::optional_object(params, "argument");
        const auto type = ref.value("type", std::string());
        const auto name = detail::required_string(argument, "name");
        const auto value = argument.value("value", std::string());
        const auto context_arguments = detail::optional_object(detail::optional_object(params, "context"), "arguments");
        Completer completer;
        {
            std::lock_guard lock(mutex_);
            bool found = false;
            if (type == "ref/prompt") {
                const auto prompt_name = ref.value("name", std::string());
                for (const auto& e : prompts_)
                    if (e->prompt.name == prompt_name) {
                        found = true;
                        if (const auto c = e->completers.find(name); c != e->completers.end()) completer = c->second;
                    }
            } else if (type == "ref/resource") {
                const auto uri = ref.value("uri", std::string());
                for (const auto& e : templates_)
                    if (e->resource_template.uri_template == uri) {
                        found = true;
                        if (const auto c = e->completers.find(name); c != e->completers.end()) completer = c->second;
                    }
                for (const auto& e : resources_)
                    if (e->resource.uri == uri) found = true;
            } else {
                throw RpcError(error_code::invalid_params, "Invalid params: unknown ref type");
            }
            if (!found) throw RpcError(error_code::invalid_params, "Invalid params: unknown reference");
        }
        std::vector<std::string> values;
        if (completer) values = completer(value, context_arguments);
        const std::size_t total = values.size();
        if (values.size() > 100) values.resize(100);
        nlohmann::json completion = {{"values", values}, {"total", total}, {"hasMore", total > values.size()}};
        nlohmann::json result = {{"completion", std::move(completion)}};
        detail::finish_result(result, context);
        co_return result;
    }

    asio::awaitable<nlohmann::json> discover(nlohmann::json, RequestContext& context) {
        if (!detail::stateless(context) || !dispatcher_) throw RpcError(error_code::method_not_found, "Method not found");
        const auto& options = dispatcher_->options();
        nlohmann::json versions = nlohmann::json::array();
        versions.push_back(std::string(context.protocol_version()));
        for (const auto& v : options.protocol_versions)
            if (std::find(versions.begin(), versions.end(), nlohmann::json(v)) == versions.end()) versions.push_back(v);
        nlohmann::json server_info = {{"name", options.server_info.name}, {"version", options.server_info.version}};
        if (!options.server_info.title.empty()) server_info["title"] = options.server_info.title;
        nlohmann::json result = {
            {"supportedVersions", std::move(versions)},
            {"capabilities", options.capabilities.is_object() ? options.capabilities : nlohmann::json::object()},
            {"_meta", {{std::string(meta_key::server_info), std::move(server_info)}}}};
        if (!options.instructions.empty()) result["instructions"] = options.instructions;
        detail::finish_cacheable_result(result, context, options_);
        co_return result;
    }

    ServerOptions options_;
    Dispatcher* dispatcher_ = nullptr;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<const ToolEntry>> tools_;
    std::vector<std::shared_ptr<const ResourceEntry>> resources_;
    std::vector<std::shared_ptr<const TemplateEntry>> templates_;
    std::vector<std::shared_ptr<const PromptEntry>> prompts_;
    detail::ResourceSubscriptions subscriptions_{options_.max_subscriptions_per_session};
    detail::ChangeNotifier changes_{options_.list_changed};
    // Shared with running task coroutines, which never touch the Server itself.
    std::shared_ptr<TaskTable> tasks_ = std::make_shared<TaskTable>();
};

}  // namespace mcpsse
