// mcpsse internal: the errors an HTTP/1.1 request can fail with, and their status codes.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace mcpsse::detail {

/// Why an HTTP/1.1 request was rejected by the request parser (or by the checks the
/// transport makes on its fields). One enumerator per failure kind; `status_for` maps
/// each to the HTTP status the server answers with before closing the connection.
/// The value 0 is reserved for "no error", as `std::error_code` requires.
enum class HttpError {
    /// 400: malformed request line or line framing (bad method token, missing SP,
    /// bare CR, bare LF, NUL), RFC 9112 §2.2 and §3.
    bad_request = 1,
    /// 400: malformed request-target (not origin-form, absolute-form or `*`, or
    /// containing a byte outside VCHAR, or a fragment), RFC 9112 §3.2.
    invalid_target,
    /// 400: malformed header field line: obs-fold (RFC 9112 §5.2), whitespace before
    /// the colon (RFC 9112 §5.1), a name that is not a token, or a control byte in the
    /// value (RFC 9110 §5.5).
    invalid_header_field,
    /// 400: an HTTP/1.1 request without a Host field, with more than one, or with an
    /// invalid Host value (RFC 9112 §3.2).
    invalid_host,
    /// 400: both Content-Length and Transfer-Encoding are present (RFC 9112 §6.3 item 3);
    /// the request is rejected rather than guessing the framing.
    conflicting_framing,
    /// 400: Content-Length is not a decimal number, overflows 64 bits, or several
    /// Content-Length values differ (RFC 9110 §8.6, RFC 9112 §6.3 item 5).
    invalid_content_length,
    /// 400: Transfer-Encoding is syntactically invalid, does not end in `chunked`
    /// (RFC 9112 §6.3 item 4), applies `chunked` twice (RFC 9112 §7), or is sent in an
    /// HTTP/1.0 request (RFC 9112 §6.1).
    invalid_transfer_encoding,
    /// 400: malformed chunked body: bad chunk-size, chunk-size overflow, missing CRLF,
    /// malformed chunk extension or trailer field (RFC 9112 §7.1).
    invalid_chunked_encoding,
    /// 400: the chunk extensions of one message exceed `HttpLimits::max_chunk_extension_bytes`
    /// (RFC 9112 §7.1.1 lets a server limit them).
    chunk_extension_too_large,
    /// 431: the request line plus header fields (or the trailer section) exceed
    /// `HttpLimits::max_header_bytes` (RFC 6585 §5).
    header_too_large,
    /// 431: more header field lines than `HttpLimits::max_header_fields` (RFC 6585 §5).
    too_many_header_fields,
    /// 413: the body (declared Content-Length or decoded chunked size) exceeds
    /// `HttpLimits::max_body_bytes` (RFC 9110 §15.5.14).
    body_too_large,
    /// 414: the request-target exceeds `HttpLimits::max_target_bytes` (RFC 9110 §15.5.15).
    uri_too_long,
    /// 501: Transfer-Encoding names a coding other than `chunked` (RFC 9112 §6.1:
    /// a server that does not understand a coding responds 501).
    unsupported_transfer_coding,
    /// 505: the HTTP-version is well-formed but its major version is not 1
    /// (RFC 9110 §15.6.6).
    version_not_supported,
};

}  // namespace mcpsse::detail

/// Lets an `HttpError` convert implicitly to `std::error_code`.
template <>
struct std::is_error_code_enum<mcpsse::detail::HttpError> : std::true_type {};

namespace mcpsse::detail {

/// The HTTP status code the server answers a request that failed with `e`:
/// 400, 413, 414, 431, 501 or 505 (see each enumerator). Unknown values map to 400.
[[nodiscard]] constexpr int status_for(HttpError e) noexcept {
    switch (e) {
    case HttpError::header_too_large:
    case HttpError::too_many_header_fields:
        return 431;
    case HttpError::body_too_large:
        return 413;
    case HttpError::uri_too_long:
        return 414;
    case HttpError::unsupported_transfer_coding:
        return 501;
    case HttpError::version_not_supported:
        return 505;
    case HttpError::bad_request:
    case HttpError::invalid_target:
    case HttpError::invalid_header_field:
    case HttpError::invalid_host:
    case HttpError::conflicting_framing:
    case HttpError::invalid_content_length:
    case HttpError::invalid_transfer_encoding:
    case HttpError::invalid_chunked_encoding:
    case HttpError::chunk_extension_too_large:
        return 400;
    }
    return 400;
}

/// The HTTP status for an error code of `http_category()`; 400 for any other
/// non-zero code, 200 for success (a value 0 code).
[[nodiscard]] int status_for(const std::error_code& ec) noexcept;

/// The `std::error_category` of `HttpError` (name "mcpsse.http"); its messages are
/// short English descriptions suitable for a plain-text error body.
[[nodiscard]] inline const std::error_category& http_category() noexcept {
    class Category final : public std::error_category {
    public:
        [[nodiscard]] const char* name() const noexcept override { return "mcpsse.http"; }

        [[nodiscard]] std::string message(int value) const override {
            switch (static_cast<HttpError>(value)) {
            case HttpError::bad_request: return "malformed request line";
            case HttpError::invalid_target: return "invalid request target";
            case HttpError::invalid_header_field: return "invalid header field";
            case HttpError::invalid_host: return "missing, duplicate or invalid Host header";
            case HttpError::conflicting_framing:
                return "both Content-Length and Transfer-Encoding present";
            case HttpError::invalid_content_length: return "invalid Content-Length";
            case HttpError::invalid_transfer_encoding: return "invalid Transfer-Encoding";
            case HttpError::invalid_chunked_encoding: return "invalid chunked encoding";
            case HttpError::chunk_extension_too_large: return "chunk extensions too large";
            case HttpError::header_too_large: return "request header fields too large";
            case HttpError::too_many_header_fields: return "too many header fields";
            case HttpError::body_too_large: return "content too large";
            case HttpError::uri_too_long: return "URI too long";
            case HttpError::unsupported_transfer_coding: return "unsupported transfer coding";
            case HttpError::version_not_supported: return "HTTP version not supported";
            }
            return value == 0 ? "success" : "unknown HTTP error";
        }
    };
    static const Category category;
    return category;
}

/// Wraps `e` into a `std::error_code` of `http_category()` (found by ADL, so
/// `std::error_code ec = HttpError::bad_request;` works).
[[nodiscard]] inline std::error_code make_error_code(HttpError e) noexcept {
    return {static_cast<int>(e), http_category()};
}

inline int status_for(const std::error_code& ec) noexcept {
    if (!ec) {
        return 200;
    }
    if (ec.category() == http_category()) {
        return status_for(static_cast<HttpError>(ec.value()));
    }
    return 400;
}

}  // namespace mcpsse::detail
