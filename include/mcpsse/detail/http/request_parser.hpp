// mcpsse internal: incremental, strict HTTP/1.x request parser (RFC 9112) with limits.
#pragma once

#include "mcpsse/http_limits.hpp"
#include "mcpsse/detail/http/chars.hpp"
#include "mcpsse/detail/http/chunked_body.hpp"
#include "mcpsse/detail/http/error.hpp"
#include "mcpsse/detail/http/origin.hpp"
#include "mcpsse/detail/http/parse_result.hpp"
#include "mcpsse/detail/http/request.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

namespace mcpsse::detail {

/// The limits of one request (public as `mcpsse::HttpLimits`, `SseTransportOptions::http_limits`).
using HttpLimits = mcpsse::HttpLimits;

/// Incremental, allocation-light parser of one HTTP/1.0 or HTTP/1.1 request at a time
/// (RFC 9112), socket-free.
///
/// Feeding contract: the connection keeps the bytes it read in a buffer and passes all
/// unconsumed bytes to `parse`, then removes `ParseResult::consumed` bytes from the
/// front. While the header section is incomplete nothing is consumed (the parser
/// remembers how far it scanned, so each byte is examined once; the next call must
/// pass the same bytes followed by any new ones). When the head is complete it is
/// copied into the request (one allocation) and consumed, so the views in `request()`
/// never point into the caller's buffer. Body bytes are consumed as they arrive.
///
/// Strictness choices (RFC 9112):
/// - Lines must end in CRLF; a bare LF or a bare CR fails with `bad_request` (§2.2
///   permits accepting bare LF; it is refused to avoid framing ambiguity with peers).
/// - Empty lines before the request line are skipped (§2.2) and count toward the limit.
/// - Request line: `token SP request-target SP HTTP/D.D CRLF`, single spaces only.
///   Versions 1.0 and 1.1 are supported, 1.2-1.9 are processed as 1.1 (§2.3), any
///   other major version fails with `version_not_supported` (505).
/// - Targets: origin-form (`/path?query`), `*` for OPTIONS only, and absolute-form
///   with an `http` or `https` scheme (accepted as §3.2.2 requires; `path()` reduces
///   it). Authority-form, fragments and bytes outside VCHAR fail with `invalid_target`.
/// - Fields: a name that is not a token (including whitespace before the colon,
///   §5.1), obs-fold or whitespace before the first field (§5.2, §2.2), or a control
///   byte in the value (RFC 9110 §5.5) fail with `invalid_header_field`.
/// - Host: an HTTP/1.1 request needs exactly one valid Host field, and no request may
///   have several or an invalid one (§3.2), else `invalid_host`.
/// - Framing (§6): Content-Length and Transfer-Encoding together fail with
///   `conflicting_framing`; Transfer-Encoding must end in `chunked` (the only coding
///   implemented; others fail with `unsupported_transfer_coding`, 501); no framing
///   means an empty body. Chunk extensions are skipped (bounded); trailer fields are
///   validated and discarded (bounded by `max_header_bytes`).
///
/// Thread-safety: none; one parser per connection. Reusable with `reset`/`release`.
class HttpRequestParser {
public:
    /// Creates a parser enforcing `limits`.
    explicit HttpRequestParser(const HttpLimits& limits = {}) noexcept : limits_(limits) {}

    /// The limits this parser enforces.
    [[nodiscard]] const HttpLimits& limits() const noexcept { return limits_; }

    /// Parses as much of `data` (all unconsumed bytes of the connection) as possible.
    /// See `ParseStatus` for the outcomes and the class comment for the feeding
    /// contract. After `complete` call `reset` or `release` before the next request;
    /// until then further calls return `complete` with nothing consumed. After `error`
    /// further calls return the same error with nothing consumed.
    [[nodiscard]] ParseResult parse(std::string_view data) {
        switch (phase_) {
        case Phase::head:
            return parse_head(data);
        case Phase::body_length:
            return parse_body_length(data);
        case Phase::body_chunked:
            return parse_body_chunked(data);
        case Phase::complete:
            return {ParseStatus::complete, 0, {}};
        case Phase::error:
            break;
        }
        return {ParseStatus::error, 0, error_};
    }

    /// The request being parsed: valid from `headers_complete` on (fields and framing)
    /// and complete after `complete`.
    [[nodiscard]] const HttpRequest& request() const noexcept { return request_; }

