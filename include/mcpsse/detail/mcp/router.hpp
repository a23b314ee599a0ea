// mcpsse: which MCP endpoint and protocol era a request goes to, decided without I/O.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/sse_transport_options.hpp>
#include <mcpsse/detail/http/media_type.hpp>
#include <mcpsse/detail/http/pipeline.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/uri.hpp>
#include <mcpsse/detail/mcp/context.hpp>
#include <mcpsse/detail/mcp/messages.hpp>
#include <mcpsse/detail/mcp/stream_plan.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// Where a request to the MCP endpoints goes (by path and method).
struct Route {
    enum class Kind {
        not_found,           ///< 404
        method_not_allowed,  ///< 405 with `allow`
        post,                ///< POST to the MCP endpoint: see `PostRoute`
        get,                 ///< GET of the MCP endpoint (standalone stream, resumption)
        remove,              ///< DELETE of the MCP endpoint (ends the session)
        legacy_stream,       ///< GET of the legacy SSE endpoint (2024-11-05)
        legacy_post,         ///< POST to the legacy messages endpoint (2024-11-05)
    } kind = Kind::not_found;
    std::string_view allow;
};

/// Where a POST to the MCP endpoint goes, decided after parsing its body.
struct PostRoute {
    enum class Kind { error, stateless, sessionless, initialize, session } kind = Kind::error;
    int status = 400;                   // error: the HTTP status,
    std::optional<RequestId> error_id;  // the JSON-RPC id, code, message and data
    int rpc_code = error_code::invalid_request;
    std::string error_message;
    nlohmann::json error_data;
    mcpsse::ParseResult parsed;
    std::optional<std::string> meta_version;          // stateless: _meta's revision
    std::optional<std::string_view> header_version;   // MCP-Protocol-Version
    std::shared_ptr<SseSessionState> session;               // session: the one it names
    bool unknown_session = false;  // error 404: the session it names is not held here
};

/// The MCP endpoints' router: `options.mcp_path` (Streamable HTTP, every revision from
/// 2025-03-26, with or without sessions, and 2026-07-28), `options.sse_path` and
/// `options.messages_path` (legacy HTTP+SSE, 2024-11-05; off when `sse_path` is empty).
/// It returns what to do; the era handlers do it.
template <class Conn, class Store>
class Router {
public:
    explicit Router(EraContext<Conn, Store>& context) : ctx_(context) {}

    /// The paths served and their `Allow` values, for the pipeline's preflights.
    [[nodiscard]] static std::vector<Pipeline::Resource> resources(const SseTransportOptions& o) {
        std::vector<Pipeline::Resource> out;
        if (!o.mcp_path.empty()) out.push_back({o.mcp_path, "GET, POST, DELETE, OPTIONS"});
        if (!o.sse_path.empty()) {
            out.push_back({o.sse_path, "GET, OPTIONS"});
            out.push_back({o.messages_path, "POST, OPTIONS"});
        }
        return out;
    }

    /// True when `path` is one of the MCP endpoints (`mcp_path`, and with legacy HTTP+SSE
    /// `sse_path` and `messages_path`).
    [[nodiscard]] static bool serves(const SseTransportOptions& o, std::string_view path) noexcept {
        return (!o.mcp_path.empty() && path == o.mcp_path) || (!o.sse_path.empty() && (path == o.sse_path || path == o.messages_path));
    }

    /// The endpoint a request goes to by path and method.
    [[nodiscard]] Route route(const HttpRequest& req) const {
        const auto& o = ctx_.options;
        const std::string_view path = req.path();
        const std::string_view method = req.method;
        if (path == o.mcp_path) {
            if (method == "POST") return {Route::Kind::post, {}};
            if (method == "GET") return {Route::Kind::get, {}};
            if (method == "DELETE") return {Route::Kind::remove, {}};
            return {Route::Kind::method_not_allowed, o.sessionless ? "POST" : "GET, POST, DELETE"};
        }
        if (!o.sse_path.empty() && path == o.sse_path) {
            if (method == "GET") return {Route::Kind::legacy_stream, {}};
            return {Route::Kind::method_not_allowed, "GET"};
        }
        if (!o.sse_path.empty() && path == o.messages_path) {
            if (method == "POST") return {Route::Kind::legacy_post, {}};
            return {Route::Kind::method_not_allowed, "POST"};
        }
        return {};
    }

