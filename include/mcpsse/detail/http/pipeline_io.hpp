// mcpsse: the request pipeline's parts that suspend or write: host stages and routes.
#pragma once

#include <mcpsse/http_message.hpp>
#include <mcpsse/http_route.hpp>
#include <mcpsse/request_stage.hpp>
#include <mcpsse/detail/http/io.hpp>
#include <mcpsse/detail/http/pipeline.hpp>
#include <mcpsse/detail/http/request.hpp>

#include <asio/awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>

namespace mcpsse::detail {

/// The view of `req` that stages and routes get (peer address and TLS state included).
template <class Conn>
HttpRequestHead head_of(Conn& c, const HttpRequest& req) {
    const ConnectionInfo& info = c.info();
    return HttpRequestHead({req.method, req.target, req.version_minor, req.fields, req.body, info.remote_endpoint,
                            info.secure});
}

/// Writes a stage's or route's answer with the request's CORS headers; false when the
/// write failed.
template <class Conn>
asio::awaitable<bool> async_send_response(Conn& c, const HttpResponse& response) {
    c.response_status = response.status;
    const std::string bytes = Pipeline::serialize(response, c.response_headers);
    co_return co_await async_send_pair(c, bytes, {});
}

/// Runs the host's stages in order (marking the request's stages as done); the first
/// answer, or nullopt when every stage let the request through.
template <class Conn>
asio::awaitable<std::optional<HttpResponse>> async_check_stages(const std::shared_ptr<Conn>& c, const Pipeline& pipeline,
                                                                const HttpRequest& req) {
    c->stages_done = true;
    const HttpRequestHead head = head_of(*c, req);
    for (const auto& stage : pipeline.stages()) {
        // No co_await inside a conditional expression: GCC 12 miscompiles it.
        std::optional<HttpResponse> response;
        if (stage->suspends(head)) response = co_await stage->async_check(head);
        else response = stage->check(head);
        if (response) co_return response;
    }
    co_return std::nullopt;
}

/// Answers with the host's `route`; a handler that throws is answered with 500.
template <class Conn>
asio::awaitable<bool> async_answer_route(const std::shared_ptr<Conn>& c, const HttpRequest& req, const HttpRoute& route) {
    std::optional<HttpResponse> response;
    try {
        response = co_await route.handler(head_of(*c, req));
    } catch (const std::exception&) {
        response = HttpResponse{500, "text/plain; charset=utf-8", "Internal Server Error", {}};
    }
    co_return co_await async_send_response(*c, *response);
}

}  // namespace mcpsse::detail