    /// Mutable access to the request, e.g. to move the body out.
    [[nodiscard]] HttpRequest& request() noexcept { return request_; }

    /// Moves the parsed request out and resets the parser for the next request.
    [[nodiscard]] HttpRequest release() {
        HttpRequest out = std::move(request_);
        reset();
        return out;
    }

    /// Storage kept for reuse per part of a request (header block, field vector, body), in
    /// bytes; larger parts are freed by `reset` and `recycle`.
    static constexpr std::size_t max_reused_bytes = 16 * 1024;

    /// Hands back a request `release` returned, once its user is done with it: the next
    /// request reuses its storage (each part up to `max_reused_bytes`), so a keep-alive
    /// connection's requests allocate nothing for them. Resets the parser like `reset`.
    void recycle(HttpRequest&& done) noexcept {
        request_ = std::move(done);
        reset();
    }

    /// Forgets any partial request and error; the limits are kept, and so is the storage
    /// of the request being parsed (up to `max_reused_bytes` per part).
    void reset() noexcept {
        request_.clear_for_reuse(max_reused_bytes);
        phase_ = Phase::head;
        error_ = {};
        scan_pos_ = 0;
        head_start_ = 0;
        line_start_ = 0;
        request_line_done_ = false;
        line_phase_ = 0;
        target_bytes_ = 0;
        body_remaining_ = 0;
        chunked_.reset();
    }

    /// The error the parser stopped with, or an empty code.
    [[nodiscard]] std::error_code error() const noexcept { return error_; }

    /// True once the header section has been parsed successfully.
    [[nodiscard]] bool headers_parsed() const noexcept {
        return phase_ == Phase::body_length || phase_ == Phase::body_chunked || phase_ == Phase::complete;
    }

    /// True once a whole request has been parsed.
    [[nodiscard]] bool is_complete() const noexcept { return phase_ == Phase::complete; }

private:
    enum class Phase { head, body_length, body_chunked, complete, error };

    ParseResult fail(HttpError e, std::size_t consumed = 0) {
        phase_ = Phase::error;
        error_ = e;
        return {ParseStatus::error, consumed, error_};
    }

