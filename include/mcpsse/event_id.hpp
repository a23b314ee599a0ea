// mcpsse: the id of one event on a resumable SSE stream.
#pragma once

#include <cstdint>

namespace mcpsse {

/// The id of one event on a resumable SSE stream: which stream of the session it was
/// sent on and its position there. Sent as the SSE `id:` field and read back from a
/// reconnecting client's `Last-Event-ID`, written `<stream>-<sequence>` in canonical
/// decimal (MCP Streamable HTTP, resumability: R1 unique per session, R2 encodes its
/// stream), so the transport knows which stream to replay; clients treat it as opaque.
/// An `EventStore` or `AsyncEventStore` keeps events by this id.
///
/// Unique across processes: a transport numbers its sessions' streams from a random
/// 32-bit tag of its own (high half of `stream`, the low half counting the session's
/// streams), so two instances sharing a store never give two events one id.
///
/// Thread-safety: a plain value (two integers); copies may be used from any thread.
struct EventId {
    /// The stream's number, assigned by the transport: unique within a session, and
    /// across the transport instances that serve it (see above).
    std::uint64_t stream = 0;
    /// The event's position within its stream, counting from 1 (0 names the priming
    /// event that opens a stream; replay starts after the given sequence).
    std::uint64_t sequence = 0;

    /// Equal when both numbers are equal.
    friend constexpr bool operator==(const EventId&, const EventId&) noexcept = default;
};

}  // namespace mcpsse
