// Tests of include/mcpsse/server.hpp through the session core: registries, pagination,
// errors, capabilities, completion, subscriptions, multi-round-trip requests in both
// eras, 2026-07-28 result members, server/discover, subscriptions/listen, sealed state.
#include <mcpsse/server.hpp>

#include "support/catch.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using nlohmann::json;
using namespace std::chrono_literals;
namespace error_code = mcpsse::error_code;

namespace {

class CaptureSink final : public mcpsse::detail::MessageSink {
public:
    bool send(std::string message) override {
        sent.push_back(json::parse(message));
        return true;
    }
    bool accepts_requests() const noexcept override { return requests; }
    std::vector<json> sent;
    bool requests = true;
};

// One session (session-based, or stateless when `version` is 2026-07-28) driving a
// dispatcher the Server installed into.
struct Harness {
    asio::io_context io;
    mcpsse::Dispatcher dispatcher;
    mcpsse::Server server;
    std::shared_ptr<CaptureSink> sink = std::make_shared<CaptureSink>();
    std::shared_ptr<mcpsse::detail::RpcSession> session;
    std::vector<std::optional<json>> replies;

    explicit Harness(mcpsse::ServerOptions options = {}, std::string version = "2025-11-25",
                     json client_capabilities = json::object())
        : server(std::move(options)) {
        session = std::make_shared<mcpsse::detail::RpcSession>(asio::make_strand(io.get_executor()), dispatcher,
                                                                sink);
        session->set_protocol_version(std::move(version));
        session->set_client_capabilities(std::move(client_capabilities));
    }

    void install() { server.install(dispatcher); }

    std::size_t feed(const std::string& text) {
        auto parsed = mcpsse::json_rpc::parse_messages(text, session->parse_options());
        REQUIRE(parsed.messages.size() == 1);
        const std::size_t slot = replies.size();
        replies.emplace_back();
        asio::co_spawn(
            session->get_executor(),
            [this, slot, m = std::move(parsed.messages[0])]() mutable -> asio::awaitable<void> {
                auto reply = co_await session->async_handle(std::move(m), sink);
                if (reply) replies[slot] = json::parse(*reply);
            },
            asio::detached);
        return slot;
    }

    // Runs handlers until `done` holds (at most ~2 s).
    void run_until(const std::function<bool()>& done) {
        io.restart();
        for (int i = 0; i < 2000 && !done(); ++i) io.run_one_for(1ms);
    }

