// mcpsse: the Session concept: one MCP session at the level of JSON-RPC messages.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <concepts>
#include <string>
#include <string_view>

namespace mcpsse {

/// One MCP session of a transport, at the level of JSON-RPC messages: what a proxy or a
/// bridge needs besides the `Dispatcher` to forward a session's traffic without a
/// handler per method. Messages from the client (requests, notifications) reach the
/// dispatcher's handlers, or its fallbacks (`Dispatcher::set_request_fallback`,
/// `set_notification_fallback`) for methods nobody registered; what a request's handler
/// returns or throws is its response. A model sends the server's own messages that
/// relate to no client request (messages related to one go through its
/// `RequestContext`): notifications, and requests whose answers (the client's
/// responses) complete the operation that sent them.
///
/// Models: `SseSession<Executor>` (one session of an `SseTransport`, Streamable HTTP or
/// legacy HTTP+SSE) and `StdioSession<Executor>` (the one session of a
/// `StdioTransport`). A model `S` is a copyable handle and provides:
/// - `S::executor_type` and `get_executor()`: the executor serializing the session's
///   work;
/// - `id()`: the transport's session id (`Mcp-Session-Id`; empty on stdio);
/// - `protocol_version()`: the revision `initialize` negotiated (empty before);
/// - `notify(method, params)`: sends a notification unrelated to any request (MCP
///   basic/transports: on the standalone stream over HTTP, on standard output over
///   stdio), safe from any thread; dropped when the session cannot carry it;
/// - `async_request(method, params, timeout, token)`: sends a server-to-client request
///   (e.g. `roots/list`) and completes with signature
///   `void(std::exception_ptr, nlohmann::json)`: the client's `result`, or `RpcError`
///   (the client's error; `connection_closed` -32000 when the session cannot carry
///   requests or ends; `request_timeout` -32001 after `timeout` ms).
template <class S>
concept Session = std::copy_constructible<S> &&
                  requires(S& session, const S& const_session, std::string method, nlohmann::json params,
                           std::chrono::milliseconds timeout) {
                      typename S::executor_type;
                      { const_session.get_executor() } -> std::convertible_to<typename S::executor_type>;
                      { const_session.id() } -> std::convertible_to<std::string_view>;
                      { const_session.protocol_version() } -> std::convertible_to<std::string_view>;
                      { session.notify(method, params) } -> std::same_as<void>;
                      {
                          session.async_request(method, params, timeout, asio::use_awaitable)
                      } -> std::same_as<asio::awaitable<nlohmann::json>>;
                  };

}  // namespace mcpsse
