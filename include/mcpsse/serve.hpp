// mcpsse: serving a Server on any transport, with its notifications wired.
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/server.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/transport.hpp>
#include <mcpsse/transport_observer.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>

namespace mcpsse {

namespace detail {

// Ends a session's resource subscriptions with the session.
class ForgetEndedSessions final : public TransportObserver {
public:
    explicit ForgetEndedSessions(Server& server) : server_(server) {}
    ObserverInterests interests() const noexcept override { return {false, false, false}; }  // session ends only
    void on_session_close(const SessionInfo& session, SessionEndReason) override { server_.forget_session(session.id); }

private:
    Server& server_;
};

// HTTP transports: change notifications go to the sessions' standalone streams
// (resources/updated only to sessions subscribed to that resource).
template <class T>
concept BroadcastingTransport = requires(T& t, const std::string& method, const nlohmann::json& params) {
    t.broadcast(method, params, [](const SseSession<>&) { return true; });
    t.add_observer(std::shared_ptr<TransportObserver>{});
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
/// to the sessions subscribed to that resource; on stdio, to the one client), ends a
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
        transport.add_observer(std::make_shared<detail::ForgetEndedSessions>(server));
        server.on_change([&transport, &server](const std::string& method, const nlohmann::json& params) {
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
