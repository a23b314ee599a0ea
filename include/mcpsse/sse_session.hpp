// mcpsse: a host's handle to one MCP session served over HTTP (Streamable HTTP or
// legacy HTTP+SSE).
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/principal.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace mcpsse {

namespace detail {
struct SseSessionAccess;
}  // namespace detail

/// A host's handle to one MCP session of an `SseTransport`: a session created by
/// `initialize` (Streamable HTTP, 2025-03-26 to 2025-11-25; checklist N1) or by a legacy
/// `GET /sse` (2024-11-05), until DELETE (N5), the idle timeout, the end of a legacy
/// stream or `SseTransport::stop` ends it. Models `Session`: the message-level access a
/// proxy or bridge builds on (server-to-client notifications and requests unrelated to
/// any client request; requests and notifications from the client reach the
/// `Dispatcher`, its fallback handlers included).
///
/// Hosts receive it in `SseTransportOptions::on_session_open`/`on_session_close` and
/// through `SseTransport::for_each_session`, and may keep copies: a copy refers to the
/// same session, and keeps its small state alive (not its streams) after it ended, when
/// its operations fail or drop as documented.
///
/// `Executor` is `executor_type`, the type `get_executor()` returns; it must be
/// constructible from `asio::any_io_executor`, which the default is. `SseTransport`
/// hands out `SseSession<>` whatever its own executor type: in its share-nothing mode
/// sessions live on strands of several `io_context`s.
///
/// Thread-safety: every member is safe from any thread; copies may be used on different
/// threads at once.
template <class Executor = asio::any_io_executor>
class SseSession {
public:
    /// The executor type `get_executor()` returns.
    using executor_type = Executor;

    /// The session id (`Mcp-Session-Id`, or the legacy `sessionId` query parameter).
    [[nodiscard]] const std::string& id() const noexcept { return state_->id(); }

    /// True for a legacy HTTP+SSE (2024-11-05) session.
    [[nodiscard]] bool legacy() const noexcept { return state_->legacy(); }

    /// The protocol revision `initialize` negotiated (`2024-11-05` for a legacy session).
    [[nodiscard]] const std::string& protocol_version() const noexcept { return state_->protocol_version(); }

    /// The principal whose token opened the session (`SseTransportOptions::authorization`;
    /// every request of the session comes from the same subject), e.g. for a `broadcast`
    /// filter selecting by subject or scope; null without authorization. Immutable once
    /// the session is shared: safe from any thread.
    [[nodiscard]] const Principal* principal() const noexcept { return state_->principal().get(); }

    /// The executor that serializes the session's own work (its strand): server-to-client
    /// requests of `async_request` run there.
    [[nodiscard]] executor_type get_executor() const { return executor_type(state_->rpc()->get_executor()); }

    /// True once the session has ended.
    [[nodiscard]] bool ended() const { return state_->ended(); }

    /// When the session was created (`initialize` accepted, or the legacy GET).
    [[nodiscard]] std::chrono::steady_clock::time_point created() const noexcept { return state_->created(); }

    /// SSE events sent to the client so far, on all of the session's streams (queued for
    /// its connections; replays included). Responses answered as plain JSON are not
    /// events.
    [[nodiscard]] std::uint64_t events_sent() const noexcept { return state_->events_sent(); }

    /// Bytes of SSE text of those events.
    [[nodiscard]] std::uint64_t bytes_sent() const noexcept { return state_->bytes_sent(); }

    /// Sends a notification unrelated to any request (e.g.
    /// `notifications/resources/list_changed`) on the session's standalone stream (the
    /// GET stream, or the legacy stream), never on two streams (MCP M1). The send
    /// happens on the session's executor. Dropped when no standalone stream was ever
    /// opened or the session ended; kept for replay while a resumable stream is
    /// disconnected. With a `RelayStore` (sessions shared by instances), when no GET is
    /// attached to the session's standalone stream here, the notification goes to the
    /// instance recorded as holding it (the last one a GET attached to: kept for replay
    /// there; dropped when none is).
    /// Thread-safe.
    void notify(std::string method, nlohmann::json params = nullptr) const {
        state_->notify(std::move(method), std::move(params));
    }

    /// Sends an already serialized JSON-RPC message (one object, no trailing newline) on
    /// the standalone stream, without a hop to the session's executor. Returns false
    /// when the session has no standalone stream (with a `RelayStore`: true, relayed as
    /// by `notify`). Thread-safe.
    bool send_serialized(std::string message) const { return state_->send_serialized(std::move(message)); }

    /// Sends a server-to-client request unrelated to any client request (e.g.
    /// `roots/list`, `sampling/createMessage`) on the standalone stream and waits for
    /// the client's answer (a POST carrying the JSON-RPC response), for at most
    /// `timeout` (ms). Completion signature `void(std::exception_ptr, nlohmann::json)`:
    /// the `result` member, or an exception: `RpcError` with the client's error code and
    /// data, `connection_closed` (-32000) when the session has no standalone stream, has
    /// ended or the stream cannot carry requests, `request_timeout` (-32001) on expiry.
    /// On expiry, or when the operation is cancelled (Asio per-operation cancellation,
    /// then `std::system_error` with `asio::error::operation_aborted`), the client gets
    /// `notifications/cancelled` (MCP basic/utilities/cancellation). The request runs on
    /// `get_executor()`.
    template <class CompletionToken>
    auto async_request(std::string method, nlohmann::json params, std::chrono::milliseconds timeout,
                       CompletionToken&& token) const {
        auto rpc = state_->rpc();
        auto executor = rpc->get_executor();
        return asio::co_spawn(std::move(executor), request(std::move(rpc), std::move(method), std::move(params), timeout),
                              std::forward<CompletionToken>(token));
    }

    /// True when both handles refer to the same session.
    friend bool operator==(const SseSession& a, const SseSession& b) noexcept { return a.state_ == b.state_; }

private:
    friend struct detail::SseSessionAccess;

    explicit SseSession(std::shared_ptr<detail::SseSessionState> state) : state_(std::move(state)) {}

    static asio::awaitable<nlohmann::json> request(std::shared_ptr<detail::RpcSession> rpc, std::string method,
                                                   nlohmann::json params, std::chrono::milliseconds timeout) {
        co_return co_await rpc->async_request(std::move(method), std::move(params), timeout, rpc->default_sink());
    }

    std::shared_ptr<detail::SseSessionState> state_;
};

namespace detail {

/// Creates the handles `SseTransport` gives hosts, and reaches the state behind one
/// (for mcpsse's own tests).
struct SseSessionAccess {
    template <class Executor = asio::any_io_executor>
    static SseSession<Executor> handle(std::shared_ptr<SseSessionState> state) {
        return SseSession<Executor>(std::move(state));
    }
    template <class Executor>
    static const std::shared_ptr<SseSessionState>& state(const SseSession<Executor>& session) noexcept {
        return session.state_;
    }
};

}  // namespace detail
}  // namespace mcpsse
