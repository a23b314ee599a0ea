// mcpsse: serving a Server on any transport, with its notifications wired.
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/server.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/transport.hpp>
#include <mcpsse/transport_observer.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <nlohmann/json.hpp>

#include <concepts>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse {

namespace detail {

// Ends a session's resource subscriptions with the session: here whenever it ends here,
// in the server's SubscriptionStore (if any) only when the client ended it (DELETE).
class ForgetEndedSessions final : public TransportObserver {
public:
    ForgetEndedSessions(Server& server, asio::any_io_executor executor) : server_(server), executor_(std::move(executor)) {}
    ObserverInterests interests() const noexcept override { return {false, false, false}; }  // session ends only
    void on_session_close(const SessionInfo& session, SessionEndReason reason) override {
        server_.forget_session(session.id);
        if (reason != SessionEndReason::deleted || !server_.shares_subscriptions()) return;
        asio::co_spawn(
            executor_,
            [](Server& server, std::string id) -> asio::awaitable<void> {
                try {
                    co_await server.async_forget_shared_session(std::move(id));
                } catch (const std::exception&) {
                    // The store keeps them until it drops them on its own (expiry).
                }
            }(server_, std::string(session.id)),
            asio::detached);
    }

private:
    Server& server_;
    asio::any_io_executor executor_;
};

// Sends `notifications/resources/updated` to every session subscribed to its uri at any
// instance (Server::async_subscribers from the SubscriptionStore), each through the
// transport's notify(session_id, ...), which reaches the instance holding the session's
// standalone stream.
template <class T>
asio::awaitable<void> notify_shared_subscribers(Server& server, T& transport, std::string method, nlohmann::json params) {
    std::vector<std::string> sessions;
    try {
        std::string uri = params.value("uri", std::string());
        sessions = co_await server.async_subscribers(std::move(uri));
    } catch (const std::exception&) {
        co_return;  // the store failed: as with a notification to a stream that closed
    }
    for (const auto& id : sessions) transport.notify(id, method, params);
}

// HTTP transports: change notifications go to the sessions' standalone streams
// (resources/updated only to sessions subscribed to that resource).
template <class T>
concept BroadcastingTransport = requires(T& t, const std::string& method, const nlohmann::json& params) {
    t.broadcast(method, params, [](const SseSession<>&) { return true; });
    t.add_observer(std::shared_ptr<TransportObserver>{});
    { t.get_executor() } -> std::convertible_to<asio::any_io_executor>;
};

// Transports that reach a session by id wherever its stream is (SseTransport).
template <class T>
concept SessionNotifyingTransport = requires(T& t, const std::string& method, const nlohmann::json& params) {
    { t.notify(std::string_view(), method, params) } -> std::same_as<bool>;
};

// One-client transports (stdio): notifications go to the client.
template <class T>
concept NotifyingTransport = requires(T& t, const std::string& method, const nlohmann::json& params) {
    t.notify(method, params);
};

}  // namespace detail

/// Serves `server` on `transport` until the transport stops: installs the server's
/// methods on `dispatcher` (`Server::install`), delivers its change notifications
/// (`notifications/*/list_changed` to every session, `notifications/resources/updated`
/// to the sessions subscribed to that resource: with a `SubscriptionStore`, every
/// instance's subscribers, each through `SseTransport::notify`; on stdio, to the one
/// client), ends a
/// session's subscriptions when the session ends, then runs `transport.async_run
/// (dispatcher, token)` (completion signature `void(std::exception_ptr)`). To stop, call
/// `stop_serving(server, transport)`, which first closes the server's 2026-07-28
/// `subscriptions/listen` streams so that the stop does not wait for them.
///
/// `server`, `dispatcher` and `transport` must outlive the run; call it once per
/// transport, before the transport runs (with one `Server` on several transports, each
/// gets the notifications). Works with any `Transport` that has `broadcast` and
/// `add_observer` (`SseTransport`) or `notify` (`StdioTransport`).
template <Transport T, class CompletionToken>
    requires detail::BroadcastingTransport<T> || detail::NotifyingTransport<T>
auto async_serve(Server& server, Dispatcher& dispatcher, T& transport, CompletionToken&& token) {
    server.install(dispatcher);
    if constexpr (detail::BroadcastingTransport<T>) {
        transport.add_observer(std::make_shared<detail::ForgetEndedSessions>(server, transport.get_executor()));
        server.on_change([&transport, &server](const std::string& method, const nlohmann::json& params) {
            if constexpr (detail::SessionNotifyingTransport<T>)
                if (method == "notifications/resources/updated" && server.shares_subscriptions()) {
                    asio::co_spawn(transport.get_executor(), detail::notify_shared_subscribers(server, transport, method, params),
                                   asio::detached);
                    return;
                }
            if (method == "notifications/resources/updated") {
                const std::string uri = params.value("uri", std::string());
                transport.broadcast(method, params,
                                    [&](const SseSession<>& session) { return server.is_subscribed(session.id(), uri); });
            } else {
                transport.broadcast(method, params);
            }
        });
    } else {
        server.on_change([&transport, &server](const std::string& method, const nlohmann::json& params) {
            // The stdio client's session has no id.
            if (method == "notifications/resources/updated" &&
                !server.is_subscribed({}, params.value("uri", std::string())))
                return;
            transport.notify(method, params);
        });
    }
    return transport.async_run(dispatcher, std::forward<CompletionToken>(token));
}

/// Stops what `async_serve` runs: closes the server's `subscriptions/listen` streams,
/// then `transport.stop()`. Safe from any thread.
template <class T>
void stop_serving(Server& server, T& transport) {
    server.close_listeners();
    transport.stop();
}

}  // namespace mcpsse