    /// The era of a POST to the MCP endpoint: its media types (406, 415), its body
    /// (parsed within `json_limits`; -32700 or -32600 with 400), then 2026-07-28 by
    /// `_meta` or header, sessionless mode, `initialize`, or the session it names (400,
    /// 404, MCP N3, N4).
    [[nodiscard]] PostRoute route_post(const HttpRequest& req) const {
        PostRoute r;
        const auto fail = [&r](int status, std::string message) {
            r.status = status;
            r.error_message = std::move(message);
            return std::move(r);
        };
        if (const auto refusal = refuse_media_types(req)) return fail(refusal->status, std::move(refusal->message));
        r.parsed = json_rpc::parse_messages(req.body, ParseOptions::with(ctx_.options.json_limits, true));
        if (!r.parsed.batch && r.parsed.messages.empty()) {
            auto& e = r.parsed.errors.front();
            r.error_id = std::move(e.id);
            r.rpc_code = e.code;
            r.error_data = std::move(e.data);
            return fail(400, std::move(e.message));
        }
        r.header_version = req.find("mcp-protocol-version");
        if (!r.parsed.batch) {
            r.meta_version = meta_protocol_version(r.parsed.messages.front());
            if (r.meta_version || (r.header_version && protocol_version::is_stateless(*r.header_version))) {
                r.kind = PostRoute::Kind::stateless;
                return r;
            }
        }
        if (ctx_.options.sessionless) {
            r.kind = PostRoute::Kind::sessionless;
            return r;
        }
        if (!r.parsed.batch && is_request(r.parsed.messages.front(), "initialize")) {
            r.kind = PostRoute::Kind::initialize;
            return r;
        }
        auto found = ctx_.sessions.lookup(req, r.header_version, *ctx_.dispatcher);
        r.unknown_session = found.status == 404;
        if (!found.session) return fail(found.status, found.message);
        r.session = std::move(found.session);
        // No touch() here: the exchange ends with one (end_activity), and a notification
        // or response touches the session there.
        r.kind = PostRoute::Kind::session;
        return r;
    }

    /// The refusals that need no body (for a request waiting for `100 Continue`, after
    /// the pipeline let it through): path, method, media types, and the session a POST
    /// names, in the order the handlers check them.
    [[nodiscard]] std::optional<HeadRefusal> refuse_head(const HttpRequest& req) const {
        const Route r = route(req);
        switch (r.kind) {
        case Route::Kind::not_found: return HeadRefusal{404, "Not Found"};
        case Route::Kind::method_not_allowed: return HeadRefusal{405, "Method Not Allowed"};
        case Route::Kind::legacy_post: return refuse_legacy_post_head(req);
        case Route::Kind::post: break;
        default: return std::nullopt;  // GET, DELETE: decided when routed
        }
        if (auto refusal = refuse_media_types(req)) return refusal;
        if (!ctx_.options.sessionless && req.find("mcp-session-id")) {
            const auto header_version = req.find("mcp-protocol-version");
            if (!header_version || !protocol_version::is_stateless(*header_version)) {
                auto found = ctx_.sessions.lookup(req, header_version, *ctx_.dispatcher);
                // A session held elsewhere is restored once the body is read.
                const bool restorable = SessionStore<Store> && found.status == 404;
                if (!found.session && !restorable) return HeadRefusal{found.status, found.message};
            }
        }
        return std::nullopt;
    }

private:
    static std::optional<HeadRefusal> refuse_media_types(const HttpRequest& req) {
        const auto accept = req.find("accept");
        if (!accept || !accepts_both(*accept, "application/json", "text/event-stream"))
            return HeadRefusal{406, "Not Acceptable: Accept must list application/json and text/event-stream"};
        const auto content_type = req.find("content-type");
        if (!content_type || !is_media_type(*content_type, "application/json"))
            return HeadRefusal{415, "Unsupported Media Type: Content-Type must be application/json"};
        return std::nullopt;
    }

    std::optional<HeadRefusal> refuse_legacy_post_head(const HttpRequest& req) const {
        const auto query_id = query_param(req.query(), "sessionId");
        const auto id = query_id ? query_id : query_param(req.query(), "session_id");
        if (!id || id->empty()) return HeadRefusal{400, "Bad Request: sessionId query parameter is required"};
        const auto session = ctx_.sessions.find(*id);
        if (!session || !session->legacy() || !session->admits(req.principal.get())) return HeadRefusal{404, "Not Found: unknown or ended session"};
        const auto content_type = req.find("content-type");
        if (!content_type || !is_media_type(*content_type, "application/json"))
            return HeadRefusal{415, "Unsupported Media Type: Content-Type must be application/json"};
        return std::nullopt;
    }

    EraContext<Conn, Store>& ctx_;
};

}  // namespace mcpsse::detail
