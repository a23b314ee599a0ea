// mcpsse internal: the outcome of feeding bytes to the HTTP request parser.
#pragma once

#include <cstddef>
#include <system_error>

namespace mcpsse::detail {

/// What `HttpRequestParser::parse` reached.
enum class ParseStatus {
    /// More bytes are needed; keep the unconsumed bytes and call again when more arrive.
    need_more,
    /// The header section is parsed and a body follows (Content-Length > 0 or chunked):
    /// `request()` has method, target and fields. The transport may now answer early
    /// (e.g. send `100 Continue` when `request().expects_continue()`), then call `parse`
    /// again with the remaining bytes to read the body.
    headers_complete,
    /// The whole request, body included, is parsed; `request()` (or `release()`) has it.
    /// Bytes after `consumed` belong to the next (pipelined) request.
    complete,
    /// The request is invalid; `ParseResult::error` tells why and `status_for` which
    /// status to answer. The connection must be closed after answering, since the
    /// framing of what follows is unknown.
    error,
};

/// The outcome of one `HttpRequestParser::parse` call.
struct ParseResult {
    /// How far parsing got.
    ParseStatus status = ParseStatus::need_more;
    /// Bytes of the input consumed by this call, in bytes; the caller must discard
    /// exactly these from the front of its buffer before the next call.
    std::size_t consumed = 0;
    /// The failure when `status == ParseStatus::error` (an `HttpError`), else empty.
    std::error_code error;
};

}  // namespace mcpsse::detail
