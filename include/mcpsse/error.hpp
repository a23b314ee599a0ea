// mcpsse: JSON-RPC 2.0 and MCP error codes, and the exception that carries one.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace mcpsse {

/// Error codes that reach the peer in a JSON-RPC error object.
///
/// The first five are JSON-RPC 2.0 (section 5.1); the rest are defined by the
/// MCP specification. Hosts may use any other integer in an `RpcError`.
namespace error_code {
/// Invalid JSON, or invalid UTF-8, was received (JSON-RPC 2.0 section 5.1).
inline constexpr int parse_error = -32700;
/// The JSON sent is not a valid request object (JSON-RPC 2.0 section 5.1).
inline constexpr int invalid_request = -32600;
/// The method does not exist or is not available (JSON-RPC 2.0 section 5.1).
inline constexpr int method_not_found = -32601;
/// Invalid method parameters (JSON-RPC 2.0 section 5.1); MCP also uses it for unknown tools.
inline constexpr int invalid_params = -32602;
/// Internal error of the server (JSON-RPC 2.0 section 5.1).
inline constexpr int internal_error = -32603;
/// The connection to the peer closed before a response arrived (MCP SDK convention).
inline constexpr int connection_closed = -32000;
/// A request timed out (MCP SDK convention): a server-to-client request the peer did
/// not answer in time, or a handler that ran past `request_handler_timeout`; `data`
/// carries `{"timeout": <ms>}`.
inline constexpr int request_timeout = -32001;
/// A requested resource does not exist (MCP 2024-11-05 to 2025-11-25, resources).
inline constexpr int resource_not_found = -32002;
/// An HTTP header disagrees with the JSON-RPC body (MCP 2026-07-28, Streamable HTTP).
inline constexpr int header_mismatch = -32020;
/// The request needs a client capability the client did not declare (MCP 2026-07-28).
inline constexpr int missing_client_capability = -32021;
/// The request's protocol version is not supported (MCP 2026-07-28); `data` carries
/// `{"supported": [...], "requested": "..."}`.
inline constexpr int unsupported_protocol_version = -32022;
/// A URL-mode elicitation must complete first (MCP 2025-11-25, elicitation).
inline constexpr int url_elicitation_required = -32042;
/// mcpsse: the session already runs `max_requests_in_flight` handlers; `data` carries
/// `{"max_in_flight": N}` (HTTP 429 on Streamable HTTP and legacy `/messages`).
inline constexpr int too_many_requests = -32050;
/// mcpsse: a resumption's events after `Last-Event-ID` were evicted from the event
/// store. On a POST's stream it is the error response of the request the stream
/// answers (the client stops waiting); for the standalone GET stream, and for a
/// finished stream, it is the body of a 410.
inline constexpr int events_evicted = -32051;
}  // namespace error_code

/// An exception that a handler throws to answer with a JSON-RPC error object.
///
/// The dispatcher turns it into `{"code": code(), "message": what(), "data": data()}`
/// (`data` omitted when null). Any other exception escaping a handler becomes
/// `error_code::internal_error` with a generic message, so internals never leak.
/// Thread-safety: an immutable value; safe to share after construction.
class RpcError : public std::runtime_error {
public:
    /// Constructs the error with a JSON-RPC `code`, a human-readable `message` and
    /// optional structured `data` (null means "no data member").
    RpcError(int code, const std::string& message, nlohmann::json data = nullptr)
        : std::runtime_error(message), code_(code), data_(std::move(data)) {}

    /// The JSON-RPC error code (see `error_code`).
    [[nodiscard]] int code() const noexcept { return code_; }

    /// The `data` member, or null when there is none.
    [[nodiscard]] const nlohmann::json& data() const noexcept { return data_; }

private:
    int code_;
    nlohmann::json data_;
};

}  // namespace mcpsse