    json call(const std::string& method, const json& params = json::object(), int id = 1) {
        const auto slot = feed(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
        run_until([&] { return replies[slot].has_value(); });
        REQUIRE(replies[slot].has_value());
        return *replies[slot];
    }
};

mcpsse::Tool tool_named(std::string name) {
    mcpsse::Tool tool;
    tool.name = std::move(name);
    tool.description = "test tool";
    return tool;
}

asio::awaitable<json> ok_tool(json arguments, mcpsse::RequestContext&) {
    co_return mcpsse::tool_text_result("got " + arguments.dump());
}

// A tool that asks for a name (elicitation) before answering.
asio::awaitable<json> asking_tool(mcpsse::ToolCall call, mcpsse::RequestContext&) {
    const auto& answer = call.input.response("who");
    if (answer.is_null()) {
        json requests = {{"who",
                          {{"method", "elicitation/create"},
                           {"params", {{"message", "Name?"}, {"requestedSchema", {{"type", "object"}}}}}}}};
        co_return mcpsse::input_required_result(std::move(requests), std::string("s1"));
    }
    co_return mcpsse::tool_text_result("Hello, " + answer["content"]["name"].get<std::string>() + " (" +
                                       call.input.request_state.value_or("-") + ")");
}

}  // namespace

TEST_CASE("install merges capabilities and keeps the host's members") {
    Harness h;
    h.dispatcher.options().capabilities["experimental"] = {{"x", json::object()}};
    h.dispatcher.options().capabilities["tools"] = {{"listChanged", false}};
    h.install();
    const auto& caps = h.dispatcher.options().capabilities;
    CHECK(caps["experimental"].contains("x"));
    CHECK(caps["tools"]["listChanged"] == false);
    CHECK(caps["resources"]["subscribe"] == true);
    CHECK(caps["resources"]["listChanged"] == true);
    CHECK(caps["prompts"]["listChanged"] == true);
    CHECK(caps.contains("completions"));
    CHECK(caps.contains("logging"));
    CHECK(h.dispatcher.find_request_handler("tools/call") != nullptr);
    CHECK(h.dispatcher.find_request_handler("completion/complete") != nullptr);
}

TEST_CASE("tools/list pages in registration order and rejects bad cursors") {
    mcpsse::ServerOptions options;
    options.page_size = 2;
    Harness h(options);
    for (const char* name : {"c", "a", "b"}) h.server.add_tool(tool_named(name), ok_tool);
    h.install();
    const json first = h.call("tools/list");
    REQUIRE(first["result"]["tools"].size() == 2);
    CHECK(first["result"]["tools"][0]["name"] == "c");
    CHECK(first["result"]["tools"][1]["name"] == "a");
    CHECK(first["result"]["tools"][0]["inputSchema"]["type"] == "object");
    CHECK_FALSE(first["result"].contains("resultType"));  // session-based revision
    REQUIRE(first["result"].contains("nextCursor"));
    const json second = h.call("tools/list", {{"cursor", first["result"]["nextCursor"]}}, 2);
    REQUIRE(second["result"]["tools"].size() == 1);
    CHECK(second["result"]["tools"][0]["name"] == "b");
    CHECK_FALSE(second["result"].contains("nextCursor"));
    CHECK(h.call("tools/list", {{"cursor", "garbage"}}, 3)["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("tools/list", {{"cursor", "o99"}}, 4)["error"]["code"] == error_code::invalid_params);
}

TEST_CASE("the input schema reaches the client verbatim") {
    Harness h;
    auto tool = tool_named("schema");
    tool.input_schema = json::parse(
        R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"a":{"$anchor":"x"}},"additionalProperties":false})");
    h.server.add_tool(tool, ok_tool);
    h.install();
    CHECK(h.call("tools/list")["result"]["tools"][0]["inputSchema"] == tool.input_schema);
}

TEST_CASE("tools/call runs the handler with the arguments object") {
    Harness h;
    h.server.add_tool(tool_named("echo"), ok_tool);
    h.install();
    const json reply = h.call("tools/call", {{"name", "echo"}, {"arguments", {{"x", 1}}}});
    CHECK(reply["result"]["content"][0]["text"] == R"(got {"x":1})");
    CHECK_FALSE(reply["result"].contains("isError"));
}

TEST_CASE("tools/call errors: unknown tool is -32602, RpcError passes, other exceptions become isError") {
    Harness h;
    h.server.add_tool(tool_named("throws"), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw std::runtime_error("disk on fire");
        co_return json{};
    });
    h.server.add_tool(tool_named("rpc"), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw mcpsse::RpcError(error_code::invalid_params, "bad x");
        co_return json{};
    });
    h.install();
    const json unknown = h.call("tools/call", {{"name", "nope"}});
    CHECK(unknown["error"]["code"] == error_code::invalid_params);
    CHECK(unknown["error"]["data"]["name"] == "nope");
    const json failed = h.call("tools/call", {{"name", "throws"}}, 2);
    CHECK(failed["result"]["isError"] == true);
    CHECK(failed["result"]["content"][0]["text"] == "disk on fire");
    CHECK(h.call("tools/call", {{"name", "rpc"}}, 3)["error"]["message"] == "bad x");
    CHECK(h.call("tools/call", json::object(), 4)["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("tools/call", {{"name", "rpc"}, {"arguments", 5}}, 5)["error"]["code"] ==
          error_code::invalid_params);
}

