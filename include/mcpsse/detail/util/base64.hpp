// mcpsse internal: strict base64 (RFC 4648 §4), unpadded base64url (RFC 4648 §5, as JOSE
// uses it) and MCP header value encoding.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

namespace base64_detail {

inline constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The reverse of the 64-character alphabet `a`: the 6-bit value of each byte, or -1.
constexpr std::array<std::int8_t, 256> reverse_of(std::string_view a) {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) {
        v = -1;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        t[static_cast<unsigned char>(a[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}

/// Reverse standard alphabet.
inline constexpr std::array<std::int8_t, 256> reverse = reverse_of(alphabet);
/// Reverse URL-safe alphabet.
inline constexpr std::array<std::int8_t, 256> url_reverse = reverse_of(url_alphabet);

}  // namespace base64_detail

/// Appends the standard base64 encoding (RFC 4648 §4, alphabet `A-Za-z0-9+/`, with `=`
/// padding, no line breaks) of the bytes `in` to `out`; output is 4*ceil(n/3) bytes.
inline void base64_encode_append(std::string& out, std::string_view in) {
    using base64_detail::alphabet;
    out.reserve(out.size() + (in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        out.push_back(alphabet[v >> 18 & 63]);
        out.push_back(alphabet[v >> 12 & 63]);
        out.push_back(alphabet[v >> 6 & 63]);
        out.push_back(alphabet[v & 63]);
    }
    if (in.size() - i == 1) {
        const std::uint32_t v = byte(i) << 16;
        out.push_back(alphabet[v >> 18 & 63]);
        out.push_back(alphabet[v >> 12 & 63]);
        out += "==";
    } else if (in.size() - i == 2) {
        const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
        out.push_back(alphabet[v >> 18 & 63]);
        out.push_back(alphabet[v >> 12 & 63]);
        out.push_back(alphabet[v >> 6 & 63]);
        out.push_back('=');
    }
}

/// The standard base64 encoding of `in` (see `base64_encode_append`).
[[nodiscard]] inline std::string base64_encode(std::string_view in) {
    std::string out;
    base64_encode_append(out, in);
    return out;
}

/// Decodes strict standard base64 (RFC 4648 §4): the length must be a multiple of 4,
/// only the alphabet `A-Za-z0-9+/` with `=` padding solely at the end (at most two),
/// no whitespace, no URL-safe alphabet, and the unused bits before the padding must be
/// zero (RFC 4648 §3.5), so every input has exactly one encoding. Nullopt otherwise.
/// The decoded bytes may be any binary data.
[[nodiscard]] inline std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) {
        return std::nullopt;
    }
    std::size_t pad = 0;
    if (!in.empty() && in.back() == '=') {
        pad = in.size() >= 2 && in[in.size() - 2] == '=' ? 2 : 1;
    }
    std::string out;
    out.reserve(in.size() / 4 * 3);
    const auto& rev = base64_detail::reverse;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        const std::size_t data_chars = last ? 4 - pad : 4;
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            std::int8_t d = 0;
            if (k < data_chars) {
                d = rev[static_cast<unsigned char>(in[i + k])];
                if (d < 0) {
                    return std::nullopt;  // also rejects '=' in the middle
                }
            }
            v = v << 6 | static_cast<std::uint32_t>(d);
        }
        out.push_back(static_cast<char>(v >> 16 & 0xFF));
        if (data_chars == 3) {
            if ((v & 0xFF) != 0) {
                return std::nullopt;  // non-zero pad bits
            }
            out.push_back(static_cast<char>(v >> 8 & 0xFF));
        } else if (data_chars == 2) {
            if ((v & 0xFFFF) != 0) {
                return std::nullopt;
            }
        } else {
            out.push_back(static_cast<char>(v >> 8 & 0xFF));
            out.push_back(static_cast<char>(v & 0xFF));
        }
    }
    return out;
}

