// mcpsse internal: Origin (RFC 6454) and Host (RFC 9110 §7.2) header values.
#pragma once

#include "mcpsse/detail/http/chars.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// A parsed `Origin` header value (RFC 6454 §7): a tuple origin with lowercased scheme
/// and host and an explicit port, or the opaque origin `null`.
struct Origin {
    /// Lowercased scheme, e.g. `https`; empty for the opaque origin.
    std::string scheme;
    /// Lowercased host: a DNS name or IPv4 address, or an IPv6 literal in brackets
    /// (`[::1]`); empty for the opaque origin.
    std::string host;
    /// The port, explicit or the scheme's default (see `default_port`); 0 when the
    /// scheme has no known default and none was given, and for the opaque origin.
    std::uint16_t port = 0;
    /// True for the serialized opaque origin `null` (sandboxed frames, file: pages...).
    bool opaque = false;
};

/// A `Host` header value split into host and optional port (RFC 9110 §7.2,
/// RFC 3986 §3.2.2): views into the header value, not lowercased; IPv6 literals keep
/// their brackets. `host` may be empty (a Host field with an empty value is valid).
struct HostPort {
    /// The `uri-host`, as sent.
    std::string_view host;
    /// The port when one was given (an empty port after `:` counts as none).
    std::optional<std::uint16_t> port;
};

/// The default port of a scheme (ASCII case-insensitive): 80 for `http` and `ws`, 443
/// for `https` and `wss`, nullopt otherwise (RFC 9110 §4.2, RFC 6455 §3).
[[nodiscard]] constexpr std::optional<std::uint16_t> default_port(std::string_view scheme) noexcept {
    if (iequals(scheme, "http") || iequals(scheme, "ws")) {
        return 80;
    }
    if (iequals(scheme, "https") || iequals(scheme, "wss")) {
        return 443;
    }
    return std::nullopt;
}

namespace origin_detail {

/// Parses a decimal port of 1-5 digits in 0-65535; nullopt otherwise.
[[nodiscard]] constexpr std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5) {
        return std::nullopt;
    }
    std::uint32_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

/// True for a bracketed IP-literal with an IPv6-ish body (hex digits, `:` and `.`,
/// containing at least one `:`). IPvFuture and zone identifiers are rejected.
[[nodiscard]] constexpr bool is_ip_literal(std::string_view s) noexcept {
    if (s.size() < 4 || s.front() != '[' || s.back() != ']') {
        return false;
    }
    const std::string_view body = s.substr(1, s.size() - 2);
    bool colon = false;
    for (char c : body) {
        if (c == ':') {
            colon = true;
        } else if (c != '.' && hex_value(c) < 0) {
            return false;
        }
    }
    return colon;
}

/// True for an RFC 3986 `reg-name` (unreserved / pct-encoded / sub-delims), possibly empty.
[[nodiscard]] constexpr bool is_reg_name(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
            continue;
        }
        switch (c) {
        case '-': case '.': case '_': case '~':                                 // unreserved
        case '!': case '$': case '&': case '\'': case '(': case ')': case '*':  // sub-delims
        case '+': case ',': case ';': case '=':
            continue;
        case '%':
            if (s.size() - i < 3 || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
                return false;
            }
            i += 2;
            continue;
        default:
            return false;
        }
    }
    return true;
}

/// Splits `host[:port]` where host may be a bracketed IP-literal. Returns false when
/// the brackets are unbalanced. `port_text` is empty when there is no `:`; `has_colon`
/// tells an empty port apart from a missing one.
constexpr bool split_host_port(std::string_view s, std::string_view& host, std::string_view& port_text,
                               bool& has_colon) noexcept {
    std::size_t host_end = 0;
    if (!s.empty() && s.front() == '[') {
        host_end = s.find(']');
        if (host_end == std::string_view::npos) {
            return false;
        }
        ++host_end;
    } else {
        host_end = s.find(':');
        if (host_end == std::string_view::npos) {
            host_end = s.size();
        }
    }
    host = s.substr(0, host_end);
    has_colon = host_end < s.size();
    if (has_colon && s[host_end] != ':') {
        return false;
    }
    port_text = has_colon ? s.substr(host_end + 1) : std::string_view{};
    return true;
}

}  // namespace origin_detail

/// Maximum length in bytes of a host accepted by `parse_origin` and `parse_host`
/// (a DNS name is at most 253 bytes; the bound also covers IPv6 literals).
inline constexpr std::size_t max_host_length = 255;

