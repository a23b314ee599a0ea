// sse_server: an MCP server over HTTP. Streamable HTTP at /mcp (every revision) and the
// legacy HTTP+SSE transport at /sse + /messages, with tools that show progress,
// sampling and elicitation, and a live-progress demo page at / (demo.html, embedded
// in the binary at build time): open http://127.0.0.1:3000/ in a browser.
//
//   sse_server [--host 127.0.0.1] [--port 3000] [--tls-cert FILE --tls-key FILE]
//              [--log-format json|text] [--log-level error|warning|info|debug]
//              [--cors-origin ORIGIN]...
//   curl -s http://127.0.0.1:3000/mcp -H 'Content-Type: application/json'
//        -H 'Accept: application/json, text/event-stream'
//        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
//
// --cors-origin (repeatable; "*" for any) lets pages on those origins call /mcp from a
// browser (SseTransportOptions::cors_origins: preflights answered, Mcp-Session-Id
// exposed). The Origin check still applies: by default only loopback origins pass.
#include "demo_page.hpp"  // generated from demo.html by embed.cmake: mcpsse_example::demo_page

#include <mcpsse/access_log.hpp>
#include <mcpsse/mcpsse.hpp>
#if MCPSSE_EXAMPLE_TLS
#include <mcpsse/tls.hpp>
#endif

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

using nlohmann::json;

json text_result(std::string text) {
    return {{"content", json::array({{{"type", "text"}, {"text", std::move(text)}}})}};
}

json tool(std::string name, std::string description, json properties, json required) {
    return {{"name", std::move(name)},
            {"description", std::move(description)},
            {"inputSchema", {{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}}}};
}

const json tools = json::array({
    tool("echo", "Returns the text it is given.", {{"text", {{"type", "string"}}}}, {"text"}),
    tool("add", "Adds two numbers.", {{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}, {"a", "b"}),
    tool("countdown",
         "Counts down, reporting progress once per step. With drop_after, the server ends the "
         "stream's connection after that step and the client resumes it (SSE polling).",
         {{"steps", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}},
          {"interval_ms", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10000}}},
          {"drop_after", {{"type", "integer"}, {"minimum", 0}}}},
         json::array()),
    tool("build_report",
         "Builds a report in named steps (at most 7), reporting progress once per step: "
         "the message names the step, total is the step count. For the demo page at /.",
         {{"steps", {{"type", "integer"}, {"minimum", 1}, {"maximum", 7}}},
          {"interval_ms", {{"type", "integer"}, {"minimum", 0}, {"maximum", 5000}}}},
         json::array()),
    tool("ask_model", "Asks the client's model (sampling) and returns its answer.",
         {{"prompt", {{"type", "string"}}}}, {"prompt"}),
    tool("ask_user", "Asks the user (elicitation) for their name.", json::object(), json::array()),
});

std::string format_number(double value) {
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    return json(value).dump();
}

asio::awaitable<json> countdown(const json& args, mcpsse::RequestContext& ctx) {
    const int steps = args.value("steps", 5);
    const auto interval = std::chrono::milliseconds(args.value("interval_ms", 1000));
    const int drop_after = args.value("drop_after", 0);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int step = 1; step <= steps; ++step) {
        timer.expires_after(interval);
        co_await timer.async_wait(asio::use_awaitable);  // throws when the request is cancelled
        co_await ctx.async_progress(step, steps, std::to_string(steps - step) + " left");
        if (step == drop_after) ctx.close_stream_connection(std::chrono::milliseconds(100));
    }
    co_return text_result("done after " + std::to_string(steps) + " steps");
}

// The steps of build_report, in order; each progress notification's message is one of them.
constexpr std::array<std::string_view, 7> report_steps{
    "Collecting sources", "Parsing records", "Validating schema", "Computing totals",
    "Rendering charts",   "Compressing output", "Publishing report"};

// Out-of-range arguments are refused with invalid_params (-32602) before any work starts.
int int_argument(const json& args, const char* name, int fallback, int min, int max) {
    const auto it = args.find(name);
    if (it == args.end()) return fallback;
    if (!it->is_number_integer() || it->get<long long>() < min || it->get<long long>() > max)
        throw mcpsse::RpcError(mcpsse::error_code::invalid_params, std::string(name) + " must be an integer from " +
                                                                       std::to_string(min) + " to " + std::to_string(max));
    return it->get<int>();
}

// Waits interval_ms, then reports "step k of n" with the step's name, n times. A
// notifications/cancelled from the client makes the timer's wait throw: the run ends
// there and no response is sent (the access log and /metrics count it as cancelled).
asio::awaitable<json> build_report(const json& args, mcpsse::RequestContext& ctx) {
    const int steps = int_argument(args, "steps", static_cast<int>(report_steps.size()), 1,
                                   static_cast<int>(report_steps.size()));
    const auto interval = std::chrono::milliseconds(int_argument(args, "interval_ms", 800, 0, 5000));
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int step = 1; step <= steps; ++step) {
        timer.expires_after(interval);
        co_await timer.async_wait(asio::use_awaitable);  // throws when the request is cancelled
        co_await ctx.async_progress(step, steps, std::string(report_steps[static_cast<std::size_t>(step - 1)]));
    }
    co_return text_result("report built in " + std::to_string(steps) + " steps");
}

asio::awaitable<json> ask_model(const json& args, mcpsse::RequestContext& ctx) {
    json request = {{"messages", json::array({{{"role", "user"},
                                               {"content", {{"type", "text"}, {"text", args.value("prompt", "")}}}}})},
                    {"maxTokens", 100}};
    json answer = co_await ctx.async_request("sampling/createMessage", std::move(request));
    co_return text_result(answer["content"].value("text", ""));
}

