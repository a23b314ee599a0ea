// mcpsse internal: the health and readiness probes a load balancer asks (OperationsOptions).
#pragma once

#include <mcpsse/http_message.hpp>
#include <mcpsse/http_route.hpp>
#include <mcpsse/operations.hpp>

#include <asio/awaitable.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// What the readiness probe answers.
enum class Readiness {
    ready,      ///< 200
    draining,   ///< 503: `drain()` or `stop()` began
    full,       ///< 503: the session table is at `max_sessions`
    not_ready,  ///< 503: the host's `OperationsOptions::ready` said so
};

/// The probe's `status` word for `r`.
[[nodiscard]] constexpr std::string_view readiness_name(Readiness r) noexcept {
    switch (r) {
    case Readiness::ready: return "ready";
    case Readiness::draining: return "draining";
    case Readiness::full: return "full";
    case Readiness::not_ready: return "not_ready";
    }
    return "not_ready";
}

/// A small JSON probe answer `{"status":"<word>"}`, never cached.
[[nodiscard]] inline HttpResponse probe_response(int status, std::string_view word) {
    HttpResponse response;
    response.status = status;
    response.content_type = "application/json";
    response.body = "{\"status\":\"" + std::string(word) + "\"}";
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

/// The GET routes of `options.health_path` and `options.readiness_path` (those set).
/// Health answers 200 whenever the connection's executor runs the handler; readiness
/// asks `readiness` (on the connection's executor; it must not block) and answers 200
/// or 503 with `Retry-After: 5`.
[[nodiscard]] inline std::vector<HttpRoute> probe_routes(const OperationsOptions& options,
                                                         std::function<Readiness()> readiness) {
    std::vector<HttpRoute> routes;
    if (!options.health_path.empty())
        routes.push_back(HttpRoute{"GET", options.health_path, [](const HttpRequestHead&) -> asio::awaitable<HttpResponse> {
                                       co_return probe_response(200, "ok");
                                   }});
    if (!options.readiness_path.empty())
        routes.push_back(HttpRoute{"GET", options.readiness_path,
                                   [readiness = std::move(readiness)](const HttpRequestHead&) -> asio::awaitable<HttpResponse> {
                                       const Readiness r = readiness();
                                       HttpResponse response = probe_response(r == Readiness::ready ? 200 : 503,
                                                                              readiness_name(r));
                                       if (r != Readiness::ready) response.headers.emplace_back("Retry-After", "5");
                                       co_return response;
                                   }});
    return routes;
}

}  // namespace mcpsse::detail
