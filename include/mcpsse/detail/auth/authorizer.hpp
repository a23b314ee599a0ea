// mcpsse: the authorization step of the request pipeline (OAuth 2.1 resource server).
#pragma once

#include <mcpsse/authorization.hpp>
#include <mcpsse/http_message.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/principal.hpp>
#include <mcpsse/token_verifier.hpp>
#include <mcpsse/transport_observer.hpp>
#include <mcpsse/detail/auth/bearer_token.hpp>
#include <mcpsse/detail/auth/protected_resource.hpp>
#include <mcpsse/detail/auth/token_cache.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/mcp/messages.hpp>

#include <asio/awaitable.hpp>

#include <exception>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// Who a request comes from, or the answer that refuses it.
struct AuthOutcome {
    std::shared_ptr<const Principal> principal;  // set when accepted
    int status = 0;                              // 401, 403 or 503 when refused
    std::string challenge;                       // the WWW-Authenticate value
    std::string message;                         // the JSON-RPC error's message
    std::string reason;                          // for observers: "missing_token", a TokenError, "insufficient_scope"
};

/// Tells the observers of connection `c` about an authorization decision on `req`: a
/// refusal (`out.status` set) or a newly verified token.
template <class Conn>
void report_authorization(Conn& c, const HttpRequest& req, const AuthOutcome& out) {
    if (!c.settings || !c.settings->observers || c.settings->observers->empty()) return;
    const std::string_view subject = out.principal ? std::string_view(out.principal->subject) : std::string_view();
    const AuthorizationEvent event{c.info(), req.method, req.path(), out.status, subject, out.reason};
    c.settings->observers->each([&](TransportObserver& o) { o.on_authorization(event); });
}

/// Checks bearer tokens against `AuthorizationOptions`: the token cache first (no
/// suspension), then the verifier; builds the 401, 403 and 503 answers of RFC 6750
/// section 3 with the RFC 9728 `resource_metadata` parameter. Immutable after
/// construction apart from its cache: thread-safe.
class Authorizer {
public:
    /// Throws `std::invalid_argument` for a missing verifier or a bad resource URL.
    explicit Authorizer(AuthorizationOptions options)
        : options_(std::move(options)), resource_(ProtectedResource::make(options_)),
          cache_(options_.cache_size, options_.cache_ttl) {
        if (!options_.verifier) throw std::invalid_argument("AuthorizationOptions::verifier is required");
    }

    /// The settings.
    [[nodiscard]] const AuthorizationOptions& options() const noexcept { return options_; }
    /// The metadata document, its path and URL.
    [[nodiscard]] const ProtectedResource& resource() const noexcept { return resource_; }

    /// Decides `req` without suspending when the token is absent, malformed or cached.
    /// True: `out` holds the decision. False: the verifier must run on `token`.
    [[nodiscard]] bool decide(const HttpRequest& req, AuthOutcome& out, std::string_view& token) {
        const BearerToken bearer = bearer_token(req);
        if (bearer.kind == BearerToken::Kind::none) {
            out = refuse(401, {}, "missing_token", "Unauthorized: a bearer token is required");
            return true;
        }
        if (bearer.kind == BearerToken::Kind::malformed) {
            out = refuse(401, "invalid_token", "malformed", "Unauthorized: malformed bearer token");
            return true;
        }
        token = bearer.value;
        if (auto principal = cache_.find(TokenCache::key_of(token))) {
            admit(std::move(principal), out);
            return true;
        }
        return false;
    }

    /// Runs the verifier on `token` (owned by the caller's frame) and decides.
    asio::awaitable<void> async_verify(std::string token, AuthOutcome& out) {
        const auto key = TokenCache::key_of(token);
        TokenVerdict verdict;
        try {
            verdict = co_await options_.verifier.async_verify(std::move(token));
        } catch (const std::exception&) {
            verdict = TokenVerdict::refuse(TokenError::unavailable);
        }
        if (!verdict) {
            out = refuse_token(verdict.error);
            co_return;
        }
        if (verdict.principal->expires_at <= std::chrono::system_clock::now()) {
            out = refuse_token(TokenError::expired);
            co_return;
        }
        cache_.insert(key, verdict.principal);
        admit(std::move(verdict.principal), out);
    }

