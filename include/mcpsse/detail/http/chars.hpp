// mcpsse internal: HTTP character classes (RFC 9110 §5.6) and ASCII case helpers.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace mcpsse::detail {

/// The `tchar` class as a table (RFC 9110 §5.6.2), indexed by byte.
inline constexpr std::array<bool, 256> tchar_table = [] {
    std::array<bool, 256> t{};
    for (int ch = '0'; ch <= '9'; ++ch) t[static_cast<std::size_t>(ch)] = true;
    for (int ch = 'a'; ch <= 'z'; ++ch) t[static_cast<std::size_t>(ch)] = true;
    for (int ch = 'A'; ch <= 'Z'; ++ch) t[static_cast<std::size_t>(ch)] = true;
    for (const char ch : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(ch)] = true;
    return t;
}();

/// True for an HTTP `tchar` (RFC 9110 §5.6.2): the characters allowed in a token,
/// i.e. a method, a field name, a media type or a transfer-coding name. One table
/// lookup: field names, methods and media types are checked byte by byte on every request.
[[nodiscard]] constexpr bool is_tchar(unsigned char c) noexcept { return tchar_table[c]; }

/// True when `s` is a non-empty `token` (RFC 9110 §5.6.2: `1*tchar`).
[[nodiscard]] constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!is_tchar(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

/// True for optional whitespace `OWS` characters (RFC 9110 §5.6.3): SP or HTAB.
[[nodiscard]] constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// True for a byte allowed inside a field value (RFC 9110 §5.5): VCHAR, obs-text
/// (0x80-0xFF), SP and HTAB. Every other control byte (NUL, CR, LF, DEL, ...) is not.
[[nodiscard]] constexpr bool is_field_value_char(unsigned char c) noexcept {
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

/// True for an ASCII decimal digit.
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// The value 0-15 of an ASCII hexadecimal digit (either case), or -1 for any other byte.
[[nodiscard]] constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// ASCII lowercase of one byte; bytes outside `A`-`Z` are returned unchanged
/// (no locale is consulted).
[[nodiscard]] constexpr char to_lower_ascii(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// ASCII case-insensitive equality, as HTTP requires for field names, tokens and
/// scheme/host comparisons (RFC 9110 §5.1, §4.2.3). Non-ASCII bytes compare exactly.
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) {
            return false;
        }
    }
    return true;
}

/// `s` without leading and trailing OWS (SP / HTAB, RFC 9110 §5.6.3).
[[nodiscard]] constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

/// Calls `f(element)` for each element of a comma-separated list field value
/// (RFC 9110 §5.6.1 `#rule`), each element OWS-trimmed; empty elements are skipped,
/// as recipients are required to do. Commas inside quoted strings are not special-cased
/// here: use it only for lists whose elements cannot contain quoted strings with commas
/// (tokens such as `Connection`, or when the caller re-validates elements).
/// `f` returns `bool`: false stops the iteration. Returns false when stopped early.
template <class F>
constexpr bool for_each_list_element(std::string_view value, F&& f) {
    while (true) {
        const std::size_t comma = value.find(',');
        const std::string_view element = trim_ows(value.substr(0, comma));
        if (!element.empty() && !f(element)) {
            return false;
        }
        if (comma == std::string_view::npos) {
            return true;
        }
        value.remove_prefix(comma + 1);
    }
}

/// True when the comma-separated list `value` contains `token` (ASCII
/// case-insensitive), e.g. `close` in `Connection: keep-alive, Close` (RFC 9110 §7.6.1).
[[nodiscard]] constexpr bool list_contains_token(std::string_view value, std::string_view token) noexcept {
    return !for_each_list_element(value, [&](std::string_view e) { return !iequals(e, token); });
}

}  // namespace mcpsse::detail
