// mcpsse internal: the state of one MCP session served over HTTP (Streamable HTTP or
// legacy HTTP+SSE); hosts hold it through `mcpsse::SseSession`.
#pragma once

#include <mcpsse/principal.hpp>
#include <mcpsse/detail/limits/client_limiter.hpp>
#include <mcpsse/detail/rpc/session.hpp>
#include <mcpsse/detail/sse/stream.hpp>

#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse::detail {

/// Hands a session's messages to the transport instance that holds the stream they must
/// travel on, when the transport shares its sessions through a `RelayStore` (see
/// `Relay`). Thread-safety: every member may be called from any thread.
class SessionRelay {
public:
    virtual ~SessionRelay() = default;
    /// Sends `message` (a serialized notification) to the instance recorded as holding
    /// the standalone stream of `session_id`, if any (not waiting for it).
    virtual void relay_notification(const std::string& session_id, std::string message) = 0;
    /// Hands `answer` (a client's response to a request that instance `issuer` sent in
    /// session `session_id`) to `issuer` (not waiting for it).
    virtual void relay_answer(std::string issuer, const std::string& session_id, const Message& answer) = 0;
    /// Tells the other instances (and the store, for those that restore the session
    /// later) that the client of `session_id` set its logging level to `level`.
    virtual void share_logging_level(const std::string& session_id, LoggingLevel level) = 0;
    /// Tells the other instances that the client of `session_id` cancelled request
    /// `id`, which does not run here (`notifications/cancelled`).
    virtual void relay_cancellation(const std::string& session_id, const RequestId& id) = 0;
    /// Tells instance `former`, which held the standalone stream of `session_id`, that
    /// the stream moved here: it ends its connection to it and passes on what it
    /// stored in it after `read_up_to` (the last of its events this instance read;
    /// nullopt: none) (not waiting for it).
    virtual void relay_stream_moved(std::string former, const std::string& session_id,
                                    std::optional<EventId> read_up_to) = 0;
    /// This instance's name in relayed messages and server-to-client request ids (its
    /// tag as 8 hex digits).
    [[nodiscard]] virtual const std::string& instance_name() const noexcept = 0;
};

/// The state of one MCP session of an `SseTransport`: its id, its JSON-RPC state, its
/// streams (one per POST that streams, the standalone GET stream, or the legacy stream)
/// and their event ids. Created by the transport on `initialize` (Streamable HTTP, MCP
/// N1) or on a legacy `GET`; ended by DELETE (N5), the idle timeout, the end of a legacy
/// stream, or `SseTransport::stop`. Hosts see it through the `SseSession` handle.
///
/// Thread-safety: `id()`, `legacy()`, `notify()` and `send_serialized()` are safe from
/// any thread, as are the stream, activity and `end` members (`set_rpc` and
/// `set_protocol_version` are called once, before the session is shared); handlers
/// reach the JSON-RPC state through their `RequestContext`.
class SseSessionState : public std::enable_shared_from_this<SseSessionState> {
public:
    /// Creates a session; used by `SseTransport`.
    /// `stream_base`: the first stream number minus one (see `make_stream_base`).
    SseSessionState(std::string id, bool legacy, std::shared_ptr<EventLog> log, std::uint64_t stream_base = 0)
        : id_(std::move(id)), legacy_(legacy), log_(std::move(log)), next_stream_(stream_base) {
        touch();
    }

    /// When the session was created.
    [[nodiscard]] std::chrono::steady_clock::time_point created() const noexcept { return created_; }
    /// SSE events queued for the session's connections so far (all its streams, replays
    /// included). Thread-safe.
    [[nodiscard]] std::uint64_t events_sent() const noexcept { return traffic_->events.load(std::memory_order_relaxed); }
    /// Bytes of those events. Thread-safe.
    [[nodiscard]] std::uint64_t bytes_sent() const noexcept { return traffic_->bytes.load(std::memory_order_relaxed); }

    /// The session id (`Mcp-Session-Id`, or the legacy `sessionId` parameter).
    [[nodiscard]] const std::string& id() const noexcept { return id_; }

    /// True for a legacy HTTP+SSE (2024-11-05) session.
    [[nodiscard]] bool legacy() const noexcept { return legacy_; }

