// mcpsse: the table of an HTTP transport's MCP sessions, with its cap and idle reaping.
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/event_store.hpp>
#include <mcpsse/relay_store.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/transport_observer.hpp>
#include <mcpsse/detail/http/observers.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/mcp/session_id.hpp>
#include <mcpsse/detail/mcp/store_log.hpp>
#include <mcpsse/detail/sse/stream.hpp>
#include <mcpsse/detail/util/string_hash.hpp>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// The sessions of one transport (Streamable HTTP and legacy HTTP+SSE), keyed by id:
/// creation, the `max_sessions` cap (counting `initialize` requests still running), the
/// lookup a request's `Mcp-Session-Id` makes, sessions restored from a shared
/// `SessionStore` record, ending (erasing its events from the store, and its record when
/// the client deleted it), and idle expiry. Thread-safe: one mutex guards the table;
/// callbacks and observers run outside it.
template <class Store>
class SessionRegistry {
public:
    /// What the registry needs besides the store.
    struct Settings {
        std::size_t max_sessions = 10'000;
        std::chrono::milliseconds idle_timeout{30 * 60'000};
        std::function<void(const std::shared_ptr<SseSessionState>&)> on_open;
        std::function<void(const std::shared_ptr<SseSessionState>&)> on_close;
        const Observers* observers = nullptr;  // the owner's, which outlives the registry
    };

    SessionRegistry(Store& store, Settings settings) : store_(store), settings_(std::move(settings)) {}

    /// This instance's tag: the random high half of its stream numbers
    /// (`make_stream_base`).
    [[nodiscard]] std::uint32_t instance_tag() const noexcept { return static_cast<std::uint32_t>(stream_base_ >> 32); }

    /// Relays what sessions created from now on cannot deliver here through `relay`
    /// (a `RelayStore`; it must outlive them). Called before the transport runs.
    void set_relay(SessionRelay* relay) noexcept { relay_ = relay; }

    /// What `async_attach_standalone` found.
    struct StandaloneAttach {
        /// False when another live instance has a GET attached to the stream and the
        /// caller did not take it over (nothing recorded: answer 409).
        bool attached = true;
        /// The other live instance that held the stream before (empty: none), to be
        /// told with `tell_stream_moved`.
        std::string former;
    };

    /// Records in a `RelayStore` that a GET attaches here to `session`'s standalone
    /// stream `stream`, making this instance its holder, so that the other instances
    /// relay the session's notifications here. Not attached (nothing recorded) when
    /// another live instance has a GET attached to that stream and `take_over` is
    /// false: the caller answers 409, as for a second GET at one instance (this
    /// instance then relays the session's notifications to that one). A former holder
    /// elsewhere is returned, for the caller to tell (`tell_stream_moved`) once it read
    /// what it takes over of that instance's stream. Attached at once with other
    /// stores, and when the store fails (the session goes on here).
    asio::awaitable<StandaloneAttach> async_attach_standalone(SseSessionState& session, const SseStream& stream,
                                                              bool take_over) {
        StandaloneAttach outcome;
        if constexpr (RelayStore<Store>) {
            if (!relay_) co_return outcome;
            std::error_code ec;
            FormerStreamHolder former =
                co_await store_.async_attach_stream(session.id(), relay_->instance_name(), stream.number(), take_over,
                                                    asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return outcome;
            if (former.attached && !take_over) {
                session.set_standalone_moved(true);  // held elsewhere: keeps no broadcasts here
                outcome.attached = false;
                co_return outcome;
            }
            session.set_standalone_moved(false);
            outcome.former = std::move(former.instance);
        }
        (void)session;
        (void)stream;
        (void)take_over;
        co_return outcome;
    }

    /// Tells `former` (from `async_attach_standalone`; nothing when empty) that
    /// `session`'s standalone stream moved here (`stream_moved`): it ends its
    /// connection, if any, relays the session's notifications here from then on, and
    /// passes on the events it stored in its stream after `read_up_to` (the last event
    /// of that stream this instance read and sends; nullopt: none taken over). Not
    /// waiting.
    void tell_stream_moved(std::string former, const SseSessionState& session, std::optional<EventId> read_up_to) {
        if (relay_ && !former.empty()) relay_->relay_stream_moved(std::move(former), session.id(), read_up_to);
    }

    /// After the GET that received `stream` ended: when that is `session`'s standalone
    /// stream and no other GET attached to it meanwhile, records in a `RelayStore` that
    /// it is no longer attached here (this instance stays its holder; not waiting).
    /// Nothing with other stores.
    void note_stream_detached(SseSessionState& session, const SseStream& stream) {
        if constexpr (RelayStore<Store>)
            if (relay_ && !session.legacy() && !stream.attached() && session.existing_standalone_stream().get() == &stream)
                store_.async_detach_stream(session.id(), relay_->instance_name(), [](std::error_code) {});
        (void)session;
        (void)stream;
    }

    /// Sessions open now.
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return sessions_.size();
    }

