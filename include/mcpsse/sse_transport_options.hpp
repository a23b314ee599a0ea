// mcpsse: the settings of an SseTransport, with every limit and its default.
#pragma once

#include <mcpsse/authorization.hpp>
#include <mcpsse/client_limits.hpp>
#include <mcpsse/http_limits.hpp>
#include <mcpsse/http_route.hpp>
#include <mcpsse/operations.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/request_stage.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/transport_observer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpsse {

/// How a POST carrying a request is answered (MCP Streamable HTTP P4).
enum class ResponseMode {
    /// `application/json`, unless the handler sends a notification or request first;
    /// then the response becomes an SSE stream from that moment on.
    json_unless_streaming,
    /// Always an SSE stream (`text/event-stream`), even for a lone response.
    sse,
};

/// Settings of an `SseTransport`. Every limit has a documented default and its own
/// HTTP status when exceeded.
struct SseTransportOptions {
    /// Address to bind. Default loopback only (MCP S3); "0.0.0.0" or "::" to listen on
    /// all interfaces (then configure `allowed_hosts` and authentication).
    std::string host = "127.0.0.1";
    /// TCP port; 0 picks a free one (see `SseTransport::local_port`).
    std::uint16_t port = 3000;

    /// The Streamable HTTP endpoint (POST, GET, DELETE), every revision (MCP S1). Empty
    /// (with an empty `sse_path`): no MCP endpoint at all, e.g. a second listener that
    /// serves only routes such as `SseTransport::metrics()`'s.
    std::string mcp_path = "/mcp";
    /// The legacy HTTP+SSE stream endpoint (2024-11-05); empty disables legacy HTTP+SSE.
    std::string sse_path = "/sse";
    /// The legacy HTTP+SSE POST endpoint; clients get `<messages_path>?sessionId=<id>`.
    std::string messages_path = "/messages";

    /// Serve the session-based revisions (2024-11-05 to 2025-11-25 on `mcp_path`)
    /// without sessions, e.g. behind a load balancer: `initialize` is answered but no
    /// `Mcp-Session-Id` is issued, every request runs in a fresh context, GET and DELETE
    /// answer 405 (what other SDKs call stateless mode). 2026-07-28 requests are
    /// stateless in any case.
    bool sessionless = false;
    /// Declares that exactly one thread runs the executor's execution context (e.g.
    /// `asio::io_context ctx{1}` with a single `ctx.run()`). The transport then skips the
    /// strand it gives each connection and each session: one thread already serializes
    /// them, and a strand costs a hop and several allocations per request. Members
    /// documented as thread-safe (`stop`, `broadcast`, `SseSession::notify`, ...) stay
    /// safe from other threads. Running the context on more than one thread with this
    /// set is a data race. Default false (strands: any number of threads). No error is
    /// reported either way; this is a threading contract with Asio, not an MCP feature.
    /// The share-nothing constructor of `SseTransport` (one context per thread) sets it.
    bool single_threaded = false;
    /// How POSTs carrying a request are answered.
    ResponseMode response_mode = ResponseMode::json_unless_streaming;

