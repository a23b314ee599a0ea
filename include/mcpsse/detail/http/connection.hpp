// mcpsse: one accepted HTTP/1.1 connection: its stream, read buffer, deadline and wake-ups.
#pragma once

#include <mcpsse/transport_observer.hpp>
#include <mcpsse/detail/auth/connection_auth.hpp>
#include <mcpsse/detail/http/observers.hpp>
#include <mcpsse/detail/http/read_buffer.hpp>
#include <mcpsse/detail/http/request_parser.hpp>
#include <mcpsse/detail/util/resume_slot.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace mcpsse::detail {

/// The HTTP layer's settings, taken from `SseTransportOptions` once (times in ms).
struct ConnectionSettings {
    HttpLimits http_limits{};
    std::chrono::milliseconds request_timeout{10'000};  // from a request's first byte to its end
    std::chrono::milliseconds idle_timeout{60'000};     // between requests on a kept-alive connection
    std::chrono::milliseconds send_timeout{30'000};     // a write blocked on a peer that stopped reading
    std::chrono::milliseconds lingering_close_timeout{2'000};
    const std::atomic<bool>* stopping = nullptr;  // the server is stopping: idle reads end
    const Observers* observers = nullptr;         // told of limits hit (send_timeout); may be null
};

/// One accepted connection over `Stream` (an Asio stream: `asio::ip::tcp::socket`, or a
/// TLS stream over one). Its members are used on the connection's executor only (a
/// strand, or the only thread). Knows nothing of MCP or SSE sessions: the layers above
/// keep their own per-connection state in a class derived from this one.
///
/// Deadlines: one watchdog timer, re-armed lazily (no cancellation per read). When the
/// deadline passes, a pending read is cancelled; a pending write (`writing`) closes the
/// socket, since a write to a peer that stopped reading may never complete otherwise.
template <class Stream>
struct Connection : std::enable_shared_from_this<Connection<Stream>> {
    using clock = std::chrono::steady_clock;
    using stream_type = Stream;
    /// A plain socket may be written synchronously while non-blocking (what a write
    /// cannot send now is left for an asynchronous write). A TLS stream may not: a
    /// partial synchronous write would lose encrypted bytes, so it is always written
    /// asynchronously.
    static constexpr bool direct_writes = std::is_same_v<Stream, asio::ip::tcp::socket>;

    Connection(Stream s, const ConnectionSettings& connection_settings)
        : stream(std::move(s)), watchdog(stream.get_executor()), wake(stream.get_executor()),
          woken(stream.get_executor()), settings(&connection_settings) {}

    /// The TCP socket under the stream (the stream itself, or a TLS stream's next layer).
    auto& socket() noexcept {
        if constexpr (requires { stream.next_layer(); }) return stream.next_layer();
        else return stream;
    }

    /// What observers and pipeline stages learn about the connection; the peer's
    /// address is looked up on first use.
    const ConnectionInfo& info() {
        if (!connection_info) {
            connection_info = std::make_unique<ConnectionInfo>();
            connection_info->id = id;
            connection_info->secure = secure;
            std::error_code ec;
            connection_info->remote_endpoint = socket().remote_endpoint(ec);
        }
        return *connection_info;
    }

    Stream stream;
    asio::steady_timer watchdog;
    asio::steady_timer wake;  // a long response waits here for its next bytes, or a keep-alive
    ResumeSlot woken;         // ... or here, with no keep-alive: `notify` resumes it inline
    ReadBuffer in;            // received, not yet parsed
    const ConnectionSettings* settings;  // the listener's, which outlives its connections
    clock::time_point deadline = clock::time_point::max();
    bool watchdog_running = false;
    bool timed_out = false;
    bool idle = false;         // waiting for the first byte of a request
    bool peer_closed = false;  // noticed while a long response was being written
    bool detector_running = false;
    bool detector_stop = false;
    bool closing = false;
    bool writing = false;   // a write waits for the peer: the watchdog enforces send_timeout
    bool linger = false;    // an error response ends the connection: drain before closing
    bool notified = false;  // a wake arrived while no wait was pending
    bool secure = false;       // set by the listener
    bool stages_done = false;  // the host's stages ran on the current request's head
    bool exempt_peer = false;  // the peer's address is exempt from ClientLimits (set at accept)
    bool limited = false;      // a limit was reported while answering the current request
    // The current request's response, for observers: status and bytes written.
    int response_status = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t id = 0;  // set by the listener: 1, 2, ...
    std::unique_ptr<ConnectionInfo> connection_info;  // made by info(), when first asked for
    // Headers every response to the current request carries (CORS), set by the pipeline.
    std::string response_headers;
    /// The last bearer token admitted here (authorization only; made on first use).
    std::unique_ptr<ConnectionAuth> auth;
    /// The current request's W3C `traceparent`, for observers (set only when observed).
    std::unique_ptr<std::string> traceparent;

    /// Wakes a waiting response writer (on the connection's executor); never lost.
    void notify() {
        notified = true;
        if (!woken.resume()) wake.cancel();
    }

    /// Sets the deadline `after` from now.
    void arm(std::chrono::milliseconds after) {
        deadline = clock::now() + after;
        timed_out = false;
        if (watchdog_running && watchdog.expiry() <= deadline) return;
        watchdog_running = true;
        watchdog.expires_at(deadline);
        watchdog.async_wait([self = this->shared_from_this()](std::error_code ec) { self->on_watchdog(ec); });
    }

    /// Clears the deadline.
    void disarm() noexcept { deadline = clock::time_point::max(); }

    /// Tells the observers that this connection hit `limit` (an option's name).
    void report_limit(std::string_view limit, std::string_view detail = {}) {
        limited = true;
        if (!settings || !settings->observers || settings->observers->empty()) return;
        const LimitEvent event{limit, detail, &info()};
        settings->observers->each([&](TransportObserver& o) { o.on_limit(event); });
    }

private:
    void on_watchdog(std::error_code ec) {
        if (closing) {
            watchdog_running = false;
            return;
        }
        // Re-armed earlier: a new wait is already pending.
        if (ec == asio::error::operation_aborted && watchdog.expiry() > clock::now()) return;
        if (deadline == clock::time_point::max()) {
            watchdog_running = false;
            return;
        }
        if (clock::now() >= deadline) {
            watchdog_running = false;
            timed_out = true;
            std::error_code ignored;
            if (writing) {
                // send_timeout: the peer stopped reading. Closing (not just cancelling) also
                // ends a write between two of its steps; the failed write ends the exchange.
                report_limit("send_timeout");
                closing = true;
                socket().close(ignored);
            } else {
                socket().cancel(ignored);
            }
            return;
        }
        watchdog.expires_at(deadline);
        watchdog.async_wait([self = this->shared_from_this()](std::error_code e) { self->on_watchdog(e); });
    }
};

}  // namespace mcpsse::detail
