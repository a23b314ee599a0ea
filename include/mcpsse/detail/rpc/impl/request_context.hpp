// mcpsse internal: the out-of-line members of RequestContext (they need the complete
// RpcSession; detail/rpc/session.hpp includes this file at its end).
#pragma once

#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/rpc/session.hpp>

namespace mcpsse {

inline const nlohmann::json& RequestContext::progress_token() const noexcept {
    static const nlohmann::json none;
    if (!meta_.is_object()) return none;
    const auto it = meta_.find("progressToken");
    if (it == meta_.end() || !(it->is_string() || it->is_number_integer())) return none;
    return *it;
}

inline std::string_view RequestContext::protocol_version() const noexcept {
    return session_->protocol_version();
}

inline const nlohmann::json& RequestContext::client_capabilities() const noexcept {
    return session_->client_capabilities();
}

inline const nlohmann::json& RequestContext::client_info() const noexcept {
    return session_->client_info();
}

inline std::string_view RequestContext::session_id() const noexcept { return session_->session_id(); }

inline bool RequestContext::is_cancelled() const noexcept { return flight_->cancelled; }

inline bool RequestContext::close_stream_connection(std::optional<std::chrono::milliseconds> retry) {
    if (!sink_ || flight_->done || !protocol_version::traits(session_->protocol_version()).priming_and_polling)
        return false;
    return sink_->close_connection(retry);
}

inline std::optional<std::string_view> RequestContext::http_header(std::string_view name) const {
    return sink_ ? sink_->request_header(name) : std::nullopt;
}

inline const Principal* RequestContext::principal() const noexcept { return sink_ ? sink_->principal() : nullptr; }

inline asio::awaitable<bool> RequestContext::async_progress(double progress, std::optional<double> total,
                                                            std::string message) {
    const auto& token = progress_token();
    if (token.is_null() || flight_->done || flight_->cancelled) co_return false;
    if (flight_->last_progress && !(progress > *flight_->last_progress)) co_return false;
    nlohmann::json params = {{"progressToken", token}, {"progress", progress}};
    if (total) params["total"] = *total;
    if (!message.empty()) params["message"] = std::move(message);
    if (!session_->send_on(sink_, Notification{"notifications/progress", std::move(params)})) co_return false;
    flight_->last_progress = progress;
    co_return true;
}

inline asio::awaitable<bool> RequestContext::async_log(LoggingLevel level, nlohmann::json data,
                                                       std::string logger) {
    const auto minimum = session_->log_level();
    if (!minimum || level < *minimum || flight_->cancelled) co_return false;
    nlohmann::json params = {{"level", to_string(level)}, {"data", std::move(data)}};
    if (!logger.empty()) params["logger"] = std::move(logger);
    co_return session_->send_on(sink_, Notification{"notifications/message", std::move(params)});
}

inline asio::awaitable<bool> RequestContext::async_notify(std::string method, nlohmann::json params) {
    if (flight_->cancelled) co_return false;
    co_return session_->send_on(sink_, Notification{std::move(method), std::move(params)});
}

inline asio::awaitable<nlohmann::json> RequestContext::async_request(
    std::string method, nlohmann::json params, std::optional<std::chrono::milliseconds> timeout) {
    co_return co_await session_->async_request(
        std::move(method), std::move(params),
        timeout.value_or(session_->dispatcher().options().request_timeout), sink_);
}

}  // namespace mcpsse
