// async_serve wires a Server to a transport: installs its methods, delivers its change
// notifications (to every session, resources/updated only to subscribers; on stdio to
// the one client) and forgets a session's subscriptions when the session ends.
#include <mcpsse/serve.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/stdio_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/pipe_peer.hpp"
#include "support/sse_test_server.hpp"

#include <future>
#include <optional>
#include <string>
#include <thread>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

mcpsse::Tool make_tool(const std::string& name) {
    mcpsse::Tool tool;
    tool.name = name;
    tool.input_schema = {{"type", "object"}};
    return tool;
}

void add_echo(mcpsse::Server& server, const std::string& name) {
    server.add_tool(make_tool(name), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return mcpsse::tool_text_result("ok");
    });
}

mcpsse::Resource make_resource(const std::string& uri) {
    mcpsse::Resource r;
    r.uri = uri;
    r.name = uri;
    return r;
}

// Reads lines until one whose method is `method` (nullopt after 5 s without it).
std::optional<json> read_until_method(PipePeer& peer, const std::string& method) {
    while (auto line = peer.read_line()) {
        const json m = json::parse(*line, nullptr, false);
        if (m.is_object() && m.value("method", std::string()) == method) return m;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("async_serve on stdio: tools/list works and list_changed and subscribed updates reach the client") {
    PipePeer peer;
    asio::io_context io;
    mcpsse::Server server;
    add_echo(server, "first");
    server.add_resource(make_resource("test://r"), [](mcpsse::ResourceRead, mcpsse::RequestContext&)
                                                       -> asio::awaitable<json> {
        co_return json{{"contents", json::array({{{"uri", "test://r"}, {"text", "x"}}})}};
    });
    mcpsse::Dispatcher dispatcher;
    mcpsse::StdioOptions options;
    options.input_fd = peer.server_input();
    options.output_fd = peer.server_output();
    mcpsse::StdioTransport<asio::any_io_executor> transport{io.get_executor(), options};
    peer.release_server_ends();
    std::promise<void> done;
    mcpsse::async_serve(server, dispatcher, transport, [&](std::exception_ptr) { done.set_value(); });
    std::thread thread([&] { io.run(); });

    peer.send(initialize_request("2025-11-25"));
    REQUIRE(peer.read_line());
    peer.send(rpc_request(2, "tools/list"));
    const auto list = peer.read_line();
    REQUIRE(list);
    CHECK(json::parse(*list)["result"]["tools"][0]["name"] == "first");
    add_echo(server, "second");
    CHECK(read_until_method(peer, "notifications/tools/list_changed"));
    // resources/updated only after the client subscribed.
    CHECK(server.notify_resource_updated("test://r") == 0);
    peer.send(rpc_request(3, "resources/subscribe", {{"uri", "test://r"}}));
    REQUIRE(peer.read_line());
    server.notify_resource_updated("test://r");
    const auto updated = read_until_method(peer, "notifications/resources/updated");
    REQUIRE(updated);
    CHECK((*updated)["params"]["uri"] == "test://r");

    peer.close_input();
    CHECK(done.get_future().wait_for(5s) == std::future_status::ready);
    thread.join();
}

TEST_CASE("async_serve on HTTP: list_changed reaches every GET stream; a session's subscriptions end with it") {
    mcpsse::Server server;
    add_echo(server, "first");
    server.add_resource(make_resource("test://r"), [](mcpsse::ResourceRead, mcpsse::RequestContext&)
                                                       -> asio::awaitable<json> {
        co_return json{{"contents", json::array({{{"uri", "test://r"}, {"text", "x"}}})}};
    });
    mcpsse::Dispatcher dispatcher;
    asio::io_context io;
    mcpsse::SseTransportOptions options;
    options.port = 0;
    mcpsse::SseTransport<asio::any_io_executor> transport{io.get_executor(), options};
    std::promise<void> done;
    mcpsse::async_serve(server, dispatcher, transport, [&](std::exception_ptr) { done.set_value(); });
    std::thread thread([&] { io.run(); });

    HttpClient c(transport.local_port());
    const std::string id = open_session(c);
    REQUIRE(!id.empty());
    HttpClient stream(transport.local_port());
    REQUIRE(stream.send_request("GET", "/mcp", get_headers(id)));
    REQUIRE(stream.read_head().status == 200);
    CHECK(eventually([&] {
        add_echo(server, "more" + std::to_string(std::rand()));
        const auto e = stream.next_event(200ms);
        if (!e) return false;
        const json m = e->json();  // the stream starts with a priming event without data
        return m.is_object() && m.value("method", std::string()) == "notifications/tools/list_changed";
    }));
    auto r = c.request("POST", "/mcp", post_headers(id, "2025-11-25"),
                       rpc_request(5, "resources/subscribe", {{"uri", "test://r"}}).dump());
    REQUIRE(r.status == 200);
    CHECK(server.is_subscribed(id, "test://r"));
    r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", id}});
    CHECK(r.status == 200);
    CHECK(eventually([&] { return !server.is_subscribed(id, "test://r"); }));

    mcpsse::stop_serving(server, transport);
    CHECK(done.get_future().wait_for(10s) == std::future_status::ready);
    thread.join();
}