TEST_CASE("resources: static read, template read with variables, unknown URI") {
    Harness h;
    mcpsse::Resource text;
    text.uri = "test://static";
    text.name = "static";
    text.mime_type = "text/plain";
    h.server.add_resource(text, [](mcpsse::ResourceRead read, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json::array({{{"uri", read.uri}, {"text", "hi"}}});
    });
    mcpsse::ResourceTemplate item;
    item.uri_template = "test://item/{id}/data{+rest}";
    item.name = "item";
    h.server.add_resource_template(item, [](mcpsse::ResourceRead read, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"contents", {{{"uri", read.uri}, {"text", read.variables["id"] + "|" + read.variables["rest"]}}}}};
    });
    h.install();
    CHECK(h.call("resources/list")["result"]["resources"][0]["mimeType"] == "text/plain");
    CHECK(h.call("resources/templates/list", json::object(), 2)["result"]["resourceTemplates"][0]["uriTemplate"] ==
          item.uri_template);
    CHECK(h.call("resources/read", {{"uri", "test://static"}}, 3)["result"]["contents"][0]["text"] == "hi");
    CHECK(h.call("resources/read", {{"uri", "test://item/42/data/x/y"}}, 4)["result"]["contents"][0]["text"] ==
          "42|/x/y");
    const json missing = h.call("resources/read", {{"uri", "test://item//data"}}, 5);
    CHECK(missing["error"]["code"] == error_code::resource_not_found);
    CHECK(missing["error"]["data"]["uri"] == "test://item//data");
}

TEST_CASE("URI templates: simple variables stop at '/', reserved ones do not") {
    std::map<std::string, std::string> vars;
    CHECK(mcpsse::detail::match_uri_template("a://{x}/b", "a://1/b", vars));
    CHECK(vars["x"] == "1");
    CHECK_FALSE(mcpsse::detail::match_uri_template("a://{x}/b", "a://1/2/b", vars));
    CHECK(mcpsse::detail::match_uri_template("a://{+x}/b", "a://1/2/b", vars));
    CHECK(vars["x"] == "1/2");
    CHECK_FALSE(mcpsse::detail::match_uri_template("a://{x}", "a://", vars));
}

TEST_CASE("prompts: get with arguments, missing required argument, unknown prompt") {
    Harness h;
    mcpsse::Prompt prompt;
    prompt.name = "greet";
    prompt.arguments = {{"who", "Who to greet", true}};
    h.server.add_prompt(prompt, [](mcpsse::PromptGet get, mcpsse::RequestContext&) -> asio::awaitable<json> {
        json message = {{"role", "user"}, {"content", mcpsse::text_content("Hi " + get.arguments["who"].get<std::string>())}};
        co_return json{{"messages", json::array({message})}};
    });
    h.install();
    const json listed = h.call("prompts/list");
    CHECK(listed["result"]["prompts"][0]["arguments"][0]["required"] == true);
    CHECK(h.call("prompts/get", {{"name", "greet"}, {"arguments", {{"who", "Bo"}}}}, 2)["result"]["messages"][0]
                ["content"]["text"] == "Hi Bo");
    CHECK(h.call("prompts/get", {{"name", "greet"}}, 3)["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("prompts/get", {{"name", "nope"}}, 4)["error"]["code"] == error_code::invalid_params);
}

TEST_CASE("completion/complete uses the argument's completer and caps values at 100") {
    Harness h;
    mcpsse::Prompt prompt;
    prompt.name = "p";
    prompt.arguments = {{"city", "", false}};
    std::map<std::string, mcpsse::Completer> completers;
    completers["city"] = [](std::string_view value, const json& arguments) {
        std::vector<std::string> out;
        for (int i = 0; i < 150; ++i) out.push_back(std::string(value) + std::to_string(i));
        out.front() = arguments.value("country", "?");
        return out;
    };
    h.server.add_prompt(prompt, [](mcpsse::PromptGet, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"messages", json::array()}};
    }, completers);
    h.install();
    const json reply = h.call("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "p"}}},
                                                      {"argument", {{"name", "city"}, {"value", "Pa"}}},
                                                      {"context", {{"arguments", {{"country", "FR"}}}}}});
    const auto& completion = reply["result"]["completion"];
    CHECK(completion["values"].size() == 100);
    CHECK(completion["values"][0] == "FR");
    CHECK(completion["values"][1] == "Pa1");
    CHECK(completion["total"] == 150);
    CHECK(completion["hasMore"] == true);
    const json none = h.call("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "p"}}},
                                                     {"argument", {{"name", "other"}, {"value", ""}}}}, 2);
    CHECK(none["result"]["completion"]["values"] == json::array());
    CHECK(h.call("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "zz"}}},
                                         {"argument", {{"name", "a"}, {"value", ""}}}}, 3)["error"]["code"] ==
          error_code::invalid_params);
}