/// The unpadded base64url encoding (RFC 4648 §5 without `=`, as RFC 7515 §2 defines
/// `BASE64URL`) of the bytes `in`.
[[nodiscard]] inline std::string base64url_encode(std::string_view in) {
    std::string out = base64_encode(in);
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    for (char& c : out) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return out;
}

/// Decodes unpadded base64url (RFC 7515 §2 and appendix C): only the alphabet
/// `A-Za-z0-9-_`, no `=` padding, no whitespace, a length that is not 1 modulo 4, and
/// zero unused trailing bits (so every input has exactly one encoding). Nullopt
/// otherwise. The empty string decodes to no bytes.
[[nodiscard]] inline std::optional<std::string> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) {
        return std::nullopt;
    }
    const auto& rev = base64_detail::url_reverse;
    std::string out;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const std::int8_t d = rev[static_cast<unsigned char>(c)];
        if (d < 0) {
            return std::nullopt;
        }
        acc = (acc << 6 | static_cast<std::uint32_t>(d)) & 0xFFFFFFu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>(acc >> bits & 0xFF));
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) {
        return std::nullopt;  // non-zero unused bits
    }
    return out;
}

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
/// nothing above U+10FFFF).
[[nodiscard]] constexpr bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (s.size() - i <= n) {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (cc & 0x3Fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

/// The opening marker of an encoded MCP header value (lowercase, case-sensitive).
inline constexpr std::string_view mcp_header_prefix = "=?base64?";
/// The closing marker of an encoded MCP header value.
inline constexpr std::string_view mcp_header_suffix = "?=";

/// Decodes an MCP (2026-07-28, Streamable HTTP) header value such as `Mcp-Name`:
/// a value of the form `=?base64?<standard base64>?=` is base64-decoded (strictly, see
/// `base64_decode`) and must yield valid UTF-8; any other value is returned as-is and
/// must be printable ASCII (0x20-0x7E). Nullopt when the encoded form is malformed or
/// its payload is not UTF-8, or when a plain value has other bytes. The transport
/// answers 400 for nullopt.
[[nodiscard]] inline std::optional<std::string> decode_mcp_header_value(std::string_view value) {
    if (value.size() >= mcp_header_prefix.size() + mcp_header_suffix.size() &&
        value.substr(0, mcp_header_prefix.size()) == mcp_header_prefix &&
        value.substr(value.size() - mcp_header_suffix.size()) == mcp_header_suffix) {
        auto decoded = base64_decode(value.substr(
            mcp_header_prefix.size(), value.size() - mcp_header_prefix.size() - mcp_header_suffix.size()));
        if (!decoded || !is_valid_utf8(*decoded)) {
            return std::nullopt;
        }
        return decoded;
    }
    for (char c : value) {
        if (c < 0x20 || c > 0x7E) {
            return std::nullopt;
        }
    }
    return std::string(value);
}

/// Encodes `value` (UTF-8) for an MCP header: as-is when it is printable ASCII
/// (0x20-0x7E) without leading/trailing whitespace and does not itself look like the
/// encoded form; otherwise `=?base64?<base64 of the bytes>?=`. Inverse of
/// `decode_mcp_header_value` for valid UTF-8 input.
[[nodiscard]] inline std::string encode_mcp_header_value(std::string_view value) {
    bool plain = value.empty() || (value.front() != ' ' && value.back() != ' ');
    for (char c : value) {
        plain = plain && c >= 0x20 && c <= 0x7E;
    }
    if (plain && value.size() >= mcp_header_prefix.size() + mcp_header_suffix.size() &&
        value.substr(0, mcp_header_prefix.size()) == mcp_header_prefix &&
        value.substr(value.size() - mcp_header_suffix.size()) == mcp_header_suffix) {
        plain = false;
    }
    if (plain) {
        return std::string(value);
    }
    std::string out(mcp_header_prefix);
    base64_encode_append(out, value);
    out += mcp_header_suffix;
    return out;
}

}  // namespace mcpsse::detail
