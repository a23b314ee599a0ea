// mcpsse: telling a serialized JSON-RPC reply's outcome without parsing it.
#pragma once

#include <string_view>

namespace mcpsse::detail {

/// True when `reply`, serialized by mcpsse as {"jsonrpc":"2.0","id":...,"result":...} or
/// {"jsonrpc":"2.0","id":...,"error":...}, is a success: the first member after the id tells.
[[nodiscard]] inline bool is_success_reply(std::string_view reply) noexcept {
    const auto result = reply.find(",\"result\":");
    const auto error = reply.find(",\"error\":{");
    return result != std::string_view::npos && (error == std::string_view::npos || result < error);
}

/// True when SSE `events` written by mcpsse carry no error reply.
[[nodiscard]] inline bool is_success_events(std::string_view events) noexcept {
    return events.find(",\"error\":{\"code\"") == std::string_view::npos;
}

}  // namespace mcpsse::detail
