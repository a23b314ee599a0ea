// mcpsse: the AsyncEventStore concept: an event store whose operations may suspend.
#pragma once

#include <mcpsse/event_id.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <concepts>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace mcpsse {

/// One event kept by an event store: its id and its serialized JSON-RPC message.
///
/// Thread-safety: a plain value.
struct StoredEvent {
    /// The event's id (stream and sequence).
    EventId id;
    /// The event's data: one serialized JSON-RPC message.
    std::string message;

    /// Equal when id and message are.
    friend bool operator==(const StoredEvent&, const StoredEvent&) = default;
};

/// What `async_replay_after` finds: the events after the given id, in order, or nullopt
/// when the store cannot replay from it (unknown session, or events after it were
/// evicted), which the transport answers as it does a gap (410, or -32051 on a POST's
/// stream; MCP Streamable HTTP R3, R4).
using ReplayResult = std::optional<std::vector<StoredEvent>>;

/// An event store whose operations may suspend (a store on another machine, e.g. Redis,
/// shared by several instances), the asynchronous counterpart of `EventStore`.
/// `SseTransport<Executor, Store>` accepts a model of either concept.
///
/// A model `S` provides, all callable concurrently from several threads, each taking an
/// Asio completion token (completion signatures below):
/// - `async_append(session_id, id, message, token)`, `void(std::error_code)`: keep
///   `message` as event `id` of session `session_id`. The transport starts one stream's
///   appends in the order of their sequence numbers and does not wait for them (the
///   event is written to the client meanwhile); the store must apply them in that order.
///   An error is not reported to the client: the event can then not be replayed.
/// - `async_replay_after(session_id, id, token)`, `void(std::error_code, ReplayResult)`:
///   the kept events of stream `id.stream` with a sequence greater than `id.sequence`, in
///   order (an error counts as nullopt). It must include every append that completed
///   before the replay was started; appends still in progress may be missing;
/// - `async_erase(session_id, token)`, `void(std::error_code)`: forget the session's
///   events (the session ended).
///
/// While an append has not completed, the transport keeps its own copy of the event, so
/// a resumption in this process replays it even if the store has not applied it yet;
/// replays are checked for gaps (a missing sequence is refused, never skipped).
template <class S>
concept AsyncEventStore = requires(S& store, const std::string& session_id, EventId id, std::string message) {
    { store.async_append(session_id, id, std::move(message), asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
    {
        store.async_replay_after(session_id, id, asio::use_awaitable)
    } -> std::same_as<asio::awaitable<ReplayResult>>;
    { store.async_erase(session_id, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
};

}  // namespace mcpsse
