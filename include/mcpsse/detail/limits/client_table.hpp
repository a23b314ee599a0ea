// mcpsse: the per-client counters and token buckets behind ClientLimits.
#pragma once

#include <mcpsse/client_limits.hpp>
#include <mcpsse/detail/util/string_hash.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mcpsse::detail {

/// What a client holds, counted by `ClientTable`.
enum class ClientResource { session, stream, connection };

/// The state of every client key: a token bucket for its request rate and counts of the
/// sessions, streams and connections it holds. Thread-safe (one mutex; each call holds
/// it for a hash lookup).
class ClientTable {
public:
    using clock = std::chrono::steady_clock;

    /// One client's state. An entry holding sessions, streams or connections is never
    /// dropped, so a pointer to it stays valid while it holds one.
    struct Entry {
        double tokens = 0;
        clock::time_point refilled{};
        std::size_t sessions = 0;
        std::size_t streams = 0;
        std::size_t connections = 0;
    };

    explicit ClientTable(ClientLimits limits) : limits_(std::move(limits)) {}

    /// Takes one request token for `key`: nullopt when granted, else the time until the
    /// next token (for `Retry-After`).
    [[nodiscard]] std::optional<std::chrono::milliseconds> take_request(std::string_view key, clock::time_point now = clock::now()) {
        if (limits_.requests_per_second <= 0) return std::nullopt;
        std::lock_guard lock(mutex_);
        Entry* e = entry(key, now);
        if (!e) return std::nullopt;
        refill(*e, now);
        if (e->tokens >= 1.0) {
            e->tokens -= 1.0;
            return std::nullopt;
        }
        const double wait_s = (1.0 - e->tokens) / limits_.requests_per_second;
        return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_s * 1000.0)));
    }

    /// Counts one more `what` for `key`: the entry that holds it (give it back with
    /// `release(what, entry)`), or null when `key` is not tracked (not limited, nothing
    /// counted). `refused` is set, and nothing counted, when `key` is at its limit.
    [[nodiscard]] Entry* hold(ClientResource what, std::string_view key, bool& refused) {
        refused = false;
        const std::size_t limit = limit_of(what);
        if (limit == 0) return nullptr;
        std::lock_guard lock(mutex_);
        Entry* e = entry(key, clock::now());
        if (!e) return nullptr;
        std::size_t& n = count(*e, what);
        if (n >= limit) {
            refused = true;
            return nullptr;
        }
        ++n;
        return e;
    }

    /// Gives back one `what` that `hold` counted in `e`.
    void release(ClientResource what, Entry* e) {
        std::lock_guard lock(mutex_);
        std::size_t& n = count(*e, what);
        if (n > 0) --n;
    }

    /// Counts one more `what` for `key`; false (nothing counted) when at its limit.
    [[nodiscard]] bool acquire(ClientResource what, std::string_view key) {
        bool refused = false;
        (void)hold(what, key, refused);
        return !refused;
    }

    /// Gives back one `what` counted by `acquire` for `key`.
    void release(ClientResource what, std::string_view key) {
        if (limit_of(what) == 0) return;
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(key);
        if (it == entries_.end()) return;
        std::size_t& n = count(it->second, what);
        if (n > 0) --n;
    }

    /// How many `what` `key` holds now.
    [[nodiscard]] std::size_t held(ClientResource what, std::string_view key) const {
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(key);
        return it == entries_.end() ? 0 : count(const_cast<Entry&>(it->second), what);
    }

    /// Clients tracked now (count).
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

    /// The limit on `what` (0: none).
    [[nodiscard]] std::size_t limit_of(ClientResource what) const noexcept {
        switch (what) {
        case ClientResource::session: return limits_.max_sessions;
        case ClientResource::stream: return limits_.max_streams;
        case ClientResource::connection: return limits_.max_connections;
        }
        return 0;
    }

private:
    static std::size_t& count(Entry& e, ClientResource what) noexcept {
        switch (what) {
        case ClientResource::session: return e.sessions;
        case ClientResource::stream: return e.streams;
        case ClientResource::connection: break;
        }
        return e.connections;
    }

    void refill(Entry& e, clock::time_point now) const {
        const double burst = static_cast<double>(std::max<std::size_t>(1, limits_.request_burst));
        const double elapsed = std::chrono::duration<double>(now - e.refilled).count();
        e.tokens = std::min(burst, e.tokens + elapsed * limits_.requests_per_second);
        e.refilled = now;
    }

    [[nodiscard]] bool idle(const Entry& e, clock::time_point now) const {
        if (e.sessions || e.streams || e.connections) return false;
        if (limits_.requests_per_second <= 0) return true;
        Entry copy = e;
        refill(copy, now);
        return copy.tokens >= static_cast<double>(std::max<std::size_t>(1, limits_.request_burst));
    }

    // The entry of `key`, created with a full bucket; null when the table is full of
    // busy clients (the key is then not limited).
    Entry* entry(std::string_view key, clock::time_point now) {
        const auto it = entries_.find(key);
        if (it != entries_.end()) return &it->second;
        if (entries_.size() >= limits_.max_clients) {
            std::erase_if(entries_, [&](const auto& kv) { return idle(kv.second, now); });
            if (entries_.size() >= limits_.max_clients) return nullptr;
        }
        Entry e;
        e.tokens = static_cast<double>(std::max<std::size_t>(1, limits_.request_burst));
        e.refilled = now;
        return &entries_.emplace(std::string(key), e).first->second;
    }

    const ClientLimits limits_;  // a copy: slots may outlive the transport
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
};

}  // namespace mcpsse::detail
