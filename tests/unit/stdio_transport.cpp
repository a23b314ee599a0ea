// Tests of include/mcpsse/stdio_transport.hpp over real pipes.
#include <mcpsse/stdio_transport.hpp>

#include "support/catch.hpp"
#include "support/pipe_peer.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

using nlohmann::json;
using namespace std::chrono_literals;
using mcpsse_test::PipePeer;

namespace {

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::use_awaitable);
}

// Runs a StdioTransport on its own thread against a PipePeer.
struct Server {
    PipePeer peer;
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    std::optional<mcpsse::StdioTransport<asio::io_context::executor_type>> transport;
    std::promise<std::exception_ptr> done;
    std::shared_future<std::exception_ptr> finished = done.get_future().share();
    std::thread thread;

    void start(mcpsse::StdioOptions options = {}) {
        options.input_fd = peer.server_input();
        options.output_fd = peer.server_output();
        transport.emplace(io.get_executor(), options);
        peer.release_server_ends();
        transport->async_run(dispatcher, [this](std::exception_ptr e) { done.set_value(e); });
        thread = std::thread([this] { io.run(); });
    }

    bool wait_finished(std::chrono::milliseconds timeout = 5s) {
        return finished.wait_for(timeout) == std::future_status::ready;
    }

    ~Server() {
        peer.close_input();
        if (thread.joinable()) {
            if (!wait_finished()) io.stop();
            thread.join();
        }
    }
};

json request(int id, const std::string& method, const json& params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

}  // namespace

TEST_CASE("stdio: initialize and a request round trip, one message per line") {
    Server s;
    s.dispatcher.on_request("add", [](json p, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"sum", p["a"].get<int>() + p["b"].get<int>()}};
    });
    s.start();
    s.peer.send(request(1, "initialize", {{"protocolVersion", "2024-11-05"}, {"capabilities", json::object()},
                                          {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    const json init = s.peer.receive();
    CHECK(init["id"] == 1);
    CHECK(init["result"]["protocolVersion"] == "2024-11-05");
    s.peer.send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    s.peer.send(request(2, "add", {{"a", 2}, {"b", 3}}));
    const json sum = s.peer.receive();
    CHECK(sum["id"] == 2);
    CHECK(sum["result"]["sum"] == 5);
}

TEST_CASE("stdio: invalid JSON and invalid UTF-8 get -32700 and the session goes on") {
    Server s;
    s.start();
    s.peer.write("{not json\n");
    CHECK(s.peer.receive()["error"]["code"] == mcpsse::error_code::parse_error);
    s.peer.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xc3\x28\"}\n");
    CHECK(s.peer.receive()["error"]["code"] == mcpsse::error_code::parse_error);
    s.peer.send(request(2, "ping"));
    CHECK(s.peer.receive()["id"] == 2);
}

TEST_CASE("stdio: CRLF line ends are accepted and blank lines ignored") {
    Server s;
    s.start();
    s.peer.write("\r\n  \n{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\r\n");
    const json reply = s.peer.receive();
    CHECK(reply["id"] == 5);
    CHECK(reply["result"] == json::object());
}

TEST_CASE("stdio: a message over the size limit is discarded with -32600 and data.max_bytes") {
    Server s;
    mcpsse::StdioOptions options;
    options.max_message_bytes = 1000;
    s.start(options);
    const std::string big = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" + std::string(5000, 'x') + "\"}}\n";
    s.peer.write(big);
    const json error = s.peer.receive();
    CHECK(error["error"]["code"] == mcpsse::error_code::invalid_request);
    CHECK(error["error"]["data"]["max_bytes"] == 1000);
    CHECK_FALSE(error.contains("id"));
    s.peer.send(request(2, "ping"));
    CHECK(s.peer.receive()["id"] == 2);
}

TEST_CASE("stdio: concurrent requests are all answered, each reply a whole line") {
    Server s;
    s.dispatcher.on_request("work", [](json p, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        const int n = p["n"].get<int>();
        co_await sleep_for(std::chrono::milliseconds(n % 7));
        co_await ctx.async_log(mcpsse::LoggingLevel::info, std::string(200, 'l'));
        co_return json{{"n", n}, {"pad", std::string(static_cast<std::size_t>(n) * 10, 'p')}};
    });
    constexpr int count = 200;
    mcpsse::StdioOptions options;
    options.max_requests_in_flight = count;  // all at once (the cap has its own test)
    s.start(options);
    std::string burst;
    for (int i = 0; i < count; ++i) burst += request(i, "work", {{"n", i}}).dump() + "\n";
    s.peer.write(burst);
    std::set<int> answered;
    int logs = 0;
    while (answered.size() < count) {
        const auto line = s.peer.read_line();
        REQUIRE(line.has_value());
        const json message = json::parse(*line);  // throws if two messages were mixed
        if (message.contains("method")) {
            ++logs;
            continue;
        }
        CHECK(message["result"]["n"] == message["id"]);
        answered.insert(message["id"].get<int>());
    }
    CHECK(logs == count);
}

TEST_CASE("stdio: end of input ends the run after running handlers finish and write") {
    Server s;
    s.dispatcher.on_request("slow", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_await sleep_for(150ms);
        co_return json{{"done", true}};
    });
    s.start();
    s.peer.send(request(1, "slow"));
    s.peer.close_input();
    CHECK_FALSE(s.wait_finished(50ms));  // still working
    REQUIRE(s.wait_finished(5s));
    CHECK(s.finished.get() == nullptr);
    const json reply = s.peer.receive(1s);
    CHECK(reply["result"]["done"] == true);
}

TEST_CASE("stdio: stop() from another thread ends the run gracefully") {
    Server s;
    s.start();
    s.peer.send(request(1, "ping"));
    CHECK(s.peer.receive()["id"] == 1);
    s.transport->stop();
    REQUIRE(s.wait_finished(5s));
    CHECK(s.finished.get() == nullptr);
}

TEST_CASE("stdio: a handler's request to the client is answered through the same pipes") {
    Server s;
    s.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return co_await ctx.async_request("roots/list", json::object(), 5s);
    });
    s.start();
    s.peer.send(request(7, "ask"));
    const json outbound = s.peer.receive();
    REQUIRE(outbound["method"] == "roots/list");
    s.peer.send({{"jsonrpc", "2.0"}, {"id", outbound["id"]}, {"result", {{"roots", json::array()}}}});
    const json reply = s.peer.receive();
    CHECK(reply["id"] == 7);
    CHECK(reply["result"]["roots"] == json::array());
}

