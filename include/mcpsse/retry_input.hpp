// mcpsse: what the client sent back on a retry of a multi-round-trip request.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mcpsse {

/// What the client sent back on a retry of a multi-round-trip request (MCP 2026-07-28
/// basic/utilities/mrtr, `InputResponseRequestParams`).
struct RetryInput {
    /// `inputResponses`: the client's answers keyed like the server's `inputRequests`;
    /// an empty object on a first attempt. Each value is an object (validated).
    nlohmann::json responses = nlohmann::json::object();
    /// `requestState` echoed from the previous `InputRequiredResult`, verbatim (it may
    /// have been tampered with: see `Server::open_state`).
    std::optional<std::string> request_state;

    /// True on a first attempt (no responses and no state).
    [[nodiscard]] bool empty() const noexcept { return responses.empty() && !request_state; }
    /// The answer to input request `key`, or null when the client gave none.
    [[nodiscard]] const nlohmann::json& response(std::string_view key) const {
        static const nlohmann::json none;
        const auto it = responses.find(key);
        return it == responses.end() ? none : *it;
    }
};

}  // namespace mcpsse