    /// Until when a verified `principal` may be admitted without asking the verifier
    /// again: its expiry, or `cache_ttl` from now, whichever is first; `now` (never) when
    /// caching is off (`cache_size` 0).
    [[nodiscard]] std::chrono::system_clock::time_point remember_until(
        const Principal& principal, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const {
        if (options_.cache_size == 0) return now;
        const auto ttl_end = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.cache_ttl);
        return principal.expires_at < ttl_end ? principal.expires_at : ttl_end;
    }

    /// The 403 answer to `principal` lacking some of `required` (MCP 2025-11-25 step-up):
    /// `scope` lists the granted scopes, then the missing required ones.
    [[nodiscard]] AuthOutcome insufficient_scope(const Principal& principal, std::span<const std::string> required) const {
        std::vector<std::string> scope = principal.scopes;
        for (const auto& s : required)
            if (std::find(scope.begin(), scope.end(), s) == scope.end()) scope.push_back(s);
        AuthOutcome out;
        out.status = 403;
        out.reason = "insufficient_scope";
        out.message = "Forbidden: the token lacks a required scope";
        out.challenge = "Bearer error=\"insufficient_scope\", scope=\"" + join(scope) +
                        "\", resource_metadata=\"" + resource_.metadata_url +
                        "\", error_description=\"additional scope required\"";
        return out;
    }

    /// The HTTP answer of a refusal (`out.status` set): JSON-RPC error body,
    /// `WWW-Authenticate`, and `Retry-After` for 503.
    [[nodiscard]] HttpResponse response(const AuthOutcome& out) const {
        HttpResponse r;
        r.status = out.status;
        r.content_type = "application/json";
        r.body = error_body(error_code::invalid_request, out.message);
        if (!out.challenge.empty()) r.headers.emplace_back("WWW-Authenticate", out.challenge);
        if (out.status == 503) {
            const auto seconds = std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(
                                                            options_.unavailable_retry_after).count());
            r.headers.emplace_back("Retry-After", std::to_string(seconds));
        }
        return r;
    }

    /// The metadata document's answer.
    [[nodiscard]] HttpResponse metadata_response() const {
        HttpResponse r;
        r.content_type = "application/json";
        r.body = resource_.document;
        r.headers.emplace_back("Cache-Control", "max-age=3600");
        return r;
    }

private:
    void admit(std::shared_ptr<const Principal> principal, AuthOutcome& out) const {
        if (!options_.required_scopes.empty() && !principal->has_scopes(options_.required_scopes)) {
            out = insufficient_scope(*principal, options_.required_scopes);
            out.principal = std::move(principal);  // for observers only: status says refused
            return;
        }
        out = {};
        out.principal = std::move(principal);
    }

    [[nodiscard]] AuthOutcome refuse_token(TokenError error) const {
        if (error == TokenError::unavailable) {
            AuthOutcome out;
            out.status = 503;
            out.reason = std::string(to_string(error));
            out.message = "Service Unavailable: token verification is unavailable";
            return out;
        }
        return refuse(401, "invalid_token", to_string(error), "Unauthorized: " + std::string(to_string(error)));
    }

    [[nodiscard]] AuthOutcome refuse(int status, std::string_view error, std::string_view reason, std::string message) const {
        AuthOutcome out;
        out.status = status;
        out.reason = std::string(reason);
        out.message = std::move(message);
        out.challenge = "Bearer resource_metadata=\"" + resource_.metadata_url + "\"";
        if (!options_.required_scopes.empty()) out.challenge += ", scope=\"" + join(options_.required_scopes) + "\"";
        if (!error.empty()) {
            out.challenge += ", error=\"" + std::string(error) + "\"";
            out.challenge += ", error_description=\"" + std::string(reason) + "\"";
        }
        return out;
    }

    static std::string join(std::span<const std::string> scopes) {
        std::string out;
        for (const auto& s : scopes) {
            if (!out.empty()) out += ' ';
            out += s;
        }
        return out;
    }

    AuthorizationOptions options_;
    ProtectedResource resource_;
    TokenCache cache_;
};

}  // namespace mcpsse::detail