TEST_CASE("resources/subscribe and unsubscribe record the session's subscriptions") {
    Harness h;
    h.install();
    CHECK(h.call("resources/subscribe", {{"uri", "test://w"}})["result"] == json::object());
    CHECK(h.server.is_subscribed("", "test://w"));
    CHECK(h.call("resources/unsubscribe", {{"uri", "test://w"}}, 2)["result"] == json::object());
    CHECK_FALSE(h.server.is_subscribed("", "test://w"));
}

TEST_CASE("session-based: the Server fulfils an InputRequiredResult with a client request, then retries") {
    Harness h({}, "2025-11-25", {{"elicitation", json::object()}});
    h.server.add_tool(tool_named("ask"), asking_tool);
    h.install();
    const auto slot = h.feed(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ask"}})");
    h.run_until([&] { return !h.sink->sent.empty(); });
    REQUIRE(h.sink->sent.size() == 1);
    const json asked = h.sink->sent[0];
    CHECK(asked["method"] == "elicitation/create");
    CHECK(asked["params"]["message"] == "Name?");
    h.feed(json{{"jsonrpc", "2.0"}, {"id", asked["id"]}, {"result", {{"action", "accept"}, {"content", {{"name", "Ann"}}}}}}
               .dump());
    h.run_until([&] { return h.replies[slot].has_value(); });
    REQUIRE(h.replies[slot].has_value());
    CHECK((*h.replies[slot])["result"]["content"][0]["text"] == "Hello, Ann (s1)");
}

TEST_CASE("an input request needing an undeclared client capability is -32021") {
    Harness h({}, "2025-11-25", json::object());
    h.server.add_tool(tool_named("ask"), asking_tool);
    h.install();
    const json reply = h.call("tools/call", {{"name", "ask"}});
    CHECK(reply["error"]["code"] == error_code::missing_client_capability);
    CHECK(reply["error"]["data"]["requiredCapabilities"].contains("elicitation"));
    CHECK(h.sink->sent.empty());
}

TEST_CASE("2026-07-28: InputRequiredResult goes to the client; the retry carries the answers") {
    Harness h({}, "2026-07-28", {{"elicitation", json::object()}});
    h.server.add_tool(tool_named("ask"), asking_tool);
    h.install();
    const json first = h.call("tools/call", {{"name", "ask"}});
    CHECK(first["result"]["resultType"] == "input_required");
    CHECK(first["result"]["inputRequests"]["who"]["method"] == "elicitation/create");
    CHECK(first["result"]["requestState"] == "s1");
    const json second =
        h.call("tools/call",
               {{"name", "ask"},
                {"inputResponses", {{"who", {{"action", "accept"}, {"content", {{"name", "Bo"}}}}}}},
                {"requestState", "s1"}},
               2);
    CHECK(second["result"]["resultType"] == "complete");
    CHECK(second["result"]["content"][0]["text"] == "Hello, Bo (s1)");
    CHECK(h.sink->sent.empty());  // never a server-to-client request when stateless
    CHECK(h.call("tools/call", {{"name", "ask"}, {"inputResponses", {{"who", 5}}}}, 3)["error"]["code"] ==
          error_code::invalid_params);
    CHECK(h.call("tools/call", {{"name", "ask"}, {"inputResponses", nullptr}}, 4)["error"]["code"] ==
          error_code::invalid_params);
}

