// mcpsse_bench_echo: the stdio MCP server that every bridge of benchmarks/bridge.sh
// serves over HTTP. One tool, `echo`, answers its `text` argument back as text content;
// nothing else (tools/list, ping and the lifecycle come from mcpsse's Dispatcher).
//
// It is deliberately tiny so that the child is not the bottleneck of a bridge
// benchmark and so that 1,000 of them (one per session in the memory row) fit: one
// thread, one io_context, stdin/stdout through mcpsse::StdioTransport, nothing logged.
//
//   printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}' | mcpsse_bench_echo
#include <mcpsse/mcpsse.hpp>

#include <asio/io_context.hpp>

#include <cstdio>

namespace {

using nlohmann::json;

// tools/list result: built once, returned by copy.
const json& tool_list() {
    static const json tools = {
        {"tools",
         json::array({{{"name", "echo"},
                       {"description", "Returns the text it is given."},
                       {"inputSchema",
                        {{"type", "object"},
                         {"properties", {{"text", {{"type", "string"}}}}},
                         {"required", {"text"}}}}}})}};
    return tools;
}

// tools/call: only `echo` with a string `text`; anything else is invalid params (-32602).
asio::awaitable<json> call_tool(json params, mcpsse::RequestContext&) {
    const auto name = params.find("name");
    if (name == params.end() || *name != "echo")
        throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "unknown tool (only 'echo' exists)");
    const auto args = params.find("arguments");
    if (args == params.end() || !args->is_object() || !args->contains("text") || !(*args)["text"].is_string())
        throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "echo needs a string 'text'");
    json content = json::array({{{"type", "text"}, {"text", std::move((*args)["text"])}}});
    co_return json{{"content", std::move(content)}};
}

}  // namespace

int main() {
    asio::io_context io(1);  // one thread: no locking inside Asio
    mcpsse::DispatcherOptions options;
    options.server_info.name = "mcpsse_bench_echo";
    options.server_info.version = "1.0.0";
    options.capabilities["tools"] = json::object();
    mcpsse::Dispatcher rpc{options};
    rpc.on_request("tools/list", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> { co_return tool_list(); });
    rpc.on_request("tools/call", call_tool);

    mcpsse::StdioTransport<asio::any_io_executor> transport{io.get_executor()};
    int status = 0;
    transport.async_run(rpc, [&status](std::exception_ptr error) {
        if (!error) return;  // end of input: a normal exit
        status = 1;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "mcpsse_bench_echo: %s\n", e.what());
        }
    });
    io.run();
    return status;
}
