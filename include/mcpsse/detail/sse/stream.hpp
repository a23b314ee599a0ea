// mcpsse internal: one SSE stream of a session, as the sink its messages go to.
#pragma once

#include <mcpsse/detail/http/header_block.hpp>

#include <mcpsse/detail/sse/event_id.hpp>
#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/rpc/message_sink.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/async_event_store.hpp>
#include <mcpsse/json_rpc.hpp>

#include <asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// A session's access to its event store (type-erased, so that a session's state need
/// not be a template). Thread-safe like the `EventStore` or `AsyncEventStore` it wraps.
class EventLog {
public:
    virtual ~EventLog() = default;
    /// Keeps `message` as event `id` (an asynchronous store: starts keeping it).
    virtual void append(EventId id, std::string message) = 0;
    /// Visits the events of `id.stream` after `id`; false when that is impossible
    /// (always, when the store is asynchronous: see `synchronous`).
    virtual bool replay_after(EventId id, const std::function<void(EventId, std::string_view)>& visit) = 0;
    /// The events of `id.stream` after `id` in order, or nullopt when that is impossible;
    /// may suspend (an `AsyncEventStore`). The caller checks the answer for gaps.
    virtual asio::awaitable<ReplayResult> async_replay_after(EventId id) = 0;
    /// True when `replay_after` answers (an `EventStore`); false for an `AsyncEventStore`.
    [[nodiscard]] virtual bool synchronous() const noexcept { return true; }
    /// Notes that stream `stream` answers request `id` (kept by a `FailoverStore`;
    /// nothing for other stores). Does not wait.
    virtual void note_request(std::uint64_t stream, const RequestId& id) {
        (void)stream;
        (void)id;
    }
};

/// How an `SseStream` frames and keeps its events.
/// What the streams of one session sent (queued for their connections), for
/// `SseTransport::stats`. Shared by the session and its streams (a stream may outlive
/// its session); relaxed atomics.
struct StreamTraffic {
    std::atomic<std::uint64_t> events{0};
    std::atomic<std::uint64_t> bytes{0};
};

struct SseStreamConfig {
    /// Stream number within the session, encoded in event ids; 0: events carry no id
    /// and are not kept for replay.
    std::uint64_t number = 0;
    /// Legacy HTTP+SSE framing: `event: message`, no ids.
    bool legacy = false;
    /// A POST's response stream: answered as JSON unless an event precedes the reply.
    bool lazy = false;
    /// False when the stream cannot carry server-to-client requests (2026-07-28).
    bool accepts_requests = true;
    /// Bytes queued for the connection above which the consumer is too slow: the queue
    /// is dropped (kept events stay replayable) and the connection is closed, even when
    /// it is blocked writing to a peer that stopped reading.
    std::size_t max_queue_bytes = 4 * 1024 * 1024;
    /// Where the events queued for a connection are counted (null: nowhere).
    std::shared_ptr<StreamTraffic> traffic;
};

/// One SSE stream: the sink of the messages the session sends on it, the queue of
/// framed events waiting for the connection that writes them, and the link to the
/// event store for replay. The session's strand produces; the connection's strand
/// consumes; a mutex guards the hand-over, and `waker` (set by the attached
/// connection) tells the consumer there is work.
///
/// Thread-safety: all members are safe to call from any thread.
class SseStream final : public MessageSink {
public:
    /// What the consumer takes in one go.
    struct Batch {
        /// Framed SSE bytes to write, in order.
        std::string bytes;
        /// The events in `bytes` (for observers).
        std::uint64_t events = 0;
        /// No more events will come after `bytes`.
        bool finished = false;
        /// The consumer fell behind: close the connection (events stay replayable).
        bool overflowed = false;
        /// The stream switched to SSE (an event was sent before the reply).
        bool opened = false;
        /// Another consumer took the stream over (a resumption): stop consuming.
        bool superseded = false;
        /// For a lazy stream finished without opening: the JSON reply (nullopt when the
        /// request was cancelled and no reply exists).
        std::optional<std::string> json_reply;
        /// The server asked to end this connection (SSE polling); the stream goes on.
        bool drop = false;
        /// The `retry:` (ms) to send before ending the connection.
        std::optional<std::chrono::milliseconds> retry;
    };

    /// Creates a stream; `log` may be null (no replay).
    SseStream(SseStreamConfig config, std::shared_ptr<EventLog> log)
        : config_(config), log_(std::move(log)), opened_(!config.lazy) {}

    /// The stream's number (0: not resumable).
    [[nodiscard]] std::uint64_t number() const noexcept { return config_.number; }

