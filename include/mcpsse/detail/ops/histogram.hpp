// mcpsse internal: a lock-free histogram of durations with fixed bucket bounds.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mcpsse::detail::ops {

/// Bucket upper bounds (seconds) for request latencies from 0.5 ms to 60 s.
inline constexpr std::array<double, 16> latency_bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,   0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};

/// What a `Histogram` held when read: cumulative counts per bound, the total count
/// (the `+Inf` bucket) and the sum in seconds.
struct HistogramSnapshot {
    /// Observations less than or equal to each bound of `latency_bounds`.
    std::array<std::uint64_t, latency_bounds.size()> cumulative{};
    /// All observations (the `+Inf` bucket and `_count`).
    std::uint64_t count = 0;
    /// The sum of the observations, in seconds.
    double sum_seconds = 0;
};

/// A histogram of durations over `latency_bounds` (Prometheus semantics: bucket `le`
/// counts observations <= its bound). Thread-safety: `observe` and `snapshot` may run
/// concurrently from any threads; each observation is a few relaxed atomic additions
/// (no lock). A snapshot taken during observations may see one in its bucket but not
/// yet in the sum; its count is derived from the buckets, so `_count` always equals the
/// `+Inf` bucket.
class Histogram {
public:
    /// Records one duration; negative durations count as 0.
    void observe(std::chrono::steady_clock::duration duration) noexcept {
        const std::int64_t ns = std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
        std::size_t i = 0;
        while (i < bounds_ns.size() && ns > bounds_ns[i]) ++i;
        buckets_[i].fetch_add(1, std::memory_order_relaxed);
        sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
    }

    /// The counts so far (cumulative, as the exposition formats want them).
    [[nodiscard]] HistogramSnapshot snapshot() const noexcept {
        HistogramSnapshot s;
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < bounds_ns.size(); ++i) {
            running += buckets_[i].load(std::memory_order_relaxed);
            s.cumulative[i] = running;
        }
        s.count = running + buckets_[bounds_ns.size()].load(std::memory_order_relaxed);
        s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
        return s;
    }

    /// The bucket bounds, in seconds.
    [[nodiscard]] static std::span<const double> bounds() noexcept { return latency_bounds; }

private:
    static constexpr std::array<std::int64_t, latency_bounds.size()> bounds_ns = [] {
        std::array<std::int64_t, latency_bounds.size()> ns{};
        for (std::size_t i = 0; i < ns.size(); ++i)
            ns[i] = static_cast<std::int64_t>(latency_bounds[i] * 1e9 + 0.5);
        return ns;
    }();

    // Non-cumulative counts; the last one is above every bound.
    std::array<std::atomic<std::uint64_t>, latency_bounds.size() + 1> buckets_{};
    // Sum in nanoseconds: 2^64 ns is 584 years of observed time.
    std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace mcpsse::detail::ops
