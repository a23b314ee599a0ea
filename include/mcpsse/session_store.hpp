// mcpsse: the SessionStore concept: the shared record of a Streamable HTTP session, so
// that another transport (another port, another process) can serve its requests.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <string>
#include <utility>

namespace mcpsse {

/// What a session needs to go on at another transport: the state `initialize` set up.
/// (Streams, requests in flight and server-to-client requests stay with the transport
/// that holds them.)
///
/// Thread-safety: a plain value.
struct SessionRecord {
    /// The session id (`Mcp-Session-Id`).
    std::string id;
    /// The negotiated protocol revision, e.g. "2025-11-25".
    std::string protocol_version;
    /// The client's `capabilities` from `initialize` (an object).
    nlohmann::json client_capabilities = nlohmann::json::object();
    /// The client's `clientInfo` from `initialize` (null when it sent none).
    nlohmann::json client_info;
    /// The subject of the principal that opened the session (`Principal::subject`; empty
    /// without authorization): only requests from that subject may use it elsewhere.
    std::string subject;
    /// The logging level the client set with `logging/setLevel` (its name, e.g.
    /// "warning"); empty when it set none. Filled by stores that keep it
    /// (`RelayStore::async_save_logging_level`); not part of a save.
    std::string logging_level;
    /// Equal when every member is.
    friend bool operator==(const SessionRecord&, const SessionRecord&) = default;
};

/// What `async_load_session` finds: the record, or nullopt for an unknown session.
using SessionLookup = std::optional<SessionRecord>;

/// A store of session records shared by several transports, whose operations may
/// suspend (a store on another machine, e.g. Redis). An event store type that also
/// models this concept shares sessions too: `SseTransport<Executor, Store>` then
/// - saves a session's record once its `initialize` handler succeeded, and waits for
///   the save before the reply (with its `Mcp-Session-Id`) goes out, so that the
///   client's next request finds it at any transport sharing the store; a failed save
///   leaves the session served by this transport only;
/// - answers a request naming a session it does not hold (POST, GET, DELETE of the MCP
///   endpoint) by loading the record and serving the session from it, under the same
///   `max_sessions` cap as its own sessions (503 when full); an unknown id is 404 as
///   before (MCP Streamable HTTP, "Session Management");
/// - erases the record (and the session's events) when the client ends the session
///   with DELETE. A session that idles out at one transport, or ends when it stops,
///   leaves its record and its events to the others; a store drops them on its own
///   schedule (e.g. an expiry).
///
/// A model `S` provides, all callable concurrently from several threads, each taking an
/// Asio completion token (completion signatures below):
/// - `async_save_session(record, token)`, `void(std::error_code)`: keep `record` under
///   `record.id`, replacing an older one;
/// - `async_load_session(id, token)`, `void(std::error_code, SessionLookup)`: the record
///   kept under `id`; an error (the store could not answer) is answered 503, never 404;
/// - `async_erase_session(id, token)`, `void(std::error_code)`: forget it.
///
/// Legacy HTTP+SSE (2024-11-05) sessions are not stored: their one stream is the
/// session. Sessionless and stateless (2026-07-28) requests have no session to store.
template <class S>
concept SessionStore = requires(S& store, const std::string& id, SessionRecord record) {
    { store.async_save_session(std::move(record), asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
    { store.async_load_session(id, asio::use_awaitable) } -> std::same_as<asio::awaitable<SessionLookup>>;
    { store.async_erase_session(id, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
};

/// A `SessionStore` whose records expire unless they are renewed (e.g. Redis keys with a
/// time to live). A transport sharing its sessions through one renews a session's record
/// while the session is used: a POST or GET naming the session calls
/// `async_touch_session` when the last renewal by this transport is at least
/// `session_touch_interval()` old (the first request of a session restored here
/// renews at once; a save counts as one). The request does not wait for it, and a
/// failed renewal is not retried before the next interval. Without this, a session
/// whose requests are all answered as JSON (no stored events) would be forgotten by
/// the other instances its record's life after `initialize`, however busy it was.
///
/// Serves MCP Streamable HTTP "Session Management" across instances (a session stays
/// known everywhere while it is used).
///
/// A model `S` provides, callable concurrently from several threads:
/// - `async_touch_session(id, token)`, `void(std::error_code)`: renew the life of the
///   record kept under `id` (and of whatever expires with it);
/// - `session_touch_interval()`: the least time between two renewals of one session
///   by one transport, as `std::chrono::milliseconds` (keep it well under the
///   record's life: a session then outlives its last request by at least the life
///   minus this interval).
template <class S>
concept RenewableSessionStore = SessionStore<S> && requires(S& store, const std::string& id) {
    { store.async_touch_session(id, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
    { store.session_touch_interval() } -> std::convertible_to<std::chrono::milliseconds>;
};

}  // namespace mcpsse
