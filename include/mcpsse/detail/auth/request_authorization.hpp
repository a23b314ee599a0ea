// mcpsse: authorization in an SseTransport's request pipeline: who may reach the MCP endpoints.
#pragma once

#include <mcpsse/http_route.hpp>
#include <mcpsse/sse_transport_options.hpp>
#include <mcpsse/transport_observer.hpp>
#include <mcpsse/detail/auth/authorizer.hpp>
#include <mcpsse/detail/http/pipeline.hpp>
#include <mcpsse/detail/http/pipeline_io.hpp>
#include <mcpsse/detail/http/request.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpsse::detail {

/// The transport's authorization step (off without `SseTransportOptions::authorization`):
/// runs after the Host/Origin guard and CORS, before the host's stages, on the MCP
/// endpoints (and the host's routes with `protect_routes`). A request whose token is
/// cached passes without suspending; otherwise the verifier runs, or the refusal is
/// written. Immutable after construction apart from the token cache: thread-safe.
template <class Conn>
class RequestAuthorization {
public:
    /// Throws `std::invalid_argument` for invalid `options.authorization`.
    explicit RequestAuthorization(const SseTransportOptions& options) {
        if (!options.authorization) return;
        authorizer_ = std::make_shared<Authorizer>(*options.authorization);
        paths_.push_back(options.mcp_path);
        if (!options.sse_path.empty()) {
            paths_.push_back(options.sse_path);
            paths_.push_back(options.messages_path);
        }
        protect_routes_ = options.authorization->protect_routes;
        const OperationsOptions& ops = options.operations;
        for (const std::string* path : {&ops.health_path, &ops.readiness_path, &ops.metrics_path})
            if (!path->empty()) (ops.protect ? paths_ : open_paths_).push_back(*path);
    }

    /// True when authorization is configured.
    [[nodiscard]] bool on() const noexcept { return authorizer_ != nullptr; }
    /// The authorizer (null when off).
    [[nodiscard]] Authorizer* authorizer() const noexcept { return authorizer_.get(); }

    /// The route serving the protected resource metadata (RFC 9728), when on.
    [[nodiscard]] std::optional<HttpRoute> metadata_route() const {
        if (!authorizer_) return std::nullopt;
        return HttpRoute{"GET", authorizer_->resource().metadata_path,
                         [a = authorizer_](const HttpRequestHead&) -> asio::awaitable<HttpResponse> {
                             co_return a->metadata_response();
                         }};
    }

    /// True when `req`, as the pipeline decided so far, needs a token.
    [[nodiscard]] bool covers(const HttpRequest& req, const PipelineDecision& decision) const noexcept {
        using Kind = PipelineDecision::Kind;
        if (!authorizer_ || decision.kind == Kind::refuse || decision.kind == Kind::preflight ||
            decision.kind == Kind::answered)
            return false;
        const std::string_view path = req.path();
        for (const auto& p : paths_)
            if (p == path) return true;
        if (!protect_routes_ || path == authorizer_->resource().metadata_path) return false;
        for (const auto& p : open_paths_)
            if (p == path) return false;  // the operations paths, unless OperationsOptions::protect
        return true;
    }

    /// Admits `req` without suspending when its token is the one last admitted on `c`
    /// (one comparison), or is in the shared cache (a SHA-256 and a lookup), and has the
    /// scopes every request needs; sets `req.principal`. False: `async_admit` must decide.
    [[nodiscard]] bool admit_now(Conn& c, HttpRequest& req) const {
        if (c.auth) {
            // Equal to a token admitted before: its syntax was checked then.
            const std::string_view presented = bearer_credentials(req);
            if (const auto* principal = c.auth->find(presented, std::chrono::system_clock::now())) {
                req.principal = *principal;
                return true;
            }
        }
        AuthOutcome out;
        std::string_view token;
        if (!authorizer_->decide(req, out, token) || out.status != 0) return false;
        remember(c, token, out.principal);
        req.principal = std::move(out.principal);
        return true;
    }

    /// Decides `req` (running the verifier when needed) and reports to the observers.
    /// Admitted: `principal` is set and true is returned. Refused: the 401, 403 or 503
    /// answer is written (with `Connection: close` when `closing`), `keep` tells whether
    /// the connection may go on, and false is returned.
    asio::awaitable<bool> async_admit(const std::shared_ptr<Conn>& c, const HttpRequest& req,
                                      std::shared_ptr<const Principal>& principal, bool closing, bool& keep) const {
        AuthOutcome out;
        std::string_view token;
        const bool decided = authorizer_->decide(req, out, token);
        if (!decided) co_await authorizer_->async_verify(std::string(token), out);
        if (!decided || out.status != 0) report_authorization(*c, req, out);
        if (out.status == 0) {
            remember(*c, token, out.principal);
            principal = std::move(out.principal);
            co_return true;
        }
        HttpResponse response = authorizer_->response(out);
        if (closing) {
            c->linger = true;
            response.headers.emplace_back("Connection", "close");
        }
        keep = co_await async_send_response(*c, response) && !closing;
        co_return false;
    }

private:
    // Remembers `token` and its admitted principal on `c` (see `ConnectionAuth`).
    void remember(Conn& c, std::string_view token, const std::shared_ptr<const Principal>& principal) const {
        const auto until = authorizer_->remember_until(*principal);
        if (until <= std::chrono::system_clock::now()) return;
        if (!c.auth) c.auth = std::make_unique<ConnectionAuth>();
        c.auth->remember(token, principal, until);
    }

    std::shared_ptr<Authorizer> authorizer_;
    std::vector<std::string> paths_;
    bool protect_routes_ = false;
    std::vector<std::string> open_paths_;  // never covered: the unprotected operations paths
};

}  // namespace mcpsse::detail
