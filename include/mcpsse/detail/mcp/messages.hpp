// mcpsse: reading what the MCP layer needs from parsed JSON-RPC messages.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// True when `message` is a request for `method`.
[[nodiscard]] inline bool is_request(const Message& message, std::string_view method) {
    const auto* r = std::get_if<Request>(&message);
    return r && r->method == method;
}

/// The method of a request or notification; empty for a response.
[[nodiscard]] inline std::string_view message_method(const Message& message) {
    if (const auto* r = std::get_if<Request>(&message)) return r->method;
    if (const auto* n = std::get_if<Notification>(&message)) return n->method;
    return {};
}

/// The params of a request or notification; null for a response.
[[nodiscard]] inline const nlohmann::json* message_params(const Message& message) {
    if (const auto* r = std::get_if<Request>(&message)) return &r->params;
    if (const auto* n = std::get_if<Notification>(&message)) return &n->params;
    return nullptr;
}

/// `params._meta` when it is an object.
[[nodiscard]] inline const nlohmann::json* params_meta(const Message& message) {
    const auto* params = message_params(message);
    if (!params || !params->is_object()) return nullptr;
    const auto meta = params->find("_meta");
    return meta != params->end() && meta->is_object() ? &*meta : nullptr;
}

/// `params._meta["io.modelcontextprotocol/protocolVersion"]` when it is a string
/// (2026-07-28: the revision of a stateless request).
[[nodiscard]] inline std::optional<std::string> meta_protocol_version(const Message& message) {
    const auto* meta = params_meta(message);
    if (!meta) return std::nullopt;
    const auto v = meta->find("io.modelcontextprotocol/protocolVersion");
    if (v == meta->end() || !v->is_string()) return std::nullopt;
    return v->template get<std::string>();
}

/// The id of a request (nullopt for anything else).
[[nodiscard]] inline std::optional<RequestId> request_id_of(const Message& message) {
    if (const auto* r = std::get_if<Request>(&message)) return r->id;
    return std::nullopt;
}

/// A JSON-RPC error response without id, serialized.
[[nodiscard]] inline std::string error_body(int code, std::string_view message) {
    return json_rpc::serialize(ErrorResponse{std::nullopt, code, std::string(message), nullptr});
}

}  // namespace mcpsse::detail
