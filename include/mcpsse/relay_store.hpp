// mcpsse: the RelayStore concept: a shared store through which transport instances hand
// each other the messages whose stream another instance holds.
#pragma once

#include <mcpsse/failover_store.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpsse {

/// A message one transport instance hands to another through a `RelayStore` (MCP
/// Streamable HTTP: a JSON-RPC message bound for a stream another instance holds).
///
/// Thread-safety: a plain value.
struct RelayedMessage {
    /// What the message is, and so what the receiving instance does with it.
    enum class Kind {
        /// A client's JSON-RPC response (or error response) to a server-to-client
        /// request (`sampling/createMessage`, `elicitation/create`, ...) that another
        /// instance sent: handed to the request waiting there.
        response,
        /// A notification for one session's standalone stream, which the receiving
        /// instance holds (`SseSession::notify`, `SseTransport::notify`).
        notification,
        /// A notification for the standalone streams of every session
        /// (`SseTransport::broadcast` without a filter): each instance delivers it to
        /// the streams it holds.
        broadcast,
        /// The logging level the client of a session set (`logging/setLevel`; the
        /// message is the level's name): each instance holding the session adopts it.
        logging_level,
        /// A client's `notifications/cancelled` for a request of the session that did
        /// not run where it arrived (the message is the request id as JSON): the
        /// instance running it cancels it.
        cancellation,
        /// The session's standalone stream moved to the sending instance (its client
        /// resumed it there, MCP Streamable HTTP R3-R4): the receiving instance ends
        /// its own connection to that stream, if it still has one, so that each
        /// message travels on one stream only. The message is the id (`EventId`
        /// text) of the last event of the receiver's stream that the sender read and
        /// sends: the receiver relays it what it stored after that event (empty:
        /// nothing to pass on).
        stream_moved,
    };
    /// What the message is.
    Kind kind = Kind::notification;
    /// The instance that sent it (its tag as 8 lower-case hex digits, see `EventId`).
    std::string origin;
    /// The session it is for (empty for a broadcast).
    std::string session_id;
    /// The serialized JSON-RPC message.
    std::string message;
    /// Set by a receiver for a message read from its instance's own inbox: the store's
    /// id of that entry, for `async_remove_relayed` once the message is delivered
    /// (empty for a broadcast, and in a message to send).
    std::string inbox_entry;
    /// Equal when every member is.
    friend bool operator==(const RelayedMessage&, const RelayedMessage&) = default;
};

/// What one transport instance relayed (`RelayStore`), for `Metrics::set_relay_source`.
///
/// Thread-safety: a plain value.
struct RelayStats {
    /// Messages this instance handed to the others (answers, notifications, broadcasts,
    /// cancellations, logging levels), counted when handed to the store.
    std::uint64_t sent = 0;
    /// Messages from other instances delivered here (to a waiting request, a stream, a
    /// session's copy, or a running request's cancellation).
    std::uint64_t delivered = 0;
};

/// What `RelayStore::async_relay_notification` did with a notification for a session's
/// standalone stream (MCP Streamable HTTP: a server-initiated message travels on the
/// session's GET stream, wherever that lives).
///
/// Thread-safety: a plain value.
enum class NotificationRelay {
    /// No instance is recorded as holding the stream: dropped (as at one instance,
    /// where a session without a standalone stream gets no notification).
    dropped,
    /// Appended to the inbox of the live instance holding the stream.
    relayed,
    /// The holder's lease is gone (it died or stopped): stored as the next event of
    /// its standalone stream, which the client gets when it resumes that stream at a
    /// live instance (MCP Streamable HTTP R3-R4).
    stored,
    /// The sending instance holds the stream itself: nothing written.
    holder_is_sender,
};

/// Who held a session's standalone stream before a GET attached to it at this instance
/// (`RelayStore::async_attach_stream`), when that is another instance that still holds
/// its lease; `instance` is empty otherwise (none, this one, or a gone instance). Used
/// to keep one standalone GET stream per session across instances (MCP Streamable
/// HTTP, "Listening for Messages from the Server": the server sends each message on
/// one stream only).
///
/// Thread-safety: a plain value.
struct FormerStreamHolder {
    /// The other instance's name (its tag as 8 lower-case hex digits), or empty.
    std::string instance;
    /// True when a GET was attached to the stream there.
    bool attached = false;
    /// Equal when every member is.
    friend bool operator==(const FormerStreamHolder&, const FormerStreamHolder&) = default;
};

/// Where a reader of relayed messages stands: the last entries it read of its own inbox
/// and of the shared broadcast log (store-specific ids; empty: from the start of its
/// inbox, and from now on for broadcasts).
///
/// Thread-safety: a plain value.
struct RelayCursor {
    /// The last inbox entry read (empty: none yet).
    std::string inbox;
    /// The last broadcast entry read (empty: none yet; the first read starts at the
    /// newest one, so broadcasts sent before the reader started are not delivered).
    std::string broadcast;
};

