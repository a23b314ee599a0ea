// mcpsse: the Transport concept that every mcpsse transport models.
#pragma once

#include <mcpsse/dispatcher.hpp>

#include <asio/awaitable.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <concepts>

namespace mcpsse {

/// What every mcpsse transport offers a host, so a host picks a transport at compile
/// time by changing one type (`StdioTransport<Executor>`, `SseTransport<Executor>`).
///
/// A model `T` provides:
/// - `T::executor_type` and `get_executor()`: the executor its work runs on;
/// - `async_run(Dispatcher&, CompletionToken)`: serves MCP with the dispatcher's
///   handlers until the peer goes away (stdio) or `stop()` is called; completes with
///   signature `void(std::exception_ptr)` (null on a clean end) and may be awaited
///   with `asio::use_awaitable` or launched with `asio::detached`;
/// - `stop()`: a graceful stop, callable from any thread: stop taking new input, let
///   in-flight handlers finish (each transport documents its deadline), then complete
///   the run.
template <class T>
concept Transport = requires(T& transport, Dispatcher& dispatcher) {
    typename T::executor_type;
    { transport.get_executor() } -> std::convertible_to<typename T::executor_type>;
    { transport.async_run(dispatcher, asio::use_awaitable) } -> std::same_as<asio::awaitable<void>>;
    transport.async_run(dispatcher, asio::detached);
    { transport.stop() } -> std::same_as<void>;
};

}  // namespace mcpsse
