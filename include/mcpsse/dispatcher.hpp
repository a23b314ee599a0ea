// mcpsse: the JSON-RPC 2.0 dispatcher: method name -> host handler coroutine.
#pragma once

#include <mcpsse/protocol_version.hpp>
#include <mcpsse/detail/util/string_hash.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mcpsse {

class RequestContext;

/// The name and version a server reports in `initialize` and `server/discover`
/// (MCP `Implementation`).
struct ServerInfo {
    /// Programmatic name of the server.
    std::string name = "mcpsse-server";
    /// Version string of the server.
    std::string version = "0.1.0";
    /// Optional human-readable title; omitted when empty.
    std::string title;
};

/// Settings of a `Dispatcher`.
struct DispatcherOptions {
    /// Reported to clients as `serverInfo`.
    ServerInfo server_info;
    /// Session-based protocol revisions accepted by `initialize`, preferred first. A
    /// client's requested revision is echoed when listed, else the first entry is
    /// answered (MCP basic/lifecycle, version negotiation).
    std::vector<std::string> protocol_versions{
        std::string{protocol_version::v2025_11_25}, std::string{protocol_version::v2025_06_18},
        std::string{protocol_version::v2025_03_26}, std::string{protocol_version::v2024_11_05}};
    /// Server capabilities advertised by the built-in `initialize` (an object).
    nlohmann::json capabilities = nlohmann::json::object({{"logging", nlohmann::json::object()}});
    /// Optional `instructions` for the client's model; omitted when empty.
    std::string instructions;
    /// Default time a server-to-client request waits for the client's answer, in ms,
    /// when `RequestContext::async_request` is given none.
    std::chrono::milliseconds request_timeout{60'000};
};

/// Maps JSON-RPC method names to the host's handler coroutines.
///
/// The host registers handlers before a transport runs; transports then look them up
/// concurrently. Built in, and replaceable by registering the same name: `ping`
/// (answers `{}`), `initialize` (version negotiation as described in
/// `DispatcherOptions::protocol_versions`) and `logging/setLevel` (filters
/// `RequestContext::async_log`). `notifications/cancelled` is always handled by mcpsse
/// (it cancels the named request) and then passed to a host handler if one exists.
///
/// Thread-safety: registration is not thread-safe and must finish before any transport
/// runs with this dispatcher; afterwards all const members may be used from any thread.
/// The dispatcher must outlive every transport run that uses it.
class Dispatcher {
public:
    /// A request handler: receives `params` (an empty object when the request had none)
    /// and the request's context; returns the `result` member. Throwing `RpcError`
    /// answers with that error; any other exception answers `internal_error` (-32603).
    /// Handlers of one session run on that session's executor (its strand, or the one
    /// thread of its context), except in `SseTransport`'s share-nothing mode, where a
    /// Streamable HTTP request runs on its connection's thread and handlers of one
    /// session may run at the same time (batches and legacy HTTP+SSE requests still run
    /// on the session's executor).
    using RequestHandler =
        std::function<asio::awaitable<nlohmann::json>(nlohmann::json params, RequestContext& context)>;
    /// A notification handler; its exceptions are swallowed (notifications get no reply).
    /// It runs on the session's executor, in share-nothing mode possibly while request
    /// handlers of the same session run on other threads.
    using NotificationHandler =
        std::function<asio::awaitable<void>(nlohmann::json params, RequestContext& context)>;

    /// Creates a dispatcher with `options` and the built-in `ping` handler.
    explicit Dispatcher(DispatcherOptions options = {}) : options_(std::move(options)) {
        on_request("ping", [](nlohmann::json, RequestContext&) -> asio::awaitable<nlohmann::json> {
            co_return nlohmann::json::object();
        });
    }

    /// Registers (or replaces) the handler for requests named `method`.
    void on_request(std::string method, RequestHandler handler) {
        requests_.insert_or_assign(std::move(method), std::move(handler));
    }