    /// Frames and queues `message`; keeps it in the event store first when resumable.
    /// Returns false when the stream has finished, or when nothing connected could
    /// ever receive it (not attached and not resumable).
    bool send(std::string message) override { return enqueue(std::move(message)); }

    /// False for streams of a stateless exchange (see `SseStreamConfig`).
    [[nodiscard]] bool accepts_requests() const noexcept override { return config_.accepts_requests; }

    /// The request's handler finished: `reply` is its response (nullopt when cancelled).
    /// A lazy stream that never opened keeps it as the JSON reply; otherwise it is sent
    /// as the last event. No event is accepted afterwards.
    void finish(std::optional<std::string> reply) {
        std::shared_ptr<const std::function<void()>> wake;
        {
            std::lock_guard lock(mutex_);
            if (finished_) return;
            const bool was_overflowed = overflowed_;
            if (!opened_) {
                json_reply_ = std::move(reply);
            } else if (reply) {
                frame_locked(std::move(*reply));
            }
            finished_ = true;
            wake = take_waker_locked(was_overflowed);
        }
        if (wake) (*wake)();
    }

    /// Ends the stream without a reply (the session ended or the server stops).
    void close() { finish(std::nullopt); }

    /// True once the stream turned SSE (always, unless it is lazy and no event came
    /// before its reply).
    [[nodiscard]] bool opened() const {
        std::lock_guard lock(mutex_);
        return opened_;
    }

    /// True once `finish` or `close` was called.
    [[nodiscard]] bool finished() const {
        std::lock_guard lock(mutex_);
        return finished_;
    }

    /// True when the attached consumer fell behind by more than `max_queue_bytes` (until
    /// the next `attach`). The waker is called at the moment it happens, even while the
    /// consumer is blocked writing, so that it can abort the write and drop the connection.
    [[nodiscard]] bool overflowed() const {
        std::lock_guard lock(mutex_);
        return overflowed_;
    }

    /// Events the last resumption (`attach` with `resume_after`, or `release_held`)
    /// replayed.
    [[nodiscard]] std::uint64_t replayed_events() const {
        std::lock_guard lock(mutex_);
        return replayed_events_;
    }

    /// True while a connection is attached.
    [[nodiscard]] bool attached() const {
        std::lock_guard lock(mutex_);
        return attached_;
    }

    /// Attaches a consumer. With `resume_after`, first queues the stored events after it
    /// (MCP R3/R4); sets `replayed` to false when they could not be replayed. When another
    /// connection is attached: with `take_over` (a client resuming, whose old connection
    /// may be dead without the server knowing yet) that consumer is superseded and woken
    /// (its `take` reports `superseded`), else the attach is refused. Returns the new
    /// consumer's generation (non-zero, for `take` and `detach`), or 0 when refused.
    std::uint64_t attach(std::function<void()> waker, std::optional<EventId> resume_after = std::nullopt,
                         bool* replayed = nullptr, bool take_over = false) {
        std::shared_ptr<const std::function<void()>> old_waker;
        std::uint64_t generation = 0;
        {
            std::lock_guard lock(mutex_);
            if (attached_ && !take_over) return 0;
            if (attached_) old_waker = std::move(waker_);
            attached_ = true;
            generation = ++generation_;
            overflowed_ = false;
            wake_pending_ = false;
            waker_ = std::make_shared<const std::function<void()>>(std::move(waker));
            queue_.clear();
            queued_events_ = 0;
            held_ = false;
            if (replayed) *replayed = true;
            // Only when the stream produced events after `resume_after` is there anything
            // to replay; the store failing then means they were evicted (a gap).
            if (resume_after && log_ && resume_after->sequence < sequence_) {
                const bool ok = log_->replay_after(*resume_after, [this](EventId id, std::string_view message) {
                    format_locked(id, message);
                });
                if (replayed) *replayed = ok;
                if (!ok) queue_.clear(), queued_events_ = 0;
            }
            replayed_events_ = queued_events_;
        }
        if (old_waker) (*old_waker)();
        return generation;
    }

    /// What `attach_held` returns: the consumer's generation (0: refused) and the last
    /// sequence the stream had produced, which the replay must cover.
    struct Held {
        std::uint64_t generation = 0;
        std::uint64_t up_to = 0;
    };

    /// Attaches a consumer for a resumption whose events come from a store that may
    /// suspend: like `attach` with `take_over`, but the consumer gets nothing (later
    /// events are queued) until `release_held` puts the replayed events in front.
    Held attach_held(std::function<void()> waker) {
        std::shared_ptr<const std::function<void()>> old_waker;
        Held held;
        {
            std::lock_guard lock(mutex_);
            if (attached_) old_waker = std::move(waker_);
            attached_ = true;
            held.generation = ++generation_;
            held.up_to = sequence_;
            held_ = true;
            overflowed_ = false;
            wake_pending_ = false;
            waker_ = std::make_shared<const std::function<void()>>(std::move(waker));
            queue_.clear();
            queued_events_ = 0;
            replayed_events_ = 0;
        }
        if (old_waker) (*old_waker)();
        return held;
    }

