// Micro-benchmarks of mcpsse::detail::HttpRequestParser: the cost of turning the bytes
// of one typical MCP POST (request line, 8 header fields, a ~150-byte JSON-RPC body)
// into an HttpRequest, as a connection does for every message it receives.
#include <mcpsse/detail/http/request_parser.hpp>

#include "alloc_counter.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace {

// A tools/call as the TypeScript SDK client sends it over Streamable HTTP.
std::string typical_body() {
    return R"({"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"test_simple_text",)"
           R"("arguments":{},"_meta":{"progressToken":42}}})"
           "                                       ";  // pads the body to ~150 bytes
}

std::string typical_request(bool chunked = false) {
    const std::string body = typical_body();
    std::string out =
        "POST /mcp HTTP/1.1\r\n"
        "Host: 127.0.0.1:8080\r\n"
        "User-Agent: node\r\n"
        "Accept: application/json, text/event-stream\r\n"
        "Content-Type: application/json\r\n"
        "Mcp-Session-Id: 6f1c2a9e-3b7d-4c58-9e21-0d4b8a7f5c13\r\n"
        "Mcp-Protocol-Version: 2025-06-18\r\n"
        "Accept-Encoding: gzip, deflate\r\n";
    if (chunked) {
        out += "Transfer-Encoding: chunked\r\n\r\n";
        char size[16];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", body.size());
        out.append(size, static_cast<std::size_t>(n));
        out += body;
        out += "\r\n0\r\n\r\n";
    } else {
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        out += body;
    }
    return out;
}

// One whole request in one buffer (the common case: one read holds it all).
void BM_HttpParse_Post(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string wire = typical_request();
    mcpsse::detail::HttpRequestParser parser;
    for (auto _ : state) {
        std::string_view rest = wire;
        auto r = parser.parse(rest);
        if (r.status == mcpsse::detail::ParseStatus::headers_complete) {
            rest.remove_prefix(r.consumed);
            r = parser.parse(rest);
        }
        if (r.status != mcpsse::detail::ParseStatus::complete) {
            state.SkipWithError("parse did not complete");
            break;
        }
        mcpsse::detail::HttpRequest request = parser.release();
        benchmark::DoNotOptimize(request.body.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
    state.counters["wire_bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_HttpParse_Post);

// The same request plus the look-ups a transport does on it (routing and MCP headers).
void BM_HttpParse_PostAndLookups(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string wire = typical_request();
    mcpsse::detail::HttpRequestParser parser;
    for (auto _ : state) {
        std::string_view rest = wire;
        auto r = parser.parse(rest);
        rest.remove_prefix(r.consumed);
        r = parser.parse(rest);
        mcpsse::detail::HttpRequest request = parser.release();
        benchmark::DoNotOptimize(request.path());
        benchmark::DoNotOptimize(request.find("Mcp-Session-Id"));
        benchmark::DoNotOptimize(request.find("Mcp-Protocol-Version"));
        benchmark::DoNotOptimize(request.find("Content-Type"));
        benchmark::DoNotOptimize(request.find("Accept"));
        benchmark::DoNotOptimize(request.keep_alive());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpParse_PostAndLookups);

// The same request with a chunked body.
void BM_HttpParse_PostChunked(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string wire = typical_request(true);
    mcpsse::detail::HttpRequestParser parser;
    for (auto _ : state) {
        std::string_view rest = wire;
        auto r = parser.parse(rest);
        rest.remove_prefix(r.consumed);
        r = parser.parse(rest);
        if (r.status != mcpsse::detail::ParseStatus::complete) {
            state.SkipWithError("parse did not complete");
            break;
        }
        mcpsse::detail::HttpRequest request = parser.release();
        benchmark::DoNotOptimize(request.body.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(BM_HttpParse_PostChunked);

// The request arriving in pieces of `range(0)` bytes, fed by the documented contract
// (all unconsumed bytes each call): measures the incremental rescanning cost.
void BM_HttpParse_PostFragmented(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string wire = typical_request();
    const auto piece = static_cast<std::size_t>(state.range(0));
    mcpsse::detail::HttpRequestParser parser;
    std::string buffer;
    for (auto _ : state) {
        buffer.clear();
        std::size_t fed = 0;
        bool done = false;
        while (!done && fed < wire.size()) {
            const std::size_t n = std::min(piece, wire.size() - fed);
            buffer.append(wire, fed, n);
            fed += n;
            while (true) {
                const auto r = parser.parse(buffer);
                buffer.erase(0, r.consumed);
                if (r.status == mcpsse::detail::ParseStatus::complete) {
                    done = true;
                    break;
                }
                if (r.status != mcpsse::detail::ParseStatus::headers_complete) break;
            }
        }
        mcpsse::detail::HttpRequest request = parser.release();
        benchmark::DoNotOptimize(request.body.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpParse_PostFragmented)->Arg(16)->Arg(64)->Arg(256);

// A GET opening the standalone SSE stream (no body).
void BM_HttpParse_GetStream(benchmark::State& state) {
    mcpsse_bench::AllocationScope allocations;
    const std::string wire =
        "GET /mcp HTTP/1.1\r\n"
        "Host: 127.0.0.1:8080\r\n"
        "User-Agent: node\r\n"
        "Accept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "Mcp-Session-Id: 6f1c2a9e-3b7d-4c58-9e21-0d4b8a7f5c13\r\n"
        "Mcp-Protocol-Version: 2025-06-18\r\n"
        "Last-Event-ID: 17\r\n"
        "\r\n";
    mcpsse::detail::HttpRequestParser parser;
    for (auto _ : state) {
        const auto r = parser.parse(wire);
        benchmark::DoNotOptimize(r.consumed);
        mcpsse::detail::HttpRequest request = parser.release();
        benchmark::DoNotOptimize(request.fields.data());
    }
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpParse_GetStream);

}  // namespace