asio::awaitable<json> ask_user(mcpsse::RequestContext& ctx) {
    json request = {{"message", "What is your name?"},
                    {"requestedSchema",
                     {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}}}, {"required", {"name"}}}}};
    json answer = co_await ctx.async_request("elicitation/create", std::move(request));
    if (answer.value("action", "") != "accept") co_return text_result("the user declined");
    co_return text_result("hello, " + answer["content"].value("name", "?"));
}

asio::awaitable<json> call_tool(json params, mcpsse::RequestContext& ctx) {
    const std::string name = params.value("name", "");
    const json args = params.value("arguments", json::object());
    if (name == "echo") co_return text_result(args.value("text", ""));
    if (name == "add") co_return text_result(format_number(args.value("a", 0.0) + args.value("b", 0.0)));
    if (name == "countdown") co_return co_await countdown(args, ctx);
    if (name == "build_report") co_return co_await build_report(args, ctx);
    if (name == "ask_model") co_return co_await ask_model(args, ctx);
    if (name == "ask_user") co_return co_await ask_user(ctx);
    throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "Unknown tool: " + name);
}

}  // namespace

// Serves `rpc` on `transport` until SIGINT, or until a drain that SIGTERM starts ends
// (readiness turns 503, running requests finish; a second signal stops at once).
template <class Transport>
int run(asio::io_context& io, Transport& transport, mcpsse::Dispatcher& rpc, const char* url) {
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(std::error_code, int)> on_signal = [&](std::error_code ec, int signal) {
        if (ec) return;
        if (signal == SIGTERM && !transport.draining()) {
            transport.drain();
            signals.async_wait(on_signal);
            return;
        }
        transport.stop();
    };
    signals.async_wait(on_signal);
    transport.async_run(rpc, [&](std::exception_ptr) { signals.cancel(); });
    std::fprintf(stderr, "sse_server: listening on %s:%u/mcp (legacy: /sse)\n", url,
                 static_cast<unsigned>(transport.local_port()));
    io.run();
    return 0;
}

int main(int argc, char** argv) {
    mcpsse::SseTransportOptions options;
    std::string tls_cert, tls_key;
    mcpsse::AccessLogOptions log;  // an access log on stderr: text at info unless the flags say otherwise
    log.format = mcpsse::LogFormat::text;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--host" && i + 1 < argc) options.host = argv[++i];
        else if (arg == "--port" && i + 1 < argc) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
        else if (arg == "--cors-origin" && i + 1 < argc) options.cors_origins.emplace_back(argv[++i]);
        else if (arg == "--tls-cert" && i + 1 < argc) tls_cert = argv[++i];
        else if (arg == "--tls-key" && i + 1 < argc) tls_key = argv[++i];
        else if (arg == "--log-format" && i + 1 < argc && mcpsse::parse_log_format(argv[i + 1]))
            log.format = *mcpsse::parse_log_format(argv[++i]);
        else if (arg == "--log-level" && i + 1 < argc && mcpsse::logging_level_from_string(argv[i + 1]))
            log.level = *mcpsse::logging_level_from_string(argv[++i]);
        else {
            std::fprintf(stderr, "usage: sse_server [--host ADDRESS] [--port PORT] [--tls-cert FILE --tls-key FILE]\n"
                                 "                  [--log-format json|text] [--log-level error|warning|info|debug]\n"
                                 "                  [--cors-origin ORIGIN]...\n");
            return arg == "--help" ? 0 : 2;
        }
    }
    if (tls_cert.empty() != tls_key.empty()) {
        std::fprintf(stderr, "sse_server: --tls-cert and --tls-key go together\n");
        return 2;
    }

    mcpsse::DispatcherOptions rpc_options;
    rpc_options.server_info.name = "sse_server";
    rpc_options.capabilities["tools"] = json::object();
    mcpsse::Dispatcher rpc{rpc_options};
    rpc.on_request("tools/list", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"tools", tools}};
    });
    rpc.on_request("tools/call", call_tool);

    // The demo page (GET /): same origin as /mcp, so the default Origin check (loopback
    // origins) accepts its requests and its scripts can read Mcp-Session-Id without CORS.
    mcpsse::HttpRoute page;
    page.method = "GET";
    page.path = "/";
    page.handler = [](const mcpsse::HttpRequestHead&) -> asio::awaitable<mcpsse::HttpResponse> {
        mcpsse::HttpResponse response;
        response.status = 200;
        response.content_type = "text/html; charset=utf-8";
        response.body.assign(mcpsse_example::demo_page.data(), mcpsse_example::demo_page.size());
        co_return response;
    };
    options.routes.push_back(std::move(page));

    options.observers.push_back(std::make_shared<mcpsse::AccessLog>(std::move(log)));
    options.operations.health_path = "/healthz";    // liveness
    options.operations.readiness_path = "/readyz";  // readiness (503 while draining)
    options.operations.metrics_path = "/metrics";   // Prometheus

    asio::io_context io;
    const std::string url = (tls_cert.empty() ? "http://" : "https://") + options.host;
    if (!tls_cert.empty()) {
#if MCPSSE_EXAMPLE_TLS
        mcpsse::TlsOptions tls;
        tls.certificate_chain_file = tls_cert;
        tls.private_key_file = tls_key;
        mcpsse::TlsSseTransport<asio::any_io_executor> transport{io.get_executor(), options, mcpsse::Tls{tls}};
        return run(io, transport, rpc, url.c_str());
#else
        std::fprintf(stderr, "sse_server: built without TLS (OpenSSL was not found)\n");
        return 2;
#endif
    }
    mcpsse::SseTransport<asio::any_io_executor> transport{io.get_executor(), options};
    return run(io, transport, rpc, url.c_str());
}