/// A `FailoverStore` that also relays messages between transport instances, so that a
/// message reaches the instance holding the stream it must travel on (MCP Streamable
/// HTTP: a session's POSTs may land on any instance behind a round-robin balancer, but
/// a stream lives in one process). `SseTransport<Executor, Store>` with such a store:
/// - reads its inbox (and the broadcasts) while it runs, with a receiver of its own
///   (`make_relay_receiver()`), and delivers what it reads: responses to its waiting
///   server-to-client requests, notifications to the standalone streams it holds;
/// - issues server-to-client request ids as strings `<tag>-<n>` (its instance tag, 8
///   hex digits), and relays a client's response carrying another instance's tag to
///   that instance's inbox;
/// - records which instance holds a session's standalone stream, and whether a GET is
///   attached to it there (`async_attach_stream`, `async_detach_stream`): a GET
///   without `Last-Event-ID` for a session whose stream is attached at another live
///   instance is refused with 409, as at one instance, while a resumption takes the
///   stream over; the former holder (attached or not) is told (`stream_moved`, once
///   the new holder read its stream), ends its connection if it has one, passes on
///   what it stored in the stream after the new holder's read, and relays the
///   session's notifications to the new holder from then on;
///   a notification for a session whose standalone stream it does not hold is relayed
///   to the holder;
/// - relays an unfiltered `broadcast` to every instance (one write), each delivering it
///   to the sessions it holds standalone streams of;
/// - keeps the logging level a client sets (`logging/setLevel`) with the session
///   (`async_save_logging_level`) and relays it to every instance, so log notifications
///   are filtered alike wherever a request runs;
/// - relays a client's `notifications/cancelled` for a request not running where it
///   arrived to every instance; the one running it cancels it.
/// The store keeps each relayed message (a log, not a fire-and-forget channel): a
/// receiver reads every message after its cursor, once, in order.
///
/// A model `S` provides, besides `FailoverStore`'s operations, all callable concurrently
/// from several threads, each taking an Asio completion token:
/// - `async_relay(instance, message, token)`, `void(std::error_code)`: append `message`
///   to the inbox of `instance` (a tag as 8 hex digits) if that instance holds its
///   lease (`instance:<instance>`), else drop it (a made-up name creates nothing);
/// - `async_relay_broadcast(message, token)`, `void(std::error_code)`: append it to the
///   broadcasts every instance reads;
/// - `async_remove_relayed(instance, entries, token)`, `void(std::error_code)`: remove
///   the entries (`RelayedMessage::inbox_entry`) from the inbox of `instance`, which
///   delivered them; applied after every operation this store started before it (a
///   delivered notification's event is kept first). What stays in the inbox of an
///   instance that died was never delivered: `async_attach_stream` and
///   `async_relay_notification` move a session's such notifications into its stream
///   once that instance's lease is gone;
/// - `async_save_logging_level(session_id, level, token)`, `void(std::error_code)`:
///   keep the level's name with the session, for `SessionRecord::logging_level` of
///   later loads;
/// - `async_attach_stream(session_id, instance, stream, take_over, token)`,
///   `void(std::error_code, FormerStreamHolder)`: record that a GET is attached at
///   `instance` to the session's standalone stream, numbered `stream` there, and that
///   `instance` is its holder; complete with the former holder when that is another
///   live instance (one that holds its lease; a dead instance's record does not
///   count). When that instance has a GET attached and `take_over` is false, nothing
///   is written (the attach is refused). When the former holder is an instance whose
///   lease is gone, the session's notifications left in its inbox are moved into its
///   standalone stream first, as its next events (for a resumption that takes it
///   over);
/// - `async_detach_stream(session_id, instance, token)`, `void(std::error_code)`: the
///   GET attached at `instance` ended; `instance` stays the holder (for the session's
///   life, unless another instance attaches), the mark of another instance is kept;
/// - `async_relay_notification(session_id, instance, message, token)`,
///   `void(std::error_code, NotificationRelay)`: route a notification sent at
///   `instance` to the session's standalone stream, in one atomic step with respect
///   to `async_attach_stream`: to the holder's inbox while it holds its lease, else
///   into the holder's stream as its next event (so a client resuming that stream at
///   a live instance gets it);
/// - `async_stream_holder(session_id, token)`, `void(std::error_code,
///   std::optional<std::string>)`: the instance holding the stream (nullopt: none
///   recorded);
/// - `async_sync(token)`, `void(std::error_code)`: complete once every operation
///   started on this store before it was applied (the answer to `logging/setLevel`
///   waits for it, so the other instances have the level first);
/// - `make_relay_receiver()`: a `std::shared_ptr` to a receiver `R` with
///   `async_receive(instance, cursor, token)`, `void(std::error_code,
///   std::vector<RelayedMessage>)`, which waits a short while (store-defined, at most
///   a few seconds) for messages after `cursor` (a `RelayCursor&` that it advances;
///   it must outlive the operation) in the inbox of `instance` and the broadcasts, and
///   completes with them (possibly none); and `close()`, which ends a waiting
///   `async_receive` with an error and fails later ones.
template <class S>
concept RelayStore = FailoverStore<S> &&
    requires(S& store, const std::string& text, RelayedMessage message, RelayCursor& cursor) {
        { store.async_relay(text, message, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
        { store.async_relay_broadcast(message, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
        {
            store.async_remove_relayed(text, std::vector<std::string>{}, asio::use_awaitable)
        } -> std::same_as<asio::awaitable<void>>;
        {
            store.async_attach_stream(text, text, std::uint64_t{}, true, asio::use_awaitable)
        } -> std::same_as<asio::awaitable<FormerStreamHolder>>;
        {
            store.async_relay_notification(text, text, text, asio::use_awaitable)
        } -> std::same_as<asio::awaitable<NotificationRelay>>;
        { store.async_detach_stream(text, text, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
        { store.async_save_logging_level(text, text, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
        { store.async_sync(asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
        {
            store.async_stream_holder(text, asio::use_awaitable)
        } -> std::same_as<asio::awaitable<std::optional<std::string>>>;
        {
            store.make_relay_receiver()->async_receive(text, cursor, asio::use_awaitable)
        } -> std::same_as<asio::awaitable<std::vector<RelayedMessage>>>;
        store.make_relay_receiver()->close();
    };

}  // namespace mcpsse
