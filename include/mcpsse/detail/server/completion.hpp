// mcpsse internal: `completion/complete` of `Server`: argument suggestions from the
// completers of prompts and resource templates.
#pragma once

#include <mcpsse/completer.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/server/catalog.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Serves `completion/complete`: `ref/prompt` asks the prompt's completer for the
/// argument, `ref/resource` the template's for the variable (a fixed resource, or a
/// reference without a completer for that name, completes nothing). At most 100 values
/// are returned, with `total` and `hasMore`.
///
/// Errors: an unknown `ref.type` or reference, a missing `argument.name`, or malformed
/// `ref`, `argument` or `context` -> -32602; what the completer throws. Holds a
/// reference: `catalog` must outlive it. Thread-safety: `complete` may run on many
/// threads at once; the completer is called without any lock.
class Completion {
public:
    /// Completes from the completers of `catalog`'s prompts and templates.
    explicit Completion(const Catalog& catalog) : catalog_(catalog) {}

    /// `completion/complete`.
    asio::awaitable<nlohmann::json> complete(nlohmann::json params, RequestContext& context) const {
        const auto ref = optional_object(params, "ref");
        const auto argument = optional_object(params, "argument");
        const auto type = ref.value("type", std::string());
        const auto name = required_string(argument, "name");
        const auto value = argument.value("value", std::string());
        const auto context_arguments = optional_object(optional_object(params, "context"), "arguments");
        Completer completer;
        bool found = false;
        if (type == "ref/prompt") {
            if (const auto entry = catalog_.prompts.find(ref.value("name", std::string()))) {
                found = true;
                completer = completer_for(entry->completers, name);
            }
        } else if (type == "ref/resource") {
            const auto uri = ref.value("uri", std::string());
            if (const auto entry = catalog_.templates.find(uri)) {
                found = true;
                completer = completer_for(entry->completers, name);
            }
            if (catalog_.resources.contains(uri)) found = true;
        } else {
            throw RpcError(error_code::invalid_params, "Invalid params: unknown ref type");
        }
        if (!found) throw RpcError(error_code::invalid_params, "Invalid params: unknown reference");
        std::vector<std::string> values;
        if (completer) values = completer(value, context_arguments);
        const std::size_t total = values.size();
        if (values.size() > 100) values.resize(100);
        nlohmann::json completion = {{"values", values}, {"total", total}, {"hasMore", total > values.size()}};
        nlohmann::json result = {{"completion", std::move(completion)}};
        finish_result(result, context);
        co_return result;
    }

private:
    static Completer completer_for(const std::map<std::string, Completer>& completers, const std::string& name) {
        const auto it = completers.find(name);
        return it == completers.end() ? Completer() : it->second;
    }

    const Catalog& catalog_;
};

}  // namespace mcpsse::detail
