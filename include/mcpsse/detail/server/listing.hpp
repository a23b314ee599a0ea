// mcpsse internal: the list methods of `Server` (`tools/list`, `resources/list`,
// `resources/templates/list`, `prompts/list`): how each entry is described, one page
// at a time.
#pragma once

#include <mcpsse/request_context.hpp>
#include <mcpsse/server_options.hpp>
#include <mcpsse/tasks.hpp>
#include <mcpsse/detail/server/capability_scopes.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/pagination.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/util/merge_extra.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <utility>

namespace mcpsse::detail {

/// The `Tool` object of `entry`; with `with_task_support`, task-supporting tools also
/// get `execution.taskSupport` (unless their `extra` sets `execution`).
[[nodiscard]] inline nlohmann::json describe(const ToolEntry& entry, bool with_task_support) {
    const Tool& tool = entry.tool;
    nlohmann::json item = {{"name", tool.name}, {"inputSchema", tool.input_schema}};
    if (!tool.title.empty()) item["title"] = tool.title;
    if (!tool.description.empty()) item["description"] = tool.description;
    if (!tool.output_schema.is_null()) item["outputSchema"] = tool.output_schema;
    if (!tool.annotations.is_null()) item["annotations"] = tool.annotations;
    merge_extra(item, tool.extra);
    if (with_task_support && tool.task_support != TaskSupport::forbidden && !item.contains("execution"))
        item["execution"] = {{"taskSupport", tool.task_support == TaskSupport::required ? "required" : "optional"}};
    return item;
}

/// The `Resource` object of `entry`.
[[nodiscard]] inline nlohmann::json describe(const ResourceEntry& entry) {
    const Resource& resource = entry.resource;
    nlohmann::json item = {{"uri", resource.uri}, {"name", resource.name}};
    if (!resource.title.empty()) item["title"] = resource.title;
    if (!resource.description.empty()) item["description"] = resource.description;
    if (!resource.mime_type.empty()) item["mimeType"] = resource.mime_type;
    merge_extra(item, resource.extra);
    return item;
}

/// The `ResourceTemplate` object of `entry`.
[[nodiscard]] inline nlohmann::json describe(const TemplateEntry& entry) {
    const ResourceTemplate& t = entry.resource_template;
    nlohmann::json item = {{"uriTemplate", t.uri_template}, {"name", t.name}};
    if (!t.title.empty()) item["title"] = t.title;
    if (!t.description.empty()) item["description"] = t.description;
    if (!t.mime_type.empty()) item["mimeType"] = t.mime_type;
    merge_extra(item, t.extra);
    return item;
}

/// The `Prompt` object of `entry`, with its `arguments` when it has any.
[[nodiscard]] inline nlohmann::json describe(const PromptEntry& entry) {
    const Prompt& prompt = entry.prompt;
    nlohmann::json item = {{"name", prompt.name}};
    if (!prompt.title.empty()) item["title"] = prompt.title;
    if (!prompt.description.empty()) item["description"] = prompt.description;
    if (!prompt.arguments.empty()) {
        nlohmann::json args = nlohmann::json::array();
        for (const auto& a : prompt.arguments) {
            nlohmann::json arg = {{"name", a.name}, {"required", a.required}};
            if (!a.description.empty()) arg["description"] = a.description;
            args.push_back(std::move(arg));
        }
        item["arguments"] = std::move(args);
    }
    merge_extra(item, prompt.extra);
    return item;
}

/// Serves the four list methods from a `Catalog`, `ServerOptions::page_size` entries
/// per page, each result finished with the 2026-07-28 caching hints. Holds references:
/// `catalog` and `options` must outlive it. Errors: -32602 for a malformed cursor.
/// Thread-safety: as `Registry` (each page is cut from a snapshot).
class Listing {
public:
    /// Lists from `catalog` with the page size and caching hints of `options`.
    Listing(const Catalog& catalog, const ServerOptions& options) : catalog_(catalog), options_(options) {}

    /// `tools/list`. Task support is listed to clients that use the tasks extension:
    /// 2026-07-28 requests, or clients that declared it (a session's `initialize`).
    asio::awaitable<nlohmann::json> tools(nlohmann::json params, RequestContext& context) const {
        const bool with_task_support =
            options_.tasks.enabled && (stateless(context) || declares_tasks_extension(context.client_capabilities()));
        nlohmann::json result = page(visible_to(catalog_.tools.snapshot(), context), params, "tools", options_.page_size,
                                     [with_task_support](const ToolEntry& e) { return describe(e, with_task_support); });
        finish_cacheable_result(result, context, options_);
        co_return result;
    }

    /// `resources/list`.
    asio::awaitable<nlohmann::json> resources(nlohmann::json params, RequestContext& context) const {
        co_return listed(catalog_.resources, params, "resources", context);
    }

    /// `resources/templates/list`.
    asio::awaitable<nlohmann::json> templates(nlohmann::json params, RequestContext& context) const {
        co_return listed(catalog_.templates, params, "resourceTemplates", context);
    }

    /// `prompts/list`.
    asio::awaitable<nlohmann::json> prompts(nlohmann::json params, RequestContext& context) const {
        co_return listed(catalog_.prompts, params, "prompts", context);
    }

private:
    template <class Entry>
    nlohmann::json listed(const Registry<Entry>& registry, const nlohmann::json& params, const char* key,
                          const RequestContext& context) const {
        nlohmann::json result =
            page(visible_to(registry.snapshot(), context), params, key, options_.page_size, [](const Entry& e) { return describe(e); });
        finish_cacheable_result(result, context, options_);
        return result;
    }

    const Catalog& catalog_;
    const ServerOptions& options_;
};

}  // namespace mcpsse::detail
