// mcpsse internal: multi-round-trip requests (MCP 2026-07-28 basic/utilities/mrtr):
// reading a retry's input, checking an `InputRequiredResult`, and running a handler's
// rounds in either protocol era.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/result_builders.hpp>
#include <mcpsse/retry_input.hpp>
#include <mcpsse/detail/server/request_state.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace mcpsse::detail {

/// Fills `input` from `params.inputResponses` and `params.requestState`, leaving what is
/// absent as it was. With a principal (an authorizing transport), the `requestState`
/// must be bound to its subject (`bind_state` under `key`, done by `run_rounds`) and is
/// unbound here. Errors: throws `RpcError` -32602 when `inputResponses` is not an object
/// of objects, `requestState` is not a string, or it was issued to another principal.
/// Thread-safety: the caller must own `input`.
inline void read_retry_input(const nlohmann::json& params, RetryInput& input, const RequestContext& context,
                             std::string_view key) {
    if (const auto it = params.find("inputResponses"); it != params.end()) {
        if (!it->is_object())
            throw RpcError(error_code::invalid_params, "Invalid params: inputResponses must be an object");
        for (auto r = it->begin(); r != it->end(); ++r)
            if (!r->is_object())
                throw RpcError(error_code::invalid_params, "Invalid params: inputResponses." + r.key() + " must be an object");
        input.responses = *it;
    }
    if (const auto it = params.find("requestState"); it != params.end()) {
        if (!it->is_string()) throw RpcError(error_code::invalid_params, "Invalid params: requestState must be a string");
        input.request_state = it->get<std::string>();
        if (const Principal* p = context.principal()) {
            auto state = unbind_state(key, p->subject, *input.request_state);
            if (!state) throw RpcError(error_code::invalid_params, "Invalid params: requestState was not issued to this client");
            input.request_state = std::move(*state);
        }
    }
}

/// The retry input of `params` (empty on a first attempt). Errors: as `read_retry_input`.
[[nodiscard]] inline RetryInput retry_input(const nlohmann::json& params, const RequestContext& context,
                                            std::string_view key) {
    RetryInput input;
    read_retry_input(params, input, context, key);
    return input;
}

/// The client capability an input request of `method` needs, as a `ClientCapabilities`
/// object (`sampling/createMessage`, `elicitation/create`, `roots/list`); null for any
/// other method, which a server may not ask for.
[[nodiscard]] inline nlohmann::json capability_for(std::string_view method) {
    if (method == "sampling/createMessage") return {{"sampling", nlohmann::json::object()}};
    if (method == "elicitation/create") return {{"elicitation", nlohmann::json::object()}};
    if (method == "roots/list") return {{"roots", nlohmann::json::object()}};
    return nullptr;
}

/// Checks an `InputRequiredResult` a handler returned. Errors: throws `RpcError` -32603
/// when `inputRequests` is missing, empty or holds a malformed request or a method
/// `capability_for` does not know (a handler bug), and -32021 (`missing_capability_error`)
/// when a request needs a capability the client of `context` did not declare.
inline void check_input_requests(const nlohmann::json& result, const RequestContext& context) {
    const auto it = result.find("inputRequests");
    if (it == result.end() || !it->is_object() || it->empty())
        throw RpcError(error_code::internal_error, "Internal error: InputRequiredResult without inputRequests");
    nlohmann::json missing = nlohmann::json::object();
    const auto& declared = context.client_capabilities();
    for (auto r = it->begin(); r != it->end(); ++r) {
        if (!r->is_object() || !r->contains("method") || !(*r)["method"].is_string())
            throw RpcError(error_code::internal_error, "Internal error: malformed input request");
        const auto needed = capability_for((*r)["method"].get_ref<const std::string&>());
        if (needed.is_null()) throw RpcError(error_code::internal_error, "Internal error: unsupported input request method");
        for (auto c = needed.begin(); c != needed.end(); ++c)
            if (!declared.is_object() || !declared.contains(c.key())) missing[c.key()] = c.value();
    }
    if (!missing.empty()) throw missing_capability_error(std::move(missing));
}

/// Runs `attempt(input)` until it returns a final result, which it returns.
///
/// A stateless (2026-07-28) request: an `InputRequiredResult` goes back to the client
/// as the result, which retries with the answers. A session-based request: the server
/// asks the client itself, one `RequestContext::async_request` per input request, and
/// calls `attempt` again with the answers and the result's `requestState`; `input`
/// becomes each next round's, so it holds the final round's input at the end.
///
/// `attempt(const RetryInput&)` returns the handler's awaitable itself rather than a
/// coroutine of its own (one coroutine frame fewer per call). Errors: as
/// `check_input_requests`; -32603 after `max_rounds` rounds of input on a session;
/// whatever `attempt` or the client's answers throw. A `requestState` going back to a
/// client with a principal is bound to its subject under `key` (see `read_retry_input`).
/// Thread-safety: runs on the request's executor; the caller must own `input` and
/// `context` for its duration.
template <class Attempt>
asio::awaitable<nlohmann::json> run_rounds(RetryInput& input, RequestContext& context, int max_rounds, std::string_view key,
                                           Attempt attempt) {
    for (int round = 0;; ++round) {
        nlohmann::json result = co_await attempt(input);
        if (!is_input_required(result)) co_return result;
        check_input_requests(result, context);
        if (stateless(context)) {
            const auto s = result.find("requestState");
            if (const Principal* p = context.principal(); p && s != result.end() && s->is_string())
                *s = bind_state(key, p->subject, s->get_ref<const std::string&>());
            co_return result;
        }
        if (round >= max_rounds) throw RpcError(error_code::internal_error, "Internal error: too many input rounds");
        RetryInput next;
        for (auto r = result["inputRequests"].begin(); r != result["inputRequests"].end(); ++r) {
            std::string method = (*r)["method"].get<std::string>();
            nlohmann::json request_params = r->value("params", nlohmann::json::object());
            nlohmann::json answer = co_await context.async_request(std::move(method), std::move(request_params));
            next.responses[r.key()] = std::move(answer);
        }
        if (const auto s = result.find("requestState"); s != result.end() && s->is_string())
            next.request_state = s->get<std::string>();
        input = std::move(next);
    }
}

}  // namespace mcpsse::detail
