// mcpsse internal: a session's view of the transport's event store (synchronous
// `EventStore` or suspending `AsyncEventStore`).
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/failover_store.hpp>
#include <mcpsse/event_store.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/detail/sse/stream.hpp>

#include <asio/awaitable.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// A session's view of an `EventStore`. Appends stop once the session has ended: its
/// events are erased once, after `SseSessionState::end()`, and a handler still running
/// (a POST stream that has not opened is not closed by end()) must not put them back.
/// (It keeps no copy of the session id: the session, while it exists, has it.)
template <class Store>
class StoreLog final : public EventLog {
public:
    explicit StoreLog(Store& store) : store_(store) {}
    void set_session(const std::shared_ptr<SseSessionState>& session) { session_ = session; }
    void append(EventId id, std::string message) override {
        if (const auto session = session_.lock())
            session->if_live([&] { store_.append(session->id(), id, std::move(message)); });
    }
    bool replay_after(EventId id, const std::function<void(EventId, std::string_view)>& visit) override {
        const auto session = session_.lock();
        return session && store_.replay_after(session->id(), id, visit);
    }
    asio::awaitable<ReplayResult> async_replay_after(EventId id) override {
        std::vector<StoredEvent> events;
        if (!replay_after(id, [&](EventId event, std::string_view message) {
                events.push_back({event, std::string(message)});
            }))
            co_return std::nullopt;
        co_return events;
    }

private:
    Store& store_;
    std::weak_ptr<SseSessionState> session_;
};

/// A session's view of an `AsyncEventStore`. Appends are started in order and not
/// awaited; until the store confirms one, a copy of the event stays here, so that a
/// replay (store results merged with these copies, by sequence) includes it. Appends
/// stop once the session has ended, as for `StoreLog`. Thread-safe (a mutex guards the
/// copies).
template <class Store>
class AsyncStoreLog final : public EventLog, public std::enable_shared_from_this<AsyncStoreLog<Store>> {
public:
    explicit AsyncStoreLog(Store& store) : store_(store) {}
    void set_session(const std::shared_ptr<SseSessionState>& session) { session_ = session; }

    [[nodiscard]] bool synchronous() const noexcept override { return false; }

    void append(EventId id, std::string message) override {
        const auto session = session_.lock();
        if (!session) return;
        session->if_live([&] {
            {
                std::lock_guard lock(mutex_);
                unconfirmed_.push_back({id, message});
            }
            store_.async_append(session->id(), id, std::move(message),
                                [weak = this->weak_from_this(), id](std::error_code) {
                                    if (auto self = weak.lock()) self->confirm(id);
                                });
        });
    }

    bool replay_after(EventId, const std::function<void(EventId, std::string_view)>&) override { return false; }

    void note_request(std::uint64_t stream, const RequestId& id) override {
        if constexpr (FailoverStore<Store>) {
            const auto session = session_.lock();
            if (!session) return;
            session->if_live([&] { store_.async_note_stream_request(session->id(), stream, json_rpc::id_to_json(id).dump(), asio::detached); });
        } else {
            (void)stream;
            (void)id;
        }
    }

    asio::awaitable<ReplayResult> async_replay_after(EventId id) override {
        const auto session = session_.lock();
        if (!session) co_return std::nullopt;
        const std::string session_id = session->id();
        // Events the store has not confirmed yet, taken before asking it: one confirmed
        // earlier completed before the replay starts, so it is in the answer.
        std::vector<StoredEvent> mine;
        {
            std::lock_guard lock(mutex_);
            for (const auto& event : unconfirmed_)
                if (event.id.stream == id.stream && event.id.sequence > id.sequence) mine.push_back(event);
        }
        ReplayResult stored;
        try {
            stored = co_await store_.async_replay_after(session_id, id, asio::use_awaitable);
        } catch (const std::system_error&) {
            stored = std::nullopt;
        }
        if (!stored) {
            if (mine.empty()) co_return std::nullopt;
            stored.emplace();  // the caller checks that what is merged has no gap
        }
        for (auto& event : mine) {
            const bool known = std::any_of(stored->begin(), stored->end(), [&](const StoredEvent& e) {
                return e.id.sequence == event.id.sequence;
            });
            if (!known) stored->push_back(std::move(event));
        }
        std::sort(stored->begin(), stored->end(),
                  [](const StoredEvent& a, const StoredEvent& b) { return a.id.sequence < b.id.sequence; });
        co_return stored;
    }

private:
    void confirm(EventId id) {
        std::lock_guard lock(mutex_);
        const auto it = std::find_if(unconfirmed_.begin(), unconfirmed_.end(),
                                     [&](const StoredEvent& e) { return e.id == id; });
        if (it != unconfirmed_.end()) unconfirmed_.erase(it);
    }

    Store& store_;
    std::weak_ptr<SseSessionState> session_;
    std::mutex mutex_;
    std::vector<StoredEvent> unconfirmed_;
};

/// True when `events` (sorted by sequence) are exactly the events of `after.stream`
/// following `after`, up to at least `up_to` (a sequence; 0: no lower bound on the
/// last), with no sequence missing.
[[nodiscard]] inline bool gapless_after(const std::vector<StoredEvent>& events, EventId after,
                                        std::uint64_t up_to = 0) {
    std::uint64_t expected = after.sequence + 1;
    for (const auto& event : events) {
        if (event.id.stream != after.stream || event.id.sequence != expected) return false;
        ++expected;
    }
    return expected > up_to;
}

}  // namespace mcpsse::detail
