// mcpsse: whole HTTP/1.1 responses with a Content-Length body.
#pragma once

#include <mcpsse/detail/http/io.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/response.hpp>

#include <asio/awaitable.hpp>

#include <string>
#include <string_view>

namespace mcpsse::detail {

/// Views passed to these functions must stay valid until the returned awaitable
/// completes (a temporary in the `co_await` expression does).
///
/// Writes a response with `body` of type `content_type`, the request's HTTP version,
/// `extra` header lines (each ending in CRLF) and the connection's `response_headers`
/// (CORS). True when written and the connection may go on.
template <class Conn>
asio::awaitable<bool> async_write_body(Conn& c, const HttpRequest& req, int status, std::string_view content_type,
                                       const std::string& body, std::string_view extra) {
    std::string head;
    head.reserve(160 + extra.size());
    append_status_line(head, status, req.version_minor);
    head += "Content-Type: ";
    head += content_type;
    head += "\r\n";
    head += extra;
    head += c.response_headers;
    append_content_length(head, body.size());
    end_head(head);
    c.response_status = status;
    co_return co_await async_send_pair(c, head, body);
}

/// `async_write_body` with `application/json`.
template <class Conn>
asio::awaitable<bool> async_write_json(Conn& c, const HttpRequest& req, int status, const std::string& body,
                                       std::string_view extra) {
    return async_write_body(c, req, status, "application/json", body, extra);
}

/// Writes an HTTP/1.1 response with `extra` header lines and no CORS headers unless
/// `extra` has them; a non-empty body is typed JSON when it starts with `{`, else plain
/// text. False when not written or when `extra` closes the connection.
template <class Conn>
asio::awaitable<bool> async_write_simple(Conn& c, int status, std::string_view body, std::string_view extra) {
    std::string out;
    append_status_line(out, status);
    out += extra;
    if (!body.empty() && extra.find("Content-Type") == std::string::npos)
        out += body.front() == '{' ? "Content-Type: application/json\r\n" : "Content-Type: text/plain; charset=utf-8\r\n";
    append_content_length(out, body.size());
    end_head(out);
    c.response_status = status;
    const bool sent = co_await async_send_pair(c, out, body);
    co_return sent && extra.find("Connection: close") == std::string::npos;
}

}  // namespace mcpsse::detail
