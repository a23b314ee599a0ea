// mcpsse: the HTTP request and response types a host's pipeline stages and routes see.
#pragma once

#include <mcpsse/http_field.hpp>

#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse {

/// A read-only view of one HTTP/1.1 request as a pipeline stage or a host route sees
/// it: request line, header fields, body (empty while a stage checks the head of a
/// request that waits for `100 Continue`), the peer's address and whether the
/// connection is TLS. Valid only during the call it is passed to (copy what must
/// outlive it). Thread-safety: a plain view; the request it views is not shared.
class HttpRequestHead {
public:
    /// What a request carries besides its fields; built by the transport.
    struct Parts {
        std::string_view method;  // case-sensitive token, e.g. "GET" (RFC 9110 section 9.1)
        std::string_view target;  // origin-form request target, e.g. "/mcp?x=1"
        int version_minor = 1;    // 1 for HTTP/1.1, 0 for HTTP/1.0
        std::span<const HttpField> fields;
        std::string_view body;
        asio::ip::tcp::endpoint remote_endpoint;
        bool secure = false;  // received over TLS
    };

    /// Wraps `parts` (the views must outlive this object).
    explicit HttpRequestHead(Parts parts) noexcept : parts_(parts) {}

    /// The method token.
    [[nodiscard]] std::string_view method() const noexcept { return parts_.method; }
    /// The request target as sent (path and query).
    [[nodiscard]] std::string_view target() const noexcept { return parts_.target; }
    /// The target's path (before `?`).
    [[nodiscard]] std::string_view path() const noexcept { return parts_.target.substr(0, query_start()); }
    /// The target's query (after `?`, without it; empty when there is none).
    [[nodiscard]] std::string_view query() const noexcept {
        const auto q = query_start();
        return q < parts_.target.size() ? parts_.target.substr(q + 1) : std::string_view();
    }
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    [[nodiscard]] int version_minor() const noexcept { return parts_.version_minor; }
    /// Every header field line, in the order received.
    [[nodiscard]] std::span<const HttpField> fields() const noexcept { return parts_.fields; }
    /// The value of the first field named `name` (compared case-insensitively), if any.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept {
        for (const auto& field : parts_.fields)
            if (equal_ignoring_case(field.name, name)) return field.value;
        return std::nullopt;
    }
    /// The body (decoded from chunked framing); empty before it was read.
    [[nodiscard]] std::string_view body() const noexcept { return parts_.body; }
    /// The peer's address and port.
    [[nodiscard]] const asio::ip::tcp::endpoint& remote_endpoint() const noexcept { return parts_.remote_endpoint; }
    /// True when the request arrived over TLS.
    [[nodiscard]] bool secure() const noexcept { return parts_.secure; }

private:
    [[nodiscard]] std::size_t query_start() const noexcept {
        const auto q = parts_.target.find('?');
        return q == std::string_view::npos ? parts_.target.size() : q;
    }
    static bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
            if (lower(a[i]) != lower(b[i])) return false;
        }
        return true;
    }

    Parts parts_;
};

/// A whole HTTP response a pipeline stage or a host route answers with. The transport
/// adds `Content-Length`, the CORS headers the request earns, and `Cache-Control:
/// no-store` unless `headers` sets `Cache-Control`.
struct HttpResponse {
    /// Status code (RFC 9110 section 15), e.g. 200, 403, 503.
    int status = 200;
    /// `Content-Type` of `body`; omitted when the body is empty.
    std::string content_type = "text/plain; charset=utf-8";
    /// The body, sent with `Content-Length`.
    std::string body;
    /// More header fields (name, value), e.g. `{"Retry-After", "5"}`; names and values
    /// must be valid field tokens and values (no CR or LF).
    std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace mcpsse
