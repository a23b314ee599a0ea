// mcpsse: the byte and count limits of one HTTP request.
#pragma once

#include <cstddef>

namespace mcpsse {

/// Resource limits of one HTTP/1.x request received by `SseTransport`
/// (`SseTransportOptions::http_limits`); all sizes are in bytes.
///
/// Every violation fails the request with its own HTTP status (listed per member), is
/// reported to the `TransportObserver`s as a limit hit ("http_limits"), and closes the
/// connection after the answer, since the framing of what follows is unknown.
///
/// Thread-safety: plain data with no synchronization of its own; the transport copies it
/// when it is constructed.
struct HttpLimits {
    /// Maximum size of the header section: any leading empty lines, the request line and
    /// all field lines including the final empty line (CRLFCRLF). A head of exactly this
    /// size is accepted; one byte more fails with 431 (Request Header Fields Too Large).
    /// The same bound applies separately to the trailer section of a chunked body.
    std::size_t max_header_bytes = 16 * 1024;
    /// Maximum decoded body size. A Content-Length above it fails with 413 (Content Too
    /// Large) as soon as the header section is parsed, before any body byte is read; a
    /// chunked body fails as soon as a chunk-size would exceed it.
    std::size_t max_body_bytes = 4 * 1024 * 1024;
    /// Maximum number of header field lines (count); more fails with 431.
    std::size_t max_header_fields = 100;
    /// Maximum length of the request-target; longer fails with 414 (URI Too Long),
    /// detected while the request line is still arriving.
    std::size_t max_target_bytes = 8 * 1024;
    /// Maximum total size of all chunk extensions (the bytes between a chunk-size and
    /// its CRLF) in one chunked body; more fails with 400 (Bad Request).
    std::size_t max_chunk_extension_bytes = 4 * 1024;
};

}  // namespace mcpsse
