// mcpsse: a step of the request pipeline that may answer a request before it is routed.
#pragma once

#include <mcpsse/http_message.hpp>

#include <asio/awaitable.hpp>

#include <optional>

namespace mcpsse {

/// One stage of an `SseTransport`'s request pipeline. Every request passes the
/// transport's own stages (the Host and Origin guard, then CORS, which answers
/// preflights), then the host's stages in the order they were added
/// (`SseTransportOptions::stages`), then the host's routes, then the MCP endpoints. A
/// stage either answers the request itself (`HttpResponse`, e.g. 401 or 429; the
/// connection then goes on as after any response) or lets it through (`std::nullopt`).
///
/// Stages see the request's head, peer and TLS state (`HttpRequestHead`); for a request
/// sent with `Expect: 100-continue` they run before its body is read, so that a refusal
/// costs the client no upload (the body is then empty), and they do not run again when
/// the body has arrived. A stage runs once per request.
///
/// `check` runs on the connection's executor and must not block. A stage that needs I/O
/// (e.g. a token introspection on a cache miss) returns true from `suspends()` for that
/// request; the transport then awaits `async_check` instead of calling `check`.
///
/// Thread-safety: with several threads on the context, `check` and `async_check` run
/// concurrently for different connections.
class RequestStage {
public:
    virtual ~RequestStage() = default;

    /// Decides without suspending: an answer, or `std::nullopt` to let the request through.
    virtual std::optional<HttpResponse> check(const HttpRequestHead& request) = 0;

    /// True when this request needs `async_check` (default: never).
    virtual bool suspends(const HttpRequestHead& request) {
        (void)request;
        return false;
    }

    /// Decides, possibly suspending; `request` stays valid until it completes. The default
    /// calls `check`.
    virtual asio::awaitable<std::optional<HttpResponse>> async_check(const HttpRequestHead& request) {
        co_return check(request);
    }
};

}  // namespace mcpsse