    /// Byte and count limits of one HTTP request: header section (default 16 KiB ->
    /// 431), body (default 4 MiB -> 413, refused before the body is read), header
    /// fields (100 -> 431), request-target (8 KiB -> 414), chunk extensions (4 KiB ->
    /// 400). See `HttpLimits`.
    HttpLimits http_limits{};
    /// Nesting depth (default 64 levels), value count (default 100,000) and batch size
    /// (default 1,024 messages) of one POST body's JSON, on `mcp_path` and
    /// `messages_path`: over the first two, 400 with `parse_error` (-32700,
    /// `data.limit`); over the batch size, 400 with `invalid_request` (-32600). See
    /// `JsonLimits`.
    JsonLimits json_limits{};
    /// Time to receive a request's header section and body once its first byte arrived,
    /// in ms; on expiry the server answers 408 and closes the connection.
    std::chrono::milliseconds request_timeout{10'000};
    /// Time a keep-alive connection may sit idle between requests, in ms; then it is
    /// closed without a response.
    std::chrono::milliseconds idle_timeout{60'000};
    /// Time one write (a response, a stream's events, a keep-alive) may wait for a peer
    /// that stopped reading (TCP zero window), in ms; then the connection is closed. A
    /// resumable stream's events stay replayable. Zero disables the deadline.
    std::chrono::milliseconds send_timeout{30'000};
    /// After an error response that ends the connection while the request may still be
    /// arriving (any malformed-request status: 400, 408, 413, 414, 431, 501, 505; or a
    /// refusal before `100 Continue`), time spent
    /// reading and discarding what the client still sends, in ms, after closing the
    /// sending side: the client then reads the status instead of a reset. Zero: close at
    /// once.
    std::chrono::milliseconds lingering_close_timeout{2'000};
    /// Open connections at most (count); further connections get 503 and are closed.
    std::size_t max_connections = 16'384;

    /// Interval of `: keep-alive` comments on idle SSE streams, in ms (proxies and
    /// clients drop silent connections); zero disables them.
    std::chrono::milliseconds keep_alive_interval{15'000};
    /// The SSE `retry:` field (reconnection time, sent in ms) of the priming event of
    /// resumable streams (MCP P5, P6): how long clients wait before reconnecting. Empty:
    /// no `retry:` field.
    std::optional<std::chrono::milliseconds> sse_retry{};
    /// Bytes queued for one SSE stream above which the consumer counts as too slow: the
    /// connection is closed and the missed events stay replayable (resumable streams).
    std::size_t max_stream_queue_bytes = 4 * 1024 * 1024;

    /// Request and notification handlers one session runs at once (count, on every
    /// path: Streamable HTTP, legacy `/messages`, batches). A request or notification
    /// over it gets 429 with `Retry-After` and JSON-RPC `too_many_requests` (-32050) when
    /// the transport can still refuse it; inside a batch a request gets the JSON-RPC error
    /// alone and a notification is dropped. `notifications/cancelled` is always handled.
    std::size_t max_requests_in_flight = 64;
    /// Time a request handler may run, in ms; zero (the default): no limit. On expiry the
    /// handler is cancelled and the client gets `request_timeout` (-32001).
    std::chrono::milliseconds request_handler_timeout{0};

    /// Sessions at most (count); `initialize` (or a legacy `GET`) beyond it gets 503 with
    /// `Retry-After`. A slot is held from the moment `initialize` is accepted, so a
    /// client is never answered 200 without `Mcp-Session-Id`.
    std::size_t max_sessions = 10'000;
    /// A session without requests and without open streams for this long, in ms, is
    /// ended (clients that vanish without DELETE).
    std::chrono::milliseconds session_idle_timeout{30 * 60'000};
    /// With a `FailoverStore` (several instances): how long, in ms, a client resuming
    /// another live instance's stream whose request has no response yet, with nothing
    /// new stored, is kept waiting for the stream's next events or for that instance's
    /// lease to lapse; then it gets an event with its `Last-Event-ID` and no data
    /// (revisions with priming events) and asks again. Keep it under the idle timeouts
    /// of the proxies in front (HAProxy's `timeout server`, often 60 s). Implements MCP
    /// Streamable HTTP "Resumability and Redelivery" (2025-03-26 to 2025-11-25) across
    /// instances; see `FailoverStore`.
    std::chrono::milliseconds failover_resume_wait{25'000};
    /// With a `FailoverStore`: how often such a waiting resumption asks the store for
    /// new events and for the lease, in ms (two Redis round trips each time; values
    /// under 1 ms count as 1 ms).
    std::chrono::milliseconds failover_resume_poll{100};

    /// Allowed `Origin` values, compared exactly by scheme, host and port (never by
    /// prefix), e.g. "https://app.example.com". Empty (the default): any origin whose
    /// host is a loopback name (localhost, 127.0.0.1, [::1]). A request with another
    /// Origin gets 403 (MCP S2). Requests without Origin are allowed.
    std::vector<std::string> allowed_origins{};
    /// Allowed `Host` names (no port), case-insensitive. Empty (the default): when bound
    /// to a loopback address, only localhost, 127.0.0.1 and [::1] (DNS-rebinding
    /// protection); otherwise any. Another Host gets 403.
    std::vector<std::string> allowed_hosts{};
    /// Origins that may call from a browser (CORS). Empty: no CORS headers. "*" allows
    /// every origin that also passes the Origin check. Preflights are answered and
    /// `Mcp-Session-Id` is exposed.
    std::vector<std::string> cors_origins{};

    /// Makes the transport an OAuth 2.1 resource server: every request to the MCP
    /// endpoints needs a bearer token its verifier accepts (401, 403 or 503 otherwise),
    /// and the protected resource metadata is served (see `AuthorizationOptions`). Empty
    /// (the default): no authorization; expose the transport beyond loopback only behind
    /// a proxy that authenticates.
    std::optional<AuthorizationOptions> authorization{};
    /// Limits per client (token subject, or address): request rate (default 50 per second,
    /// bursts of 100), sessions (1,000), SSE streams (1,000) and connections (256 per
    /// address); 429 with `Retry-After` over them. Loopback addresses are exempt by
    /// default. See `ClientLimits`.
    ClientLimits client_limits{};

    /// Time `stop()` lets running requests finish, in ms, before cancelling them and
    /// closing every connection.
    std::chrono::milliseconds stop_timeout{5'000};

    /// Called when a session opens (after `initialize`, or a legacy GET) with a handle
    /// the host may keep (see `SseSession`). Runs on an I/O thread; must not block.
    std::function<void(const SseSession<>&)> on_session_open{};
    /// Called when a session ends (DELETE, idle timeout, legacy stream closed, stop).
    std::function<void(const SseSession<>&)> on_session_close{};

    /// The host's request-pipeline stages, run in this order on every request after the
    /// Host/Origin guard and CORS and before the routes and the MCP endpoints (see
    /// `RequestStage`). Null entries are skipped.
    std::vector<std::shared_ptr<RequestStage>> stages{};
    /// The host's own routes on this port (e.g. `GET /health`), matched before the MCP
    /// endpoints (see `HttpRoute`). A route's path must differ from the MCP paths.
    std::vector<HttpRoute> routes{};
    /// Observers of connections, requests, sessions and limits (see `TransportObserver`).
    /// Null entries are skipped.
    std::vector<std::shared_ptr<TransportObserver>> observers{};
    /// Health and readiness paths, Prometheus metrics, draining and visible heartbeats
    /// (see `OperationsOptions`); all off by default.
    OperationsOptions operations{};
};

}  // namespace mcpsse
