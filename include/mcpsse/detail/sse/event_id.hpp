// mcpsse internal: SSE event ids that name the stream they belong to, for resumption.
#pragma once

#include <mcpsse/event_id.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// The public `mcpsse::EventId`; the helpers below write and read it.
using EventId = mcpsse::EventId;

/// Maximum length in bytes of a serialized `EventId`: two 20-digit numbers and `-`.
inline constexpr std::size_t max_event_id_length = 41;

/// Appends `<stream>-<sequence>` (canonical decimal, no leading zeros) to `out`.
inline void append_to(std::string& out, EventId id) {
    char digits[20];  // a 64-bit value has at most 20 decimal digits
    auto r = std::to_chars(digits, digits + sizeof digits, id.stream);
    out.append(digits, static_cast<std::size_t>(r.ptr - digits));
    out.push_back('-');
    r = std::to_chars(digits, digits + sizeof digits, id.sequence);
    out.append(digits, static_cast<std::size_t>(r.ptr - digits));
}

/// `<stream>-<sequence>` in a buffer of its own (no allocation: with the instance tag in
/// the stream number an id is longer than a `std::string`'s inline buffer).
class EventIdText {
public:
    explicit EventIdText(EventId id) noexcept {
        auto r = std::to_chars(data_, data_ + 20, id.stream);
        *r.ptr = '-';
        r = std::to_chars(r.ptr + 1, data_ + sizeof data_, id.sequence);
        size_ = static_cast<std::size_t>(r.ptr - data_);
    }
    /// The text.
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

private:
    char data_[max_event_id_length];
    std::size_t size_ = 0;
};

/// `<stream>-<sequence>` (see `append_to`).
[[nodiscard]] inline std::string to_string(EventId id) {
    std::string s;
    append_to(s, id);
    return s;
}

namespace event_id_detail {

/// Parses a canonical unsigned decimal: 1-20 digits, no sign, no leading zero unless
/// the number is `0`, no overflow of 64 bits.
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
    if (s.empty() || s.size() > 20 || (s.size() > 1 && s.front() == '0')) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return std::nullopt;
        }
        v = v * 10 + d;
    }
    return v;
}

}  // namespace event_id_detail

/// Parses a `Last-Event-ID` value produced by `append_to`: exactly
/// `<stream>-<sequence>`, each a canonical decimal number (1-20 digits, no sign, no
/// leading zeros, at most 2^64-1), nothing else (no whitespace), at most
/// `max_event_id_length` bytes. Nullopt otherwise; the transport then ignores the
/// header and starts a fresh stream. `parse_event_id(to_string(x)) == x` for every x,
/// and every accepted string is exactly `to_string` of its result.
[[nodiscard]] constexpr std::optional<EventId> parse_event_id(std::string_view s) noexcept {
    if (s.size() > max_event_id_length) {
        return std::nullopt;
    }
    const std::size_t dash = s.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    const auto stream = event_id_detail::parse_u64(s.substr(0, dash));
    const auto sequence = event_id_detail::parse_u64(s.substr(dash + 1));
    if (!stream || !sequence) {
        return std::nullopt;
    }
    return EventId{*stream, *sequence};
}

}  // namespace mcpsse::detail
