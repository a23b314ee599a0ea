// mcpsse: plain TCP, the default connection security of SseTransport.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <system_error>

namespace mcpsse {

/// The connection security of an `SseTransport`: how an accepted TCP socket becomes the
/// stream the transport reads requests from and writes responses to. `PlainTcp` (the
/// default) serves plain HTTP; `Tls` (`<mcpsse/tls.hpp>`, CMake target `mcpsse::tls`)
/// serves HTTPS. A security type provides:
/// - `stream_type`: an Asio stream over `asio::ip::tcp::socket`;
/// - `secure`: true when a handshake runs before the first request;
/// - `stream_type wrap(asio::ip::tcp::socket)`: the stream of an accepted socket;
/// - for secure types, `handshake_timeout()`, `async_handshake(stream&)` and
///   `async_shutdown(stream&)` yielding a `std::error_code`, and `is_plain_http(ec)`:
///   the handshake failed because the peer sent a plain-HTTP request.
/// Safe to use from any thread.
struct PlainTcp {
    /// The stream: the socket itself.
    using stream_type = asio::ip::tcp::socket;
    /// No handshake, no TLS.
    static constexpr bool secure = false;
    /// Returns `socket`.
    stream_type wrap(asio::ip::tcp::socket socket) const { return socket; }
    /// Never used (no handshake).
    [[nodiscard]] std::chrono::milliseconds handshake_timeout() const noexcept { return {}; }
    /// Never used (no handshake).
    asio::awaitable<std::error_code> async_handshake(stream_type&) const { co_return std::error_code{}; }
    /// Never used (no handshake).
    [[nodiscard]] static bool is_plain_http(std::error_code) noexcept { return false; }
    /// Never used (no TLS shutdown).
    asio::awaitable<std::error_code> async_shutdown(stream_type&) const { co_return std::error_code{}; }
};

}  // namespace mcpsse
