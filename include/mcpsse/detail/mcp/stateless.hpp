// mcpsse: stateless Streamable HTTP (MCP 2026-07-28): per-request state and mirrored headers.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/logging_level.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/mcp/context.hpp>
#include <mcpsse/detail/mcp/messages.hpp>
#include <mcpsse/detail/mcp/replies.hpp>
#include <mcpsse/detail/util/base64.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Checks the headers a 2026-07-28 request mirrors from its body: `Mcp-Method` (required
/// on requests; on notifications optional, but a present one must agree), `Mcp-Name` for
/// `tools/call` and `prompts/get` (`params.name`) and `resources/read` (`params.uri`),
/// and that every `Mcp-Param-*` value is a valid plain or `=?base64?...?=` value. The
/// mismatch's message, or nullopt when they agree.
[[nodiscard]] inline std::optional<std::string> check_mirrored_headers(const HttpRequest& req, const Message& message) {
    const std::string_view method = message_method(message);
    const auto header_method = req.find("mcp-method");
    if (!header_method && std::holds_alternative<Request>(message)) return "Header mismatch: Mcp-Method header is required";
    if (header_method && *header_method != method) return "Header mismatch: Mcp-Method does not match the body's method";
    const nlohmann::json* params = message_params(message);
    const char* name_field = method == "tools/call" || method == "prompts/get" ? "name"
                             : method == "resources/read"                      ? "uri"
                                                                               : nullptr;
    if (name_field) {
        const auto header_name = req.find("mcp-name");
        if (!header_name) return "Header mismatch: Mcp-Name header is required for " + std::string(method);
        const auto decoded = decode_mcp_header_value(*header_name);
        std::string body_name;
        if (params && params->is_object())
            if (const auto f = params->find(name_field); f != params->end() && f->is_string())
                body_name = f->template get<std::string>();
        if (!decoded || *decoded != body_name) return "Header mismatch: Mcp-Name does not match params." + std::string(name_field);
    }
    for (const auto& field : req.fields) {
        if (field.name.size() > 10 && iequals(field.name.substr(0, 10), "mcp-param-"))
            if (!decode_mcp_header_value(field.value)) return "Header mismatch: invalid value in " + std::string(field.name);
    }
    return std::nullopt;
}

/// HTTP status of a stateless error reply: 404 for -32601, 400 for header mismatch,
/// unsupported version, missing capability, invalid request and parse errors, else 200.
[[nodiscard]] inline int stateless_error_status(std::string_view reply) {
    const auto value = nlohmann::json::parse(reply, nullptr, false);
    if (!value.is_object() || !value.contains("error")) return 200;
    const auto code = value["error"].value("code", 0);
    if (code == error_code::method_not_found) return 404;
    if (code == error_code::header_mismatch || code == error_code::unsupported_protocol_version ||
        code == error_code::missing_client_capability || code == error_code::invalid_request ||
        code == error_code::parse_error)
        return 400;
    return 200;
}

/// The rules of stateless Streamable HTTP (2026-07-28): a POST whose `params._meta` or
/// `MCP-Protocol-Version` names 2026-07-28 runs without a session, with the version,
/// client capabilities, client info and log level its `_meta` carries;
/// `MCP-Protocol-Version` must equal the `_meta` version, and the mirrored headers must
/// agree with the body (400 with -32020 or -32022); closing its SSE response cancels the
/// handler; server-to-client requests are refused (hosts return input-required results
/// instead); error replies map to HTTP statuses.
template <class Conn, class Store>
class StatelessHttp {
public:
    explicit StatelessHttp(EraContext<Conn, Store>& context) : ctx_(context) {}

    /// Keeps the W3C `traceparent` a request's `_meta` carries for the observers'
    /// report of the request (`RequestInfo::traceparent`); at most 256 bytes are kept.
    static void note_traceparent(Conn& c, const nlohmann::json& meta) {
        const auto trace = meta.find("traceparent");
        if (trace == meta.end() || !trace->is_string()) return;
        const auto& text = trace->get_ref<const std::string&>();
        c.traceparent = std::make_unique<std::string>(text.substr(0, 256));
    }

