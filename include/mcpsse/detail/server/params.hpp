// mcpsse internal: reading members of a request's `params` object, with the -32602
// errors MCP expects for malformed ones.
#pragma once

#include <mcpsse/error.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace mcpsse::detail {

/// The string member `key` of `params`, copied. Errors: throws `RpcError` -32602
/// ("Invalid params: <key> must be a string") when it is absent or not a string.
/// Thread-safety: a pure function.
[[nodiscard]] inline std::string required_string(const nlohmann::json& params, const char* key) {
    const auto it = params.find(key);
    if (it == params.end() || !it->is_string())
        throw RpcError(error_code::invalid_params, std::string("Invalid params: ") + key + " must be a string");
    return it->get<std::string>();
}

/// The object member `key` of `params`, or nullptr when it is absent or null. The
/// pointer refers into `params`. Errors: throws `RpcError` -32602 ("Invalid params:
/// <key> must be an object") for any other type. Thread-safety: a pure function.
[[nodiscard]] inline const nlohmann::json* find_object(const nlohmann::json& params, const char* key) {
    const auto it = params.find(key);
    if (it == params.end() || it->is_null()) return nullptr;
    if (!it->is_object())
        throw RpcError(error_code::invalid_params, std::string("Invalid params: ") + key + " must be an object");
    return &*it;
}

/// A copy of the object member `key` of `params`; an empty object when it is absent or
/// null. Errors: as `find_object`. Thread-safety: a pure function.
[[nodiscard]] inline nlohmann::json optional_object(const nlohmann::json& params, const char* key) {
    const nlohmann::json* member = find_object(params, key);
    return member ? *member : nlohmann::json::object();
}

/// `optional_object`, moving the member out of `params` instead of copying it (the
/// member is left null in `params`). Errors: as `find_object`. Thread-safety: the
/// caller must own `params`.
[[nodiscard]] inline nlohmann::json take_optional_object(nlohmann::json& params, const char* key) {
    return find_object(params, key) ? std::move(params[key]) : nlohmann::json::object();
}

}  // namespace mcpsse::detail
