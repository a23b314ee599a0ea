// mcpsse: the Host and Origin checks that keep DNS-rebinding pages and foreign sites out.
#pragma once

#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/http/origin.hpp>
#include <mcpsse/detail/http/request.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// Checks `Host` and `Origin` (MCP S1, S2 in tests/CHECKLIST.md). A server bound to a
/// loopback address accepts only loopback names in `Host` unless `allowed_hosts` lists
/// names; `Origin`, when sent (browsers send it), must be a loopback origin unless
/// `allowed_origins` lists origins. Both refusals are 403. Immutable after construction:
/// safe from any thread.
class HostGuard {
public:
    /// Throws `std::invalid_argument` for an unparsable `allowed_origins` entry.
    HostGuard(bool loopback, std::vector<std::string> allowed_hosts, const std::vector<std::string>& allowed_origins)
        : loopback_(loopback), allowed_hosts_(std::move(allowed_hosts)) {
        for (const auto& origin : allowed_origins) {
            auto parsed = parse_origin(origin);
            if (!parsed) throw std::invalid_argument("mcpsse: invalid allowed origin: " + origin);
            allowed_origins_.push_back(std::move(*parsed));
        }
    }

    /// The refusal's message, or nullopt when the request may go on.
    [[nodiscard]] std::optional<std::string_view> refuse(const HttpRequest& req) const {
        if (!host_allowed(req)) return "Forbidden: Host not allowed";
        if (!origin_allowed(req)) return "Forbidden: Origin not allowed";
        return std::nullopt;
    }

private:
    bool host_allowed(const HttpRequest& req) const {
        const auto host = req.find("host");
        if (!host) return true;  // HTTP/1.0 without Host: nothing to rebind
        const auto parsed = parse_host(*host);
        if (!parsed) return false;
        if (!allowed_hosts_.empty()) {
            for (const auto& allowed : allowed_hosts_)
                if (iequals(allowed, parsed->host)) return true;
            return false;
        }
        if (!loopback_) return true;
        return is_loopback_name(parsed->host);
    }

    bool origin_allowed(const HttpRequest& req) const {
        const auto origin = req.find("origin");
        if (!origin) return true;  // non-browser clients send none (MCP S2)
        const auto parsed = parse_origin(*origin);
        if (!parsed || parsed->opaque) return false;
        if (allowed_origins_.empty()) return is_loopback_name(parsed->host);
        for (const auto& allowed : allowed_origins_)
            if (same_origin(allowed, *parsed)) return true;
        return false;
    }

    static bool is_loopback_name(std::string_view host) {
        return iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]";
    }

    bool loopback_;
    std::vector<std::string> allowed_hosts_;
    std::vector<Origin> allowed_origins_;
};

}  // namespace mcpsse::detail
