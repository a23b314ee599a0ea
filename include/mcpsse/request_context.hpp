// mcpsse: what a handler can do while it serves one request.
#pragma once

#include <mcpsse/json_rpc.hpp>
#include <mcpsse/logging_level.hpp>
#include <mcpsse/principal.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse {

namespace detail {
class RpcSession;
class MessageSink;
struct InFlight;
}  // namespace detail

/// The context of one incoming request (or notification) while its handler runs.
///
/// Created by mcpsse and passed to the handler by reference. It may be copied, e.g. into
/// a task the handler starts; once the response has been produced, a copy refuses
/// progress (MCP: no progress after the response) but may still log or notify on the
/// session while the stream is open. Messages sent through it go to the stream of the request they
/// relate to (MCP Streamable HTTP: the POST's SSE stream; stdio: standard output), so
/// a session never sends one message on two streams (MCP M1).
///
/// Thread-safety: use it (and its copies) only on the executor its handler runs on (the
/// session's executor, or for a Streamable HTTP request in `SseTransport`'s
/// share-nothing mode the connection's thread); do not use it from other threads.
/// Contexts of different requests may be used on different threads at once.
class RequestContext {
public:
    /// The id of the request; empty for a notification.
    [[nodiscard]] const std::optional<RequestId>& id() const noexcept { return id_; }

    /// The method being served, e.g. `tools/call`.
    [[nodiscard]] std::string_view method() const noexcept { return method_; }

    /// The request's `params._meta` object, or null when it had none.
    [[nodiscard]] const nlohmann::json& meta() const noexcept { return meta_; }

    /// The request's `params._meta.progressToken` (a string or integer), or null when the
    /// client did not ask for progress (MCP basic/utilities/progress).
    [[nodiscard]] const nlohmann::json& progress_token() const noexcept;

    /// The protocol revision in force for this request (negotiated by `initialize`, or
    /// carried by the request itself under 2026-07-28); empty before negotiation.
    [[nodiscard]] std::string_view protocol_version() const noexcept;

    /// The capabilities the client declared (`initialize` params or, under 2026-07-28,
    /// the request's `_meta`); an empty object when unknown.
    [[nodiscard]] const nlohmann::json& client_capabilities() const noexcept;

    /// The client's `clientInfo` (name, version), or null when unknown.
    [[nodiscard]] const nlohmann::json& client_info() const noexcept;

    /// The transport's session id (Streamable HTTP `Mcp-Session-Id`, legacy SSE
    /// `sessionId`); empty for stdio and stateless requests.
    [[nodiscard]] std::string_view session_id() const noexcept;

    /// A header of the HTTP request that carried this request (name case-insensitive),
    /// e.g. `Mcp-Param-Region` to check against the arguments (MCP 2026-07-28,
    /// `x-mcp-header`). Available for every HTTP request that carries a message (every
    /// Streamable HTTP POST, with or without a session, batches included, and legacy
    /// HTTP+SSE POSTs); nullopt on stdio, or when the header is absent.
    [[nodiscard]] std::optional<std::string_view> http_header(std::string_view name) const;

    /// Who sent this request: the principal of its bearer token when the transport
    /// authorizes requests (`SseTransportOptions::authorization`); null otherwise (no
    /// authorization, stdio). Valid as long as this context; copy the `Principal` (or its
    /// `subject`) to keep it longer.
    [[nodiscard]] const Principal* principal() const noexcept;

    /// Ends the HTTP connection that carries this request's SSE stream without ending
    /// the stream (MCP 2025-11-25, SSE polling): the client reconnects after `retry` ms
    /// (sent as the SSE `retry:` field; empty: the client's default) with GET and
    /// `Last-Event-ID`, and receives every event sent meanwhile, the response included.
    /// Lets a long-running request free its connection. Returns false, changing
    /// nothing, when the channel is not a resumable SSE stream with a connection
    /// (stdio, legacy HTTP+SSE, stateless requests, revisions before 2025-11-25).
    bool close_stream_connection(std::optional<std::chrono::milliseconds> retry = std::nullopt);

    /// True once the client cancelled this request (`notifications/cancelled`) or the
    /// transport cancelled it (a stateless client closed its stream). A cancelled
    /// handler's result is discarded: no response is sent (MCP basic/utilities/cancellation).
    /// Waits inside mcpsse (`async_request`, timers bound to the coroutine) end with
    /// `asio::error::operation_aborted` at the same moment.
    [[nodiscard]] bool is_cancelled() const noexcept;

    /// Sends `notifications/progress` for this request.
    ///
    /// `progress` and `total` are in the host's own units (e.g. steps or bytes); `total`
    /// is omitted when empty, `message` when empty. Completes once the notification is
    /// queued. Returns false, sending nothing, when the request carries no progress
    /// token, when `progress` is not greater than the last value sent (progress must
    /// strictly increase), when the response has already been produced, or when the
    /// stream is gone. Never throws for those cases.
    asio::awaitable<bool> async_progress(double progress, std::optional<double> total = {},
                                         std::string message = {});

    /// Sends a `notifications/message` log entry with `level`, `data` (any JSON) and an
    /// optional `logger` name, unless the client set a higher minimum level with
    /// `logging/setLevel` (MCP basic/utilities/logging). Returns false when filtered or
    /// not deliverable.
    asio::awaitable<bool> async_log(LoggingLevel level, nlohmann::json data,
                                    std::string logger = {});

    /// Sends any notification related to this request (e.g.
    /// `notifications/resources/updated`). Returns false when not deliverable.
    asio::awaitable<bool> async_notify(std::string method, nlohmann::json params = nullptr);

    /// Sends a request to the client (e.g. `sampling/createMessage`,
    /// `elicitation/create`, `roots/list`) on this request's stream and waits for the
    /// answer.
    ///
    /// `timeout` in ms; when empty, `DispatcherOptions::request_timeout`. Returns the
    /// client's `result`. Throws `RpcError` carrying the client's error; `RpcError` with
    /// `error_code::request_timeout` (-32001) after the timeout (and then sends
    /// `notifications/cancelled` for it to the client); `RpcError` with
    /// `error_code::connection_closed` (-32000) when the channel closed or cannot carry
    /// requests (stateless 2026-07-28: return an input-required result instead);
    /// `asio::system_error` with `asio::error::operation_aborted` when this handler was
    /// cancelled meanwhile.
    asio::awaitable<nlohmann::json> async_request(
        std::string method, nlohmann::json params,
        std::optional<std::chrono::milliseconds> timeout = std::nullopt);

private:
    friend class detail::RpcSession;
    RequestContext(std::shared_ptr<detail::RpcSession> session, std::optional<RequestId> id,
                   std::string method, nlohmann::json meta,
                   std::shared_ptr<detail::MessageSink> sink,
                   std::shared_ptr<detail::InFlight> flight)
        : session_(std::move(session)),
          id_(std::move(id)),
          method_(std::move(method)),
          meta_(std::move(meta)),
          sink_(std::move(sink)),
          flight_(std::move(flight)) {}

    std::shared_ptr<detail::RpcSession> session_;
    std::optional<RequestId> id_;
    std::string method_;
    nlohmann::json meta_;
    std::shared_ptr<detail::MessageSink> sink_;
    std::shared_ptr<detail::InFlight> flight_;
};

}  // namespace mcpsse

#include <mcpsse/detail/rpc/session.hpp>
