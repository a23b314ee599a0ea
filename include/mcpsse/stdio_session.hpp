// mcpsse: a host's handle to the one MCP session of a StdioTransport.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/rpc/stdio_session_state.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace mcpsse {

template <class Executor>
class StdioTransport;

/// A host's handle to the one MCP session of a `StdioTransport` (MCP basic/transports,
/// stdio), from `StdioTransport::session()`. Models `Session`, like `SseSession`, so
/// code written against the concept (a proxy, a bridge) serves either transport.
///
/// `Executor` is `executor_type`, the type `get_executor()` returns; it must be
/// constructible from `asio::any_io_executor`, which the default is.
///
/// Thread-safety: `notify`, `async_request`, `id` and `get_executor` are safe from any
/// thread, and so is `protocol_version` (it copies the revision under the session's
/// lock). A handle must not outlive its transport.
template <class Executor = asio::any_io_executor>
class StdioSession {
public:
    /// The executor type `get_executor()` returns.
    using executor_type = Executor;

    /// The executor that serializes the session's work (the transport's strand).
    [[nodiscard]] executor_type get_executor() const { return executor_type(state_->strand()); }

    /// The session id: stdio has none, so always empty.
    [[nodiscard]] const std::string& id() const noexcept {
        static const std::string none;
        return none;
    }

    /// The protocol revision `initialize` negotiated; empty before it, or outside a run.
    [[nodiscard]] std::string protocol_version() const {
        auto rpc = state_->rpc();
        return rpc ? rpc->protocol_version_copy() : std::string();
    }

    /// Writes a notification unrelated to any request (e.g.
    /// `notifications/tools/list_changed`) to the output, on the transport's strand.
    /// Dropped once the output has failed. Counts toward
    /// `StdioOptions::max_pending_output_bytes` like any output.
    void notify(std::string method, nlohmann::json params = nullptr) const {
        asio::post(state_->strand(), [out = state_->output(),
                                      message = json_rpc::serialize(Notification{std::move(method), std::move(params)})]() mutable {
            out->send(std::move(message));
        });
    }

    /// Writes a server-to-client request (e.g. `roots/list`) to the output and waits
    /// for the client's answer, for at most `timeout` (ms). Completion signature
    /// `void(std::exception_ptr, nlohmann::json)`: the `result` member, or an exception:
    /// `RpcError` with the client's error code and data, `connection_closed` (-32000)
    /// outside a run or once the input has ended, `request_timeout` (-32001) on expiry;
    /// `std::system_error` (`asio::error::operation_aborted`) when the operation is
    /// cancelled. On expiry or cancellation the client gets `notifications/cancelled`.
    /// Runs on the transport's strand.
    template <class CompletionToken>
    auto async_request(std::string method, nlohmann::json params, std::chrono::milliseconds timeout,
                       CompletionToken&& token) const {
        return asio::co_spawn(state_->strand(), request(state_, std::move(method), std::move(params), timeout),
                              std::forward<CompletionToken>(token));
    }

    /// True when both handles refer to the same transport's session.
    friend bool operator==(const StdioSession& a, const StdioSession& b) noexcept { return a.state_ == b.state_; }

private:
    template <class>
    friend class StdioTransport;

    explicit StdioSession(std::shared_ptr<detail::StdioSessionState> state) : state_(std::move(state)) {}

    static asio::awaitable<nlohmann::json> request(std::shared_ptr<detail::StdioSessionState> state,
                                                   std::string method, nlohmann::json params,
                                                   std::chrono::milliseconds timeout) {
        auto rpc = state->rpc();
        if (!rpc) throw RpcError(error_code::connection_closed, "Connection closed: the stdio transport is not running");
        co_return co_await rpc->async_request(std::move(method), std::move(params), timeout, state->output());
    }

    std::shared_ptr<detail::StdioSessionState> state_;
};

}  // namespace mcpsse