    /// Registers (or replaces) the handler for notifications named `method`.
    void on_notification(std::string method, NotificationHandler handler) {
        notifications_.insert_or_assign(std::move(method), std::move(handler));
    }

    /// Sets the handler for requests whose method has no handler of its own (`on_request`),
    /// `initialize` and `logging/setLevel` included, which mcpsse otherwise answers
    /// itself: message-level access for a proxy or bridge, which reads the method from
    /// `RequestContext::method()` and forwards the request (see `Session`). What it
    /// returns is the `result`; an `RpcError` it throws reaches the client with its code,
    /// message and data. An empty function removes it (unknown methods are then answered
    /// with `method_not_found`, -32601). Not thread-safe, like `on_request`.
    void set_request_fallback(RequestHandler handler) { request_fallback_ = std::move(handler); }

    /// Sets the handler for notifications whose method has no handler of its own
    /// (`on_notification`); mcpsse still acts on `notifications/cancelled` and
    /// `notifications/initialized` before calling it. An empty function removes it.
    /// Not thread-safe, like `on_notification`.
    void set_notification_fallback(NotificationHandler handler) { notification_fallback_ = std::move(handler); }

    /// The handler for requests named `method` (the fallback when none is registered),
    /// or nullptr.
    [[nodiscard]] const RequestHandler* find_request_handler(std::string_view method) const {
        const auto it = requests_.find(method);
        if (it != requests_.end()) return &it->second;
        return request_fallback_ ? &request_fallback_ : nullptr;
    }

    /// The handler for notifications named `method` (the fallback when none is
    /// registered), or nullptr.
    [[nodiscard]] const NotificationHandler* find_notification_handler(
        std::string_view method) const {
        const auto it = notifications_.find(method);
        if (it != notifications_.end()) return &it->second;
        return notification_fallback_ ? &notification_fallback_ : nullptr;
    }

    /// The scopes (OAuth, RFC 6749 section 3.3) a request needs, from its method and
    /// `params`; an empty list when it needs none beyond the transport's own
    /// (`AuthorizationOptions::required_scopes`).
    using ScopeRule = std::function<std::vector<std::string>(std::string_view method, const nlohmann::json& params)>;

    /// Sets the rule an authorizing `SseTransport` applies to every request before
    /// dispatching it: a principal lacking a scope it returns gets 403 with
    /// `error="insufficient_scope"` (nothing of the POST is dispatched). `mcpsse::Server`
    /// sets it from the scopes of its tools, resources and prompts. Not thread-safe,
    /// like `on_request`; the rule itself runs concurrently on the transport's threads.
    void set_scope_rule(ScopeRule rule) { scope_rule_ = std::move(rule); }

    /// The rule set by `set_scope_rule` (empty when none).
    [[nodiscard]] const ScopeRule& scope_rule() const noexcept { return scope_rule_; }

    /// The names of all registered request methods (unordered).
    [[nodiscard]] std::vector<std::string> request_methods() const {
        std::vector<std::string> names;
        names.reserve(requests_.size());
        for (const auto& entry : requests_) names.push_back(entry.first);
        return names;
    }

    /// The dispatcher's settings. Change them only before transports run.
    [[nodiscard]] DispatcherOptions& options() noexcept { return options_; }
    /// The dispatcher's settings.
    [[nodiscard]] const DispatcherOptions& options() const noexcept { return options_; }

    /// True when `version` is one of the session-based revisions this dispatcher accepts.
    [[nodiscard]] bool supports_protocol_version(std::string_view version) const {
        for (const auto& v : options_.protocol_versions)
            if (v == version) return true;
        return false;
    }

private:
    template <class Handler>
    using Table = detail::StringMap<Handler>;

    DispatcherOptions options_;
    Table<RequestHandler> requests_;
    Table<NotificationHandler> notifications_;
    RequestHandler request_fallback_;
    NotificationHandler notification_fallback_;
    ScopeRule scope_rule_;
};

}  // namespace mcpsse

#include <mcpsse/request_context.hpp>
