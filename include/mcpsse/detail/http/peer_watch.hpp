// mcpsse: noticing a peer that leaves while a long response (a stream) is being written.
#pragma once

#include <mcpsse/detail/http/connection.hpp>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace mcpsse::detail {

/// Waits until the connection is woken (`Connection::notify`); true when `interval`
/// passed first (nullopt or 0: no interval).
template <class Conn>
asio::awaitable<bool> async_wait_for_wake(const std::shared_ptr<Conn>& c,
                                          std::optional<std::chrono::milliseconds> interval) {
    if (c->notified) {
        c->notified = false;
        co_return false;
    }
    std::error_code ec;
    if (interval && interval->count() > 0) {
        c->wake.expires_after(*interval);
        co_await c->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    } else {
        // No deadline: `notify` resumes this wait directly (no trip through the
        // scheduler between a handler's reply and its write).
        co_await c->woken.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        c->notified = false;
        co_return false;
    }
    c->notified = false;
    co_return !ec;
}

/// While a stream is written, a read notices the peer closing (`peer_closed`, then a
/// wake) and keeps pipelined bytes for the next request, up to one header section
/// (`max_header_bytes`; more counts as the peer leaving: a stream is no place to upload
/// a body). Plain completion handlers rather than a coroutine: an idle stream parks one
/// small wait; over plain TCP it waits for readability first, so it holds no read
/// buffer (over TLS it holds a 512-byte one).
template <class Conn>
class PeerWatch {
public:
    /// Starts watching `c`.
    static void start(const std::shared_ptr<Conn>& c) {
        c->in.release();  // streams may idle for hours: keep no storage when nothing is unread
        c->detector_stop = false;
        c->detector_running = true;
        wait(c);
    }

    /// Stops watching and waits until the watch has ended.
    static asio::awaitable<void> async_stop(const std::shared_ptr<Conn>& c) {
        if (!c->detector_running) co_return;
        c->detector_stop = true;
        std::error_code ec;
        c->socket().cancel(ec);
        while (c->detector_running) co_await async_wait_for_wake(c, std::chrono::milliseconds(100));
    }

private:
    static void wait(const std::shared_ptr<Conn>& c) {
        if (c->detector_stop) return done(c);
        if (c->in.size() > c->settings->http_limits.max_header_bytes) {
            c->peer_closed = true;
            return done(c);
        }
        if constexpr (Conn::direct_writes) {
            c->socket().async_wait(asio::socket_base::wait_read, [c](std::error_code ec) { on_ready(c, ec); });
        } else {
            // TLS: only the stream can tell a closing peer (close_notify, or end of input)
            // from pipelined bytes; it reads them decrypted, alongside the pump's writes.
            char* room = c->in.prepare(512);
            c->stream.async_read_some(asio::buffer(room, 512), [c](std::error_code ec, std::size_t n) {
                c->in.commit(ec ? 0 : n);
                if (!ec) return wait(c);
                if (!c->detector_stop || ec != asio::error::operation_aborted) c->peer_closed = true;
                done(c);
            });
        }
    }

    static void on_ready(const std::shared_ptr<Conn>& c, std::error_code ec) {
        if (!ec) {
            char* room = c->in.prepare(512);
            const std::size_t n = c->socket().read_some(asio::buffer(room, 512), ec);
            c->in.commit(ec ? 0 : n);
            if (!ec && n == 0) ec = asio::error::eof;
            if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) return wait(c);
        }
        // End of input or a reset counts even after async_stop began: Asio's
        // edge-triggered reactor would not report the EOF to a later read again, which
        // would then wait until idle_timeout.
        if (!c->detector_stop || ec != asio::error::operation_aborted) c->peer_closed = true;
        done(c);
    }

    static void done(const std::shared_ptr<Conn>& c) {
        c->detector_running = false;
        c->notify();
    }
};

}  // namespace mcpsse::detail
