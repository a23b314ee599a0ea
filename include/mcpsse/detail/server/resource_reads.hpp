// mcpsse internal: `resources/read` of `Server`: a fixed resource or the first
// matching resource template, its handler's input rounds, and the not-found errors.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/resource.hpp>
#include <mcpsse/result_builders.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/server_options.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/input_rounds.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/server/uri_template.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// Serves `resources/read` from a `Catalog`: the resource with the exact URI, else the
/// first template (in registration order) matching it, whose variables the handler
/// gets. A handler may answer a `contents` array alone; it is wrapped in
/// `{"contents": [...]}`.
///
/// Errors: a URI nothing serves, or a handler answering no contents -> -32602 with
/// `data.uri` under 2026-07-28 (SEP-2164), -32002 before; a missing `uri` or malformed
/// retry input -> -32602; the handler's `RpcError` as is. Holds references: `catalog`
/// and `options` must outlive it. Thread-safety: `read` may run on many threads at once;
/// templates are matched on a snapshot, without any lock (a match takes time linear in
/// the URI, which may be megabytes long).
class ResourceReads {
public:
    /// Reads from `catalog`; `options` gives `max_input_rounds` and the caching hints.
    ResourceReads(const Catalog& catalog, const ServerOptions& options) : catalog_(catalog), options_(options) {}

    /// `resources/read`.
    asio::awaitable<nlohmann::json> read(nlohmann::json params, RequestContext& context) const {
        ResourceRead read;
        read.uri = required_string(params, "uri");
        ResourceHandler handler;
        if (const auto entry = catalog_.resources.find(read.uri)) handler = entry->handler;
        if (!handler)
            for (const auto& e : catalog_.templates.snapshot()) {
                std::map<std::string, std::string> variables;
                if (match_uri_template(e->resource_template.uri_template, read.uri, variables)) {
                    handler = e->handler;
                    read.variables = std::move(variables);
                    break;
                }
            }
        if (!handler) throw not_found(read.uri, context);
        RetryInput input = retry_input(params, context, options_.state_key);
        auto attempt = [&](const RetryInput& in) { return handler(ResourceRead{read.uri, read.variables, in}, context); };
        nlohmann::json result = co_await run_rounds(input, context, options_.max_input_rounds, options_.state_key, attempt);
        if (result.is_array()) result = nlohmann::json{{"contents", std::move(result)}};
        if (!is_input_required(result)) {
            const auto contents = result.find("contents");
            if (contents == result.end() || !contents->is_array() || contents->empty()) throw not_found(read.uri, context);
        }
        finish_cacheable_result(result, context, options_);
        co_return result;
    }

private:
    // SEP-2164: an unknown resource is -32602 with the URI in `data` (2026-07-28);
    // earlier revisions used -32002.
    static RpcError not_found(const std::string& uri, const RequestContext& context) {
        return RpcError(stateless(context) ? error_code::invalid_params : error_code::resource_not_found,
                        "Resource not found", {{"uri", uri}});
    }

    const Catalog& catalog_;
    const ServerOptions& options_;
};

}  // namespace mcpsse::detail