    /// Ends the hold of `attach_held`: queues `replayed` (the events after `after` up to
    /// `up_to`, from the store) before what came meanwhile, and wakes the consumer.
    /// Returns false, leaving the consumer held, when `replayed` is missing or has a gap
    /// (the caller refuses the resumption and detaches); true when another consumer took
    /// over meanwhile (its `take` reports it).
    bool release_held(std::uint64_t generation, EventId after, std::uint64_t up_to, const ReplayResult& replayed) {
        std::shared_ptr<const std::function<void()>> wake;
        {
            std::lock_guard lock(mutex_);
            if (generation != generation_) return true;
            std::string text;
            std::uint64_t expected = after.sequence + 1;
            if (up_to > after.sequence) {
                if (!replayed) return false;
                for (const auto& event : *replayed) {
                    if (event.id.sequence > up_to) break;  // queued live meanwhile
                    if (event.id.stream != config_.number || event.id.sequence != expected) return false;
                    ++expected;
                    ++replayed_events_;
                    const EventIdText id_text(event.id);
                    append_sse_event(text, SseEvent{{}, id_text.view(), event.message, std::nullopt});
                }
                if (expected <= up_to) return false;
            }
            held_ = false;
            queue_.insert(0, text);
            queued_events_ += replayed_events_;
            if (config_.traffic) {
                config_.traffic->events.fetch_add(replayed_events_, std::memory_order_relaxed);
                config_.traffic->bytes.fetch_add(text.size(), std::memory_order_relaxed);
            }
            wake_pending_ = false;
            wake = take_waker_locked();
        }
        if (wake) (*wake)();
        return true;
    }

    /// Detaches the consumer of `generation` (its connection ended). Later events are
    /// only stored. No effect when another consumer took over meanwhile.
    void detach(std::uint64_t generation) {
        std::lock_guard lock(mutex_);
        if (generation != generation_) return;
        attached_ = false;
        held_ = false;
        waker_ = nullptr;
        queue_.clear();
        queue_.shrink_to_fit();
        queued_events_ = 0;
    }

    /// Takes everything queued for the consumer of `generation`; nothing but
    /// `superseded` when another consumer took over.
    Batch take(std::uint64_t generation) {
        std::lock_guard lock(mutex_);
        Batch batch;
        if (generation != generation_) {
            batch.superseded = true;
            return batch;
        }
        if (held_) return batch;  // the replay comes first (release_held)
        batch.bytes.swap(queue_);
        batch.events = std::exchange(queued_events_, 0);
        batch.finished = finished_;
        batch.overflowed = overflowed_;
        batch.opened = opened_;
        // Taken once: its consumer writes it and detaches.
        if (finished_ && !opened_) batch.json_reply = std::exchange(json_reply_, std::nullopt);
        batch.drop = std::exchange(drop_, false);
        batch.retry = drop_retry_;
        wake_pending_ = false;
        return batch;
    }

    /// Takes the queued bytes into `out` (appended) when that is all there is to do for
    /// the consumer of `generation`: nothing finished, overflowed, superseded or asked to
    /// drop (those are left for `take`). Returns whether it took them; `events` is set
    /// to how many events they hold.
    bool take_events(std::uint64_t generation, std::string& out, std::uint64_t& events) {
        std::lock_guard lock(mutex_);
        if (generation != generation_ || held_ || finished_ || overflowed_ || drop_ || !opened_) return false;
        if (out.empty()) {
            out.swap(queue_);  // no copy: the stream refills the caller's (empty) buffer
        } else {
            out += queue_;
            queue_.clear();
        }
        events = std::exchange(queued_events_, 0);
        wake_pending_ = false;
        return true;
    }

    /// Asks the attached connection to end after the queued events, leaving the stream
    /// open for resumption (MCP 2025-11-25 SSE polling). False when the stream is not
    /// resumable, has finished, or has no connection.
    bool close_connection(std::optional<std::chrono::milliseconds> retry) override {
        std::shared_ptr<const std::function<void()>> wake;
        {
            std::lock_guard lock(mutex_);
            if (finished_ || !attached_ || config_.number == 0 || !log_ || config_.legacy) return false;
            opened_ = true;
            drop_ = true;
            drop_retry_ = retry;
            wake = take_waker_locked();
        }
        if (wake) (*wake)();
        return true;
    }

