// mcpsse: resources (`Resource`, `ResourceTemplate`), one read (`ResourceRead`) and
// the resource handler type.
#pragma once

#include <mcpsse/request_context.hpp>
#include <mcpsse/retry_input.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mcpsse {

/// A resource with a fixed URI, listed by `resources/list` (MCP server/resources).
struct Resource {
    /// The resource's URI.
    std::string uri;
    /// Programmatic name.
    std::string name;
    /// Optional human-readable name; omitted when empty.
    std::string title;
    /// Optional description; omitted when empty.
    std::string description;
    /// Optional MIME type; omitted when empty.
    std::string mime_type;
    /// Further members merged verbatim into the listing (`size`, `annotations`,
    /// `icons`, `_meta`); must be an object or null.
    nlohmann::json extra;
    /// OAuth scopes a principal needs to see it listed and to use it, when the transport
    /// authorizes requests (`SseTransportOptions::authorization`): a client without them
    /// does not see it, and using it gets 403 `insufficient_scope` naming them (MCP
    /// 2025-11-25 step-up). Ignored without authorization. Empty: no scope needed.
    std::vector<std::string> required_scopes;
};

/// A parameterised resource, listed by `resources/templates/list` and matched against
/// the URIs of `resources/read` (MCP server/resources, RFC 6570 level 1 and `{+var}`).
struct ResourceTemplate {
    /// RFC 6570 template, e.g. `file:///{path}` or `test://template/{id}/data`.
    /// `{var}` matches one path segment (no `/`, `?` or `#`); `{+var}` matches any text.
    std::string uri_template;
    /// Programmatic name.
    std::string name;
    /// Optional human-readable name; omitted when empty.
    std::string title;
    /// Optional description; omitted when empty.
    std::string description;
    /// Optional MIME type of the matching resources; omitted when empty.
    std::string mime_type;
    /// Further members merged verbatim into the listing; an object or null.
    nlohmann::json extra;
    /// OAuth scopes a principal needs to see it listed and to read the URIs it matches, when the transport
    /// authorizes requests (`SseTransportOptions::authorization`): a client without them
    /// does not see it, and using it gets 403 `insufficient_scope` naming them (MCP
    /// 2025-11-25 step-up). Ignored without authorization. Empty: no scope needed.
    std::vector<std::string> required_scopes;
};

/// One `resources/read`: the URI, the template variables it matched and retry input.
struct ResourceRead {
    /// The URI requested.
    std::string uri;
    /// For a template match: variable name -> matched text (not percent-decoded).
    std::map<std::string, std::string> variables;
    /// Answers to an earlier `InputRequiredResult`.
    RetryInput input;
};

/// A `resources/read` handler: returns the `contents` array, a whole
/// `ReadResourceResult` object, or an `InputRequiredResult`. Throw
/// `RpcError(error_code::invalid_params, ...)` for a URI it does not serve.
using ResourceHandler = std::function<asio::awaitable<nlohmann::json>(ResourceRead read, RequestContext& context)>;

}  // namespace mcpsse
