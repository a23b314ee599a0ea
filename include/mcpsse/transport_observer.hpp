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
    /// The endpoint its path addresses, a bounded set fit for a metric label: "mcp" (the
    /// Streamable HTTP endpoint), "sse" and "messages" (legacy HTTP+SSE), the path of a
    /// route (the host's, the operations paths, the protected resource metadata), or
    /// "other" (any other path).
    std::string_view route{};
    /// The MCP session the request named (`Mcp-Session-Id`, or the legacy `sessionId`);
    /// empty when none (for `initialize`, `on_session_open` reports the new session).
    std::string_view session_id{};
    /// The W3C Trace Context `traceparent` a 2026-07-28 request carried in
    /// `params._meta` (e.g. "00-4bf9...-00f0...-01"); empty when none.
    std::string_view traceparent{};
};

/// The kind of an SSE stream.
enum class StreamKind {
    response,    ///< a POST's response stream (Streamable HTTP)
    standalone,  ///< a session's GET stream (Streamable HTTP), or its resumption
    legacy,      ///< a legacy HTTP+SSE stream (`GET sse_path`)
};

/// One SSE stream, as observers see it.
struct StreamInfo {
    /// The connection it is written to.
    const ConnectionInfo& connection;
    StreamKind kind = StreamKind::response;
    /// The session it belongs to; empty for a 2026-07-28 (stateless) response stream.
    std::string_view session_id{};
    /// Events it replayed after `Last-Event-ID` before going on (0: not a resumption, or
    /// nothing was missed). Reported by `on_stream_open`.
    std::uint64_t replayed_events = 0;
    /// True when it resumed an earlier stream (`Last-Event-ID`).
    bool resumed = false;
};

/// What one write of an SSE stream sent.
struct StreamWrite {
    /// SSE events written: messages, the priming event and the legacy `endpoint` event
    /// (keep-alives and heartbeats are not counted here).
    std::uint64_t events = 0;
    /// Bytes of SSE text written (without HTTP chunk framing or the response head).
    std::uint64_t bytes = 0;
    /// True when the write was an idle stream's keep-alive (a comment, or the heartbeat
    /// event of `OperationsOptions::heartbeat_event`).
    bool keep_alive = false;
};

/// How one JSON-RPC request ended.
enum class RpcOutcome {
    success,    ///< a result was sent
    error,      ///< the handler (or mcpsse: unknown method, bad params) answered an error
    cancelled,  ///< cancelled (`notifications/cancelled`, a closed stream, stop): no reply
    timed_out,  ///< the handler ran past `request_handler_timeout` (-32001)
};

/// One JSON-RPC request whose handler ran, or that mcpsse answered itself (`initialize`,
/// `ping`, `logging/setLevel` without a host handler) (`on_rpc_request`).
struct RpcRequestInfo {
    /// The method, e.g. "tools/call".
    std::string_view method;
    /// For `tools/call`, the tool's name (`params.name`); empty otherwise.
    std::string_view tool{};
    RpcOutcome outcome = RpcOutcome::success;
    /// The JSON-RPC error code of an `error` (e.g. -32602), else 0.
    int error_code = 0;
    /// From the handler's start to its end.
    std::chrono::steady_clock::duration duration{};
    /// The session it ran in; empty when stateless.
    std::string_view session_id{};
};

/// Why a session ended.
enum class SessionEndReason {
    deleted,        ///< the client sent DELETE (Streamable HTTP)
    idle,           ///< no request or stream for `session_idle_timeout`
    stream_closed,  ///< a legacy HTTP+SSE session's stream ended
    stopped,        ///< the transport stopped (or finished draining)
    limit,          ///< a legacy HTTP+SSE session's stream was closed by a limit (a slow
                    ///< consumer over `max_stream_queue_bytes`, or `send_timeout`)
    closed,         ///< the host ended it (`SseTransport::end_session`), e.g. a bridge
                    ///< whose upstream server exited
};

/// One MCP session of an HTTP transport.
struct SessionInfo {
    std::string_view id;
    /// The negotiated protocol revision, e.g. "2025-11-25" ("2024-11-05" for legacy).
    std::string_view protocol_version;
    bool legacy = false;
    /// The subject the session is bound to; empty without authorization.
    std::string_view subject{};
    /// When the session was created (so a close report gives its lifetime).
    std::chrono::steady_clock::time_point created{};
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

/// The frequent events an observer wants (`TransportObserver::interests`). The others
/// (connections, TLS handshakes, sessions, limits, authorization) always reach it.
/// Leaving out what it ignores spares the transport building them: e.g. an observer
/// without `streams` keeps SSE streams from being tracked (less memory per open stream).
struct ObserverInterests {
    bool requests = true;      ///< `on_request`
    bool streams = true;       ///< `on_stream_open`, `on_stream_write`, `on_stream_close`
    bool rpc_requests = true;  ///< `on_rpc_request_start`, `on_rpc_request`
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
    /// The frequent events this observer wants; asked once, when it is added (default:
    /// all of them).
    [[nodiscard]] virtual ObserverInterests interests() const noexcept { return {}; }
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
    /// An SSE stream's head went out (for a resumption, after its replay).
    virtual void on_stream_open(const StreamInfo& stream) { (void)stream; }
    /// An SSE stream wrote events or a keep-alive.
    virtual void on_stream_write(const StreamInfo& stream, const StreamWrite& write) { (void)stream, (void)write; }
    /// An SSE stream ended on its connection (finished, closed, the peer left, stop).
    virtual void on_stream_close(const StreamInfo& stream) { (void)stream; }
    /// A JSON-RPC request's handler started, or mcpsse answers it itself (`method` as
    /// received).
    virtual void on_rpc_request_start(std::string_view method) { (void)method; }
    /// A JSON-RPC request whose handler started (`on_rpc_request_start`) ended. Requests
    /// refused before a handler ran (unknown method, over `max_requests_in_flight`) are
    /// not reported here; their HTTP answer is (`on_request`, `on_limit`).
    virtual void on_rpc_request(const RpcRequestInfo& request) { (void)request; }
    /// A request was refused by authorization, or a new token was accepted (an audit
    /// trail of who came and who was turned away).
    virtual void on_authorization(const AuthorizationEvent& event) { (void)event; }
};

}  // namespace mcpsse
