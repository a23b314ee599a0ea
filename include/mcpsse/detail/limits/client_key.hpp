// mcpsse: which client a request comes from (subject, or address behind trusted proxies).
#pragma once

#include <mcpsse/principal.hpp>
#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/http/request.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/network_v4.hpp>
#include <asio/ip/network_v6.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// The reverse proxies whose forwarding fields are believed (`ClientLimits::trusted_proxies`).
/// Immutable after construction: thread-safe.
class TrustedProxies {
public:
    TrustedProxies() = default;
    /// Parses addresses and CIDR networks; throws `std::invalid_argument` for a bad entry.
    explicit TrustedProxies(const std::vector<std::string>& entries) {
        for (const auto& entry : entries) {
            std::error_code ec;
            if (entry.find('/') == std::string::npos) {
                const auto a = asio::ip::make_address(entry, ec);
                if (ec) throw std::invalid_argument("ClientLimits::trusted_proxies: bad address: " + entry);
                if (a.is_v4()) v4_.emplace_back(a.to_v4(), 32);
                else v6_.emplace_back(a.to_v6(), 128);
            } else if (entry.find(':') == std::string::npos) {
                const auto n = asio::ip::make_network_v4(entry, ec);
                if (ec) throw std::invalid_argument("ClientLimits::trusted_proxies: bad network: " + entry);
                v4_.push_back(n.canonical());
            } else {
                const auto n = asio::ip::make_network_v6(entry, ec);
                if (ec) throw std::invalid_argument("ClientLimits::trusted_proxies: bad network: " + entry);
                v6_.push_back(n.canonical());
            }
        }
    }

    /// True when no proxy is trusted.
    [[nodiscard]] bool empty() const noexcept { return v4_.empty() && v6_.empty(); }

    /// True when `a` is a trusted proxy (IPv4-mapped IPv6 addresses count as IPv4).
    [[nodiscard]] bool contains(const asio::ip::address& a) const {
        if (a.is_v6() && a.to_v6().is_v4_mapped()) return contains(asio::ip::address(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6())));
        if (a.is_v4()) {
            for (const auto& n : v4_)
                if (asio::ip::network_v4(a.to_v4(), n.prefix_length()).canonical() == n) return true;
            return false;
        }
        for (const auto& n : v6_)
            if (asio::ip::network_v6(a.to_v6(), n.prefix_length()).canonical() == n) return true;
        return false;
    }

private:
    std::vector<asio::ip::network_v4> v4_;
    std::vector<asio::ip::network_v6> v6_;
};

/// The client address of `req` from a trusted proxy: the last `for=` of `Forwarded`
/// (RFC 7239 section 5.2; quotes, brackets and a port removed) or, without `Forwarded`,
/// the last `X-Forwarded-For` element, skipping addresses that are themselves trusted
/// proxies. Nullopt when the fields name no usable address (`unknown`, obfuscated ids).
[[nodiscard]] inline std::optional<asio::ip::address> forwarded_client(const HttpRequest& req, const TrustedProxies& trusted) {
    std::vector<std::string_view> hops;  // in order, client first
    const bool has_forwarded = req.count("forwarded") > 0;
    req.for_each(has_forwarded ? "forwarded" : "x-forwarded-for", [&](std::string_view value) {
        std::size_t start = 0;
        while (start <= value.size()) {
            const std::size_t comma = std::min(value.find(',', start), value.size());
            std::string_view element = trim_ows(value.substr(start, comma - start));
            if (has_forwarded) {
                std::string_view found;
                std::size_t p = 0;
                while (p <= element.size()) {
                    const std::size_t semi = std::min(element.find(';', p), element.size());
                    const std::string_view pair = trim_ows(element.substr(p, semi - p));
                    if (pair.size() > 4 && iequals(pair.substr(0, 4), "for=")) found = pair.substr(4);
                    p = semi + 1;
                }
                element = found;
            }
            if (!element.empty()) hops.push_back(element);
            start = comma + 1;
        }
    });
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        std::string_view h = *it;
        if (h.size() >= 2 && h.front() == '"' && h.back() == '"') h = h.substr(1, h.size() - 2);
        if (!h.empty() && h.front() == '[') {  // [v6] or [v6]:port
            const auto close = h.find(']');
            if (close == std::string_view::npos) return std::nullopt;
            h = h.substr(1, close - 1);
        } else if (h.find(':') != std::string_view::npos && h.find(':') == h.rfind(':')) {
            h = h.substr(0, h.find(':'));  // v4:port
        }
        std::error_code ec;
        const auto a = asio::ip::make_address(std::string(h), ec);
        if (ec) return std::nullopt;
        if (!trusted.contains(a)) return a;
    }
    return std::nullopt;
}

/// The key `ClientLimits` counts `req` under: `sub:` and the token's subject, else `ip:`
/// and the client address (`peer`, or the address a trusted proxy reports). Empty when
/// the request is not limited (a loopback address under `exempt_loopback`).
[[nodiscard]] inline std::string client_key(const HttpRequest& req, const asio::ip::address& peer,
                                            const TrustedProxies& trusted, bool exempt_loopback) {
    if (req.principal) return "sub:" + req.principal->subject;
    asio::ip::address client = peer;
    if (!trusted.empty() && trusted.contains(peer)) {
        const auto forwarded = forwarded_client(req, trusted);
        if (!forwarded) return {};  // from a trusted proxy that names no client: the proxy's own traffic
        client = *forwarded;
    }
    if (client.is_v6() && client.to_v6().is_v4_mapped()) client = asio::ip::make_address_v4(asio::ip::v4_mapped, client.to_v6());
    if (exempt_loopback && client.is_loopback()) return {};
    return "ip:" + client.to_string();
}

}  // namespace mcpsse::detail
