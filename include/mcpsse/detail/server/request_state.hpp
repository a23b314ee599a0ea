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

/// `state` bound to the principal `subject`: `state`, `~` and the first 32 hex digits of
/// the HMAC-SHA-256 under `key` of the subject and the state, so that a `requestState`
/// issued to one principal is refused from another (MCP security: handles a client holds
/// are bound to it). Thread-safety: a pure function.
[[nodiscard]] inline std::string bind_state(std::string_view key, std::string_view subject, std::string_view state) {
    std::string message = "requestState subject\n";
    message.append(subject).append("\n").append(state);
    return std::string(state) + "~" + hmac_sha256_hex(key, message).substr(0, 32);
}

/// The state `bind_state` bound to `subject`, or nullopt when `bound` was bound to
/// another subject, altered, or never bound (compared in constant time).
[[nodiscard]] inline std::optional<std::string> unbind_state(std::string_view key, std::string_view subject,
                                                             std::string_view bound) {
    const auto tilde = bound.rfind('~');
    if (tilde == std::string_view::npos) return std::nullopt;
    const std::string state(bound.substr(0, tilde));
    const std::string expected = bind_state(key, subject, state);
    if (expected.size() != bound.size()) return std::nullopt;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) diff |= static_cast<unsigned char>(expected[i] ^ bound[i]);
    if (diff != 0) return std::nullopt;
    return state;
}

}  // namespace mcpsse::detail
