// mcpsse: what an HTTP transport reports about its connections, requests and sessions.
#pragma once

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace mcpsse {

/// One connection, as observers see it.
struct ConnectionInfo {
    /// A number unique among the transport's connections (1, 2, ...).
    std::uint64_t id = 0;
    /// The peer's address and port.
    asio::ip::tcp::endpoint remote_endpoint;
    /// True for a TLS connection.
    bool secure = false;
};

/// One answered HTTP request. For a request answered with a stream, reported when the
/// stream ends; `duration` then is the stream's whole life.
struct RequestInfo {
    const ConnectionInfo& connection;
    std::string_view method;
    std::string_view path;
    /// The status code sent (0 when no response could be written).
    int status = 0;
    /// Bytes written for this request (head and body, as sent on the connection).
    std::uint64_t bytes_sent = 0;
    /// From the request's complete arrival to its response's end.
    std::chrono::steady_clock::duration duration{};
    /// The subject of the request's bearer token (`Principal::subject`); empty without
    /// authorization or when the request was refused before its token was accepted.
    std::string_view subject{};
};

/// Why a session ended.
enum class SessionEndReason {
    deleted,        ///< the client sent DELETE (Streamable HTTP)
    idle,           ///< no request or stream for `session_idle_timeout`
    stream_closed,  ///< a legacy HTTP+SSE session's stream ended
    stopped,        ///< the transport stopped
};

/// One MCP session of an HTTP transport.
struct SessionInfo {
    std::string_view id;
    /// The negotiated protocol revision, e.g. "2025-11-25" ("2024-11-05" for legacy).
    std::string_view protocol_version;
    bool legacy = false;
    /// The subject the session is bound to; empty without authorization.
    std::string_view subject{};
};

/// An authorization decision about one request (`AuthorizationOptions`): a refusal
/// (401, 403, 503), or a token accepted by the verifier (reported when it is verified,
/// not on later requests that find it cached). Tokens are never reported.
struct AuthorizationEvent {
    /// The connection the request came on.
    const ConnectionInfo& connection;
    std::string_view method;
    std::string_view path;
    /// 0 when the token was accepted, else the status sent: 401, 403 or 503.
    int status = 0;
    /// The token's subject when it was verified (also for a 403); empty otherwise.
    std::string_view subject;
    /// Why it was refused: "missing_token", "malformed", "insufficient_scope", or a
    /// `TokenError` description (e.g. "token expired"); empty when accepted.
    std::string_view reason;
};

/// A configured limit refused or ended something. `limit` names the option, e.g.
/// "max_connections", "max_sessions", "max_requests_in_flight", "request_timeout",
/// "http_limits" (a request over `HttpLimits`; `detail` says which), "send_timeout",
/// "max_stream_queue_bytes".
struct LimitEvent {
    std::string_view limit;
    std::string_view detail;
    /// The connection it happened on (null when none, e.g. a session's idle timeout).
    const ConnectionInfo* connection = nullptr;
};

/// Receives what an `SseTransport` does (`SseTransportOptions::observers`), e.g. to log
/// it, count it for metrics or keep statistics. Every member has an empty default, so an
/// observer overrides only what it needs. Called on the thread that did the work (any of
/// the threads running the transport's contexts, concurrently): keep calls short,
/// thread-safe and non-blocking, and do not call back into the transport. An exception
/// thrown by an observer is not caught.
class TransportObserver {
public:
    virtual ~TransportObserver() = default;
    /// A connection was accepted (before any TLS handshake).
    virtual void on_connection_open(const ConnectionInfo& connection) { (void)connection; }
    /// A connection closed (for any reason: the peer, a timeout, an error, stop).
    virtual void on_connection_close(const ConnectionInfo& connection) { (void)connection; }
    /// A TLS handshake failed (the connection then closes).
    virtual void on_handshake_failed(const ConnectionInfo& connection, std::error_code error) {
        (void)connection, (void)error;
    }
    /// A request was answered (or its stream ended).
    virtual void on_request(const RequestInfo& request) { (void)request; }
    /// A session was created (after `initialize` succeeded, or a legacy GET).
    virtual void on_session_open(const SessionInfo& session) { (void)session; }
    /// A session ended.
    virtual void on_session_close(const SessionInfo& session, SessionEndReason reason) {
        (void)session, (void)reason;
    }
    /// A limit was hit.
    virtual void on_limit(const LimitEvent& event) { (void)event; }
    /// A request was refused by authorization, or a new token was accepted (an audit
    /// trail of who came and who was turned away).
    virtual void on_authorization(const AuthorizationEvent& event) { (void)event; }
};

}  // namespace mcpsse