    /// Ends the stream after its queued events, first telling the attached client (if
    /// any) to wait `retry` (ms) before reconnecting: an SSE `retry:` field (the
    /// transport's drain).
    void close_with_retry(std::chrono::milliseconds retry) {
        {
            std::lock_guard lock(mutex_);
            if (!finished_ && attached_ && opened_ && !overflowed_ && !held_)
                queue_ += "retry: " + std::to_string(retry.count()) + "\n\n";
        }
        close();
    }

    /// Keeps a copy of the HTTP request's header section for `request_header`. Call
    /// before the handler starts.
    void set_request_headers(HeaderBlock headers) { headers_ = std::move(headers); }

    /// A header of the POST this stream answers (name case-insensitive), or nullopt.
    [[nodiscard]] std::optional<std::string_view> request_header(std::string_view name) const override {
        return headers_.find(name);
    }

    /// Who sent the POST this stream answers (null without authorization).
    [[nodiscard]] const Principal* principal() const noexcept override { return headers_.principal().get(); }

    /// Records the id of the request this (POST) stream answers. Call before the handler starts.
    void set_request_id(RequestId id) { request_id_ = std::move(id); }
    /// The id of the request this stream answers; empty for standalone and legacy streams.
    [[nodiscard]] const std::optional<RequestId>& request_id() const noexcept { return request_id_; }

    /// Switches a lazy stream to SSE (the host asked for SSE responses).
    void open() {
        std::lock_guard lock(mutex_);
        opened_ = true;
    }

private:
    bool enqueue(std::string message) {
        std::shared_ptr<const std::function<void()>> wake;
        {
            std::lock_guard lock(mutex_);
            if (finished_) return false;
            if (!attached_ && !(log_ && config_.number != 0)) return false;
            opened_ = true;
            const bool was_overflowed = overflowed_;
            frame_locked(std::move(message));
            wake = take_waker_locked(was_overflowed);
        }
        if (wake) (*wake)();
        return true;
    }

    // Assigns the next id, stores the event, and queues it if a consumer is attached.
    void frame_locked(std::string message) {
        const bool resumable = log_ && config_.number != 0 && !config_.legacy;
        EventId id{config_.number, 0};
        if (resumable) {
            id.sequence = ++sequence_;
            if (attached_ && !overflowed_) format_locked(id, message);
            log_->append(id, std::move(message));
        } else if (attached_ && !overflowed_) {
            format_locked(id, message);
        }
        if (queue_.size() > config_.max_queue_bytes) {
            overflowed_ = true;
            std::string{}.swap(queue_);
            queued_events_ = 0;
        }
    }

    void format_locked(EventId id, std::string_view message) {
        ++queued_events_;
        const EventIdText id_text(id);
        const std::size_t before = queue_.size();
        append_sse_event(queue_, SseEvent{config_.legacy ? "message" : "", id.sequence != 0 ? id_text.view() : std::string_view(),
                                          message, std::nullopt});
        if (config_.traffic) {
            config_.traffic->events.fetch_add(1, std::memory_order_relaxed);
            config_.traffic->bytes.fetch_add(queue_.size() - before, std::memory_order_relaxed);
        }
    }

    // The waker to call, if any. A wake already pending is not repeated, except when the
    // consumer has just overflowed: it may be blocked in a write that never completes
    // (the peer stopped reading) and must learn it now.
    // (Shared, so that waking copies a pointer rather than the callable.)
    std::shared_ptr<const std::function<void()>> take_waker_locked(bool was_overflowed = true) {
        if (!attached_ || !waker_) return nullptr;
        if (overflowed_ && !was_overflowed) return waker_;
        if (wake_pending_) return nullptr;
        wake_pending_ = true;
        return waker_;
    }

    SseStreamConfig config_;
    std::shared_ptr<EventLog> log_;
    HeaderBlock headers_;  // the POST's header section, for request_header
    std::optional<RequestId> request_id_;                        // likewise
    mutable std::mutex mutex_;
    std::string queue_;
    std::uint64_t queued_events_ = 0;    // events in queue_
    std::uint64_t replayed_events_ = 0;  // replayed by the last resumption
    std::optional<std::string> json_reply_;
    std::shared_ptr<const std::function<void()>> waker_;
    std::uint64_t sequence_ = 0;
    std::uint64_t generation_ = 0;  // of the current (or last) consumer
    bool opened_;
    bool finished_ = false;
    bool attached_ = false;
    bool overflowed_ = false;
    bool wake_pending_ = false;
    bool held_ = false;  // attach_held: the replay has not been queued yet
    bool drop_ = false;
    std::optional<std::chrono::milliseconds> drop_retry_;
};

}  // namespace mcpsse::detail
