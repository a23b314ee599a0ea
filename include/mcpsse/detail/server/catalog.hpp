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
    Tool tool;
    ToolCallHandler handler;
    [[nodiscard]] std::string_view key() const noexcept { return tool.name; }
};

/// A registered resource with a fixed URI. Keyed by the URI.
struct ResourceEntry {
    Resource resource;
    ResourceHandler handler;
    [[nodiscard]] std::string_view key() const noexcept { return resource.uri; }
};

/// A registered resource template; `completers` suggest values for its variables,
/// by variable name. Keyed by the URI template.
struct TemplateEntry {
    ResourceTemplate resource_template;
    ResourceHandler handler;
    std::map<std::string, Completer> completers;
    [[nodiscard]] std::string_view key() const noexcept { return resource_template.uri_template; }
};

/// A registered prompt; `completers` suggest values for its arguments, by argument
/// name. Keyed by the prompt name.
struct PromptEntry {
    Prompt prompt;
    PromptHandler handler;
    std::map<std::string, Completer> completers;
    [[nodiscard]] std::string_view key() const noexcept { return prompt.name; }
};

/// Everything a `Server` offers. Each registry has its own mutex, so a change to one
/// kind never waits for readers of another. Thread-safety: as `Registry`.
struct Catalog {
    Registry<ToolEntry> tools;
    Registry<ResourceEntry> resources;
    Registry<TemplateEntry> templates;
    Registry<PromptEntry> prompts;
};

}  // namespace mcpsse::detail
