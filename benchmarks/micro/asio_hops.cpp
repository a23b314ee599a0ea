// Micro-benchmarks of the Asio executor hops a transport makes per request: a
// co_spawn + co_await onto another executor and back, with the executor kinds mcpsse
// can choose between. Shows the price of type-erased strands (any_io_executor
// wrapping strand<any_io_executor>) against concrete strands and no strand.
#include "alloc_counter.hpp"

#include <benchmark/benchmark.h>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace {

asio::awaitable<int> trivial() { co_return 1; }

// The loop runs as a coroutine on `home`; each iteration co_spawns `trivial` onto
// `target` and awaits it (two scheduler hops, one coroutine frame).
template <class Target>
void run_hops(benchmark::State& state, asio::io_context& io, const asio::any_io_executor& home, Target target) {
    mcpsse_bench::AllocationScope allocations;
    asio::co_spawn(
        home,
        [&state, target]() -> asio::awaitable<void> {
            for (auto _ : state) {
                const int v = co_await asio::co_spawn(target, trivial(), asio::use_awaitable);
                benchmark::DoNotOptimize(v);
            }
        },
        asio::detached);
    io.run();
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}

// any_io_executor wrapping strand<any_io_executor>: what SseTransport uses today for
// sessions and connections.
void BM_Hop_AnyIoStrandOfAny(benchmark::State& state) {
    asio::io_context io(1);
    const asio::any_io_executor home = asio::make_strand(asio::any_io_executor(io.get_executor()));
    const asio::any_io_executor target = asio::make_strand(asio::any_io_executor(io.get_executor()));
    run_hops(state, io, home, target);
}
BENCHMARK(BM_Hop_AnyIoStrandOfAny);

// Concrete strand<io_context::executor_type> as the target (home stays type-erased).
void BM_Hop_ConcreteStrand(benchmark::State& state) {
    asio::io_context io(1);
    const asio::any_io_executor home = io.get_executor();
    const auto target = asio::make_strand(io.get_executor());
    run_hops(state, io, home, target);
}
BENCHMARK(BM_Hop_ConcreteStrand);

// No strand at all (a single-threaded io_context needs none).
void BM_Hop_IoContext(benchmark::State& state) {
    asio::io_context io(1);
    const asio::any_io_executor home = io.get_executor();
    run_hops(state, io, home, io.get_executor());
}
BENCHMARK(BM_Hop_IoContext);

// The cheapest alternative: calling the coroutine directly (no hop).
void BM_Hop_DirectAwait(benchmark::State& state) {
    asio::io_context io(1);
    mcpsse_bench::AllocationScope allocations;
    asio::co_spawn(
        io,
        [&state]() -> asio::awaitable<void> {
            for (auto _ : state) {
                const int v = co_await trivial();
                benchmark::DoNotOptimize(v);
            }
        },
        asio::detached);
    io.run();
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Hop_DirectAwait);

// A timer wake-up (cancel + resumed waiter), the way a pump is woken by a waker:
// one post of the waker to the connection's executor, then the timer cancel.
template <class Executor>
void run_wake(benchmark::State& state, asio::io_context& io, Executor conn_ex) {
    mcpsse_bench::AllocationScope allocations;
    asio::steady_timer timer(conn_ex);
    asio::co_spawn(
        conn_ex,
        [&]() -> asio::awaitable<void> {
            for (auto _ : state) {
                timer.expires_at(asio::steady_timer::time_point::max());
                asio::post(conn_ex, [&timer] { timer.cancel(); });
                std::error_code ec;
                co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
        },
        asio::detached);
    io.run();
    allocations.report(state);
    state.SetItemsProcessed(state.iterations());
}

void BM_Wake_AnyIoStrandOfAny(benchmark::State& state) {
    asio::io_context io(1);
    const asio::any_io_executor ex = asio::make_strand(asio::any_io_executor(io.get_executor()));
    run_wake(state, io, ex);
}
BENCHMARK(BM_Wake_AnyIoStrandOfAny);

void BM_Wake_IoContext(benchmark::State& state) {
    asio::io_context io(1);
    const asio::any_io_executor ex = io.get_executor();
    run_wake(state, io, ex);
}
BENCHMARK(BM_Wake_IoContext);

}  // namespace
