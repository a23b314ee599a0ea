// mcpsse internal: what a StdioTransport shares with its session handles.
#pragma once

#include <mcpsse/detail/rpc/message_sink.hpp>
#include <mcpsse/detail/rpc/session.hpp>

#include <asio/any_io_executor.hpp>

#include <memory>
#include <mutex>
#include <utility>

namespace mcpsse::detail {

/// What a `StdioTransport` shares with its session handles: its strand, its output, and
/// the JSON-RPC state of the run in progress (null outside a run). Thread-safe.
class StdioSessionState {
public:
    StdioSessionState(asio::any_io_executor strand, std::shared_ptr<MessageSink> output)
        : strand_(std::move(strand)), output_(std::move(output)) {}

    /// The transport's strand.
    [[nodiscard]] const asio::any_io_executor& strand() const noexcept { return strand_; }
    /// The transport's output (standard output by default).
    [[nodiscard]] const std::shared_ptr<MessageSink>& output() const noexcept { return output_; }

    /// The JSON-RPC state of the run in progress, or null.
    [[nodiscard]] std::shared_ptr<RpcSession> rpc() const {
        std::lock_guard lock(mutex_);
        return rpc_;
    }
    /// Sets (a run starts) or clears (it ended) the JSON-RPC state.
    void set_rpc(std::shared_ptr<RpcSession> rpc) {
        std::lock_guard lock(mutex_);
        rpc_ = std::move(rpc);
    }

private:
    const asio::any_io_executor strand_;
    const std::shared_ptr<MessageSink> output_;
    mutable std::mutex mutex_;
    std::shared_ptr<RpcSession> rpc_;
};

}  // namespace mcpsse::detail
