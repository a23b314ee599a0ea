// mcpsse internal: the members a 2026-07-28 result carries beside the method's own
// (`resultType` and the SEP-2549 caching hints).
#pragma once

#include <mcpsse/protocol_version.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/server_options.hpp>

#include <nlohmann/json.hpp>

namespace mcpsse::detail {

/// True when `context`'s request uses a stateless revision (2026-07-28 or later), whose
/// results carry `resultType` and whose clients retry multi-round-trip requests
/// themselves. Thread-safety: reads `context` only.
[[nodiscard]] inline bool stateless(const RequestContext& context) {
    return protocol_version::is_stateless(context.protocol_version());
}

/// Adds `resultType: "complete"` to the object `result` unless it has one, for a
/// stateless request; leaves it alone otherwise (older revisions and non-objects).
/// Thread-safety: the caller must own `result`.
inline void finish_result(nlohmann::json& result, const RequestContext& context) {
    if (!stateless(context) || !result.is_object()) return;
    if (!result.contains("resultType")) result["resultType"] = "complete";
}

/// `finish_result`, plus the caching hints of a cacheable result (lists,
/// `resources/read`, `server/discover`): a complete result gets `ttlMs`
/// (`options.cache_ttl`, sent in ms) and `cacheScope` (`options.cache_scope`) unless it
/// has them. Thread-safety: the caller must own `result`; `options` is only read.
inline void finish_cacheable_result(nlohmann::json& result, const RequestContext& context,
                                    const ServerOptions& options) {
    if (!stateless(context) || !result.is_object()) return;
    if (!result.contains("resultType")) result["resultType"] = "complete";
    if (result["resultType"] == "complete") {
        if (!result.contains("ttlMs")) result["ttlMs"] = options.cache_ttl.count();
        if (!result.contains("cacheScope")) result["cacheScope"] = options.cache_scope;
    }
}

}  // namespace mcpsse::detail
