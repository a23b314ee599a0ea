// mcpsse: builders of common results (`CallToolResult`, `InputRequiredResult`) and of
// the missing-client-capability error.
#pragma once

#include <mcpsse/error.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

namespace mcpsse {

/// A `text` content block.
[[nodiscard]] inline nlohmann::json text_content(std::string text) {
    // Built member by member: an initializer list would copy every value once more.
    nlohmann::json block(nlohmann::json::value_t::object);
    block.emplace("type", "text");
    block.emplace("text", std::move(text));
    return block;
}

/// A `CallToolResult` holding one text block.
[[nodiscard]] inline nlohmann::json tool_text_result(std::string text) {
    nlohmann::json content(nlohmann::json::value_t::array);
    content.push_back(text_content(std::move(text)));
    nlohmann::json result(nlohmann::json::value_t::object);
    result.emplace("content", std::move(content));
    return result;
}

/// A `CallToolResult` reporting a tool execution error (`isError: true`) with `message`
/// as text (MCP server/tools, error handling: such errors go in the result so the
/// model can see them, unlike protocol errors).
[[nodiscard]] inline nlohmann::json tool_error_result(std::string message) {
    auto result = tool_text_result(std::move(message));
    result["isError"] = true;
    return result;
}

/// An `InputRequiredResult` (MCP 2026-07-28 basic/utilities/mrtr): asks the client to
/// fulfil `input_requests` (an object: key -> `{"method": "elicitation/create" |
/// "sampling/createMessage" | "roots/list", "params": {...}}`) and retry the request
/// with `inputResponses` under the same keys and `request_state` echoed (omitted when
/// empty). Seal anything the retry must trust with `Server::seal_state`.
[[nodiscard]] inline nlohmann::json input_required_result(nlohmann::json input_requests,
                                                          std::optional<std::string> request_state = {}) {
    nlohmann::json result = {{"resultType", "input_required"}, {"inputRequests", std::move(input_requests)}};
    if (request_state) result["requestState"] = std::move(*request_state);
    return result;
}

/// True when `result` is an `InputRequiredResult` (`resultType` "input_required").
[[nodiscard]] inline bool is_input_required(const nlohmann::json& result) {
    if (!result.is_object()) return false;
    const auto it = result.find("resultType");
    return it != result.end() && it->is_string() && it->get_ref<const std::string&>() == "input_required";
}

/// Builds an error for a request that needs client capabilities the client did not
/// declare: JSON-RPC -32021 with `data.requiredCapabilities` (a `ClientCapabilities`
/// object, e.g. `{"sampling": {}}`) (MCP 2026-07-28, `MissingRequiredClientCapabilityError`).
[[nodiscard]] inline RpcError missing_capability_error(nlohmann::json required_capabilities) {
    return RpcError(error_code::missing_client_capability, "Missing required client capability",
                    {{"requiredCapabilities", std::move(required_capabilities)}});
}

}  // namespace mcpsse
