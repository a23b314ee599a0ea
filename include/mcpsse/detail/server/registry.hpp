// mcpsse internal: a registration-ordered, mutex-guarded list of immutable entries,
// unique by key: the storage behind each of `Server`'s tools, resources, resource
// templates and prompts.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// The entries of one feature kind, in registration order, unique by `Entry::key()`
/// (a `std::string_view` into the entry). Entries are immutable once added and
/// shared: readers keep a `shared_ptr` and use it without any lock while a writer
/// replaces or removes it.
///
/// Cost: every operation is linear in the number of entries. Errors: throws only
/// std::bad_alloc. Thread-safety: all member functions are thread-safe (one mutex per
/// registry, held only to copy or swap pointers, never while calling out).
template <class Entry>
class Registry {
public:
    /// A shared, immutable entry.
    using Pointer = std::shared_ptr<const Entry>;

    /// Adds `entry` at the end, or replaces the entry with the same key in place
    /// (keeping its listing position).
    void put(Pointer entry) {
        std::lock_guard lock(mutex_);
        const auto it = std::find_if(entries_.begin(), entries_.end(),
                                     [&](const Pointer& e) { return e->key() == entry->key(); });
        if (it != entries_.end()) *it = std::move(entry);
        else entries_.push_back(std::move(entry));
    }

    /// Removes the entry `key`; false when there was none.
    bool erase(std::string_view key) {
        std::lock_guard lock(mutex_);
        const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Pointer& e) { return e->key() == key; });
        if (it == entries_.end()) return false;
        entries_.erase(it);
        return true;
    }

    /// The entry `key`, or null when there is none. Copies one `shared_ptr`; allocates
    /// nothing.
    [[nodiscard]] Pointer find(std::string_view key) const {
        std::lock_guard lock(mutex_);
        for (const auto& e : entries_)
            if (e->key() == key) return e;
        return nullptr;
    }

    /// True when an entry `key` exists.
    [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }

    /// A copy of the whole list, in registration order, for reading without the lock.
    [[nodiscard]] std::vector<Pointer> snapshot() const {
        std::lock_guard lock(mutex_);
        return entries_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Pointer> entries_;
};

}  // namespace mcpsse::detail
