// mcpsse internal: `prompts/get` of `Server`: the prompt, its required arguments, and
// its handler's input rounds.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/prompt.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/server_options.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/input_rounds.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <memory>

namespace mcpsse::detail {

/// Serves `prompts/get` from the prompt registry.
///
/// Errors: an unknown prompt, a missing required argument, a missing `name`, or
/// malformed `arguments` or retry input -> -32602; the handler's `RpcError` as is.
/// Holds references: `prompts` and `options` must outlive it. Thread-safety: `get` may
/// run on many threads at once.
class PromptGets {
public:
    /// Gets prompts of `prompts`; `options` gives `max_input_rounds`.
    PromptGets(const Registry<PromptEntry>& prompts, const ServerOptions& options) : prompts_(prompts), options_(options) {}

    /// `prompts/get`.
    asio::awaitable<nlohmann::json> get(nlohmann::json params, RequestContext& context) const {
        PromptGet get;
        get.name = required_string(params, "name");
        get.arguments = optional_object(params, "arguments");
        const std::shared_ptr<const PromptEntry> entry = prompts_.find(get.name);
        if (!entry) throw RpcError(error_code::invalid_params, "Unknown prompt: " + get.name, {{"name", get.name}});
        for (const auto& argument : entry->prompt.arguments)
            if (argument.required && !get.arguments.contains(argument.name))
                throw RpcError(error_code::invalid_params, "Missing required argument: " + argument.name);
        RetryInput input = retry_input(params, context, options_.state_key);
        auto attempt = [&](const RetryInput& in) { return entry->handler(PromptGet{get.name, get.arguments, in}, context); };
        nlohmann::json result = co_await run_rounds(input, context, options_.max_input_rounds, options_.state_key, attempt);
        finish_result(result, context);
        co_return result;
    }

private:
    const Registry<PromptEntry>& prompts_;
    const ServerOptions& options_;
};

}  // namespace mcpsse::detail
