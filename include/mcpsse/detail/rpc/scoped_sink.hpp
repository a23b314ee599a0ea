// mcpsse: a request's view of a shared channel, carrying that request's HTTP headers.
#pragma once

#include <mcpsse/detail/http/header_block.hpp>
#include <mcpsse/detail/rpc/message_sink.hpp>

#include <memory>
#include <utility>

namespace mcpsse::detail {

/// Forwards to `inner` (a session's shared stream, or nothing) and answers
/// `request_header` from the headers of the one HTTP request whose handler holds it:
/// how a legacy HTTP+SSE POST, a batch or a notification, whose replies share the
/// session's stream, still give `RequestContext::http_header` its own request.
/// Thread-safety: as `MessageSink`.
class RequestScopedSink final : public MessageSink {
public:
    RequestScopedSink(std::shared_ptr<MessageSink> inner, HeaderBlock headers)
        : inner_(std::move(inner)), headers_(std::move(headers)) {}

    bool send(std::string message) override { return inner_ && inner_->send(std::move(message)); }
    [[nodiscard]] bool accepts_requests() const noexcept override { return inner_ && inner_->accepts_requests(); }
    bool close_connection(std::optional<std::chrono::milliseconds> retry) override {
        return inner_ && inner_->close_connection(retry);
    }
    [[nodiscard]] std::optional<std::string_view> request_header(std::string_view name) const override {
        return headers_.find(name);
    }
    [[nodiscard]] const Principal* principal() const noexcept override { return headers_.principal().get(); }

private:
    std::shared_ptr<MessageSink> inner_;
    HeaderBlock headers_;
};

}  // namespace mcpsse::detail
