// mcpsse: a route of the host's own (e.g. GET /health) on the MCP server's port.
#pragma once

#include <mcpsse/http_message.hpp>

#include <asio/awaitable.hpp>

#include <functional>
#include <string>

namespace mcpsse {

/// A route of the host's own, served on the transport's port before the MCP endpoints
/// (`SseTransportOptions::routes`): requests whose method and path (without the query)
/// equal `method` and `path` exactly are answered by `handler`. A request for the path
/// with another method gets 405 with `Allow` listing the route's methods; `OPTIONS`
/// gets a CORS preflight answer like the MCP endpoints. Routes run after the request
/// pipeline's stages (Host/Origin guard, CORS, the host's stages), so they get the same
/// protection. The handler runs on the connection's executor; it may suspend (the
/// connection waits) and must not block. An exception thrown by it is answered with
/// 500. Responses carry `Cache-Control: no-store` unless the handler sets another.
struct HttpRoute {
    /// The method token, e.g. "GET" (case-sensitive, RFC 9110 section 9.1).
    std::string method;
    /// The exact path, e.g. "/health".
    std::string path;
    /// Answers the request.
    std::function<asio::awaitable<HttpResponse>(const HttpRequestHead&)> handler;
};

}  // namespace mcpsse
