// mcpsse internal: the OAuth scopes of a Server's tools, resources and prompts.
#pragma once

#include <mcpsse/principal.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/uri_template.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// The scopes an entry requires (its `required_scopes`).
[[nodiscard]] inline const std::vector<std::string>& scopes_of(const ToolEntry& e) noexcept { return e.tool.required_scopes; }
[[nodiscard]] inline const std::vector<std::string>& scopes_of(const ResourceEntry& e) noexcept { return e.resource.required_scopes; }
[[nodiscard]] inline const std::vector<std::string>& scopes_of(const TemplateEntry& e) noexcept { return e.resource_template.required_scopes; }
[[nodiscard]] inline const std::vector<std::string>& scopes_of(const PromptEntry& e) noexcept { return e.prompt.required_scopes; }

/// The entries of `all` the request's principal may use: all of them without
/// authorization (no principal), else those whose scopes it was granted.
template <class Entry>
[[nodiscard]] std::vector<std::shared_ptr<const Entry>> visible_to(std::vector<std::shared_ptr<const Entry>> all,
                                                                   const RequestContext& context) {
    const Principal* principal = context.principal();
    if (!principal) return all;
    std::erase_if(all, [&](const std::shared_ptr<const Entry>& e) { return !principal->has_scopes(scopes_of(*e)); });
    return all;
}

/// The scope rule of a `Server` (`Dispatcher::set_scope_rule`): what `tools/call`,
/// `resources/read`, `resources/subscribe` and `prompts/get` need, from the entry they
/// name (for a URI no fixed resource has, the first template matching it), and what a
/// 2026-07-28 `subscriptions/listen` needs: the scopes of every resource in its
/// `notifications.resourceSubscriptions`. Unknown names need nothing here: their
/// handlers answer the not-found error. Thread-safety: reads registry snapshots, safe
/// from any thread.
class CapabilityScopes {
public:
    explicit CapabilityScopes(const Catalog& catalog) : catalog_(catalog) {}

    /// The scopes a request for `method` with `params` needs.
    [[nodiscard]] std::vector<std::string> operator()(std::string_view method, const nlohmann::json& params) const {
        if (!params.is_object()) return {};
        if (method == "tools/call") return by_name(catalog_.tools, params);
        if (method == "prompts/get") return by_name(catalog_.prompts, params);
        if (method == "resources/read" || method == "resources/subscribe") {
            const auto uri = params.find("uri");
            if (uri == params.end() || !uri->is_string()) return {};
            return of_uri(uri->get_ref<const std::string&>());
        }
        if (method == "subscriptions/listen") {
            const auto n = params.find("notifications");
            if (n == params.end() || !n->is_object()) return {};
            const auto subs = n->find("resourceSubscriptions");
            if (subs == n->end() || !subs->is_array()) return {};
            std::vector<std::string> all;
            for (const auto& uri : *subs) {
                if (!uri.is_string()) continue;
                for (auto& s : of_uri(uri.get_ref<const std::string&>()))
                    if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(std::move(s));
            }
            return all;
        }
        return {};
    }

private:
    std::vector<std::string> of_uri(const std::string& uri) const {
        if (auto entry = catalog_.resources.find(uri)) return scopes_of(*entry);
        for (const auto& e : catalog_.templates.snapshot()) {
            std::map<std::string, std::string> variables;
            if (match_uri_template(e->resource_template.uri_template, uri, variables)) return scopes_of(*e);
        }
        return {};
    }

    template <class Registry>
    static std::vector<std::string> by_name(const Registry& registry, const nlohmann::json& params) {
        const auto name = params.find("name");
        if (name == params.end() || !name->is_string()) return {};
        if (auto entry = registry.find(name->template get_ref<const std::string&>())) return scopes_of(*entry);
        return {};
    }

    const Catalog& catalog_;
};

}  // namespace mcpsse::detail
