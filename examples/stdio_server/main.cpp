// stdio_server: an MCP server on standard input/output with two tools, `echo` and `add`.
//
// Run it under any MCP client that launches servers as a subprocess, or by hand:
//   printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}' | ./stdio_server
#include <mcpsse/mcpsse.hpp>

#include <asio/io_context.hpp>

#include <cmath>
#include <cstdio>

namespace {

using nlohmann::json;

// Text content result of a tool call (MCP server/tools, CallToolResult).
json text_result(std::string text) {
    return {{"content", json::array({{{"type", "text"}, {"text", std::move(text)}}})}};
}

// Formats a number the way JSON would: 5 -> "5", 5.5 -> "5.5".
std::string format_number(double value) {
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    return json(value).dump();
}

const json tools = json::array({
    {{"name", "echo"},
     {"description", "Returns the text it is given."},
     {"inputSchema",
      {{"type", "object"},
       {"properties", {{"text", {{"type", "string"}, {"description", "Text to echo"}}}}},
       {"required", {"text"}}}}},
    {{"name", "add"},
     {"description", "Adds two numbers."},
     {"inputSchema",
      {{"type", "object"},
       {"properties", {{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}},
       {"required", {"a", "b"}}}}},
});

asio::awaitable<json> call_tool(json params, mcpsse::RequestContext&) {
    const std::string name = params.value("name", "");
    const json args = params.value("arguments", json::object());
    if (name == "echo") {
        if (!args.contains("text") || !args["text"].is_string())
            throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "echo needs a string 'text'");
        co_return text_result(args["text"].get<std::string>());
    }
    if (name == "add") {
        if (!args.contains("a") || !args["a"].is_number() || !args.contains("b") || !args["b"].is_number())
            throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "add needs numbers 'a' and 'b'");
        co_return text_result(format_number(args["a"].get<double>() + args["b"].get<double>()));
    }
    throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "Unknown tool: " + name);
}

}  // namespace

int main() {
    asio::io_context io;
    mcpsse::DispatcherOptions options;
    options.server_info.name = "stdio_server";
    options.capabilities["tools"] = json::object();
    mcpsse::Dispatcher rpc{options};
    rpc.on_request("tools/list", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"tools", tools}};
    });
    rpc.on_request("tools/call", call_tool);

    mcpsse::StdioTransport<asio::any_io_executor> transport{io.get_executor()};
    int status = 0;
    transport.async_run(rpc, [&status](std::exception_ptr error) {
        if (!error) return;
        status = 1;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "stdio_server: %s\n", e.what());
        }
    });
    io.run();
    return status;
}
