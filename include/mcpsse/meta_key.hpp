// mcpsse: the reserved `_meta` keys of MCP 2026-07-28.
#pragma once

#include <string_view>

namespace mcpsse {

/// Reserved `_meta` keys of MCP 2026-07-28 (schema `RequestMetaObject`,
/// `ResultMetaObject`, `NotificationMetaObject`).
namespace meta_key {
/// The request's protocol revision (stateless requests).
inline constexpr std::string_view protocol_version = "io.modelcontextprotocol/protocolVersion";
/// The client's `Implementation` (name, version).
inline constexpr std::string_view client_info = "io.modelcontextprotocol/clientInfo";
/// The client's `ClientCapabilities` for this request.
inline constexpr std::string_view client_capabilities = "io.modelcontextprotocol/clientCapabilities";
/// The minimum log level the client wants for this request; no logging when absent.
inline constexpr std::string_view log_level = "io.modelcontextprotocol/logLevel";
/// The server's `Implementation`, carried on results.
inline constexpr std::string_view server_info = "io.modelcontextprotocol/serverInfo";
/// The id of a `subscriptions/listen` stream, on every notification it carries.
inline constexpr std::string_view subscription_id = "io.modelcontextprotocol/subscriptionId";
}  // namespace meta_key

}  // namespace mcpsse
