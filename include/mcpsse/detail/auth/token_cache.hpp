// mcpsse: verified bearer tokens, remembered until they expire.
#pragma once

#include <mcpsse/principal.hpp>
#include <mcpsse/detail/util/sha256.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace mcpsse::detail {

/// A bounded map from a token's SHA-256 to the principal its verifier returned, so that a
/// token is verified once, not on every request. An entry lasts until the token's
/// expiry or `ttl` after it was added, whichever is first; when `capacity` entries are
/// held, the oldest is dropped. Holds no token. Thread-safe (one mutex).
class TokenCache {
public:
    using Key = std::array<std::uint8_t, 32>;
    using clock = std::chrono::system_clock;

    TokenCache(std::size_t capacity, std::chrono::milliseconds ttl) : capacity_(capacity), ttl_(ttl) {}

    /// The key of `token`.
    [[nodiscard]] static Key key_of(std::string_view token) {
        Sha256 hash;
        hash.update(token);
        return hash.finish();
    }

    /// The principal remembered for `key`, or null (unknown, or expired: then forgotten).
    [[nodiscard]] std::shared_ptr<const Principal> find(const Key& key, clock::time_point now = clock::now()) {
        if (capacity_ == 0) return nullptr;
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(key);
        if (it == entries_.end()) return nullptr;
        if (now >= it->second.until) {
            entries_.erase(it);  // its slot in order_ is skipped when it comes up
            return nullptr;
        }
        return it->second.principal;
    }

    /// Remembers `principal` for `key`.
    void insert(const Key& key, std::shared_ptr<const Principal> principal, clock::time_point now = clock::now()) {
        if (capacity_ == 0 || !principal) return;
        const auto ttl_end = now + std::chrono::duration_cast<clock::duration>(ttl_);
        const auto until = principal->expires_at < ttl_end ? principal->expires_at : ttl_end;
        if (until <= now) return;
        std::lock_guard lock(mutex_);
        while (entries_.size() >= capacity_ && !order_.empty()) {
            entries_.erase(order_.front());
            order_.pop_front();
        }
        if (entries_.insert_or_assign(key, Entry{std::move(principal), until}).second) order_.push_back(key);
        // order_ may hold keys find() already erased; drop them before it grows past bounds.
        if (order_.size() > 2 * capacity_ + 16) std::erase_if(order_, [&](const Key& k) { return !entries_.contains(k); });
    }

    /// Entries held now (count).
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    struct Entry {
        std::shared_ptr<const Principal> principal;
        clock::time_point until;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept {
            std::size_t h;
            std::memcpy(&h, k.data(), sizeof h);  // already uniformly distributed
            return h;
        }
    };

    std::size_t capacity_;
    std::chrono::milliseconds ttl_;
    mutable std::mutex mutex_;
    std::unordered_map<Key, Entry, KeyHash> entries_;
    std::deque<Key> order_;  // insertion order, for dropping the oldest
};

}  // namespace mcpsse::detail
