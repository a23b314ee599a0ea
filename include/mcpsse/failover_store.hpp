// mcpsse: the FailoverStore concept: a shared store through which one instance answers
// for the streams of another instance that died.
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/lease.hpp>
#include <mcpsse/session_store.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>

namespace mcpsse {

/// A store shared by several transport instances (an `AsyncEventStore` and a
/// `SessionStore`, e.g. `RedisStore`) that also keeps leases and which request each
/// POST stream answers, so that an instance can tell that another one died with
/// requests in flight. `SseTransport<Executor, Store>` with such a store:
/// - holds a lease named `instance:<tag>` for as long as it runs (the tag is the
///   random high half of its stream numbers, see `EventId`): taken at start, renewed
///   every `instance_lease_ttl() / 3`, released when the run ends. An instance killed
///   without stopping loses it `instance_lease_ttl()` after its last renewal. Its
///   readiness path answers 503 `not_ready` while it does not hold the lease;
/// - records, when a POST's response turns into an SSE stream, the JSON-RPC id of the
///   request the stream answers (`async_note_stream_request`, not awaited);
/// - when a client resumes (`GET` with `Last-Event-ID`) a stream of another instance
///   whose lease is gone, and the stored events hold no response to the stream's
///   request, replays them followed by a JSON-RPC error response to that request
///   (-32603, "the server instance answering this request stopped"), which it also
///   stores, so the client's request ends instead of waiting for ever (MCP Streamable
///   HTTP, "Resumability and Redelivery"). A standalone stream of another instance
///   (gone or not) is replayed, then goes on as a standalone stream of the resuming
///   instance in the same response. While the other instance's lease holds and the request has no
///   response yet, a resumption with nothing new to replay waits (polling the store
///   every `SseTransportOptions::failover_resume_poll`, at most `failover_resume_wait`)
///   for the stream's next events, or for the lease to
///   lapse (then the error above); with still nothing to send it answers an event
///   carrying the `Last-Event-ID` and no data (revisions with priming events), so the
///   client keeps its place and asks again.
///
/// A model `S` provides, all callable concurrently from several threads, each taking an
/// Asio completion token:
/// - `async_acquire_lease(name, owner, ttl, token)`, `void(std::error_code,
///   std::optional<Lease>)`: the lease for `owner` if free (or already `owner`'s),
///   else nullopt; `async_renew_lease(name, lease, ttl, token)` and
///   `async_release_lease(name, lease, token)`, `void(std::error_code, bool)`: only
///   while that grant holds it; `async_lease_holder(name, token)`,
///   `void(std::error_code, std::optional<Lease>)`;
/// - `async_note_stream_request(session_id, stream, request_id, token)`,
///   `void(std::error_code)`: keep `request_id` (the id as JSON text) for stream
///   `stream` of the session, as long as the session's events;
///   `async_stream_request(session_id, stream, token)`, `void(std::error_code,
///   std::optional<std::string>)`: what was kept (nullopt: nothing, e.g. a standalone
///   stream);
/// - `instance_lease_ttl()`: the life of an instance's lease between renewals, as
///   `std::chrono::milliseconds`.
template <class S>
concept FailoverStore = AsyncEventStore<S> && SessionStore<S> &&
    requires(S& store, const std::string& text, std::uint64_t stream, const Lease& lease, std::chrono::milliseconds ttl) {
        { store.async_acquire_lease(text, text, ttl, asio::use_awaitable) } -> std::same_as<asio::awaitable<std::optional<Lease>>>;
        { store.async_renew_lease(text, lease, ttl, asio::use_awaitable) } -> std::same_as<asio::awaitable<bool>>;
        { store.async_release_lease(text, lease, asio::use_awaitable) } -> std::same_as<asio::awaitable<bool>>;
        { store.async_lease_holder(text, asio::use_awaitable) } -> std::same_as<asio::awaitable<std::optional<Lease>>>;
        { store.async_note_stream_request(text, stream, text, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
        {
            store.async_stream_request(text, stream, asio::use_awaitable)
        } -> std::same_as<asio::awaitable<std::optional<std::string>>>;
        { store.instance_lease_ttl() } -> std::convertible_to<std::chrono::milliseconds>;
    };

}  // namespace mcpsse
