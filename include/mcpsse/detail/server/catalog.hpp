// mcpsse internal: what a `Server` offers (tools, resources, resource templates and
// prompts with their handlers and completers), one `Registry` per kind.
#pragma once

#include <mcpsse/completer.hpp>
#include <mcpsse/prompt.hpp>
#include <mcpsse/resource.hpp>
#include <mcpsse/tool.hpp>
#include <mcpsse/detail/server/registry.hpp>

#include <map>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// A registered tool: its listing and its handler. Keyed by the tool name.
struct ToolEntry {
    /// The tool as listed.
    Tool tool;
    /// Called for each `tools/call` round (and inside the tool's tasks).
    ToolCallHandler handler;
    /// The registry key: `tool.name`.
    [[nodiscard]] std::string_view key() const noexcept { return tool.name; }
};

/// A registered resource with a fixed URI. Keyed by the URI.
struct ResourceEntry {
    /// The resource as listed.
    Resource resource;
    /// Called for each `resources/read` round of `resource.uri`.
    ResourceHandler handler;
    /// The registry key: `resource.uri`.
    [[nodiscard]] std::string_view key() const noexcept { return resource.uri; }
};

/// A registered resource template; `completers` suggest values for its variables,
/// by variable name. Keyed by the URI template.
struct TemplateEntry {
    /// The template as listed.
    ResourceTemplate resource_template;
    /// Called for each `resources/read` round of a URI the template matches.
    ResourceHandler handler;
    /// Completers of the template's variables, by variable name.
    std::map<std::string, Completer> completers;
    /// The registry key: `resource_template.uri_template`.
    [[nodiscard]] std::string_view key() const noexcept { return resource_template.uri_template; }
};

/// A registered prompt; `completers` suggest values for its arguments, by argument
/// name. Keyed by the prompt name.
struct PromptEntry {
    /// The prompt as listed.
    Prompt prompt;
    /// Called for each `prompts/get` round.
    PromptHandler handler;
    /// Completers of the prompt's arguments, by argument name.
    std::map<std::string, Completer> completers;
    /// The registry key: `prompt.name`.
    [[nodiscard]] std::string_view key() const noexcept { return prompt.name; }
};

/// Everything a `Server` offers. Each registry has its own mutex, so a change to one
/// kind never waits for readers of another. Thread-safety: as `Registry`.
struct Catalog {
    /// `Server::add_tool`'s tools, by name.
    Registry<ToolEntry> tools;
    /// Resources with a fixed URI, by URI.
    Registry<ResourceEntry> resources;
    /// Resource templates, by URI template.
    Registry<TemplateEntry> templates;
    /// Prompts, by name.
    Registry<PromptEntry> prompts;
};

}  // namespace mcpsse::detail
