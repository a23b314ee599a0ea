// mcpsse: fixed bearer tokens for development and tests.
#pragma once

#include <mcpsse/principal.hpp>
#include <mcpsse/token_verifier.hpp>
#include <mcpsse/detail/util/sha256.hpp>

#include <asio/awaitable.hpp>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse {

/// A `TokenVerifier` accepting a fixed list of bearer tokens, for development, tests and
/// machine clients on private networks. Each token gets a subject of its own,
/// `static:` and the first 12 hex digits of the token's SHA-256 (the token itself is not
/// kept), and the scopes given with it; `Principal::expires_at` is `max()`. A presented
/// token is compared with every configured one in constant time (no early exit, equal
/// work whatever matches), so response times leak nothing about the tokens. Unknown
/// tokens are refused with `TokenError::unknown_token`.
///
/// Thread-safety: `add` must finish before the transport runs; `verify` and
/// `async_verify` may run on any number of threads at once.
class StaticTokenVerifier {
public:
    /// Accepts `token` with `scopes`. Throws `std::invalid_argument` for an empty token.
    void add(std::string_view token, std::vector<std::string> scopes = {}) {
        if (token.empty()) throw std::invalid_argument("StaticTokenVerifier: empty token");
        Entry entry{digest(token), {}};
        entry.principal.subject = "static:" + hex(entry.digest).substr(0, 12);
        entry.principal.scopes = std::move(scopes);
        entries_.push_back(std::move(entry));
    }

    /// The principal of `token`, or `unknown_token`; never suspends.
    [[nodiscard]] TokenVerdict verify(std::string_view token) const {
        const auto presented = digest(token);
        const Entry* found = nullptr;
        for (const auto& e : entries_) {
            std::uint8_t diff = 0;
            for (std::size_t i = 0; i < presented.size(); ++i) diff |= static_cast<std::uint8_t>(presented[i] ^ e.digest[i]);
            const Entry* candidates[2] = {found, &e};
            found = candidates[diff == 0 ? 1 : 0];
        }
        if (found == nullptr) return TokenVerdict::refuse(TokenError::unknown_token);
        return TokenVerdict::accept(found->principal);
    }

    /// `verify`, as a `TokenVerifier`.
    asio::awaitable<TokenVerdict> async_verify(std::string token) { co_return verify(token); }

    /// The subject `add` gives `token` (e.g. to configure a host's own checks).
    [[nodiscard]] static std::string subject_of(std::string_view token) { return "static:" + hex(digest(token)).substr(0, 12); }

private:
    using Digest = std::array<std::uint8_t, 32>;
    struct Entry {
        Digest digest;
        Principal principal;
    };

    static Digest digest(std::string_view token) {
        detail::Sha256 hash;
        hash.update(token);
        return hash.finish();
    }
    static std::string hex(const Digest& d) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string out;
        for (const auto b : d) {
            out += digits[b >> 4];
            out += digits[b & 15];
        }
        return out;
    }

    std::vector<Entry> entries_;
};

static_assert(TokenVerifier<StaticTokenVerifier>);

}  // namespace mcpsse