TEST_CASE("2026-07-28: results carry resultType; cacheable ones carry ttlMs and cacheScope") {
    mcpsse::ServerOptions options;
    options.cache_ttl_ms = 5000;
    options.cache_scope = "public";
    Harness h(options, "2026-07-28");
    h.server.add_tool(tool_named("t"), ok_tool);
    h.install();
    const json listed = h.call("tools/list");
    CHECK(listed["result"]["resultType"] == "complete");
    CHECK(listed["result"]["ttlMs"] == 5000);
    CHECK(listed["result"]["cacheScope"] == "public");
    const json called = h.call("tools/call", {{"name", "t"}}, 2);
    CHECK(called["result"]["resultType"] == "complete");
    CHECK_FALSE(called["result"].contains("ttlMs"));
    CHECK(h.call("prompts/list", json::object(), 3)["result"]["prompts"] == json::array());
    CHECK(h.call("resources/subscribe", {{"uri", "x://"}}, 4)["error"]["code"] == error_code::method_not_found);
    const json missing = h.call("resources/read", {{"uri", "x://none"}}, 5);
    CHECK(missing["error"]["code"] == error_code::invalid_params);
    CHECK(missing["error"]["data"]["uri"] == "x://none");
}

TEST_CASE("server/discover: versions, capabilities, serverInfo in _meta; not offered to sessions") {
    Harness h({}, "2026-07-28");
    h.dispatcher.options().server_info.name = "disc";
    h.install();
    const json result = h.call("server/discover")["result"];
    CHECK(result["supportedVersions"][0] == "2026-07-28");
    CHECK(result["capabilities"].contains("tools"));
    CHECK(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "disc");
    CHECK(result["resultType"] == "complete");
    CHECK(result.contains("ttlMs"));
    CHECK(result.contains("cacheScope"));
    Harness old;
    old.install();
    CHECK(old.call("server/discover")["error"]["code"] == error_code::method_not_found);
}

TEST_CASE("subscriptions/listen acknowledges, relays only what the filter asks for, tags every message") {
    Harness h({}, "2026-07-28");
    h.install();
    const auto slot = h.feed(
        R"({"jsonrpc":"2.0","id":"L1","method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true}}})");
    h.run_until([&] { return h.server.listener_count() == 1 && !h.sink->sent.empty(); });
    REQUIRE(h.sink->sent.size() == 1);
    CHECK(h.sink->sent[0]["method"] == "notifications/subscriptions/acknowledged");
    CHECK(h.sink->sent[0]["params"]["notifications"]["toolsListChanged"] == true);
    CHECK(h.sink->sent[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1");
    CHECK(h.server.notify_prompts_list_changed() == 0);
    h.server.add_tool(tool_named("new"), ok_tool);  // announces tools/list_changed
    h.run_until([&] { return h.sink->sent.size() == 2; });
    REQUIRE(h.sink->sent.size() == 2);
    CHECK(h.sink->sent[1]["method"] == "notifications/tools/list_changed");
    CHECK(h.sink->sent[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1");
    h.server.close_listeners();
    h.run_until([&] { return h.replies[slot].has_value(); });
    REQUIRE(h.replies[slot].has_value());
    CHECK((*h.replies[slot])["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1");
    CHECK(h.server.listener_count() == 0);
}

TEST_CASE("a cancelled listen stream unregisters and sends no response") {
    Harness h({}, "2026-07-28");
    h.install();
    const auto slot = h.feed(
        R"({"jsonrpc":"2.0","id":3,"method":"subscriptions/listen","params":{"notifications":{}}})");
    h.run_until([&] { return h.server.listener_count() == 1; });
    REQUIRE(h.server.listener_count() == 1);
    asio::post(h.session->get_executor(), [&] { h.session->cancel_request(mcpsse::RequestId{std::int64_t{3}}); });
    h.run_until([&] { return h.server.listener_count() == 0; });
    CHECK(h.server.listener_count() == 0);
    h.run_until([] { return false; });
    CHECK_FALSE(h.replies[slot].has_value());
}

TEST_CASE("sealed request state opens only unaltered") {
    mcpsse::Server server;
    const auto sealed = server.seal_state("round=2");
    CHECK(server.open_state(sealed) == std::optional<std::string>("round=2"));
    CHECK_FALSE(server.open_state(sealed + "-TAMPERED").has_value());
    CHECK_FALSE(server.open_state("round=3" + sealed.substr(7)).has_value());
    mcpsse::Server other;
    CHECK_FALSE(other.open_state(sealed).has_value());
}

TEST_CASE("HMAC-SHA-256 matches RFC 4231 test case 2") {
    CHECK(mcpsse::detail::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
