// mcpsse: prompts (`PromptArgument`, `Prompt`), one expansion (`PromptGet`) and the
// prompt handler type.
#pragma once

#include <mcpsse/request_context.hpp>
#include <mcpsse/retry_input.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mcpsse {

/// One argument of a prompt (MCP server/prompts, `PromptArgument`).
struct PromptArgument {
    /// Argument name.
    std::string name;
    /// Optional description; omitted when empty.
    std::string description;
    /// True when the client must supply it.
    bool required = false;
};

/// A prompt template, listed by `prompts/list` (MCP server/prompts).
struct Prompt {
    /// Unique programmatic name.
    std::string name;
    /// Optional human-readable name; omitted when empty.
    std::string title;
    /// Optional description; omitted when empty.
    std::string description;
    /// The arguments it accepts, in order.
    std::vector<PromptArgument> arguments;
    /// Further members merged verbatim into the listing; an object or null.
    nlohmann::json extra;
    /// OAuth scopes a principal needs to see it listed and to use it, when the transport
    /// authorizes requests (`SseTransportOptions::authorization`): a client without them
    /// does not see it, and using it gets 403 `insufficient_scope` naming them (MCP
    /// 2025-11-25 step-up). Ignored without authorization. Empty: no scope needed.
    std::vector<std::string> required_scopes;
};

/// One `prompts/get`: the prompt's name, its string arguments and retry input.
struct PromptGet {
    /// The prompt being expanded.
    std::string name;
    /// The `arguments` object (string values; empty when none).
    nlohmann::json arguments = nlohmann::json::object();
    /// Answers to an earlier `InputRequiredResult`.
    RetryInput input;
};

/// A `prompts/get` handler: returns a `GetPromptResult` (`messages`, optional
/// `description`) or an `InputRequiredResult`.
using PromptHandler = std::function<asio::awaitable<nlohmann::json>(PromptGet get, RequestContext& context)>;

}  // namespace mcpsse
