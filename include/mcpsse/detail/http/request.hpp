// mcpsse internal: a parsed HTTP/1.x request whose fields are views into one owned block.
#pragma once

#include <mcpsse/http_field.hpp>

#include "mcpsse/detail/http/chars.hpp"
#include "mcpsse/detail/http/uri.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse {
struct Principal;
}  // namespace mcpsse

namespace mcpsse::detail {

class HttpRequestParser;

/// One header field line; see `mcpsse::HttpField`.
using HttpField = mcpsse::HttpField;

/// A parsed HTTP/1.0 or HTTP/1.1 request (RFC 9112 §3).
///
/// `method`, `target` and every `HttpField` are views into a header block the request
/// owns (copied in by `HttpRequestParser` when the header section is complete, into
/// storage a recycled request already has when it is large enough), so they stay valid independently of the connection's read
/// buffer, across moves of the request, and are rebased on copy. `body` holds the
/// decoded body (chunked framing removed). Thread-safety: a plain value.
struct HttpRequest {
    /// The method token, case-sensitive (RFC 9110 §9.1), e.g. `POST`.
    std::string_view method;
    /// The request-target as sent (RFC 9112 §3.2): origin-form, absolute-form or `*`.
    std::string_view target;
    /// The minor HTTP version: 0 for HTTP/1.0, 1 for HTTP/1.1 (and for HTTP/1.2-1.9,
    /// which are processed as HTTP/1.1, RFC 9112 §2.3).
    int version_minor = 1;
    /// The header field lines in received order (reserved once per request).
    std::vector<HttpField> fields;
    /// The declared Content-Length, if the request had one (validated, <= max body).
    std::optional<std::uint64_t> content_length;
    /// True when the body is framed with `Transfer-Encoding: chunked`.
    bool chunked = false;
    /// The decoded body; empty for a request without body framing (RFC 9112 §6.3 item 6).
    std::string body;
    /// Who sent the request, once authorization accepted its bearer token; null without
    /// authorization. Set by the transport, not by the parser.
    std::shared_ptr<const Principal> principal;

    HttpRequest() = default;
    /// Moves; `other` is left empty (no header block), ready for reuse.
    HttpRequest(HttpRequest&& other) noexcept
        : method(other.method), target(other.target), version_minor(other.version_minor),
          fields(std::move(other.fields)), content_length(other.content_length), chunked(other.chunked),
          body(std::move(other.body)), principal(std::move(other.principal)), head_(std::move(other.head_)),
          head_size_(std::exchange(other.head_size_, 0)), head_capacity_(std::exchange(other.head_capacity_, 0)) {
        other.method = {};
        other.target = {};
    }
    /// Move assignment; `other` is left empty, as by the move constructor.
    HttpRequest& operator=(HttpRequest&& other) noexcept {
        if (this != &other) {
            method = std::exchange(other.method, {});
            target = std::exchange(other.target, {});
            version_minor = other.version_minor;
            fields = std::move(other.fields);
            content_length = other.content_length;
            chunked = other.chunked;
            body = std::move(other.body);
            principal = std::move(other.principal);
            head_ = std::move(other.head_);
            head_size_ = std::exchange(other.head_size_, 0);
            head_capacity_ = std::exchange(other.head_capacity_, 0);
        }
        return *this;
    }
    ~HttpRequest() = default;

    /// Deep copy: copies the header block and rebases every view onto the copy.
    HttpRequest(const HttpRequest& other)
        : version_minor(other.version_minor), fields(other.fields), content_length(other.content_length),
          chunked(other.chunked), body(other.body), principal(other.principal), head_size_(other.head_size_) {
        if (other.head_) {
            head_ = std::make_unique_for_overwrite<char[]>(head_size_);
            head_capacity_ = head_size_;
            std::memcpy(head_.get(), other.head_.get(), head_size_);
        }
        method = rebase(other, other.method);
        target = rebase(other, other.target);
        for (HttpField& f : fields) {
            f.name = rebase(other, f.name);
            f.value = rebase(other, f.value);
        }
    }

    /// Deep copy assignment (see the copy constructor).
    HttpRequest& operator=(const HttpRequest& other) {
        if (this != &other) {
            HttpRequest copy(other);
            *this = std::move(copy);
        }
        return *this;
    }

    /// The owned header block: request line and field lines, each ending in CRLF,
    /// plus the final empty line (leading empty lines that preceded the request line
    /// are not included). Empty for a default-constructed request.
    [[nodiscard]] std::string_view head() const noexcept { return {head_.get(), head_size_}; }

