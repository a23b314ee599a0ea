// mcpsse: where resumable SSE events are kept for replay after Last-Event-ID.
#pragma once

#include <mcpsse/event_id.hpp>

#include <concepts>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mcpsse {

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

/// Limits of an `InMemoryEventStore`.
struct InMemoryEventStoreLimits {
    /// Events kept per session (count); the session's oldest go first.
    std::size_t max_events = 1024;
    /// Bytes of message text kept per session; the session's oldest events go first.
    std::size_t max_bytes = 1024 * 1024;
    /// Bytes of message text kept across all sessions; the oldest events of any session
    /// go first. Bounds the store whatever the number of sessions (without it, 10,000
    /// sessions at `max_bytes` could keep 10 GiB).
    std::size_t max_total_bytes = 256 * 1024 * 1024;
};

/// What an event store holds and has evicted, for metrics (`Metrics::set_event_store_source`).
struct EventStoreStats {
    /// Events kept across all sessions (count).
    std::uint64_t events = 0;
    /// Bytes of message text kept across all sessions.
    std::uint64_t bytes = 0;
    /// Events evicted over the limits since the store was created (count; events
    /// forgotten because their session ended are not evictions).
    std::uint64_t evictions = 0;
};

/// The default `EventStore`: a bounded log of recent events per session in memory.
///
/// When a session's log exceeds `max_events` or `max_bytes`, or the whole store exceeds
/// `max_total_bytes`, the oldest events are evicted; replaying a stream from before one
/// of its evicted events returns false (the transport then refuses the resumption rather
/// than resume with a gap). What it remembers of evicted streams is bounded too: when a
/// session has had events evicted from more than `2 * max_events` streams, it forgets
/// the streams that have no event left, and replaying any forgotten stream returns false.
/// Thread-safety: all members are safe to call concurrently (one mutex, held briefly).
class InMemoryEventStore {
public:
    /// Creates a store with `limits`.
    explicit InMemoryEventStore(InMemoryEventStoreLimits limits = {}) : limits_(limits) {}

    /// Moves the kept events of `other` (so a store can be handed to a transport).
    InMemoryEventStore(InMemoryEventStore&& other) noexcept : limits_(other.limits_) {
        std::lock_guard lock(other.mutex_);
        logs_ = std::move(other.logs_);  // nodes move with their addresses: fronts_ stays valid
        fronts_ = std::move(other.fronts_);
        next_serial_ = other.next_serial_;
        total_bytes_ = std::exchange(other.total_bytes_, 0);
        total_events_ = std::exchange(other.total_events_, 0);
        evictions_ = std::exchange(other.evictions_, 0);
    }
    InMemoryEventStore& operator=(InMemoryEventStore&&) = delete;

    /// Keeps `message` as event `id` of `session_id`, evicting the oldest events over the limits.
    void append(const std::string& session_id, EventId id, std::string message) {
        std::lock_guard lock(mutex_);
        Log& log = logs_[session_id];
        const std::uint64_t serial = next_serial_++;
        if (log.events.empty()) fronts_.emplace(serial, &log);
        log.bytes += message.size();
        total_bytes_ += message.size();
        ++total_events_;
        log.events.push_back({id, serial, std::move(message)});
        while (!log.events.empty() && (log.events.size() > limits_.max_events || log.bytes > limits_.max_bytes))
            evict_oldest(log);
        while (total_bytes_ > limits_.max_total_bytes && !fronts_.empty()) evict_oldest(*fronts_.begin()->second);
    }

    /// Visits the kept events of stream `id.stream` after `id.sequence`, in order.
    /// False when the session is unknown or an event after `id` was evicted.
    bool replay_after(const std::string& session_id, EventId id,
                      const std::function<void(EventId, std::string_view)>& visit) {
        std::lock_guard lock(mutex_);
        const auto it = logs_.find(session_id);
        if (it == logs_.end()) return false;
        const Log& log = it->second;
        if (const auto f = log.evicted_up_to.find(id.stream); f != log.evicted_up_to.end()) {
            if (f->second > id.sequence) return false;
        } else if (id.stream <= log.forgotten_up_to) {
            return false;  // its eviction record was pruned: it cannot be told complete
        }
        for (const Entry& entry : log.events)
            if (entry.id.stream == id.stream && entry.id.sequence > id.sequence) visit(entry.id, entry.message);
        return true;
    }

    /// Forgets every event of `session_id`.
    void erase(const std::string& session_id) {
        std::lock_guard lock(mutex_);
        const auto it = logs_.find(session_id);
        if (it == logs_.end()) return;
        if (!it->second.events.empty()) fronts_.erase({it->second.events.front().serial, &it->second});
        total_bytes_ -= it->second.bytes;
        total_events_ -= it->second.events.size();
        logs_.erase(it);
    }

    /// Number of sessions with kept events (for tests and metrics).
    [[nodiscard]] std::size_t session_count() const {
        std::lock_guard lock(mutex_);
        return logs_.size();
    }

    /// Bytes of message text kept across all sessions (for tests and metrics).
    [[nodiscard]] std::size_t total_bytes() const {
        std::lock_guard lock(mutex_);
        return total_bytes_;
    }

    /// Events and bytes kept across all sessions, and evictions so far (for metrics).
    [[nodiscard]] EventStoreStats stats() const {
        std::lock_guard lock(mutex_);
        EventStoreStats s;
        s.events = total_events_;
        s.bytes = total_bytes_;
        s.evictions = evictions_;
        return s;
    }

private:
    struct Entry {
        EventId id;
        std::uint64_t serial;  // order of appends across the store
        std::string message;
    };
    struct Log {
        std::deque<Entry> events;
        std::size_t bytes = 0;
        std::unordered_map<std::uint64_t, std::uint64_t> evicted_up_to;  // stream -> highest evicted sequence
        std::uint64_t forgotten_up_to = 0;  // streams up to this one may have lost their record
    };

    // Evicts `log`'s oldest event (the log is not empty).
    void evict_oldest(Log& log) {
        const Entry& oldest = log.events.front();
        fronts_.erase({oldest.serial, &log});
        log.bytes -= oldest.message.size();
        total_bytes_ -= oldest.message.size();
        --total_events_;
        ++evictions_;
        auto& floor = log.evicted_up_to[oldest.id.stream];
        if (oldest.id.sequence > floor) floor = oldest.id.sequence;
        log.events.pop_front();
        if (!log.events.empty()) fronts_.emplace(log.events.front().serial, &log);
        if (log.evicted_up_to.size() > 2 * std::max<std::size_t>(limits_.max_events, 1)) prune(log);
    }

    // Forgets the eviction record of streams with no event left (amortized: it halves the record).
    static void prune(Log& log) {
        std::unordered_set<std::uint64_t> live;
        for (const Entry& entry : log.events) live.insert(entry.id.stream);
        for (auto it = log.evicted_up_to.begin(); it != log.evicted_up_to.end();) {
            if (live.contains(it->first)) {
                ++it;
            } else {
                log.forgotten_up_to = std::max(log.forgotten_up_to, it->first);
                it = log.evicted_up_to.erase(it);
            }
        }
    }

    InMemoryEventStoreLimits limits_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Log> logs_;
    std::set<std::pair<std::uint64_t, Log*>> fronts_;  // each non-empty log by its oldest event's serial
    std::uint64_t next_serial_ = 0;
    std::size_t total_bytes_ = 0;
    std::size_t total_events_ = 0;
    std::uint64_t evictions_ = 0;
};

static_assert(EventStore<InMemoryEventStore>);

}  // namespace mcpsse
