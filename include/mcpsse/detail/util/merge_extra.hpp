// mcpsse internal: merging a feature's `extra` members into its listing.
#pragma once

#include <nlohmann/json.hpp>

namespace mcpsse::detail {

/// Members of `extra` (an object or null) merged into `target` without overwriting.
inline void merge_extra(nlohmann::json& target, const nlohmann::json& extra) {
    if (!extra.is_object()) return;
    for (auto it = extra.begin(); it != extra.end(); ++it)
        if (!target.contains(it.key())) target[it.key()] = it.value();
}

}  // namespace mcpsse::detail