    /// Scans for the end of the header section, checking line endings and the
    /// target length on the way, then parses the whole head at once.
    ParseResult parse_head(std::string_view data) {
        if (data.size() < scan_pos_) {  // contract violated: rescan from the start
            reset();
        }
        const std::size_t limit = std::min(data.size(), limits_.max_header_bytes);
        std::size_t i = scan_pos_;
        while (i < limit) {
            // One line (or the rest of the data) at a time: [i, end) holds no LF.
            const void* lf = std::memchr(data.data() + i, '\n', limit - i);
            const std::size_t end = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data.data()) : limit;
            if (i < end) {
                // A CR must be followed by LF: one before the segment, or inside it but
                // not as its last byte (that one pairs with the LF at `end`, or waits).
                if (i > 0 && data[i - 1] == '\r') {
                    return fail(HttpError::bad_request);  // bare CR
                }
                const void* cr = std::memchr(data.data() + i, '\r', end - i);
                const std::size_t cr_at = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - data.data()) : end;
                const bool bare_cr = cr_at + 1 < end;
                // Errors are reported in the order of their bytes, however the data was
                // split: the target is checked up to the bare CR, if any.
                if (!request_line_done_) {
                    for (std::size_t k = i; k < (bare_cr ? cr_at + 1 : end); ++k) {
                        const char c = data[k];
                        if (line_phase_ == 0) {
                            if (c == ' ') {
                                line_phase_ = 1;
                            }
                        } else if (line_phase_ == 1) {
                            if (c == ' ' || c == '\r') {
                                line_phase_ = 2;
                            } else if (++target_bytes_ > limits_.max_target_bytes) {
                                return fail(HttpError::uri_too_long);
                            }
                        }
                    }
                }
                if (bare_cr) {
                    return fail(HttpError::bad_request);  // bare CR
                }
            }
            i = end;
            if (!lf) {
                break;
            }
            if (i == 0 || data[i - 1] != '\r') {
                return fail(HttpError::bad_request);  // bare LF
            }
            if (i - 1 == line_start_) {  // an empty line
                if (!request_line_done_) {
                    head_start_ = i + 1;  // skip empty lines before the request line
                    line_start_ = i + 1;
                    ++i;
                    continue;
                }
                return finish_head(data, i + 1);
            }
            request_line_done_ = true;
            line_start_ = i + 1;
            ++i;
        }
        scan_pos_ = i;
        if (i >= limits_.max_header_bytes) {
            return fail(HttpError::header_too_large);
        }
        return {ParseStatus::need_more, 0, {}};
    }

    /// True for a request-target byte: VCHAR except `#` (no fragment, RFC 9112 §3.2).
    static constexpr bool is_target_char(char c) noexcept { return c > 0x20 && c < 0x7F && c != '#'; }

    /// Validates the form of the request-target (RFC 9112 §3.2).
    static bool valid_target(std::string_view method, std::string_view target) noexcept {
        for (char c : target) {
            if (!is_target_char(c)) {
                return false;
            }
        }
        if (target.front() == '/') {
            return true;
        }
        if (target == "*") {
            return method == "OPTIONS";
        }
        const std::size_t sep = target.find("://");
        if (sep == std::string_view::npos) {
            return false;
        }
        const std::string_view scheme = target.substr(0, sep);
        if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
            return false;
        }
        const std::string_view rest = target.substr(sep + 3);
        const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
        return !authority.empty() && authority.find('@') == std::string_view::npos && parse_host(authority);
    }

    /// Parses the complete head `data[head_start_, head_end)` into `request_`.
    ParseResult finish_head(std::string_view data, std::size_t head_end) {
        const std::string_view raw = data.substr(head_start_, head_end - head_start_);
        std::string_view head = request_.assign_head(raw);
        if (request_.fields.capacity() == 0) request_.fields.reserve(16);  // typical heads: one allocation

        // Request line: method SP request-target SP HTTP-version CRLF. Every line of the
        // block ends in CRLF (parse_head refused bare CR and LF), so its LF ends it.
        std::size_t eol = head.find('\n') - 1;
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        const std::size_t sp1 = line.find(' ');
        if (sp1 == std::string_view::npos || !is_token(line.substr(0, sp1))) {
            return fail(HttpError::bad_request);
        }
        request_.method = line.substr(0, sp1);
        const std::size_t sp2 = line.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
            return fail(HttpError::bad_request);
        }
        request_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        const std::string_view version = line.substr(sp2 + 1);
        if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) ||
            version[6] != '.' || !is_digit(version[7])) {
            return fail(HttpError::bad_request);
        }
        if (version[5] != '1') {
            return fail(HttpError::version_not_supported);
        }
        request_.version_minor = version[7] == '0' ? 0 : 1;
        if (!valid_target(request_.method, request_.target)) {
            return fail(HttpError::invalid_target);
        }

        // Field lines: field-name ":" OWS field-value OWS CRLF.
        FramingFields framing;
        while (true) {
            eol = head.find('\n') - 1;
            line = head.substr(0, eol);
            head.remove_prefix(eol + 2);
            if (line.empty()) {
                break;
            }
            if (request_.fields.size() == limits_.max_header_fields) {
                return fail(HttpError::too_many_header_fields);
            }
            if (is_ows(line.front())) {
                return fail(HttpError::invalid_header_field);  // obs-fold or leading whitespace
            }
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
                return fail(HttpError::invalid_header_field);
            }
            const std::string_view value = line.substr(colon + 1);
            for (char c : value) {
                if (!is_field_value_char(static_cast<unsigned char>(c))) {
                    return fail(HttpError::invalid_header_field);
                }
            }
            const HttpField& field = request_.fields.emplace_back(HttpField{line.substr(0, colon), trim_ows(value)});
            framing.note(field);
        }

        // Host (RFC 9112 §3.2).
        if (framing.hosts > 1 || (framing.hosts == 0 && request_.version_minor >= 1)) {
            return fail(HttpError::invalid_host);
        }
        if (framing.hosts == 1 && !parse_host(framing.host)) {
            return fail(HttpError::invalid_host);
        }
        return start_body(head_end, framing.transfer_encoding, framing.content_length);
    }

    /// What the framing checks need of the field lines, noted as each is parsed (one
    /// pass instead of a search per field name).
    struct FramingFields {
        std::size_t hosts = 0;
        std::string_view host;  // the first Host value
        bool transfer_encoding = false;
        bool content_length = false;

        void note(const HttpField& f) noexcept {
            switch (f.name.size()) {
            case 4:
                if (iequals(f.name, "Host") && hosts++ == 0) host = f.value;
                break;
            case 14:
                content_length = content_length || iequals(f.name, "Content-Length");
                break;
            case 17:
                transfer_encoding = transfer_encoding || iequals(f.name, "Transfer-Encoding");
                break;
            default:
                break;
            }
        }
    };

    /// Determines the body framing (RFC 9112 §6.3) and moves to the body phase;
    /// `has_te` and `has_cl` tell whether any Transfer-Encoding or Content-Length field
    /// line was received.
    ParseResult start_body(std::size_t head_end, bool has_te, bool has_cl) {
        if (has_te && has_cl) {
            return fail(HttpError::conflicting_framing);
        }
        if (has_te) {
            if (request_.version_minor == 0) {
                return fail(HttpError::invalid_transfer_encoding);
            }
            bool valid = true;
            bool last_chunked = false;
            bool unknown = false;
            int chunked = 0;
            for (const HttpField& f : request_.fields) {
                if (!iequals(f.name, "Transfer-Encoding")) {
                    continue;
                }
                for_each_list_element(f.value, [&](std::string_view element) {
                    const std::size_t semi = element.find(';');
                    const std::string_view name = trim_ows(element.substr(0, semi));
                    if (!is_token(name)) {
                        valid = false;
                        return false;
                    }
                    last_chunked = iequals(name, "chunked");
                    if (last_chunked) {
                        ++chunked;
                        valid = valid && semi == std::string_view::npos;  // chunked takes no parameters
                    } else {
                        unknown = true;
                    }
                    return true;
                });
            }
            if (!valid || !last_chunked || chunked != 1) {
                return fail(HttpError::invalid_transfer_encoding);
            }
            if (unknown) {
                return fail(HttpError::unsupported_transfer_coding);
            }
            request_.chunked = true;
            phase_ = Phase::body_chunked;
            return {ParseStatus::headers_complete, head_end, {}};
        }
        if (has_cl) {
            std::optional<std::uint64_t> length;
            bool valid = true;
            for (const HttpField& f : request_.fields) {
                if (!iequals(f.name, "Content-Length")) {
                    continue;
                }
                for_each_list_element(f.value, [&](std::string_view element) {
                    std::uint64_t v = 0;
                    for (char c : element) {
                        const auto digit = static_cast<std::uint64_t>(c - '0');
                        if (!is_digit(c) || v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
                            valid = false;
                            return false;
                        }
                        v = v * 10 + digit;
                    }
                    if (length && *length != v) {
                        valid = false;
                        return false;
                    }
                    length = v;
                    return true;
                });
            }
            if (!valid || !length) {
                return fail(HttpError::invalid_content_length);
            }
            request_.content_length = length;
            if (*length > limits_.max_body_bytes) {
                return fail(HttpError::body_too_large, head_end);
            }
            if (*length > 0) {
                body_remaining_ = static_cast<std::size_t>(*length);
                request_.body.reserve(body_remaining_);
                phase_ = Phase::body_length;
                return {ParseStatus::headers_complete, head_end, {}};
            }
        }
        phase_ = Phase::complete;
        return {ParseStatus::complete, head_end, {}};
    }

    /// Reads up to the remaining Content-Length bytes.
    ParseResult parse_body_length(std::string_view data) {
        const std::size_t take = std::min(body_remaining_, data.size());
        request_.body.append(data.data(), take);
        body_remaining_ -= take;
        if (body_remaining_ == 0) {
            phase_ = Phase::complete;
            return {ParseStatus::complete, take, {}};
        }
        return {ParseStatus::need_more, take, {}};
    }

    /// Decodes chunked framing (RFC 9112 §7.1) with `chunked_`.
    ParseResult parse_body_chunked(std::string_view data) {
        const ParseResult result = chunked_.decode(data, request_.body, limits_);
        if (result.status == ParseStatus::error) {
            phase_ = Phase::error;
            error_ = result.error;
        } else if (result.status == ParseStatus::complete) {
            phase_ = Phase::complete;
        }
        return result;
    }

    HttpLimits limits_;
    HttpRequest request_;
    Phase phase_ = Phase::head;
    std::error_code error_;
    // Header scan state (offsets into the caller's unconsumed bytes).
    std::size_t scan_pos_ = 0;
    std::size_t head_start_ = 0;
    std::size_t line_start_ = 0;
    bool request_line_done_ = false;
    int line_phase_ = 0;  // 0: method, 1: target, 2: version
    std::size_t target_bytes_ = 0;
    // Body state.
    std::size_t body_remaining_ = 0;
    ChunkedBodyDecoder chunked_;
};

}  // namespace mcpsse::detail