TEST_CASE("stdio: end of input fails the handler's pending request to the client with -32000") {
    Server s;
    s.dispatcher.on_request("ask", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        co_return co_await ctx.async_request("roots/list", json::object(), 30s);
    });
    s.start();
    s.peer.send(request(8, "ask"));
    CHECK(s.peer.receive()["method"] == "roots/list");
    s.peer.close_input();
    const json reply = s.peer.receive();
    CHECK(reply["error"]["code"] == mcpsse::error_code::connection_closed);
    CHECK(s.wait_finished(5s));
}

TEST_CASE("stdio: notifications/cancelled stops a request; no response is written") {
    Server s;
    std::atomic<bool> aborted{false};
    s.dispatcher.on_request("slow", [&aborted](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        try {
            co_await sleep_for(30s);
        } catch (const std::system_error&) {
            aborted = true;
            throw;
        }
        co_return json::object();
    });
    s.start();
    s.peer.send(request(9, "slow"));
    std::this_thread::sleep_for(20ms);
    s.peer.send({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 9}}}});
    s.peer.send(request(10, "ping"));
    const json reply = s.peer.receive();
    CHECK(reply["id"] == 10);  // the cancelled request wrote nothing before the ping's reply
    s.peer.close_input();
    REQUIRE(s.wait_finished(5s));
    CHECK(aborted);
    CHECK_FALSE(s.peer.read_line(100ms).has_value());
}

TEST_CASE("L1: a line nested deeper than json_limits.max_depth is answered with -32700 and reading goes on") {
    Server s;
    s.dispatcher.on_request("echo", [](json p, mcpsse::RequestContext&) -> asio::awaitable<json> { co_return p; });
    s.start();
    const std::string deep = std::string(150'000, '[') + std::string(150'000, ']');
    s.peer.write(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":)" + deep + "}}\n");
    const json refused = s.peer.receive();
    CHECK(refused["error"]["code"] == -32700);
    CHECK(refused["error"]["data"]["limit"] == "max_depth");
    s.peer.send(request(2, "echo", {{"x", 1}}));
    const json echo = s.peer.receive();
    CHECK(echo["result"]["x"] == 1);
}

TEST_CASE("L3: max_requests_in_flight: a request over the cap is answered -32050; cancellations still work") {
    Server s;
    std::atomic<int> started{0};
    s.dispatcher.on_request("block", [&started](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        ++started;
        co_await sleep_for(60s);
        co_return json::object();
    });
    mcpsse::StdioOptions options;
    options.max_requests_in_flight = 2;
    s.start(options);
    s.peer.send(request(1, "block"));
    s.peer.send(request(2, "block"));
    s.peer.send(request(3, "block"));
    const json refused = s.peer.receive();
    CHECK(refused["id"] == 3);
    CHECK(refused["error"]["code"] == mcpsse::error_code::too_many_requests);
    CHECK(refused["error"]["data"]["max_in_flight"] == 2);
    CHECK(started.load() == 2);
    // Cancelling one makes room.
    s.peer.send({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 1}}}});
    s.peer.send(request(4, "ping"));
    CHECK(s.peer.receive()["id"] == 4);
}

TEST_CASE("L2: request_handler_timeout answers -32001 when a handler runs too long") {
    Server s;
    s.dispatcher.on_request("block", [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_await sleep_for(60s);
        co_return json::object();
    });
    mcpsse::StdioOptions options;
    options.request_handler_timeout = std::chrono::milliseconds(100);
    s.start(options);
    s.peer.send(request(5, "block"));
    const json reply = s.peer.receive();
    CHECK(reply["id"] == 5);
    CHECK(reply["error"]["code"] == mcpsse::error_code::request_timeout);
}