    /// Answers one stateless message.
    asio::awaitable<bool> answer(const std::shared_ptr<Conn>& c, HttpRequest& req, Message message,
                                 std::optional<std::string> meta_version) {
        std::optional<RequestId> id = request_id_of(message);
        if (message_method(message).empty())
            co_return co_await async_reply_error(*c, req, 400, id, error_code::invalid_request,
                                                 "Invalid Request: only requests and notifications may be sent");
        const auto header_version = req.find("mcp-protocol-version");
        const nlohmann::json* meta = params_meta(message);
        if (!meta_version || !meta->contains("io.modelcontextprotocol/clientCapabilities"))
            co_return co_await async_reply_error(*c, req, 400, id, error_code::invalid_params,
                                                 "Invalid params: _meta must carry io.modelcontextprotocol/protocolVersion "
                                                 "and io.modelcontextprotocol/clientCapabilities");
        if (!header_version || *header_version != *meta_version)
            co_return co_await async_reply_error(*c, req, 400, id, error_code::header_mismatch,
                                                 "Header mismatch: MCP-Protocol-Version must equal "
                                                 "_meta io.modelcontextprotocol/protocolVersion");
        if (!protocol_version::is_stateless(*meta_version) || *meta_version != protocol_version::v2026_07_28) {
            nlohmann::json data = {{"supported", nlohmann::json::array({std::string(protocol_version::v2026_07_28)})},
                                   {"requested", *meta_version}};
            co_return co_await async_reply_error(*c, req, 400, id, error_code::unsupported_protocol_version,
                                                 "Unsupported protocol version", std::move(data));
        }
        if (auto mismatch = check_mirrored_headers(req, message))
            co_return co_await async_reply_error(*c, req, 400, id, error_code::header_mismatch, *mismatch);

        if (ctx_.observers && ctx_.observers->observes_requests()) note_traceparent(*c, *meta);
        auto rpc = ctx_.new_rpc(*c);
        rpc->set_protocol_version(*meta_version);
        rpc->set_client_capabilities(meta->at("io.modelcontextprotocol/clientCapabilities"));
        if (const auto info = meta->find("io.modelcontextprotocol/clientInfo"); info != meta->end())
            rpc->set_client_info(*info);
        // Log messages only when the request asks for them, at its level.
        std::optional<LoggingLevel> log_level;
        if (const auto level = meta->find("io.modelcontextprotocol/logLevel"); level != meta->end() && level->is_string())
            log_level = logging_level_from_string(level->get_ref<const std::string&>());
        rpc->set_log_level(log_level);
        if (!id) {
            // Its state is its own, so no cap counts its handlers; one at a time per
            // connection bounds them.
            co_await ctx_.run_on_session(rpc, std::move(message), req);
            co_return co_await async_write_simple(*c, 202, {}, c->response_headers);
        }
        SseStreamConfig config;
        config.lazy = true;
        config.accepts_requests = false;
        config.max_queue_bytes = ctx_.options.max_stream_queue_bytes;
        auto stream = std::make_shared<SseStream>(config, nullptr);
        // A drain ends listen streams (their clients reconnect elsewhere) and takes no new one.
        const bool listen = message_method(message) == "subscriptions/listen";
        if (listen && ctx_.sessions.draining()) co_return co_await async_reply_draining(*c, req);
        const std::uint64_t listening = listen ? ctx_.listens.add(rpc, *id, stream) : 0;
        ExchangeSpec spec{rpc, stream, nullptr};
        spec.cancel_on_peer_close = true;
        spec.error_status = &stateless_error_status;
        const bool keep = co_await ctx_.exchange(c, req, std::get<Request>(std::move(message)), std::move(spec));
        if (listening) ctx_.listens.remove(listening);
        co_return keep;
    }

private:
    EraContext<Conn, Store>& ctx_;
};

}  // namespace mcpsse::detail
