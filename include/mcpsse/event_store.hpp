// mcpsse: where resumable SSE events are kept for replay after Last-Event-ID.
#pragma once

#include <mcpsse/detail/event_id.hpp>

#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mcpsse {

/// The id of one event on a resumable stream: which stream of the session it belongs to
/// and its position there, written `<stream>-<sequence>` (MCP Streamable HTTP,
/// resumability: R1 unique per session, R2 encodes its stream).
using EventId = detail::EventId;

/// A store of sent SSE events, so that a client reconnecting with `Last-Event-ID` gets
/// exactly the events of that stream it missed (MCP Streamable HTTP R3, R4).
///
/// A model `S` provides, all callable concurrently from several threads:
/// - `append(session_id, id, message)`: keep `message` (one serialized JSON-RPC
///   message) as event `id` of session `session_id`;
/// - `replay_after(session_id, id, visit) -> bool`: call `visit(EventId, std::string_view)`
///   for each kept event of stream `id.stream` with a sequence greater than
///   `id.sequence`, in order; return false when the store cannot replay from `id`
///   (unknown session, or events after `id` were already evicted), true otherwise;
/// - `erase(session_id)`: forget the session's events (the session ended).
/// `SseTransport` calls `append` from the thread that sends the event, before it is
/// written; one stream's events are appended in order, but different streams of one
/// session may append at once (from several threads in share-nothing mode).
template <class S>
concept EventStore = requires(S& store, const std::string& session_id, EventId id, std::string message,
                              const std::function<void(EventId, std::string_view)>& visit) {
    store.append(session_id, id, std::move(message));
    { store.replay_after(session_id, id, visit) } -> std::same_as<bool>;
    store.erase(session_id);
};

/// Limits of an `InMemoryEventStore`, per session.
struct InMemoryEventStoreLimits {
    /// Events kept per session (count); the oldest go first.
    std::size_t max_events = 1024;
    /// Bytes of message text kept per session; the oldest events go first.
    std::size_t max_bytes = 1024 * 1024;
};

/// The default `EventStore`: a bounded log of recent events per session in memory.
///
/// When a session's log exceeds `max_events` or `max_bytes`, its oldest events are
/// evicted; replaying from before an evicted event of the same stream returns false.
/// Thread-safety: all members are safe to call concurrently (one mutex, held briefly).
class InMemoryEventStore {
public:
    /// Creates a store with `limits` per session.
    explicit InMemoryEventStore(InMemoryEventStoreLimits limits = {}) : limits_(limits) {}

    /// Moves the kept events of `other` (so a store can be handed to a transport).
    InMemoryEventStore(InMemoryEventStore&& other) noexcept : limits_(other.limits_) {
        std::lock_guard lock(other.mutex_);
        logs_ = std::move(other.logs_);
    }
    InMemoryEventStore& operator=(InMemoryEventStore&&) = delete;

    /// Keeps `message` as event `id` of `session_id`, evicting the oldest events over the limits.
    void append(const std::string& session_id, EventId id, std::string message) {
        std::lock_guard lock(mutex_);
        Log& log = logs_[session_id];
        log.bytes += message.size();
        log.events.push_back({id, std::move(message)});
        while (!log.events.empty() && (log.events.size() > limits_.max_events || log.bytes > limits_.max_bytes)) {
            const Entry& oldest = log.events.front();
            log.bytes -= oldest.message.size();
            auto& floor = log.evicted_up_to[oldest.id.stream];
            if (oldest.id.sequence > floor) floor = oldest.id.sequence;
            log.events.pop_front();
        }
    }

    /// Visits the kept events of stream `id.stream` after `id.sequence`, in order.
    /// False when the session is unknown or an event after `id` was evicted.
    bool replay_after(const std::string& session_id, EventId id,
                      const std::function<void(EventId, std::string_view)>& visit) {
        std::lock_guard lock(mutex_);
        const auto it = logs_.find(session_id);
        if (it == logs_.end()) return false;
        if (const auto f = it->second.evicted_up_to.find(id.stream);
            f != it->second.evicted_up_to.end() && f->second > id.sequence)
            return false;
        for (const Entry& entry : it->second.events)
            if (entry.id.stream == id.stream && entry.id.sequence > id.sequence) visit(entry.id, entry.message);
        return true;
    }

    /// Forgets every event of `session_id`.
    void erase(const std::string& session_id) {
        std::lock_guard lock(mutex_);
        logs_.erase(session_id);
    }

    /// Number of sessions with kept events (for tests and metrics).
    [[nodiscard]] std::size_t session_count() const {
        std::lock_guard lock(mutex_);
        return logs_.size();
    }

private:
    struct Entry {
        EventId id;
        std::string message;
    };
    struct Log {
        std::deque<Entry> events;
        std::size_t bytes = 0;
        std::unordered_map<std::uint64_t, std::uint64_t> evicted_up_to;  // stream -> highest evicted sequence
    };

    InMemoryEventStoreLimits limits_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Log> logs_;
};

static_assert(EventStore<InMemoryEventStore>);

}  // namespace mcpsse
