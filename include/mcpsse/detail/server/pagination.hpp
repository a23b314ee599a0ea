// mcpsse internal: cursor pagination of the list methods (MCP server/utilities/
// pagination). A cursor is `o<offset>`, the index of the page's first entry.
#pragma once

#include <mcpsse/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace mcpsse::detail {

/// The offset `params.cursor` points at: 0 when absent or null. Errors: throws
/// `RpcError` -32602 when the cursor is not a string ("Invalid params: cursor must be a
/// string") or not `o` followed by 1 to 19 decimal digits ("Invalid cursor").
/// Thread-safety: a pure function.
[[nodiscard]] inline std::size_t cursor_offset(const nlohmann::json& params) {
    const auto it = params.find("cursor");
    if (it == params.end() || it->is_null()) return 0;
    if (!it->is_string()) throw RpcError(error_code::invalid_params, "Invalid params: cursor must be a string");
    const auto& text = it->get_ref<const std::string&>();
    std::size_t offset = 0;
    if (text.size() < 2 || text[0] != 'o' || text.size() > 20) throw RpcError(error_code::invalid_params, "Invalid cursor");
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') throw RpcError(error_code::invalid_params, "Invalid cursor");
        offset = offset * 10 + static_cast<std::size_t>(text[i] - '0');
    }
    return offset;
}

/// One page of `all` starting at `params.cursor`: `{<key>: [describe_one(entry)...]}` with
/// at most `page_size` items (0: all the rest) and `nextCursor` when more follow.
/// Errors: throws `RpcError` -32602 for a malformed cursor (see `cursor_offset`) or one
/// past the end of `all`. Thread-safety: the caller must own `all`.
template <class Entry, class Describe>
[[nodiscard]] nlohmann::json page(const std::vector<std::shared_ptr<const Entry>>& all, const nlohmann::json& params,
                                  const char* key, std::size_t page_size, Describe describe_one) {
    const std::size_t offset = cursor_offset(params);
    if (offset > all.size()) throw RpcError(error_code::invalid_params, "Invalid cursor");
    const std::size_t count = page_size == 0 ? all.size() - offset : std::min(page_size, all.size() - offset);
    nlohmann::json items = nlohmann::json::array();
    for (std::size_t i = offset; i < offset + count; ++i) items.push_back(describe_one(*all[i]));
    nlohmann::json result = {{key, std::move(items)}};
    if (offset + count < all.size()) result["nextCursor"] = "o" + std::to_string(offset + count);
    return result;
}

}  // namespace mcpsse::detail
