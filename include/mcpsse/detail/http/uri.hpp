// mcpsse internal: request-target splitting and query-string decoding (RFC 3986, RFC 9112 §3.2).
#pragma once

#include "mcpsse/detail/http/chars.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// The path and query of a request-target, as views into the target (no decoding).
struct TargetParts {
    /// The path: `/` or `/a/b` for origin-form, `*` for asterisk-form; for absolute-form
    /// the path after the authority, or `/` when that path is empty. Never decoded.
    std::string_view path;
    /// The query without its leading `?`; empty when there is none (or it is empty).
    std::string_view query;
};

/// Splits a request-target (RFC 9112 §3.2) into path and query. A `#fragment` is
/// dropped (clients must not send one; the parser rejects it anyway). Absolute-form
/// (`scheme://authority/path?query`, RFC 9112 §3.2.2) is reduced to its path and query.
/// Any other form is returned whole as the path, up to `?`.
[[nodiscard]] constexpr TargetParts split_target(std::string_view target) noexcept {
    if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) {
        target = target.substr(0, hash);
    }
    if (!target.empty() && target.front() != '/' && target != "*") {
        const std::size_t scheme_end = target.find("://");
        const std::size_t first_special = target.find_first_of("/?");
        if (scheme_end != std::string_view::npos && scheme_end > 0 && scheme_end < first_special) {
            std::string_view rest = target.substr(scheme_end + 3);
            const std::size_t path_start = rest.find_first_of("/?");
            rest = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
            const std::size_t q = rest.find('?');
            std::string_view path = rest.substr(0, q);
            if (path.empty()) {
                path = "/";
            }
            return {path, q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1)};
        }
    }
    const std::size_t q = target.find('?');
    if (q == std::string_view::npos) {
        return {target, {}};
    }
    return {target.substr(0, q), target.substr(q + 1)};
}

/// Percent-decodes `s` (RFC 3986 §2.1); when `plus_as_space`, `+` decodes to a space
/// (application/x-www-form-urlencoded convention for query strings). Returns nullopt for
/// an invalid escape: `%` not followed by two hex digits. Decoded bytes are not
/// validated (may be any byte, including NUL); one allocation of at most `s.size()` bytes.
[[nodiscard]] inline std::optional<std::string> percent_decode(std::string_view s, bool plus_as_space = false) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (s.size() - i < 3) {
                return std::nullopt;
            }
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// Compares the percent-decoded form of `encoded` with `plain` without allocating.
/// Returns false when they differ or when `encoded` has an invalid escape.
[[nodiscard]] constexpr bool percent_decoded_equals(std::string_view encoded, std::string_view plain,
                                                    bool plus_as_space = false) noexcept {
    std::size_t j = 0;
    for (std::size_t i = 0; i < encoded.size(); ++i, ++j) {
        char c = encoded[i];
        if (c == '%') {
            if (encoded.size() - i < 3) {
                return false;
            }
            const int hi = hex_value(encoded[i + 1]);
            const int lo = hex_value(encoded[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_as_space) {
            c = ' ';
        }
        if (j >= plain.size() || plain[j] != c) {
            return false;
        }
    }
    return j == plain.size();
}

/// The value of the first query parameter named `name` in `query` (the part after `?`,
/// pairs separated by `&`, name and value by the first `=`), percent-decoded with `+`
/// as space. Names are compared after decoding, case-sensitively. A parameter without
/// `=` has the empty value. Returns nullopt when there is no such parameter or when the
/// matching parameter's value has an invalid percent escape (RFC 3986 §2.1).
[[nodiscard]] inline std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (true) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const std::size_t eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        if (!pair.empty() && percent_decoded_equals(key, name, true)) {
            return percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        }
        if (amp == std::string_view::npos) {
            return std::nullopt;
        }
        query.remove_prefix(amp + 1);
    }
}

}  // namespace mcpsse::detail
