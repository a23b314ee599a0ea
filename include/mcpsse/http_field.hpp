// mcpsse: one HTTP header field line, as the request parser and a host's stages see it.
#pragma once

#include <string_view>

namespace mcpsse {

/// One header field line (RFC 9110 section 5): the name as sent and the value without
/// leading or trailing whitespace. Both view the request they belong to.
struct HttpField {
    /// Field name, a token (RFC 9110 section 5.1), case as sent.
    std::string_view name;
    /// Field value with surrounding SP/HTAB removed (RFC 9112 section 5.1); may be empty.
    std::string_view value;
};

}  // namespace mcpsse
