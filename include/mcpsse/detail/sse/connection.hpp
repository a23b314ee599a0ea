// mcpsse: a connection that writes SSE streams, and the waker that feeds it events.
#pragma once

#include <mcpsse/detail/http/connection.hpp>
#include <mcpsse/detail/http/response.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/detail/sse/stream.hpp>
#include <mcpsse/detail/sse/stream_watch.hpp>

#include <asio/buffer.hpp>
#include <asio/dispatch.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// An HTTP connection plus what its SSE pump needs while it waits between events.
template <class Stream>
struct SseConnection : Connection<Stream> {
    using Connection<Stream>::Connection;

    // The pump waits with its head written and no write pending, so the waker (on the
    // connection's executor) may write new events itself (see write_directly).
    bool parked = false;
    bool parked_chunked = true;
    std::uint64_t parked_generation = 0;
    SseStream* parked_stream = nullptr;
    std::string unsent;  // taken by write_directly, not yet written: the pump writes it first
    std::unique_ptr<StreamWatch> watch;  // the current request's stream, when observers want streams
};

/// Reports the end of the stream `c` wrote for its current request (if observed) and
/// forgets it. Called by the connection's loop once the request is answered.
template <class Stream>
void end_stream_watch(SseConnection<Stream>& c) {
    if (!c.watch) return;
    c.watch->close();
    c.watch.reset();
}

/// Writes a parked pump's new events from the waker, on the connection's executor:
/// true when they all went out, so the pump sleeps on. Otherwise what was taken stays in
/// `unsent` and the pump is woken to finish it (or to handle what take_events left). The
/// events are taken by swapping buffers and sent with a gather write (chunk header,
/// events, CRLF); only a remainder is copied, into `unsent`.
template <class Stream>
bool write_directly(SseConnection<Stream>& c) {
    if constexpr (!SseConnection<Stream>::direct_writes) return false;  // the pump writes TLS
    if (!c.parked || c.closing || c.peer_closed || !c.unsent.empty()) return false;
    std::string events;
    std::uint64_t count = 0;
    if (!c.parked_stream->take_events(c.parked_generation, events, count)) return false;
    if (events.empty()) return true;
    if (c.watch) c.watch->wrote(count, events.size());
    std::string header;  // "<hex size>\r\n" fits the small-string buffer
    if (c.parked_chunked) append_chunk_header(header, events.size());
    const std::string_view trailer = c.parked_chunked ? std::string_view("\r\n") : std::string_view();
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(header), asio::buffer(events), asio::buffer(trailer)};
    std::error_code ec;
    std::size_t sent = c.stream.write_some(buffers, ec);
    if (ec) sent = 0;
    c.bytes_sent += sent;
    for (const std::string_view part : {std::string_view(header), std::string_view(events), trailer}) {
        const std::size_t skip = std::min(sent, part.size());
        sent -= skip;
        c.unsent.append(part.substr(skip));
    }
    return c.unsent.empty();
}

/// The wake-up a stream calls when it has work for connection `c`'s pump. When the
/// consumer overflowed, also closes the socket: the pump may be blocked in a write to a
/// peer that stopped reading, which would otherwise never complete (a mere cancel() can
/// miss a write between two of its write_some steps); the failed write ends the exchange.
/// Runs on the connection's executor: inline when called there already (a handler's
/// reply or a broadcast on the only thread), else after a hop. Events for a parked pump
/// then go straight to the socket.
template <class Stream>
std::function<void()> make_waker(const std::shared_ptr<SseConnection<Stream>>& c, const std::shared_ptr<SseStream>& stream) {
    std::weak_ptr<SseConnection<Stream>> weak = c;
    std::weak_ptr<SseStream> weak_stream = stream;
    return [weak, weak_stream] {
        auto conn = weak.lock();
        if (!conn) return;
        const auto executor = conn->socket().get_executor();
        asio::dispatch(executor, [conn = std::move(conn), weak_stream] {
            if (auto s = weak_stream.lock(); s && s->overflowed()) {
                std::error_code ignored;
                if (!conn->closing) conn->report_limit("max_stream_queue_bytes");  // a slow consumer: dropped
                conn->closing = true;
                conn->socket().close(ignored);
            } else if (write_directly(*conn)) {
                return;
            }
            conn->notify();
        });
    };
}

}  // namespace mcpsse::detail
