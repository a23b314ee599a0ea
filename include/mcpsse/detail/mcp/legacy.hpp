// mcpsse: the legacy HTTP+SSE transport (MCP 2024-11-05): a GET stream and POSTed messages.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/detail/http/media_type.hpp>
#include <mcpsse/detail/http/pipeline_io.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/uri.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/mcp/context.hpp>
#include <mcpsse/detail/mcp/replies.hpp>
#include <mcpsse/detail/mcp/stream_plan.hpp>
#include <mcpsse/detail/sse/event.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <string>

namespace mcpsse::detail {

/// The rules of the 2024-11-05 HTTP+SSE transport. `GET sse_path` creates a session
/// and opens its stream, whose first event is `event: endpoint` with
/// `<messages_path>?sessionId=<id>`; the session lives as long as that stream. The
/// stream's response head also carries the id as `Mcp-Session-Id` (the header name of
/// Streamable HTTP), so that a load balancer can learn it from a header and route the
/// POSTs, whose URL names it, to the same instance; clients need not read it. POSTs
/// to that URL (also `session_id=`) get 202 `Accepted`, and their replies go out on the
/// stream as `event: message`. Refusals: 400 (no session id), 404 (unknown session),
/// 415, 400 with -32700/-32600 (bad JSON), 429 (-32050), 503 (session cap).
template <class Conn, class Store>
class LegacyHttpSse {
public:
    explicit LegacyHttpSse(EraContext<Conn, Store>& context) : ctx_(context) {}

    /// GET: a new session and its stream (served by the connection loop), or 503.
    asio::awaitable<GetOutcome> open_stream(const std::shared_ptr<Conn>& c, HttpRequest& req) {
        if (ctx_.sessions.draining()) co_return co_await async_reply_draining(*c, req);
        ClientSlot slot;
        if (!ctx_.client_slot(*c, req, ClientResource::session, slot)) {
            const HttpResponse answer = ClientLimiter::too_many_requests(ClientResource::session);
            co_return co_await async_send_response(*c, answer);
        }
        auto session = ctx_.create_session(*c, true, req.principal);
        session->hold(std::move(slot));
        auto stream = session->standalone_stream(ctx_.options.max_stream_queue_bytes);
        const auto& rpc = session->rpc();
        // Before registration: no other thread can reach the session yet.
        rpc->set_default_sink(stream);
        rpc->set_protocol_version(std::string(protocol_version::v2024_11_05));
        session->set_protocol_version(std::string(protocol_version::v2024_11_05));
        if (!ctx_.sessions.add(session)) {
            session->end();
            co_return co_await async_reply_no_session_room(*c, req);
        }
        std::string endpoint_event;
        const std::string endpoint = ctx_.options.messages_path + "?sessionId=" + session->id();
        append_sse_event(endpoint_event, SseEvent{"endpoint", {}, endpoint, std::nullopt});
        // The same id in a header of the stream's head, for balancers that stick on it
        // (the connection's extra header lines are reset for each request).
        c->response_headers += "Mcp-Session-Id: " + session->id() + "\r\n";
        session->begin_activity();
        co_return StreamPlan{std::move(stream), std::nullopt, false, true, std::move(endpoint_event), session};
    }

    /// POST of one message to the session's messages URL.
    asio::awaitable<bool> post(Conn& c, HttpRequest& req) {
        const auto query_id = query_param(req.query(), "sessionId");
        const auto alt_id = query_id ? query_id : query_param(req.query(), "session_id");
        if (!alt_id || alt_id->empty())
            co_return co_await async_reply_error(c, req, 400, std::nullopt, error_code::invalid_request,
                                                 "Bad Request: sessionId query parameter is required");
        auto session = ctx_.sessions.find(*alt_id);
        if (!session || !session->legacy() || !session->admits(req.principal.get()))
            co_return co_await async_reply_error(c, req, 404, std::nullopt, error_code::invalid_request,
                                                 "Not Found: unknown or ended session");
        const auto content_type = req.find("content-type");
        if (!content_type || !is_media_type(*content_type, "application/json"))
            co_return co_await async_reply_error(c, req, 415, std::nullopt, error_code::invalid_request,
                                                 "Unsupported Media Type: Content-Type must be application/json");
        const auto& rpc = session->rpc();
        mcpsse::ParseResult parsed = json_rpc::parse_messages(req.body, ParseOptions::with(ctx_.options.json_limits, false));
        if (parsed.messages.empty()) {
            const auto& e = parsed.errors.front();
            co_return co_await async_reply_error(c, req, 400, e.id, e.code, e.message, e.data);
        }
        if (auto refusal = ctx_.scope_refusal(c, req, parsed.messages)) co_return co_await async_send_response(c, *refusal);
        if (ctx_.is_call(parsed.messages.front()) && rpc->at_capacity())
            co_return co_await async_reply_busy(c, req, *rpc, parsed.messages.front());
        session->touch();
        auto stream = session->existing_standalone_stream();
        ctx_.spawn_on_session(rpc, std::move(parsed.messages.front()), ctx_.scoped_sink(std::move(stream), req));
        co_return co_await async_write_simple(c, 202, "Accepted", c.response_headers);
    }

private:
    EraContext<Conn, Store>& ctx_;
};

}  // namespace mcpsse::detail