    /// Sends a notification unrelated to any request (e.g.
    /// `notifications/resources/list_changed`) on the session's standalone stream
    /// (the GET stream, or the legacy stream), never on two streams (MCP M1). Safe
    /// from any thread: the send happens on the session's executor. When no standalone
    /// stream was ever opened the notification is dropped; when it is disconnected,
    /// the event is kept for replay. With a relay (a `RelayStore`), a session whose
    /// standalone stream this instance does not hold (`holds_standalone`: none here, or
    /// the client moved it elsewhere) has it relayed to the instance recorded as holding
    /// it, or stored in that stream when that instance is gone.
    void notify(std::string method, nlohmann::json params = nullptr) {
        if (relay_ && !holds_standalone()) {
            relay_->relay_notification(id_, json_rpc::serialize(Notification{std::move(method), std::move(params)}));
            return;
        }
        auto rpc = rpc_;
        if (!rpc) return;
        asio::post(rpc->get_executor(), [rpc, method = std::move(method), params = std::move(params)]() mutable {
            rpc->notify(std::move(method), std::move(params));
        });
    }

    /// Sends an already serialized JSON-RPC notification on the standalone stream, like
    /// `notify` but without a hop to the session's strand (the stream is thread-safe).
    /// Returns false when the session has no standalone stream (with a relay: true, the
    /// message relayed to the instance holding it, see `notify`). Safe from any thread.
    bool send_serialized(std::string message) {
        auto stream = existing_standalone_stream();
        if (relay_ && !(stream && !standalone_moved_.load(std::memory_order_relaxed))) {
            relay_->relay_notification(id_, std::move(message));
            return true;
        }
        return stream && stream->send(std::move(message));
    }

    /// `send_serialized` on this instance's standalone stream only (never relayed): a
    /// broadcast that every instance delivers to the streams it holds. Safe from any
    /// thread.
    bool send_local(std::string message) {
        if (standalone_moved_.load(std::memory_order_relaxed)) return false;
        auto stream = existing_standalone_stream();
        return stream && stream->send(std::move(message));
    }

    /// With a relay: whether the client moved the standalone stream to another instance
    /// (true, after a `stream_moved`; then `send_local` keeps nothing here for a
    /// resumption the client will not make) or attached it here again (false). Safe
    /// from any thread.
    void set_standalone_moved(bool moved) noexcept { standalone_moved_.store(moved, std::memory_order_relaxed); }

    /// Relays what this instance cannot deliver itself through `relay` (which must
    /// outlive the session); called once, before the session is shared.
    void set_relay(SessionRelay* relay) noexcept { relay_ = relay; }

    // ---- streams and activity -----------------------------------------------------------

    /// The session's JSON-RPC state.
    [[nodiscard]] const std::shared_ptr<RpcSession>& rpc() const noexcept { return rpc_; }
    /// Sets the JSON-RPC state (once, at creation).
    void set_rpc(std::shared_ptr<RpcSession> rpc) { rpc_ = std::move(rpc); }
    /// The negotiated protocol revision; set once, before the transport registers the
    /// session, and immutable afterwards (so reading it needs no strand hop).
    [[nodiscard]] const std::string& protocol_version() const noexcept { return protocol_version_; }
    /// Records the negotiated revision (once, before registration).
    void set_protocol_version(std::string version) { protocol_version_ = std::move(version); }

    /// Binds the session to the principal that opened it (null without authorization);
    /// called once, before the session is shared.
    void set_principal(std::shared_ptr<const Principal> principal) { principal_ = std::move(principal); }
    /// The principal that opened the session; null without authorization.
    [[nodiscard]] const std::shared_ptr<const Principal>& principal() const noexcept { return principal_; }
    /// Holds the client's session slot (`ClientLimits::max_sessions`) until the session
    /// ends; called once, before the session is shared.
    void hold(ClientSlot slot) { client_slot_ = std::move(slot); }

    /// The subject the session is bound to (empty without authorization).
    [[nodiscard]] std::string_view subject() const noexcept { return principal_ ? std::string_view(principal_->subject) : std::string_view(); }
    /// True when a request from `principal` may use this session: the same subject (MCP
    /// basic/security: sessions are bound to the user, and are no authentication).
    [[nodiscard]] bool admits(const Principal* principal) const noexcept {
        return subject() == (principal ? std::string_view(principal->subject) : std::string_view());
    }

