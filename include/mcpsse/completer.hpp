// mcpsse: the argument completion callback (`completion/complete`).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse {

/// Suggests values for one argument (MCP server/utilities/completion): gets the text
/// typed so far and the other arguments already given (`context.arguments`, an
/// object); returns candidates, best first. At most 100 are sent; `hasMore` tells the
/// client about the rest. Runs on the request's executor; must not block.
using Completer = std::function<std::vector<std::string>(std::string_view value, const nlohmann::json& arguments)>;

}  // namespace mcpsse
