// mcpsse internal: a parsed redis:// URL.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// `redis://[[user]:password@]host[:port][/db]` (the IANA `redis` URI scheme, without
/// query parameters): host (a name, an IPv4 address or a bracketed IPv6 address), port
/// (default 6379), database number (default 0) and the credentials for `AUTH`
/// (`AUTH password`, or `AUTH user password` for a Redis 6+ ACL user).
/// Percent-encoding is decoded in user and password.
struct RedisUrl {
    std::string host;
    std::uint16_t port = 6379;
    int database = 0;
    std::string user;
    std::string password;
    bool has_password = false;

    /// Parses `url`; nullopt when it is not of the form above.
    static std::optional<RedisUrl> parse(std::string_view url) {
        constexpr std::string_view scheme = "redis://";
        if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
        url.remove_prefix(scheme.size());
        RedisUrl out;
        const auto slash = url.find('/');
        std::string_view authority = url.substr(0, slash);
        std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash + 1);
        if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
            const std::string_view userinfo = authority.substr(0, at);
            authority.remove_prefix(at + 1);
            const auto colon = userinfo.find(':');
            auto user = decode(userinfo.substr(0, colon));
            if (!user) return std::nullopt;
            out.user = std::move(*user);
            if (colon != std::string_view::npos) {
                auto password = decode(userinfo.substr(colon + 1));
                if (!password) return std::nullopt;
                out.password = std::move(*password);
                out.has_password = true;
            } else if (!out.user.empty()) {
                // redis://password@host (no colon): the password alone, as many clients read it.
                out.password = std::move(out.user);
                out.user.clear();
                out.has_password = true;
            }
        }
        std::string_view port;
        if (!authority.empty() && authority.front() == '[') {
            const auto close = authority.find(']');
            if (close == std::string_view::npos) return std::nullopt;
            out.host = std::string(authority.substr(1, close - 1));
            const std::string_view rest = authority.substr(close + 1);
            if (!rest.empty()) {
                if (rest.front() != ':') return std::nullopt;
                port = rest.substr(1);
            }
        } else {
            const auto colon = authority.rfind(':');
            out.host = std::string(authority.substr(0, colon));
            if (colon != std::string_view::npos) port = authority.substr(colon + 1);
        }
        if (out.host.empty()) return std::nullopt;
        if (!port.empty() || authority.ends_with(":")) {
            unsigned value = 0;
            const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
            if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
                return std::nullopt;
            out.port = static_cast<std::uint16_t>(value);
        }
        if (!path.empty()) {
            int db = 0;
            const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
            if (ec != std::errc{} || end != path.data() + path.size() || db < 0) return std::nullopt;
            out.database = db;
        }
        return out;
    }

private:
    static std::optional<std::string> decode(std::string_view s) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] != '%') {
                out.push_back(s[i]);
                continue;
            }
            if (i + 2 >= s.size()) return std::nullopt;
            unsigned value = 0;
            const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
            if (ec != std::errc{} || end != s.data() + i + 3) return std::nullopt;
            out.push_back(static_cast<char>(value));
            i += 2;
        }
        return out;
    }
};

}  // namespace mcpsse::detail