    /// The session's event log (null for legacy sessions).
    [[nodiscard]] const std::shared_ptr<EventLog>& event_log() const noexcept { return log_; }

    /// Creates a stream with the next stream number. A standalone stream is registered
    /// for resumption at once; a lazy (POST) stream by `register_stream` once its SSE head
    /// is written, so a POST answered as plain JSON takes no lock of the session.
    /// Thread-safe.
    std::shared_ptr<SseStream> open_stream(SseStreamConfig config) {
        config.number = legacy_ || !log_ ? 0 : next_stream_.fetch_add(1, std::memory_order_relaxed) + 1;
        config.traffic = traffic_;
        auto stream = std::make_shared<SseStream>(config, legacy_ ? nullptr : log_);
        if (config.number != 0 && !config.lazy) register_stream(stream);
        return stream;
    }

    /// Makes `stream` (one of this session's `open_stream`s) resumable: a `Last-Event-ID`
    /// into it can take it over while it runs (MCP Streamable HTTP, resumability and
    /// redelivery; checklist R3/R4). A session that has ended closes the stream instead.
    /// Thread-safe.
    void register_stream(const std::shared_ptr<SseStream>& stream) {
        if (stream->number() == 0) return;
        bool live = false;
        {
            std::lock_guard lock(mutex_);
            if (!ended_) {
                streams_[stream->number()] = stream;
                prune_locked();
                live = true;
            }
        }
        if (!live) {
            stream->close();
            return;
        }
        // A shared store notes which request the stream answers (FailoverStore).
        if (log_ && stream->request_id()) log_->note_request(stream->number(), *stream->request_id());
    }

    /// Ends a POST exchange begun with `begin_activity` on `stream` (one of this
    /// session's `open_stream`s). When the stream was registered and has finished it
    /// also leaves the resumption table, so its memory (allocated together with the
    /// table's weak reference) is freed now rather than at the next prune: a
    /// `Last-Event-ID` into it is then answered from the event log alone, which holds
    /// all of its events (R3/R4). A stream still running (its connection left) stays
    /// resumable. Thread-safe; throws nothing but `std::system_error` from the mutex.
    void end_exchange(const SseStream& stream) {
        if (stream.number() != 0 && stream.opened() && stream.finished()) {
            std::lock_guard lock(mutex_);
            streams_.erase(stream.number());
        }
        end_activity();
    }

    /// The live stream with `number`, or null (finished or unknown).
    std::shared_ptr<SseStream> find_stream(std::uint64_t number) {
        std::lock_guard lock(mutex_);
        const auto it = streams_.find(number);
        if (it == streams_.end()) return nullptr;
        auto stream = it->second.lock();
        if (!stream) streams_.erase(it);
        return stream;
    }

    /// The standalone stream (GET or legacy), created on first use.
    std::shared_ptr<SseStream> standalone_stream(std::size_t max_queue_bytes) {
        {
            std::lock_guard lock(mutex_);
            if (standalone_) return standalone_;
        }
        SseStreamConfig config;
        config.legacy = legacy_;
        config.max_queue_bytes = max_queue_bytes;
        auto stream = open_stream(config);
        std::lock_guard lock(mutex_);
        if (!standalone_) standalone_ = std::move(stream);
        return standalone_;
    }

    /// True when the standalone stream exists here and, with a relay, the client did not
    /// move it to another instance (`set_standalone_moved`): this instance holds it,
    /// attached or kept for a resumption.
    [[nodiscard]] bool holds_standalone() {
        return existing_standalone_stream() && !standalone_moved_.load(std::memory_order_relaxed);
    }

    /// The standalone stream if it exists.
    std::shared_ptr<SseStream> existing_standalone_stream() {
        std::lock_guard lock(mutex_);
        return standalone_;
    }

    /// Records activity now (requests, streams), for the idle timeout.
    void touch() noexcept {
        last_activity_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    }

