// mcpsse internal: per-label-value cells (counters, histograms) with a cap on distinct
// values, beyond which values share the cell of "other".
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail::ops {

/// A map from a label value (e.g. a tool name) to a `Cell` (e.g. an atomic counter),
/// holding at most `capacity` distinct values; further values, and the value "other"
/// itself, share the cell `other()`, so a metric's cardinality stays bounded whatever
/// clients send. Cells are created in place, default-constructed, and never move or go
/// away before the map.
///
/// Thread-safety: every member may be called concurrently. Looking up a value already
/// present takes no lock: an open-addressing table of `2 * capacity` (at least 8)
/// atomic entry pointers, published with release and read with acquire. Inserting a new
/// value, and `for_each`, take a mutex.
template <class Cell>
class BoundedLabels {
public:
    /// Label value of the shared cell of values over the cap.
    static constexpr std::string_view other_value = "other";

    /// A map for at most `capacity` distinct values (0: every value is "other").
    explicit BoundedLabels(std::size_t capacity)
        : capacity_(capacity),
          mask_(std::bit_ceil(std::max<std::size_t>(8, 2 * capacity)) - 1),
          slots_(std::make_unique<std::atomic<Entry*>[]>(mask_ + 1)) {
        entries_.reserve(capacity);
    }

    BoundedLabels(const BoundedLabels&) = delete;
    BoundedLabels& operator=(const BoundedLabels&) = delete;

    /// The cell of `value`, or null when it has none (nothing is inserted). No lock.
    [[nodiscard]] Cell* find(std::string_view value) noexcept {
        if (value == other_value) return &other_;
        const std::size_t hash = std::hash<std::string_view>{}(value);
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            Entry* entry = slots_[i].load(std::memory_order_acquire);
            if (!entry) return nullptr;
            if (entry->hash == hash && entry->value == value) return &entry->cell;
        }
    }

    /// The cell of `value`, inserted when absent and the cap is not reached (a lock,
    /// once per value); else the cell of "other".
    [[nodiscard]] Cell& at(std::string_view value) {
        if (Cell* cell = find(value)) return *cell;
        return insert(value);
    }

    /// The shared cell of values over the cap (and of "other").
    [[nodiscard]] Cell& other() noexcept { return other_; }

    /// Calls `visit(value, cell)` for each value in ascending order, then for "other"
    /// (always last, also when unused).
    template <class Visit>
    void for_each(Visit&& visit) const {
        std::vector<const Entry*> sorted;
        {
            std::lock_guard lock(mutex_);
            sorted.reserve(entries_.size());
            for (const auto& entry : entries_) sorted.push_back(entry.get());
        }
        std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) { return a->value < b->value; });
        for (const Entry* entry : sorted) visit(std::string_view(entry->value), static_cast<const Cell&>(entry->cell));
        visit(other_value, static_cast<const Cell&>(other_));
    }

    /// Distinct values with a cell of their own (at most the capacity).
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    struct Entry {
        std::string value;
        std::size_t hash = 0;
        Cell cell{};
    };

    Cell& insert(std::string_view value) {
        std::lock_guard lock(mutex_);
        const std::size_t hash = std::hash<std::string_view>{}(value);
        std::size_t i = hash & mask_;
        for (;; i = (i + 1) & mask_) {
            Entry* entry = slots_[i].load(std::memory_order_relaxed);  // writers hold the mutex
            if (!entry) break;
            if (entry->hash == hash && entry->value == value) return entry->cell;  // raced with another insert
        }
        if (entries_.size() >= capacity_) return other_;
        auto entry = std::make_unique<Entry>();
        entry->value.assign(value);
        entry->hash = hash;
        Entry* raw = entry.get();
        entries_.push_back(std::move(entry));
        slots_[i].store(raw, std::memory_order_release);
        return raw->cell;
    }

    std::size_t capacity_;
    std::size_t mask_;
    std::unique_ptr<std::atomic<Entry*>[]> slots_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Entry>> entries_;  // insertion order; owns the entries
    Cell other_{};
};

}  // namespace mcpsse::detail::ops
