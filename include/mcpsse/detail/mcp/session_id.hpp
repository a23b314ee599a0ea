// mcpsse internal: session ids and stream-number tags from the kernel's
// cryptographically secure generator.
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace mcpsse::detail {

/// Returns a new session id: 128 random bits from getrandom(2) as 32 lowercase hex
/// digits, which are visible ASCII (MCP Streamable HTTP N2: globally unique,
/// cryptographically secure, characters 0x21-0x7E). Throws `std::system_error` when the
/// kernel cannot supply randomness. Thread-safe.
/// Fills `size` bytes at `out` from getrandom(2). Throws `std::system_error` when the
/// kernel cannot supply randomness. Thread-safe.
inline void fill_random(unsigned char* out, std::size_t size) {
    std::size_t filled = 0;
    while (filled < size) {
        const auto n = ::getrandom(out + filled, size - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "mcpsse: getrandom");
        }
        filled += static_cast<std::size_t>(n);
    }
}

/// The first stream number of one transport instance's sessions, minus one: a random
/// non-zero 32-bit tag in the high half, so that two instances (processes) serving one
/// session never number two streams alike, and event ids stay unique across processes
/// (the low half counts the session's streams). Throws like `fill_random`.
inline std::uint64_t make_stream_base() {
    unsigned char bytes[4];
    std::uint32_t tag = 0;
    while (tag == 0) {
        fill_random(bytes, sizeof bytes);
        tag = std::uint32_t(bytes[0]) << 24 | std::uint32_t(bytes[1]) << 16 | std::uint32_t(bytes[2]) << 8 | bytes[3];
    }
    return std::uint64_t(tag) << 32;
}

inline std::string make_session_id() {
    unsigned char bytes[16];
    fill_random(bytes, sizeof bytes);
    static constexpr char digits[] = "0123456789abcdef";
    std::string id(32, '0');
    for (std::size_t i = 0; i < sizeof bytes; ++i) {
        id[2 * i] = digits[bytes[i] >> 4];
        id[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    return id;
}

}  // namespace mcpsse::detail