    /// True when a renewal of the session's shared record is due: none yet, or the last
    /// one at least `interval` ago; then the caller renews it (this call records now, so
    /// of concurrent callers one gets true). Thread-safe.
    [[nodiscard]] bool record_renewal_due(std::chrono::milliseconds interval) noexcept {
        const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
        std::int64_t last = record_renewed_.load(std::memory_order_relaxed);
        const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval).count();
        if (last != 0 && now - last < step) return false;
        return record_renewed_.compare_exchange_strong(last, now, std::memory_order_relaxed);
    }

    /// Records that the session's shared record was saved (renewed) now. Thread-safe.
    void record_renewed() noexcept {
        record_renewed_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    }

    /// Time since the last activity.
    [[nodiscard]] std::chrono::steady_clock::duration idle_for() const noexcept {
        const auto last = std::chrono::steady_clock::duration(last_activity_.load(std::memory_order_relaxed));
        return std::chrono::steady_clock::now().time_since_epoch() - last;
    }

    /// Counts exchanges (POSTs, attached streams) in progress.
    void begin_activity() noexcept { active_.fetch_add(1, std::memory_order_relaxed); }
    /// Ends one exchange.
    void end_activity() noexcept {
        active_.fetch_sub(1, std::memory_order_relaxed);
        touch();
    }
    /// Exchanges in progress.
    [[nodiscard]] int activity() const noexcept { return active_.load(std::memory_order_relaxed); }

    /// Marks the session ended and ends its streams (the standalone stream and POST
    /// streams that turned SSE; a POST still waiting to answer as JSON ends when its
    /// handler, cancelled through the JSON-RPC state, does); returns false if it already
    /// was. Thread-safe.
    bool end() {
        std::map<std::uint64_t, std::weak_ptr<SseStream>> streams;
        std::shared_ptr<SseStream> standalone;
        {
            std::lock_guard lock(mutex_);
            if (ended_) return false;
            ended_ = true;
            streams.swap(streams_);
            standalone = std::move(standalone_);
        }
        for (auto& entry : streams)
            if (auto s = entry.second.lock()) s->close();
        if (standalone) standalone->close();
        client_slot_.release();  // only the first end() gets here
        if (auto rpc = rpc_)
            asio::post(rpc->get_executor(), [rpc] {
                rpc->close();
                rpc->cancel_all();
                rpc->set_default_sink(nullptr);
            });
        return true;
    }

    /// Runs `f()` under the session's lock unless the session has ended; the
    /// transport stores events through it, so that none reach the event store after
    /// `end()` (it erases the session's events once, afterwards). `f` must not call back
    /// into this session. Thread-safe.
    template <class F>
    void if_live(F&& f) {
        std::lock_guard lock(mutex_);
        if (!ended_) std::forward<F>(f)();
    }

    /// True once `end()` ran.
    [[nodiscard]] bool ended() const {
        std::lock_guard lock(mutex_);
        return ended_;
    }

private:
    // Drops expired entries once the map has grown (amortized; end_exchange handles
    // the common case of a POST whose exchange has ended).
    void prune_locked() {
        if (streams_.size() < 64) return;
        for (auto it = streams_.begin(); it != streams_.end();)
            it = it->second.expired() ? streams_.erase(it) : std::next(it);
    }

    const std::string id_;
    const bool legacy_;
    std::shared_ptr<EventLog> log_;
    std::shared_ptr<RpcSession> rpc_;
    SessionRelay* relay_ = nullptr;  // set once, before sharing (RelayStore only)
    std::string protocol_version_;
    std::shared_ptr<const Principal> principal_;
    ClientSlot client_slot_;  // given back by end()
    mutable std::mutex mutex_;
    std::map<std::uint64_t, std::weak_ptr<SseStream>> streams_;
    std::shared_ptr<SseStream> standalone_;
    std::atomic<bool> standalone_moved_{false};  // set_standalone_moved
    const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
    const std::shared_ptr<StreamTraffic> traffic_ = std::make_shared<StreamTraffic>();  // its streams count here
    std::atomic<std::uint64_t> next_stream_{0};
    std::atomic<std::int64_t> last_activity_{0};
    std::atomic<std::int64_t> record_renewed_{0};  // steady_clock ticks; 0: never
    std::atomic<int> active_{0};
    bool ended_ = false;
};

}  // namespace mcpsse::detail
