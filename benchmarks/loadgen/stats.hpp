// mcpsse_loadgen: latency histogram with logarithmic buckets (about 1.6 % relative
// precision over 1 ns .. 2^63 ns, fixed memory, mergeable across threads).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace loadgen {

class Histogram {
public:
    /// Values below 128 have their own bucket; above, each power of two is split into
    /// 64 buckets.
    static constexpr std::size_t bucket_count = 128 + 57 * 64;

    Histogram() : counts_(bucket_count, 0) {}

    void record(std::uint64_t value) {
        ++counts_[index_of(value)];
        ++count_;
        sum_ += value;
        max_ = std::max(max_, value);
        min_ = std::min(min_, value);
    }

    void merge(const Histogram& other) {
        for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
        count_ += other.count_;
        sum_ += other.sum_;
        max_ = std::max(max_, other.max_);
        min_ = std::min(min_, other.min_);
    }

    [[nodiscard]] std::uint64_t count() const { return count_; }
    [[nodiscard]] std::uint64_t max() const { return count_ ? max_ : 0; }
    [[nodiscard]] std::uint64_t min() const { return count_ ? min_ : 0; }
    [[nodiscard]] double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

    /// The value at quantile `q` (0..1): the upper bound of the bucket holding the
    /// ceil(q * count)-th smallest value, clamped to the exact maximum.
    [[nodiscard]] std::uint64_t quantile(double q) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(upper_bound_of(i), max_);
        }
        return max_;
    }

private:
    static std::size_t index_of(std::uint64_t v) {
        if (v < 128) return static_cast<std::size_t>(v);
        const int msb = 63 - std::countl_zero(v);
        const int shift = msb - 6;
        return 128 + static_cast<std::size_t>(shift - 1) * 64 + static_cast<std::size_t>((v >> shift) - 64);
    }

    static std::uint64_t upper_bound_of(std::size_t index) {
        if (index < 128) return index;
        const std::size_t shift = (index - 128) / 64 + 1;
        const std::uint64_t mantissa = (index - 128) % 64 + 64;
        return ((mantissa + 1) << shift) - 1;
    }

    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
};

}  // namespace loadgen
