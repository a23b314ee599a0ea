// mcpsse internal: serializing server-sent events (WHATWG HTML, "Server-sent events").
#pragma once

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// One event of a `text/event-stream` (WHATWG HTML §9.2 "Server-sent events").
/// All members are views the caller keeps alive during `append_sse_event`.
struct SseEvent {
    /// The event type (`event:` field); omitted when empty (the client then dispatches
    /// a `message` event). Must not contain CR or LF.
    std::string_view event;
    /// The event id (`id:` field) the client echoes in `Last-Event-ID` on reconnect;
    /// omitted when empty. Must not contain CR, LF or NUL (a client ignores an id
    /// containing NUL).
    std::string_view id;
    /// The payload; sent as one `data:` line per line (split on CRLF, LF and CR), so
    /// the client reassembles it with LF line breaks. An empty payload still produces
    /// one `data:` line, so an id-only "priming" event is dispatched.
    std::string_view data;
    /// The reconnection time (`retry:` field) in milliseconds; omitted when nullopt.
    /// Must not be negative.
    std::optional<std::chrono::milliseconds> retry;
};

/// True when `s` contains none of the bytes in `forbidden`.
[[nodiscard]] constexpr bool sse_field_ok(std::string_view s, std::string_view forbidden) noexcept {
    return s.find_first_of(forbidden) == std::string_view::npos;
}

/// Appends `ev` to `out` as
/// `event: <event>\n` `id: <id>\n` `retry: <ms>\n` then `data: <line>\n` per data line,
/// then an empty line `\n` that dispatches it (lines end in LF; an empty data line is
/// written `data:`). At most one growth of `out`. Returns false and appends nothing
/// when `event` contains CR/LF, `id` contains CR/LF/NUL, or `retry` is negative.
inline bool append_sse_event(std::string& out, const SseEvent& ev) {
    using namespace std::string_view_literals;
    if (!sse_field_ok(ev.event, "\r\n"sv) || !sse_field_ok(ev.id, "\r\n\0"sv) ||
        (ev.retry && ev.retry->count() < 0)) {
        return false;
    }
    std::size_t lines = 1;
    for (char c : ev.data) {
        lines += (c == '\n' || c == '\r') ? 1u : 0u;  // upper bound: CRLF counts twice
    }
    out.reserve(out.size() + ev.event.size() + ev.id.size() + ev.data.size() + lines * 7 + 48);
    if (!ev.event.empty()) {
        out += "event: ";
        out += ev.event;
        out.push_back('\n');
    }
    if (!ev.id.empty()) {
        out += "id: ";
        out += ev.id;
        out.push_back('\n');
    }
    if (ev.retry) {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::uint64_t>(ev.retry->count()));
        out += "retry: ";
        out.append(buf, static_cast<std::size_t>(r.ptr - buf));
        out.push_back('\n');
    }
    std::string_view data = ev.data;
    while (true) {
        const std::size_t eol = data.find_first_of("\r\n");
        const std::string_view line = data.substr(0, eol);
        out += line.empty() ? "data:" : "data: ";
        out += line;
        out.push_back('\n');
        if (eol == std::string_view::npos) {
            break;
        }
        const std::size_t skip = (data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n') ? 2 : 1;
        data.remove_prefix(eol + skip);
    }
    out.push_back('\n');
    return true;
}

/// Appends a comment, which clients ignore: one `: <line>\n` per line of `text`
/// (split on CRLF, LF, CR; `:` alone for an empty line), followed by an empty line.
/// Used as a keep-alive (`: keep-alive`) to keep intermediaries from timing out.
inline void append_sse_comment(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size() + 8);
    while (true) {
        const std::size_t eol = text.find_first_of("\r\n");
        const std::string_view line = text.substr(0, eol);
        out += line.empty() ? ":" : ": ";
        out += line;
        out.push_back('\n');
        if (eol == std::string_view::npos) {
            break;
        }
        const std::size_t skip = (text[eol] == '\r' && eol + 1 < text.size() && text[eol + 1] == '\n') ? 2 : 1;
        text.remove_prefix(eol + skip);
    }
    out.push_back('\n');
}

}  // namespace mcpsse::detail
