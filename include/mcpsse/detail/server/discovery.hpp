// mcpsse internal: what a `Server` says about itself: the capabilities it merges into
// its dispatcher's, and the 2026-07-28 `server/discover` result.
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/meta_key.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/server_options.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// Merges the server capabilities `options` implies into `capabilities` (made an object
/// first when it is not): `tools`, `resources` (with `subscribe`), `prompts` (all three
/// with `listChanged` when `options.list_changed`), `completions` when
/// `options.completions`, `logging`, and `extensions["io.modelcontextprotocol/tasks"]`
/// when `options.tasks.enabled`. Members already present are kept. Thread-safety: the
/// caller must own `capabilities`.
inline void merge_capabilities(nlohmann::json& capabilities, const ServerOptions& options) {
    if (!capabilities.is_object()) capabilities = nlohmann::json::object();
    auto ensure = [&](const char* name) -> nlohmann::json& {
        auto& slot = capabilities[name];
        if (!slot.is_object()) slot = nlohmann::json::object();
        return slot;
    };
    auto set_default = [](nlohmann::json& object, const char* key, bool value) {
        if (!object.contains(key)) object[key] = value;
    };
    auto& tools = ensure("tools");
    auto& resources = ensure("resources");
    auto& prompts = ensure("prompts");
    if (options.list_changed) {
        set_default(tools, "listChanged", true);
        set_default(resources, "listChanged", true);
        set_default(prompts, "listChanged", true);
    }
    set_default(resources, "subscribe", true);
    if (options.completions) ensure("completions");
    ensure("logging");
    if (options.tasks.enabled) {
        auto& extensions = ensure("extensions");
        if (!extensions.contains(std::string(tasks_extension)))
            extensions[std::string(tasks_extension)] = nlohmann::json::object();
    }
}

/// The `server/discover` result (2026-07-28) from `dispatcher`'s settings: the request's
/// version first, then the other supported versions; the capabilities; the server info
/// under `_meta`; the instructions; with the caching hints of `options`. Errors: throws
/// `RpcError` -32601 for a request of a session-based revision. Thread-safety: reads
/// `dispatcher.options()`, which must no longer change (transports run).
[[nodiscard]] inline nlohmann::json discover(const Dispatcher& dispatcher, const RequestContext& context,
                                            const ServerOptions& options) {
    if (!stateless(context)) throw RpcError(error_code::method_not_found, "Method not found");
    const auto& settings = dispatcher.options();
    nlohmann::json versions = nlohmann::json::array();
    versions.push_back(std::string(context.protocol_version()));
    for (const auto& v : settings.protocol_versions)
        if (std::find(versions.begin(), versions.end(), nlohmann::json(v)) == versions.end()) versions.push_back(v);
    nlohmann::json server_info = {{"name", settings.server_info.name}, {"version", settings.server_info.version}};
    if (!settings.server_info.title.empty()) server_info["title"] = settings.server_info.title;
    nlohmann::json result = {
        {"supportedVersions", std::move(versions)},
        {"capabilities", settings.capabilities.is_object() ? settings.capabilities : nlohmann::json::object()},
        {"_meta", {{std::string(meta_key::server_info), std::move(server_info)}}}};
    if (!settings.instructions.empty()) result["instructions"] = settings.instructions;
    finish_cacheable_result(result, context, options);
    return result;
}

}  // namespace mcpsse::detail
