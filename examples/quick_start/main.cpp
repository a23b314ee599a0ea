#include <mcpsse/mcpsse.hpp>

#include <string>

using nlohmann::json;

int main(int argc, char** argv) {
    mcpsse::Server server;  // registries of tools, resources and prompts, with their MCP methods
    mcpsse::Tool greet;
    greet.name = "greet";
    greet.description = "Greets someone by name.";
    greet.input_schema = {{"type", "object"}, {"required", {"name"}},
                          {"properties", {{"name", {{"type", "string"}}}}}};
    server.add_tool(greet, [](json args, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        const auto name = args.at("name").get<std::string>();
        co_await ctx.async_progress(1, 2, "looking up " + name);  // if the client asked for it
        co_return mcpsse::tool_text_result("Hello, " + name + "!");
    });
    mcpsse::Dispatcher rpc;
    server.install(rpc);  // initialize (declaring tools), tools/list, tools/call, ...

    asio::io_context io;
    mcpsse::SseTransportOptions options;  // 127.0.0.1; Streamable HTTP at /mcp, HTTP+SSE at /sse
    options.port = static_cast<std::uint16_t>(argc > 1 ? std::stoi(argv[1]) : 3000);
    mcpsse::SseTransport<asio::any_io_executor> transport{io.get_executor(), options};
    transport.async_run(rpc, asio::detached);
    io.run();
}
