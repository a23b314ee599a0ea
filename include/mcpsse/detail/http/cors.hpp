// mcpsse: CORS (Fetch standard) response headers and preflight answers.
#pragma once

#include <mcpsse/detail/http/origin.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/response.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// Which browser origins may read responses (`cors_origins`; `"*"` allows any), and the
/// headers that say so. Off (no headers at all) when the list is empty. Immutable after
/// construction: safe from any thread.
class CorsPolicy {
public:
    explicit CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {}

    /// True when no origin is configured (no request gets CORS headers).
    [[nodiscard]] bool off() const noexcept { return origins_.empty(); }

    /// The header lines a response to `req` carries: `Access-Control-Allow-Origin`
    /// echoing an allowed `Origin`, `Vary: Origin` and the exposed MCP headers; empty when
    /// CORS is off, the request has no `Origin` or it is not allowed.
    [[nodiscard]] std::string headers(const HttpRequest& req) const {
        if (origins_.empty()) return {};
        const auto origin = req.find("origin");
        if (!origin) return {};
        bool allowed = false;
        for (const auto& o : origins_)
            if (o == "*" || same_origin(o, *origin)) allowed = true;
        if (!allowed) return {};
        return "Access-Control-Allow-Origin: " + std::string(*origin) +
               "\r\nVary: Origin\r\nAccess-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate\r\n";
    }

    /// The whole 204 answer to an `OPTIONS` request for a resource allowing `allow`
    /// (e.g. "GET, POST, OPTIONS"), given the request's CORS `headers`: `Allow`, and when
    /// CORS applies the allowed methods, the requested (or MCP's) headers and a 600 s
    /// max age.
    [[nodiscard]] static std::string preflight(const HttpRequest& req, std::string_view allow, const std::string& headers) {
        std::string out;
        append_status_line(out, 204);
        out += "Allow: ";
        out += allow;
        out += "\r\n";
        if (!headers.empty()) {
            out += headers;
            out += "Access-Control-Allow-Methods: ";
            out += allow;
            out += "\r\n";
            const auto requested = req.find("access-control-request-headers");
            out += "Access-Control-Allow-Headers: ";
            out += requested ? std::string(*requested)
                             : std::string("Content-Type, Accept, Authorization, Mcp-Session-Id, "
                                           "MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name");
            out += "\r\nAccess-Control-Max-Age: 600\r\n";
        }
        end_head(out);
        return out;
    }

private:
    std::vector<std::string> origins_;
};

}  // namespace mcpsse::detail
