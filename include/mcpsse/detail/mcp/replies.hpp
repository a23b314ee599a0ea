// mcpsse: the HTTP answers of the MCP endpoints that carry a JSON-RPC error or replayed events.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/mcp/messages.hpp>
#include <mcpsse/detail/rpc/session.hpp>

#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// Answers `status` with a JSON-RPC error (`id`, `code`, `message`, `data`) as body.
/// `message` by value: callers may return this awaitable after their own frame is gone.
template <class Conn>
asio::awaitable<bool> async_reply_error(Conn& c, const HttpRequest& req, int status, std::optional<RequestId> id,
                                        int code, std::string message, nlohmann::json data = nullptr) {
    const std::string body = json_rpc::serialize(ErrorResponse{std::move(id), code, std::move(message), std::move(data)});
    co_return co_await async_write_json(c, req, status, body, {});
}

/// The refusal of a request whose session could not be found or restored: `status`
/// (400, 404, 429 or 503) with -32600 and `message`; a 503 (draining, session table
/// full, session store unavailable) carries `Retry-After: 1`, so a client or a load
/// balancer tries again (RFC 9110, 10.2.3).
template <class Conn>
asio::awaitable<bool> async_reply_no_session(Conn& c, const HttpRequest& req, int status, std::string message) {
    const std::string body = json_rpc::serialize(ErrorResponse{std::nullopt, error_code::invalid_request, std::move(message), nullptr});
    co_return co_await async_write_json(c, req, status, body, status == 503 ? std::string_view("Retry-After: 1\r\n") : std::string_view());
}

/// 405 with `Allow: allow` and -32600.
template <class Conn>
asio::awaitable<bool> async_reply_405(Conn& c, const HttpRequest& req, std::string_view allow) {
    co_return co_await async_write_json(c, req, 405, error_body(error_code::invalid_request, "Method Not Allowed"),
                                        "Allow: " + std::string(allow) + "\r\n");
}

/// 429 with `Retry-After: 1` for a request or notification over the session's
/// `max_requests_in_flight` (-32050, MCP L2 in tests/CHECKLIST.md).
template <class Conn>
asio::awaitable<bool> async_reply_busy(Conn& c, const HttpRequest& req, const RpcSession& rpc, const Message& message) {
    c.report_limit("max_requests_in_flight");
    co_return co_await async_write_json(c, req, 429, json_rpc::serialize(rpc.too_many_requests(request_id_of(message))),
                                        "Retry-After: 1\r\n");
}

/// 410 for a resumption whose events were evicted (-32051): the client re-syncs.
template <class Conn>
asio::awaitable<bool> async_reply_evicted(Conn& c, const HttpRequest& req) {
    return async_reply_error(c, req, 410, std::nullopt, error_code::events_evicted,
                             "Gone: the events after Last-Event-ID were evicted");
}

/// 503 with `Retry-After: 5` when the session table is full.
template <class Conn>
asio::awaitable<bool> async_reply_no_session_room(Conn& c, const HttpRequest& req) {
    co_return co_await async_write_json(c, req, 503,
                                        error_body(error_code::internal_error, "Service Unavailable: too many sessions"),
                                        "Retry-After: 5\r\n");
}

/// 503 with `Retry-After: 1` to what would open a session or a standalone stream while
/// the transport drains (the client retries, e.g. on another instance).
template <class Conn>
asio::awaitable<bool> async_reply_draining(Conn& c, const HttpRequest& req) {
    co_return co_await async_write_json(c, req, 503,
                                        error_body(error_code::internal_error, "Service Unavailable: the server is draining"),
                                        "Retry-After: 1\r\n");
}

/// 200 with `events` as a finished `text/event-stream` body (a replay).
template <class Conn>
asio::awaitable<bool> async_write_events(Conn& c, const HttpRequest& req, const std::string& events) {
    return async_write_body(c, req, 200, "text/event-stream", events,
                            "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n");
}

}  // namespace mcpsse::detail