    /// The session with `id`, or null.
    [[nodiscard]] std::shared_ptr<SseSessionState> find(std::string_view id) const {
        std::lock_guard lock(mutex_);
        const auto it = sessions_.find(id);
        return it == sessions_.end() ? nullptr : it->second;
    }

    /// The session a POST, GET or DELETE names, or why there is none: no `Mcp-Session-Id`
    /// -> 400 (MCP N3), unknown or ended -> 404 (N4), an unsupported
    /// `MCP-Protocol-Version` -> 400 (V3; a missing one is fine, V2).
    struct Lookup {
        std::shared_ptr<SseSessionState> session;
        int status = 0;
        const char* message = "";
    };
    [[nodiscard]] Lookup lookup(const HttpRequest& req, std::optional<std::string_view> header_version,
                                const Dispatcher& dispatcher) const {
        const auto id = req.find("mcp-session-id");
        if (!id) return {nullptr, 400, "Bad Request: Mcp-Session-Id header is required"};
        auto session = find(*id);
        if (!session) return {nullptr, 404, "Not Found: unknown or ended session"};
        if (!session->admits(req.principal.get())) return {nullptr, 404, "Not Found: unknown or ended session"};
        if (header_version && !dispatcher.supports_protocol_version(*header_version))
            return {nullptr, 400, "Bad Request: unsupported MCP-Protocol-Version"};
        return {std::move(session)};
    }

    /// The store the registry's sessions keep their events (and, where it models
    /// `SessionStore`, their records) in.
    [[nodiscard]] Store& store() noexcept { return store_; }

    /// A new session (not yet registered) whose JSON-RPC state `make_rpc(id)` makes; a
    /// Streamable HTTP session keeps its events in the store, a legacy one keeps none.
    /// `id`: a stored session's id (empty: a fresh random one).
    template <class MakeRpc>
    std::shared_ptr<SseSessionState> create(bool legacy, MakeRpc&& make_rpc, std::string id = {}) {
        if (id.empty()) id = make_session_id();
        using Log = std::conditional_t<AsyncEventStore<Store>, AsyncStoreLog<Store>, StoreLog<Store>>;
        auto log = legacy ? nullptr : std::make_shared<Log>(store_);
        auto session = std::make_shared<SseSessionState>(id, legacy, log, stream_base_);
        if (log) log->set_session(session);
        session->set_rpc(make_rpc(std::move(id)));
        if (relay_ && !legacy) {
            session->set_relay(relay_);
            session->rpc()->set_answer_relay(
                relay_->instance_name(), [relay = relay_, sid = session->id()](std::string issuer, Message answer) {
                    relay->relay_answer(std::move(issuer), sid, answer);
                });
            session->rpc()->set_level_relay(
                [relay = relay_, sid = session->id()](LoggingLevel level) { relay->share_logging_level(sid, level); });
            session->rpc()->set_cancel_relay(
                [relay = relay_, sid = session->id()](const RequestId& id) { relay->relay_cancellation(sid, id); });
        }
        return session;
    }

    /// Adds a session unless the cap is reached. `reserved`: it holds a slot from
    /// `reserve` (then it always fits).
    bool add(const std::shared_ptr<SseSessionState>& session, bool reserved = false) {
        bool full = false;
        {
            std::lock_guard lock(mutex_);
            if (reserved) --reserved_;
            else if (sessions_.size() + reserved_ >= settings_.max_sessions) full = true;
            if (!full) sessions_.emplace(session->id(), session);
        }
        if (full) return report_full();
        opened(session);
        return true;
    }

    /// Adds a session restored from its stored record, unless the cap is reached (null)
    /// or another request restored it first (that one is returned, this one dropped).
    std::shared_ptr<SseSessionState> adopt(const std::shared_ptr<SseSessionState>& session) {
        bool full = false;
        {
            std::lock_guard lock(mutex_);
            if (const auto it = sessions_.find(session->id()); it != sessions_.end()) return it->second;
            if (sessions_.size() + reserved_ >= settings_.max_sessions) full = true;
            else sessions_.emplace(session->id(), session);
        }
        if (full) {
            report_full();
            return nullptr;
        }
        opened(session);
        return session;
    }

    /// Holds a place for an `initialize` still running (false: full).
    bool reserve() {
        {
            std::lock_guard lock(mutex_);
            if (sessions_.size() + reserved_ < settings_.max_sessions) {
                ++reserved_;
                return true;
            }
        }
        return report_full();
    }

