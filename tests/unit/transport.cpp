// Tests of include/mcpsse/transport.hpp: both transports model the concept, and one
// generic host function template serves MCP over either.
#include <mcpsse/transport.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/stdio_transport.hpp>

#include "support/catch.hpp"
#include "support/pipe_peer.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <future>
#include <string>
#include <thread>

using nlohmann::json;

static_assert(mcpsse::Transport<mcpsse::StdioTransport<asio::any_io_executor>>);
static_assert(mcpsse::Transport<mcpsse::StdioTransport<asio::io_context::executor_type>>);
static_assert(mcpsse::Transport<mcpsse::SseTransport<asio::any_io_executor>>);
static_assert(mcpsse::Transport<mcpsse::SseTransport<asio::io_context::executor_type>>);
static_assert(!mcpsse::Transport<int>);

namespace {

// What a host writes once and reuses for any transport: register its handlers, then
// serve until the transport ends.
template <mcpsse::Transport T>
asio::awaitable<void> serve(T& transport, mcpsse::Dispatcher& dispatcher) {
    dispatcher.on_request("whoami", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return json{{"session", std::string(ctx.session_id())}, {"version", std::string(ctx.protocol_version())}};
    });
    co_await transport.async_run(dispatcher, asio::use_awaitable);
}

std::string initialize_body() {
    return json{{"jsonrpc", "2.0"},
                {"id", 1},
                {"method", "initialize"},
                {"params",
                 {{"protocolVersion", "2025-06-18"},
                  {"capabilities", json::object()},
                  {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}}
        .dump();
}

// One HTTP/1.1 POST on a fresh connection; returns the whole response (Connection: close).
std::string post(std::uint16_t port, const std::string& body, const std::string& extra_headers = {}) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string request = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
                                extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::write(socket, asio::buffer(request));
    std::string response;
    std::error_code ec;
    asio::read(socket, asio::dynamic_buffer(response), ec);
    return response;
}

std::string header_value(const std::string& response, const std::string& name) {
    const auto at = response.find(name + ": ");
    if (at == std::string::npos) return {};
    const auto start = at + name.size() + 2;
    return response.substr(start, response.find("\r\n", start) - start);
}

json body_of(const std::string& response) { return json::parse(response.substr(response.find("\r\n\r\n") + 4)); }

}  // namespace

TEST_CASE("one generic host function serves MCP over StdioTransport") {
    mcpsse_test::PipePeer peer;
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    mcpsse::StdioOptions options;
    options.input_fd = peer.server_input();
    options.output_fd = peer.server_output();
    mcpsse::StdioTransport<asio::any_io_executor> transport(io.get_executor(), options);
    peer.release_server_ends();
    std::promise<std::exception_ptr> done;
    asio::co_spawn(io, serve(transport, dispatcher), [&](std::exception_ptr e) { done.set_value(e); });
    std::thread runner([&] { io.run(); });

    peer.write(initialize_body() + "\n");
    CHECK(peer.receive()["result"]["protocolVersion"] == "2025-06-18");
    peer.send({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "whoami"}});
    const json reply = peer.receive();
    CHECK(reply["result"]["version"] == "2025-06-18");
    CHECK(reply["result"]["session"] == "");
    peer.close_input();
    auto finished = done.get_future();
    REQUIRE(finished.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    CHECK(finished.get() == nullptr);
    runner.join();
}

TEST_CASE("the same generic host function serves MCP over SseTransport") {
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    mcpsse::SseTransportOptions options;
    options.port = 0;
    mcpsse::SseTransport<asio::any_io_executor> transport(io.get_executor(), options);
    const auto port = transport.local_port();
    REQUIRE(port != 0);
    std::promise<std::exception_ptr> done;
    asio::co_spawn(io, serve(transport, dispatcher), [&](std::exception_ptr e) { done.set_value(e); });
    std::thread runner([&] { io.run(); });

    const std::string init = post(port, initialize_body());
    REQUIRE(init.rfind("HTTP/1.1 200", 0) == 0);
    const std::string session = header_value(init, "Mcp-Session-Id");
    REQUIRE(session.size() == 32);
    const std::string reply =
        post(port, json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "whoami"}}.dump(), "Mcp-Session-Id: " + session + "\r\n");
    REQUIRE(reply.rfind("HTTP/1.1 200", 0) == 0);
    const json result = body_of(reply)["result"];
    CHECK(result["session"] == session);
    CHECK(result["version"] == "2025-06-18");

    transport.stop();
    auto finished = done.get_future();
    REQUIRE(finished.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(finished.get() == nullptr);
    runner.join();
}