/// Parses an `Origin` header value (RFC 6454 §7.1): `scheme "://" host [":" port]`
/// with no path, userinfo, query or trailing slash, or exactly `null` (opaque).
/// The value is OWS-trimmed. The scheme must be `ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")`;
/// the host a non-empty DNS name / IPv4 address made of ALPHA, DIGIT, `-`, `.`, `_`, `~`,
/// or a bracketed IPv6 literal; the port 1-5 digits in 0-65535 (an empty port after
/// `:` is rejected). Scheme and host are lowercased; a missing port becomes the
/// scheme's default. A space-separated list of origins is rejected. Returns nullopt
/// for anything else; the transport then answers 403.
[[nodiscard]] inline std::optional<Origin> parse_origin(std::string_view value) {
    value = trim_ows(value);
    if (value == "null") {
        Origin o;
        o.opaque = true;
        return o;
    }
    const std::size_t sep = value.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        return std::nullopt;
    }
    const std::string_view scheme = value.substr(0, sep);
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char c = scheme[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!(alpha || (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.')))) {
            return std::nullopt;
        }
    }
    std::string_view host;
    std::string_view port_text;
    bool has_colon = false;
    if (!origin_detail::split_host_port(value.substr(sep + 3), host, port_text, has_colon)) {
        return std::nullopt;
    }
    if (host.empty() || host.size() > max_host_length) {
        return std::nullopt;
    }
    if (host.front() == '[') {
        if (!origin_detail::is_ip_literal(host)) {
            return std::nullopt;
        }
    } else {
        for (char c : host) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
                            c == '.' || c == '_' || c == '~';
            if (!ok) {
                return std::nullopt;
            }
        }
    }
    Origin o;
    if (has_colon) {
        const auto port = origin_detail::parse_port(port_text);
        if (!port) {
            return std::nullopt;
        }
        o.port = *port;
    } else {
        o.port = default_port(scheme).value_or(0);
    }
    o.scheme.reserve(scheme.size());
    for (char c : scheme) {
        o.scheme.push_back(to_lower_ascii(c));
    }
    o.host.reserve(host.size());
    for (char c : host) {
        o.host.push_back(to_lower_ascii(c));
    }
    return o;
}

/// True when `a` and `b` are the same origin (RFC 6454 §5): equal scheme, host and
/// port, compared exactly after normalization (never a prefix or suffix match). An
/// opaque origin is never the same as any origin, including another `null`.
[[nodiscard]] inline bool same_origin(const Origin& a, const Origin& b) noexcept {
    return !a.opaque && !b.opaque && a.port == b.port && a.scheme == b.scheme && a.host == b.host;
}

/// Parses both values with `parse_origin` and compares them with `same_origin`;
/// false when either does not parse.
[[nodiscard]] inline bool same_origin(std::string_view a, std::string_view b) {
    const auto oa = parse_origin(a);
    const auto ob = parse_origin(b);
    return oa && ob && same_origin(*oa, *ob);
}

/// Appends the ASCII serialization of `o` (RFC 6454 §6.2): `scheme://host` plus
/// `:port` when the port is not the scheme's default; `null` for the opaque origin.
inline void append_origin(std::string& out, const Origin& o) {
    if (o.opaque) {
        out += "null";
        return;
    }
    out += o.scheme;
    out += "://";
    out += o.host;
    // The port unless it is the scheme's default (an explicit :0 is written, so that it
    // parses back as port 0 rather than as the default).
    if (o.port != default_port(o.scheme).value_or(0)) {
        out.push_back(':');
        out += std::to_string(o.port);
    }
}

/// The serialization of `o` (see `append_origin`).
[[nodiscard]] inline std::string to_string(const Origin& o) {
    std::string s;
    append_origin(s, o);
    return s;
}

/// Parses a `Host` header value (RFC 9110 §7.2): `uri-host [":" port]` where uri-host
/// is a bracketed IPv6 literal, an IPv4 address or a reg-name (percent escapes and
/// sub-delims allowed, possibly empty) of at most `max_host_length` bytes, and port is
/// empty or 1-5 digits in 0-65535. The value is OWS-trimmed. Returns nullopt when
/// malformed; the parser then fails with `HttpError::invalid_host` (400, RFC 9112 §3.2).
[[nodiscard]] constexpr std::optional<HostPort> parse_host(std::string_view value) noexcept {
    value = trim_ows(value);
    std::string_view host;
    std::string_view port_text;
    bool has_colon = false;
    if (!origin_detail::split_host_port(value, host, port_text, has_colon) || host.size() > max_host_length) {
        return std::nullopt;
    }
    if (!host.empty() && host.front() == '[' ? !origin_detail::is_ip_literal(host)
                                             : !origin_detail::is_reg_name(host)) {
        return std::nullopt;
    }
    HostPort hp{host, std::nullopt};
    if (!port_text.empty()) {
        hp.port = origin_detail::parse_port(port_text);
        if (!hp.port) {
            return std::nullopt;
        }
    }
    return hp;
}

}  // namespace mcpsse::detail