    /// From now on the transport drains: no new session is created (the callers check
    /// `draining` and answer 503). Thread-safe.
    void set_draining() noexcept { draining_.store(true, std::memory_order_relaxed); }
    /// True once `set_draining` was called. Thread-safe.
    [[nodiscard]] bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }
    /// True when `max_sessions` sessions (or reservations) exist. Thread-safe.
    [[nodiscard]] bool full() const {
        std::lock_guard lock(mutex_);
        return sessions_.size() + reserved_ >= settings_.max_sessions;
    }

    /// Gives back a place `reserve` held.
    void release() {
        std::lock_guard lock(mutex_);
        --reserved_;
    }

    /// Removes and ends `session` (once: a second call does nothing), erases its events.
    void end(const std::shared_ptr<SseSessionState>& session, SessionEndReason reason) {
        {
            std::lock_guard lock(mutex_);
            sessions_.erase(session->id());
        }
        if (!session->end()) return;
        // A shared store (one that models SessionStore) outlives this copy of the
        // session: only the client's DELETE ends it everywhere.
        const bool ended_everywhere = !SessionStore<Store> || reason == SessionEndReason::deleted;
        if (ended_everywhere) {
            if constexpr (AsyncEventStore<Store>)
                store_.async_erase(session->id(), [](std::error_code) {});
            else
                store_.erase(session->id());
        }
        if constexpr (SessionStore<Store>)
            if (reason == SessionEndReason::deleted && !session->legacy())
                store_.async_erase_session(session->id(), [](std::error_code) {});
        if (settings_.on_close) settings_.on_close(session);
        if (!settings_.observers->empty()) {
            const SessionInfo info{session->id(), session->protocol_version(), session->legacy(), session->subject(),
                                   session->created()};
            settings_.observers->each([&](TransportObserver& o) { o.on_session_close(info, reason); });
        }
    }

    /// Calls `visit` for each session, outside the table's lock.
    void for_each(const std::function<void(const std::shared_ptr<SseSessionState>&)>& visit) const {
        for (auto& session : snapshot()) visit(session);
    }

    /// Every session now.
    [[nodiscard]] std::vector<std::shared_ptr<SseSessionState>> snapshot() const {
        std::vector<std::shared_ptr<SseSessionState>> all;
        std::lock_guard lock(mutex_);
        all.reserve(sessions_.size());
        for (auto& entry : sessions_) all.push_back(entry.second);
        return all;
    }

    /// Ends the sessions idle (no request, no stream) for longer than `idle_timeout`.
    void reap() {
        std::vector<std::shared_ptr<SseSessionState>> expired;
        {
            std::lock_guard lock(mutex_);
            for (auto& entry : sessions_) {
                auto& s = entry.second;
                if (s->activity() == 0 && s->idle_for() > settings_.idle_timeout) expired.push_back(s);
            }
        }
        for (auto& s : expired) end(s, SessionEndReason::idle);
    }

    /// How often `reap` should run.
    [[nodiscard]] std::chrono::milliseconds reap_period() const {
        return std::clamp<std::chrono::milliseconds>(settings_.idle_timeout / 4, std::chrono::milliseconds(10),
                                                     std::chrono::seconds(30));
    }

private:
    // A session entered the table: the host's callback, then the observers.
    void opened(const std::shared_ptr<SseSessionState>& session) {
        if (settings_.on_open) settings_.on_open(session);
        if (!settings_.observers->empty()) {
            const SessionInfo info{session->id(), session->protocol_version(), session->legacy(), session->subject(),
                                   session->created()};
            settings_.observers->each([&](TransportObserver& o) { o.on_session_open(info); });
        }
    }

    // Tells the observers that `max_sessions` refused a session; returns false.
    bool report_full() const {
        if (!settings_.observers->empty()) {
            const LimitEvent event{"max_sessions", {}, nullptr};
            settings_.observers->each([&](TransportObserver& o) { o.on_limit(event); });
        }
        return false;
    }

    Store& store_;
    SessionRelay* relay_ = nullptr;  // set before the run (RelayStore only)
    const std::uint64_t stream_base_ = make_stream_base();  // this instance's stream numbers
    Settings settings_;
    mutable std::mutex mutex_;
    std::size_t reserved_ = 0;  // initializes running
    std::atomic<bool> draining_{false};
    // Keys view the id of the session their entry holds (no second copy of each id).
    std::unordered_map<std::string_view, std::shared_ptr<SseSessionState>, StringHash, std::equal_to<>> sessions_;
};

}  // namespace mcpsse::detail
