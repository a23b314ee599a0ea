// mcpsse: the request pipeline: the stages every request passes before it is routed.
#pragma once

#include <mcpsse/http_message.hpp>
#include <mcpsse/http_route.hpp>
#include <mcpsse/request_stage.hpp>
#include <mcpsse/detail/http/cors.hpp>
#include <mcpsse/detail/http/host_guard.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/response.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// What the pipeline decided about a request without suspending.
struct PipelineDecision {
    enum class Kind {
        pass,         ///< on to the MCP endpoints
        refuse,       ///< answer `status` with `message` (a JSON-RPC error body)
        preflight,    ///< answer the CORS preflight for a resource allowing `allow`
        stages,       ///< run the host's stages (then routes, then the MCP endpoints)
        route,        ///< answer with the host's `route`
        wrong_method, ///< a host route's path with another method: 405, `allow`
        answered      ///< a stage answered (`keep`: the connection may go on)
    } kind = Kind::pass;
    int status = 0;
    std::string_view message;
    std::string_view allow;
    const HttpRoute* route = nullptr;
    bool keep = true;
};

/// The ordered stages before routing: the Host and Origin guard (403), CORS (the
/// response headers a request earns; preflights answered with 204), the host's stages
/// (`RequestStage`, in order), the host's routes (`HttpRoute`). What passes them all goes
/// to the MCP endpoints. The resources the transport serves itself are given as (path,
/// `Allow` value) pairs so that preflights for them can be answered here. Immutable after
/// construction: safe from any thread.
class Pipeline {
public:
    /// One path the transport serves and the methods it allows (for `Allow`).
    struct Resource {
        std::string path;
        std::string allow;
    };

    /// The parts, moved in.
    struct Parts {
        HostGuard guard;
        CorsPolicy cors;
        std::vector<std::shared_ptr<RequestStage>> stages;
        std::vector<HttpRoute> routes;
        std::vector<Resource> resources;
    };

    explicit Pipeline(Parts parts) : parts_(std::move(parts)) {
        for (const auto& route : parts_.routes) {
            auto it = std::find_if(route_paths_.begin(), route_paths_.end(),
                                   [&](const Resource& r) { return r.path == route.path; });
            if (it == route_paths_.end()) it = route_paths_.insert(route_paths_.end(), Resource{route.path, {}});
            it->allow += route.method + ", ";
        }
        for (auto& r : route_paths_) r.allow += "OPTIONS";
    }

    /// Decides what needs no suspension. Sets `response_headers` to the CORS headers the
    /// request earns. `stages_done`: the host's stages already ran on this request's head.
    [[nodiscard]] PipelineDecision decide(const HttpRequest& req, std::string& response_headers, bool stages_done) const {
        using Kind = PipelineDecision::Kind;
        if (const auto refusal = parts_.guard.refuse(req)) return {Kind::refuse, 403, *refusal, {}, nullptr, true};
        if (parts_.cors.off()) response_headers.clear();
        else response_headers = parts_.cors.headers(req);
        if (req.method == "OPTIONS") {
            if (const auto allow = allow_for(req.path()); !allow.empty()) return {Kind::preflight, 204, {}, allow, nullptr, true};
        }
        if (!parts_.stages.empty() && !stages_done) return {Kind::stages, 0, {}, {}, nullptr, true};
        return decide_route(req);
    }

    /// The decision after the host's stages let the request through: a host route, or pass.
    [[nodiscard]] PipelineDecision decide_route(const HttpRequest& req) const {
        using Kind = PipelineDecision::Kind;
        if (parts_.routes.empty()) return {};
        const std::string_view path = req.path();
        for (const auto& route : parts_.routes)
            if (route.path == path && route.method == req.method) return {Kind::route, 0, {}, {}, &route, true};
        for (const auto& r : route_paths_)
            if (r.path == path) return {Kind::wrong_method, 405, "Method Not Allowed", r.allow, nullptr, true};
        return {};
    }

    /// The host's stages, in order.
    [[nodiscard]] const std::vector<std::shared_ptr<RequestStage>>& stages() const noexcept { return parts_.stages; }

    /// The host's routes (and the transport's own), in matching order.
    [[nodiscard]] const std::vector<HttpRoute>& routes() const noexcept { return parts_.routes; }

    /// The `Allow` value of a path served here (host routes, then the transport's own
    /// resources); empty for an unknown path.
    [[nodiscard]] std::string_view allow_for(std::string_view path) const noexcept {
        for (const auto& r : route_paths_)
            if (r.path == path) return r.allow;
        for (const auto& r : parts_.resources)
            if (r.path == path) return r.allow;
        return {};
    }

    /// Serializes a stage's or route's answer: status line, `Content-Type` (when there is a
    /// body), the response's own headers, `Cache-Control: no-store` unless set, the CORS
    /// `response_headers`, `Content-Length`, then the body.
    [[nodiscard]] static std::string serialize(const HttpResponse& response, const std::string& response_headers) {
        std::string out;
        append_status_line(out, response.status);
        if (!response.body.empty()) out += "Content-Type: " + response.content_type + "\r\n";
        bool cache_control = false;
        for (const auto& [name, value] : response.headers) {
            if (iequals(name, "cache-control")) cache_control = true;
            if (!valid_field(name, value)) continue;  // never let a host's value split the head
            out += name + ": " + value + "\r\n";
        }
        if (!cache_control) out += "Cache-Control: no-store\r\n";
        out += response_headers;
        append_content_length(out, response.body.size());
        end_head(out);
        out += response.body;
        return out;
    }

private:
    static bool valid_field(std::string_view name, std::string_view value) {
        if (name.empty()) return false;
        for (const char c : name)
            if (!is_tchar(static_cast<unsigned char>(c))) return false;
        for (const char c : value)
            if (c == '\r' || c == '\n' || c == '\0') return false;
        return true;
    }

    Parts parts_;
    std::vector<Resource> route_paths_;  // the host routes' paths and their `Allow`
};

}  // namespace mcpsse::detail
