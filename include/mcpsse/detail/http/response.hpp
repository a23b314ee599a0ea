// mcpsse internal: building HTTP/1.1 response heads and chunked framing into caller buffers.
#pragma once

#include "mcpsse/detail/http/chars.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// The interim response a server sends before reading a body announced with
/// `Expect: 100-continue` (RFC 9110 §10.1.1, §15.2.1).
inline constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

/// The last-chunk plus an empty trailer section that ends a chunked body
/// (RFC 9112 §7.1): `0\r\n\r\n`.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// The standard reason phrase of `status` (RFC 9110 §15, RFC 6585 for 428/429/431);
/// an empty view for codes without one (the status line then ends in `SP CRLF`,
/// which RFC 9112 §4 allows).
[[nodiscard]] constexpr std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return {};
    }
}

/// Appends the decimal form of `value` to `out` without a temporary string.
inline void append_decimal(std::string& out, std::uint64_t value) {
    char buf[20];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

/// Appends the status line `HTTP/1.<version_minor> <status> <reason>\r\n`
/// (RFC 9112 §4). `status` must be a three-digit code (100-999; others are clamped
/// to 500); `version_minor` is 0 or 1 (others are written as 1).
inline void append_status_line(std::string& out, int status, int version_minor = 1) {
    if (status < 100 || status > 999) {
        status = 500;
    }
    out += version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
    append_decimal(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out += reason_phrase(status);
    out += "\r\n";
}

/// True when `value` may be sent as a field value: only VCHAR, obs-text, SP and HTAB
/// (RFC 9110 §5.5), so no CR, LF or NUL can split the header (response splitting).
[[nodiscard]] constexpr bool is_valid_field_value(std::string_view value) noexcept {
    for (char c : value) {
        if (!is_field_value_char(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

/// Appends the field line `name: value\r\n`. Returns false and appends nothing when
/// `name` is not a token (RFC 9110 §5.1) or `value` holds a control byte such as CR,
/// LF or NUL (RFC 9110 §5.5); leading/trailing whitespace of `value` is trimmed.
inline bool append_header(std::string& out, std::string_view name, std::string_view value) {
    if (!is_token(name) || !is_valid_field_value(value)) {
        return false;
    }
    value = trim_ows(value);
    out.reserve(out.size() + name.size() + value.size() + 4);
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
    return true;
}

/// Appends `Content-Length: <length>\r\n` (RFC 9110 §8.6); `length` in bytes.
inline void append_content_length(std::string& out, std::uint64_t length) {
    out += "Content-Length: ";
    append_decimal(out, length);
    out += "\r\n";
}

/// Appends the empty line that ends a response head (`\r\n`); the body, if any,
/// follows (typically as a separate buffer of a gather write).
inline void end_head(std::string& out) { out += "\r\n"; }

/// Appends one chunk of a chunked body (RFC 9112 §7.1): the size in lowercase hex,
/// CRLF, the `data` bytes, CRLF. An empty `data` appends nothing, because a
/// zero-size chunk would be the last-chunk and end the body (use `append_last_chunk`).
inline void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) {
        return;
    }
    char buf[16];
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::uint64_t>(data.size()), 16);
    out.reserve(out.size() + static_cast<std::size_t>(r.ptr - buf) + data.size() + 4);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
    out += "\r\n";
    out += data;
    out += "\r\n";
}

/// Appends only the chunk header (hex size CRLF) for `size` bytes of data that the
/// caller sends from another buffer (gather write), followed later by `\r\n`;
/// `size` must be non-zero (zero appends nothing, see `append_chunk`).
inline void append_chunk_header(std::string& out, std::size_t size) {
    if (size == 0) {
        return;
    }
    char buf[16];
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::uint64_t>(size), 16);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
    out += "\r\n";
}

/// Appends `0\r\n\r\n`, which ends a chunked body with no trailer fields (RFC 9112 §7.1).
inline void append_last_chunk(std::string& out) { out += last_chunk; }

/// Appends a complete response with a small body: status line, `Content-Type`
/// (omitted when empty or invalid), `Content-Length`, `Connection: close` when `close`,
/// the empty line and `body`. Meant for error answers such as
/// `append_simple_response(out, status_for(ec), "text/plain; charset=utf-8", msg, true)`.
/// A 204 or 304 gets neither Content-Length nor body (RFC 9110 §8.6).
inline void append_simple_response(std::string& out, int status, std::string_view content_type,
                                   std::string_view body, bool close, int version_minor = 1) {
    const bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    out.reserve(out.size() + 96 + content_type.size() + (no_body ? 0 : body.size()));
    append_status_line(out, status, version_minor);
    if (!no_body) {
        if (!content_type.empty()) {
            (void)append_header(out, "Content-Type", content_type);
        }
        append_content_length(out, body.size());
    }
    if (close) {
        out += "Connection: close\r\n";
    }
    end_head(out);
    if (!no_body) {
        out += body;
    }
}

}  // namespace mcpsse::detail
