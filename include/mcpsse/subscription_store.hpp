// mcpsse: SubscriptionStore, where a `Server` keeps the resource subscriptions of
// session-based clients, so that every server instance sharing the sessions knows them.
#pragma once

#include <asio/awaitable.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace mcpsse {

/// A store of resource subscriptions (`resources/subscribe`, before 2026-07-28) shared by
/// several `Server` instances whose transports share sessions (e.g. through Redis), whose
/// operations may suspend. Set `ServerOptions::subscription_store` to use one; a `Server`
/// then
/// - records each `resources/subscribe` there too (and in its own table, which
///   `Server::is_subscribed` reads), and answers only once the store did (a failure
///   answers -32603); `resources/unsubscribe` likewise;
/// - gives `Server::async_subscribers` from the store, so `async_serve` sends
///   `notifications/resources/updated` to every session subscribed at any instance, each
///   through the instance holding its standalone stream (`SseTransport::notify`);
/// - forgets a session's subscriptions in the store when the client ends the session
///   (DELETE), not when the session leaves one instance (idle timeout, stop).
///
/// Implements the server side of MCP server/resources "Subscriptions"
/// (`resources/subscribe`, `resources/unsubscribe`, `notifications/resources/updated`)
/// across instances.
///
/// Errors: the operations report failures by throwing (e.g. `std::system_error`); the
/// client's `resources/subscribe` or `resources/unsubscribe` is then answered -32603,
/// and a `resources/updated` is not sent (nothing is retried).
/// Thread-safety: implementations must accept calls from several threads at once; each
/// coroutine runs on the caller's executor.
class SubscriptionStore {
public:
    virtual ~SubscriptionStore() = default;

    /// Records that session `session_id` subscribed to `uri`, unless it holds
    /// `max_per_session` other subscriptions already: true when recorded (or already
    /// there), false at the limit (nothing changed).
    virtual asio::awaitable<bool> async_subscribe(std::string session_id, std::string uri,
                                                  std::size_t max_per_session) = 0;

    /// Forgets that session `session_id` subscribed to `uri` (nothing when it did not).
    virtual asio::awaitable<void> async_unsubscribe(std::string session_id, std::string uri) = 0;

    /// The sessions subscribed to `uri`, in no particular order.
    virtual asio::awaitable<std::vector<std::string>> async_subscribers(std::string uri) = 0;

    /// Forgets every subscription of session `session_id`.
    virtual asio::awaitable<void> async_forget_session(std::string session_id) = 0;
};

}  // namespace mcpsse
