// mcpsse: a long-lived stream an era handler asks the connection to serve.
#pragma once

#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/detail/sse/event_id.hpp>
#include <mcpsse/detail/sse/stream.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace mcpsse::detail {

/// A stream to serve on the connection that asked for it (standalone GET, resumption,
/// legacy GET). The connection loop attaches it and pumps it itself, so that no
/// routing frame stays parked for the stream's life.
struct StreamPlan {
    std::shared_ptr<SseStream> stream;
    std::optional<EventId> resume_after;  // Last-Event-ID: replay what followed it first
    bool priming = false;
    bool legacy = false;                  // the connection and the session end with the stream
    std::string prefix;                   // bytes sent before the stream's events
    std::shared_ptr<SseSessionState> session;  // its activity ends with the stream
    std::uint64_t prefix_events = 0;      // events of `prefix` replayed from a store (a resumption)
};

/// What a GET handler did: answered (true: the connection may go on), or a stream to serve.
using GetOutcome = std::variant<bool, StreamPlan>;

/// A refusal decided from a request's head alone (before `100 Continue`).
struct HeadRefusal {
    int status;
    std::string message;
};

}  // namespace mcpsse::detail