    /// The value of the first field named `name` (ASCII case-insensitive), or nullopt.
    /// For list-valued fields sent on several lines use `for_each`.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept {
        for (const HttpField& f : fields) {
            if (iequals(f.name, name)) {
                return f.value;
            }
        }
        return std::nullopt;
    }

    /// The number of field lines named `name` (ASCII case-insensitive).
    [[nodiscard]] std::size_t count(std::string_view name) const noexcept {
        std::size_t n = 0;
        for (const HttpField& f : fields) {
            n += iequals(f.name, name) ? 1u : 0u;
        }
        return n;
    }

    /// Calls `f(value)` for each field line named `name`, in received order
    /// (the field's combined value is their comma-joined concatenation, RFC 9110 §5.3).
    template <class F>
    void for_each(std::string_view name, F&& f) const {
        for (const HttpField& field : fields) {
            if (iequals(field.name, name)) {
                f(field.value);
            }
        }
    }

    /// True when any `name` field line lists `token` (ASCII case-insensitive).
    [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const noexcept {
        for (const HttpField& f : fields) {
            if (iequals(f.name, name) && list_contains_token(f.value, token)) {
                return true;
            }
        }
        return false;
    }

    /// Whether the connection persists after this request (RFC 9112 §9.3): false when
    /// `Connection` lists `close`; otherwise true for HTTP/1.1, and for HTTP/1.0 only
    /// when `Connection` lists `keep-alive`.
    [[nodiscard]] bool keep_alive() const noexcept {
        if (has_token("Connection", "close")) {
            return false;
        }
        return version_minor >= 1 || has_token("Connection", "keep-alive");
    }

    /// True when an HTTP/1.1 request carries `Expect: 100-continue` (case-insensitive,
    /// RFC 9110 §10.1.1); the server then sends `100 Continue` before reading the body.
    /// Always false for HTTP/1.0, whose expectation a server must ignore.
    [[nodiscard]] bool expects_continue() const noexcept {
        return version_minor >= 1 && has_token("Expect", "100-continue");
    }

    /// The path of the target, not percent-decoded (see `split_target`).
    [[nodiscard]] std::string_view path() const noexcept { return split_target(target).path; }

    /// The query of the target without `?`, not decoded; empty when absent.
    [[nodiscard]] std::string_view query() const noexcept { return split_target(target).query; }

private:
    friend class HttpRequestParser;

    /// The view `v` of `other`'s block, at the same offset in this request's block.
    [[nodiscard]] std::string_view rebase(const HttpRequest& other, std::string_view v) const noexcept {
        const char* begin = other.head_.get();
        if (v.data() == nullptr || begin == nullptr || std::less<const char*>{}(v.data(), begin) ||
            std::less<const char*>{}(begin + other.head_size_, v.data())) {
            return v;  // not a view of the block (only possible if a caller reassigned it)
        }
        const auto offset = static_cast<std::size_t>(v.data() - begin);
        return {head_.get() + offset, v.size()};
    }

    /// Replaces the header block with a copy of `raw` (in the block's storage when it is
    /// large enough) and returns a view of the copy.
    std::string_view assign_head(std::string_view raw) {
        if (raw.size() > head_capacity_) {
            head_ = std::make_unique_for_overwrite<char[]>(raw.size());
            head_capacity_ = raw.size();
        }
        if (!raw.empty()) std::memcpy(head_.get(), raw.data(), raw.size());
        head_size_ = raw.size();
        return head();
    }

    /// Empties the request for the parser's next one, keeping the storage of the header
    /// block, the field vector and the body up to `max_kept` bytes each (a connection's
    /// keep-alive requests then allocate nothing for them).
    void clear_for_reuse(std::size_t max_kept) noexcept {
        method = {};
        target = {};
        version_minor = 1;
        content_length.reset();
        chunked = false;
        fields.clear();
        if (fields.capacity() * sizeof(HttpField) > max_kept) std::vector<HttpField>{}.swap(fields);
        body.clear();
        if (body.capacity() > max_kept) std::string{}.swap(body);
        principal.reset();
        if (head_capacity_ > max_kept) {
            head_.reset();
            head_capacity_ = 0;
        }
        head_size_ = 0;
    }

    std::unique_ptr<char[]> head_;
    std::size_t head_size_ = 0;
    std::size_t head_capacity_ = 0;
};

}  // namespace mcpsse::detail
