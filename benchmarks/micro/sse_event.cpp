// Micro-benchmarks of mcpsse::detail::append_sse_event: framing one JSON-RPC message
// as a server-sent event, as every message on an SSE stream is framed.
#include <mcpsse/detail/sse/event.hpp>

#include "alloc_counter.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace {

std::string json_payload(std::size_t size) {
    std::string out = R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":")";
    while (out.size() + 4 < size) out += 'x';
    out += R"("}})";
    return out;
}

// One event with an id and a single-line JSON payload of range(0) bytes, appended to a
// buffer that is reused (the steady state of a stream's write buffer).
void BM_SseFrame(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string data = json_payload(static_cast<std::size_t>(state.range(0)));
    std::string out;
    std::uint64_t id = 0;
    char id_text[24];
    for (auto _ : state) {
        out.clear();
        const int n = std::snprintf(id_text, sizeof id_text, "%llu", static_cast<unsigned long long>(++id));
        mcpsse::detail::SseEvent ev;
        ev.event = "message";
        ev.id = std::string_view(id_text, static_cast<std::size_t>(n));
        ev.data = data;
        benchmark::DoNotOptimize(mcpsse::detail::append_sse_event(out, ev));
        benchmark::DoNotOptimize(out.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_SseFrame)->Arg(64)->Arg(256)->Arg(1024)->Arg(16 * 1024);

// The same into a fresh string each time (an allocation per event, as when each event
// becomes its own write buffer).
void BM_SseFrame_FreshBuffer(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string data = json_payload(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        std::string out;
        mcpsse::detail::SseEvent ev;
        ev.id = "12345";
        ev.data = data;
        benchmark::DoNotOptimize(mcpsse::detail::append_sse_event(out, ev));
        benchmark::DoNotOptimize(out.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_SseFrame_FreshBuffer)->Arg(256)->Arg(16 * 1024);

// A payload with many lines (pretty-printed JSON): one `data:` line per line.
void BM_SseFrame_Multiline(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    std::string data;
    for (int i = 0; i < 64; ++i) data += "  \"field\": \"value value value value\",\n";
    std::string out;
    for (auto _ : state) {
        out.clear();
        mcpsse::detail::SseEvent ev;
        ev.data = data;
        benchmark::DoNotOptimize(mcpsse::detail::append_sse_event(out, ev));
        benchmark::DoNotOptimize(out.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_SseFrame_Multiline);

// The keep-alive comment.
void BM_SseComment(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    std::string out;
    for (auto _ : state) {
        out.clear();
        mcpsse::detail::append_sse_comment(out, "keep-alive");
        benchmark::DoNotOptimize(out.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SseComment);

}  // namespace
