// mcpsse internal: session ids from the kernel's cryptographically secure generator.
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <system_error>

namespace mcpsse::detail {

/// Returns a new session id: 128 random bits from getrandom(2) as 32 lowercase hex
/// digits, which are visible ASCII (MCP Streamable HTTP N2: globally unique,
/// cryptographically secure, characters 0x21-0x7E). Throws `std::system_error` when the
/// kernel cannot supply randomness. Thread-safe.
inline std::string make_session_id() {
    unsigned char bytes[16];
    std::size_t filled = 0;
    while (filled < sizeof bytes) {
        const auto n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "mcpsse: getrandom");
        }
        filled += static_cast<std::size_t>(n);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string id(32, '0');
    for (std::size_t i = 0; i < sizeof bytes; ++i) {
        id[2 * i] = digits[bytes[i] >> 4];
        id[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    return id;
}

}  // namespace mcpsse::detail
