// mcpsse: reading requests from, and writing bytes to, an HTTP/1.1 connection.
#pragma once

#include <mcpsse/detail/http/connection.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/request_parser.hpp>
#include <mcpsse/detail/http/response.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace mcpsse::detail {

/// How `async_read_request` ended when it yields no request.
struct ReadState {
    std::error_code http_error;    // malformed or over a limit: answer with status_for(http_error)
    bool partial = false;          // part of a request arrived (a timeout then gets 408)
    bool awaiting_continue = false;  // head complete, `Expect: 100-continue`: the caller decides
    bool sent_continue = false;    // the caller answered 100 Continue: read the body now
};

/// Reads one whole request into `parser` (new, or reset by its release/recycle). Returns
/// it; or nullopt at end of input, on timeout, on an HTTP error (`state.http_error`), or
/// when the head of a request expecting `100 Continue` is complete
/// (`state.awaiting_continue`: the caller checks the head, writes `100 Continue` and sets
/// `sent_continue`, then calls again; RFC 9110 section 10.1.1). Deadlines:
/// `idle_timeout` until a request's first byte, then `request_timeout`.
template <class Conn>
asio::awaitable<std::optional<HttpRequest>> async_read_request(const std::shared_ptr<Conn>& c, HttpRequestParser& parser,
                                                               ReadState& state) {
    const ConnectionSettings& settings = *c->settings;
    state.awaiting_continue = false;
    c->arm(c->in.empty() && !state.partial ? settings.idle_timeout : settings.request_timeout);
    for (;;) {
        if (!c->in.empty()) {
            if (!state.partial) {
                state.partial = true;
                c->arm(settings.request_timeout);
            }
            const auto result = parser.parse(c->in.view());
            c->in.consume(result.consumed);
            if (result.status == ParseStatus::complete) {
                c->disarm();
                // After a large request: keep no more than the parser keeps per part.
                if (c->in.capacity() > HttpRequestParser::max_reused_bytes) c->in.release();
                co_return parser.release();
            }
            if (result.status == ParseStatus::error) {
                c->disarm();
                state.http_error = result.error;
                co_return std::nullopt;
            }
            if (result.status == ParseStatus::headers_complete && !state.sent_continue &&
                parser.request().expects_continue()) {
                c->disarm();
                state.awaiting_continue = true;
                co_return std::nullopt;
            }
            if (result.status == ParseStatus::headers_complete && !c->in.empty()) continue;
        }
        c->idle = !state.partial;
        if (c->idle && settings.stopping->load()) co_return std::nullopt;
        char* room = c->in.prepare(4096);
        std::error_code ec;
        const std::size_t n =
            co_await c->stream.async_read_some(asio::buffer(room, 4096), asio::redirect_error(asio::use_awaitable, ec));
        c->in.commit(ec ? 0 : n);
        c->idle = false;
        if (ec) {
            c->disarm();
            co_return std::nullopt;
        }
    }
}

/// Writes `first` then `second`; false when the write failed (the peer is then marked
/// gone). Every response goes out here (the interim 100 Continue and the SSE layer's
/// direct writes are the exceptions). A plain socket is non-blocking, so it sends at
/// once and waits for the peer only when its window is full (saves a reactor round trip
/// per response); a TLS stream is written asynchronously. A wait for the peer lasts
/// `send_timeout` at most (0: unbounded).
template <class Conn>
asio::awaitable<bool> async_send_pair(Conn& c, std::string_view first, std::string_view second) {
    const std::chrono::milliseconds send_timeout = c.settings->send_timeout;
    std::array<asio::const_buffer, 2> buffers{asio::buffer(first), asio::buffer(second)};
    std::error_code ec;
    std::size_t sent = 0;
    if constexpr (Conn::direct_writes) {
        sent = c.stream.write_some(buffers, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
    }
    if (!ec && sent < first.size() + second.size()) {
        if (sent < first.size()) buffers[0] = asio::buffer(first) + sent;
        else buffers = {asio::const_buffer{}, asio::buffer(second) + (sent - first.size())};
        // The peer's window is full: from here the write waits on it, for send_timeout at most.
        const auto saved = c.deadline;
        const bool timed = send_timeout.count() > 0;
        if (timed) {
            c.writing = true;
            c.arm(send_timeout);
        }
        co_await asio::async_write(c.stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
        if (timed) {
            c.writing = false;
            c.deadline = saved;
        }
    }
    if (ec) c.peer_closed = true;
    else c.bytes_sent += first.size() + second.size();
    co_return !ec;
}

/// Ends a connection whose error response may have left the request's rest unread:
/// closes the sending side, then reads and discards until the client closes or
/// `lingering_close_timeout` passes, so the client's remaining bytes meet no reset that
/// would destroy the response before it is read.
template <class Conn>
asio::awaitable<void> async_lingering_close(const std::shared_ptr<Conn>& c) {
    std::error_code ec;
    c->socket().shutdown(asio::socket_base::shutdown_send, ec);
    if (ec) co_return;
    c->arm(c->settings->lingering_close_timeout);
    std::array<char, 4096> scratch{};
    for (;;) {
        co_await c->socket().async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
    }
    c->disarm();
}

}  // namespace mcpsse::detail
