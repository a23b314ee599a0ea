// mcpsse internal: RFC 6570 matching (level 1 `{var}` and reserved `{+var}`).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse::detail {

/// Matches `uri` against `uri_template`; fills `variables` and returns true on a match.
[[nodiscard]] inline bool match_uri_template(std::string_view uri_template, std::string_view uri,
                                             std::map<std::string, std::string>& variables) {
    if (uri_template.empty()) return uri.empty();
    if (uri_template.front() != '{') {
        if (uri.empty() || uri.front() != uri_template.front()) return false;
        return match_uri_template(uri_template.substr(1), uri.substr(1), variables);
    }
    const auto close = uri_template.find('}');
    if (close == std::string_view::npos) return false;
    std::string_view name = uri_template.substr(1, close - 1);
    const bool reserved = !name.empty() && name.front() == '+';
    if (reserved) name.remove_prefix(1);
    const auto rest = uri_template.substr(close + 1);
    // Longest match first, so `{+path}` takes as much as the rest allows.
    std::size_t limit = 0;
    while (limit < uri.size() && (reserved || (uri[limit] != '/' && uri[limit] != '?' && uri[limit] != '#')))
        ++limit;
    for (std::size_t n = limit + 1; n-- > 0;) {
        if (n == 0 && !reserved) break;  // a simple variable matches at least one character
        auto attempt = variables;
        attempt[std::string(name)] = std::string(uri.substr(0, n));
        if (match_uri_template(rest, uri.substr(n), attempt)) {
            variables = std::move(attempt);
            return true;
        }
    }
    return false;
}

}  // namespace mcpsse::detail
