// mcpsse: what a connection remembers of the last bearer token it carried.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace mcpsse {
struct Principal;
}  // namespace mcpsse

namespace mcpsse::detail {

/// The last bearer token admitted on one connection and its principal, so that the
/// requests of a keep-alive connection that repeat it (the common case: a client sends
/// the same token until it expires) are admitted by one comparison, without hashing it
/// for the shared cache. Held in memory for the connection's life only, never logged or
/// stored. Not thread-safe: used on the connection's executor.
struct ConnectionAuth {
    std::string token;                                  // as sent
    std::shared_ptr<const Principal> principal;         // admitted for it
    std::chrono::system_clock::time_point until{};      // when to verify it again
    std::string client_key;                             // ClientLimits key of `principal`

    /// The principal remembered for `presented`, or null (another token, or expired).
    /// Compares in time independent of where the tokens differ.
    [[nodiscard]] const std::shared_ptr<const Principal>* find(std::string_view presented,
                                                               std::chrono::system_clock::time_point now) const noexcept {
        if (!principal || presented.size() != token.size() || now >= until) return nullptr;
        unsigned char diff = 0;
        for (std::size_t i = 0; i < token.size(); ++i)
            diff |= static_cast<unsigned char>(static_cast<unsigned char>(token[i]) ^ static_cast<unsigned char>(presented[i]));
        return diff == 0 ? &principal : nullptr;
    }

    /// Remembers `presented` and the principal admitted for it until `valid_until`.
    void remember(std::string_view presented, std::shared_ptr<const Principal> admitted,
                  std::chrono::system_clock::time_point valid_until) {
        token.assign(presented);
        principal = std::move(admitted);
        until = valid_until;
        client_key.clear();
    }
};

}  // namespace mcpsse::detail
