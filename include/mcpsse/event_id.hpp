// mcpsse: the id of one event on a resumable SSE stream.
#pragma once

#include <cstdint>

namespace mcpsse {

/// The id of one event on a resumable SSE stream: which stream of the session it was
/// sent on and its position there. Sent as the SSE `id:` field and read back from a
/// reconnecting client's `Last-Event-ID`, written `<stream>-<sequence>` in canonical
/// decimal (MCP Streamable HTTP, resumability: R1 unique per session, R2 encodes its
/// stream), so the transport knows which stream to replay. An `EventStore` keeps events
/// by this id.
///
/// Thread-safety: a plain value (two integers); copies may be used from any thread.
struct EventId {
    /// The stream's number, assigned by the transport; unique within a session.
    std::uint64_t stream = 0;
    /// The event's position within its stream, counting from 1 (0 names the priming
    /// event that opens a stream; replay starts after the given sequence).
    std::uint64_t sequence = 0;

    /// Equal when both numbers are equal.
    friend constexpr bool operator==(const EventId&, const EventId&) noexcept = default;
};

}  // namespace mcpsse
