// mcpsse micro-benchmarks: counts heap allocations (global operator new) so each
// benchmark can report allocations per iteration next to its time.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

namespace mcpsse_bench {

/// Allocations made through the replaced global operator new since program start.
std::uint64_t allocation_count() noexcept;

/// Records the allocation count at construction; `report` sets the `allocs/iter`
/// counter of `state` (call it after the benchmark loop).
class AllocationScope {
public:
    AllocationScope() noexcept : start_(allocation_count()) {}
    void report(benchmark::State& state) const {
        const auto n = static_cast<double>(allocation_count() - start_);
        state.counters["allocs/iter"] = state.iterations() ? n / static_cast<double>(state.iterations()) : 0.0;
    }

private:
    std::uint64_t start_;
};

}  // namespace mcpsse_bench
