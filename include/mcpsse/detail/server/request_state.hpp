// mcpsse internal: sealing the `requestState` of multi-round-trip requests, so a
// server can tell a state it issued from one a client made up or altered.
#pragma once

#include <mcpsse/detail/util/sha256.hpp>

#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// A fresh sealing key: 32 bytes from `std::random_device`. Thread-safety: a pure
/// function apart from the random device it creates.
[[nodiscard]] inline std::string random_state_key() {
    std::random_device random;
    std::string key;
    for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(random() & 0xff));
    return key;
}

/// `payload` followed by `.` and its HMAC-SHA-256 under `key` (64 lowercase hex
/// digits). Integrity only: the payload stays readable. Thread-safety: a pure function.
[[nodiscard]] inline std::string seal_state(std::string_view key, std::string_view payload) {
    return std::string(payload) + "." + hmac_sha256_hex(key, payload);
}

/// The payload of `sealed` when its tag is the HMAC-SHA-256 of the payload under
/// `key` (compared in constant time); nullopt when the tag is missing or differs.
/// Thread-safety: a pure function.
[[nodiscard]] inline std::optional<std::string> open_state(std::string_view key, std::string_view sealed) {
    const auto dot = sealed.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const auto payload = sealed.substr(0, dot);
    const auto expected = hmac_sha256_hex(key, payload);
    const auto tag = sealed.substr(dot + 1);
    if (tag.size() != expected.size()) return std::nullopt;
    unsigned char diff = 0;  // constant time
    for (std::size_t i = 0; i < tag.size(); ++i) diff |= static_cast<unsigned char>(tag[i] ^ expected[i]);
    if (diff != 0) return std::nullopt;
    return std::string(payload);
}

}  // namespace mcpsse::detail
