// mcpsse internal: where a session's outbound messages go.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse {
struct Principal;
}  // namespace mcpsse

namespace mcpsse::detail {

/// One outbound channel of a session: the stdio output, an SSE stream of a POST, the
/// standalone GET stream, or a JSON response body. The session picks the sink of the
/// request a message relates to, else the session's default sink (MCP M1: each
/// message goes to exactly one stream).
///
/// Thread-safety: every member is called on the owning session's strand only.
class MessageSink {
public:
    MessageSink() = default;
    MessageSink(const MessageSink&) = delete;
    MessageSink& operator=(const MessageSink&) = delete;
    virtual ~MessageSink() = default;

    /// Queues one serialized JSON-RPC message (no trailing newline) for the peer.
    /// Never blocks. Returns false when the message cannot be delivered now (the
    /// channel is closed, or it cannot carry this kind of message).
    virtual bool send(std::string message) = 0;

    /// False when the channel cannot carry server-to-client requests (a stateless
    /// 2026-07-28 exchange, or a JSON response body).
    [[nodiscard]] virtual bool accepts_requests() const noexcept { return true; }

    /// Ends the connection carrying this channel without ending the stream, after
    /// sending `retry` (ms) as the SSE reconnection time (MCP 2025-11-25 SSE polling).
    /// False when the channel is not a resumable SSE stream with a connection attached.
    virtual bool close_connection(std::optional<std::chrono::milliseconds> /*retry*/) { return false; }

    /// A header of the HTTP request this channel answers (name case-insensitive), or
    /// nullopt (not HTTP, or no such header).
    [[nodiscard]] virtual std::optional<std::string_view> request_header(std::string_view) const { return std::nullopt; }

    /// Who sent the HTTP request this channel answers, or null (not HTTP, or no
    /// authorization).
    [[nodiscard]] virtual const Principal* principal() const noexcept { return nullptr; }
};

}  // namespace mcpsse::detail
