// Tests of include/mcpsse/server.hpp through the session core: registries, pagination,
// errors, capabilities, completion, subscriptions, multi-round-trip requests in both
// eras, 2026-07-28 result members, server/discover, subscriptions/listen, sealed state,
// Mcp-Param header checks (x-mcp-header) and the tasks extension (SEP-2663).
#include <mcpsse/server.hpp>

#include "support/catch.hpp"
#include "support/server_harness.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using namespace mcpsse_test;
using namespace std::chrono_literals;
namespace error_code = mcpsse::error_code;

namespace {

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
    // No arguments, or null: an empty object. Anything else: -32602 naming the member.
    CHECK(h.call("tools/call", {{"name", "echo"}}, 2)["result"]["content"][0]["text"] == "got {}");
    CHECK(h.call("tools/call", {{"name", "echo"}, {"arguments", nullptr}}, 3)["result"]["content"][0]["text"] ==
          "got {}");
    const json bad = h.call("tools/call", {{"name", "echo"}, {"arguments", json::array({1})}}, 4);
    CHECK(bad["error"]["code"] == error_code::invalid_params);
    CHECK(bad["error"]["message"].get<std::string>().find("arguments must be an object") != std::string::npos);
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

TEST_CASE("L3: a session holds at most max_subscriptions_per_session subscriptions; forget_session drops them") {
    mcpsse::ServerOptions options;
    options.max_subscriptions_per_session = 2;
    Harness h(options);
    h.install();
    CHECK(h.call("resources/subscribe", {{"uri", "test://a"}}, 1)["result"] == json::object());
    CHECK(h.call("resources/subscribe", {{"uri", "test://b"}}, 2)["result"] == json::object());
    CHECK(h.call("resources/subscribe", {{"uri", "test://a"}}, 3)["result"] == json::object());  // already held
    const json refused = h.call("resources/subscribe", {{"uri", "test://c"}}, 4);
    CHECK(refused["error"]["code"] == error_code::invalid_params);
    CHECK(refused["error"]["data"]["max_subscriptions"] == 2);
    CHECK_FALSE(h.server.is_subscribed("", "test://c"));
    h.server.forget_session("");
    CHECK_FALSE(h.server.is_subscribed("", "test://a"));
    CHECK_FALSE(h.server.is_subscribed("", "test://b"));
    CHECK(h.call("resources/subscribe", {{"uri", "test://c"}}, 5)["result"] == json::object());
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
    options.cache_ttl = std::chrono::milliseconds(5000);
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

// ---- x-mcp-header: Mcp-Param-* headers (2026-07-28 Streamable HTTP) -------------------

namespace {

mcpsse::Tool header_tool() {
    auto tool = tool_named("headers");
    tool.input_schema = json::parse(R"({"type":"object","properties":{
        "region":{"type":"string","x-mcp-header":"Region"},
        "count":{"type":"integer","x-mcp-header":"Count"},
        "fast":{"type":"boolean","x-mcp-header":"Fast"},
        "target":{"type":"object","properties":{"zone":{"type":"string","x-mcp-header":"Zone"}}}}})");
    return tool;
}

}  // namespace

TEST_CASE("x-mcp-header: each annotated argument must be mirrored in its Mcp-Param header") {
    Harness h({}, "2026-07-28");
    h.server.add_tool(header_tool(), ok_tool);
    h.install();
    const json args = {{"region", "eu-west"}, {"count", 42}, {"fast", true}, {"target", {{"zone", "Zürich"}}}};
    // No HTTP headers at all (e.g. stdio): nothing to check.
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", args}}, 1).contains("result"));
    h.sink->headers = {{"mcp-method", "tools/call"}, {"mcp-name", "headers"}};
    const json missing = h.call("tools/call", {{"name", "headers"}, {"arguments", args}}, 2);
    CHECK(missing["error"]["code"] == error_code::header_mismatch);
    h.sink->headers["mcp-param-region"] = "eu-west";
    h.sink->headers["mcp-param-count"] = "42";
    h.sink->headers["mcp-param-fast"] = "true";
    h.sink->headers["mcp-param-zone"] = "=?base64?WsO8cmljaA==?=";  // "Zürich"
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", args}}, 3).contains("result"));
    h.sink->headers["mcp-param-count"] = "41";
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", args}}, 4)["error"]["code"] == error_code::header_mismatch);
    h.sink->headers["mcp-param-count"] = "42";
    h.sink->headers["mcp-param-fast"] = "TRUE";
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", args}}, 5)["error"]["code"] == error_code::header_mismatch);
    h.sink->headers["mcp-param-fast"] = "true";
    h.sink->headers["mcp-param-zone"] = "Zurich";
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", args}}, 6)["error"]["code"] == error_code::header_mismatch);
    // Arguments the body does not carry need no header.
    h.sink->headers = {{"mcp-method", "tools/call"}, {"mcp-name", "headers"}, {"mcp-param-region", "us"}};
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", {{"region", "us"}}}}, 7).contains("result"));
}

TEST_CASE("x-mcp-header: session-based revisions have no Mcp-Param headers to check") {
    Harness h;
    h.server.add_tool(header_tool(), ok_tool);
    h.install();
    h.sink->headers = {{"mcp-method", "tools/call"}};
    CHECK(h.call("tools/call", {{"name", "headers"}, {"arguments", {{"region", "eu"}}}}).contains("result"));
}

// ---- tasks extension (io.modelcontextprotocol/tasks, SEP-2663) -------------------------

TEST_CASE("tasks: the extension is advertised; 2026-07-28 listings show each tool's taskSupport") {
    Harness h({}, "2026-07-28", tasks_client());
    h.server.add_tool(tool_named("sync"), ok_tool);
    h.server.add_tool(task_tool("maybe", mcpsse::TaskSupport::optional), sleepy_tool);
    h.server.add_tool(task_tool("always", mcpsse::TaskSupport::required), sleepy_tool);
    h.install();
    const auto& caps = h.dispatcher.options().capabilities;
    CHECK(caps["extensions"].contains("io.modelcontextprotocol/tasks"));
    CHECK_FALSE(caps.contains("tasks"));
    const json tools = h.call("tools/list")["result"]["tools"];
    CHECK_FALSE(tools[0].contains("execution"));
    CHECK(tools[1]["execution"]["taskSupport"] == "optional");
    CHECK(tools[2]["execution"]["taskSupport"] == "required");
    // Session-based clients that did not declare the extension see no taskSupport.
    Harness old;
    old.server.add_tool(task_tool("maybe", mcpsse::TaskSupport::optional), sleepy_tool);
    old.install();
    CHECK_FALSE(old.call("tools/list")["result"]["tools"][0].contains("execution"));
    // Disabled: no extension, no tasks/* methods.
    mcpsse::ServerOptions off;
    off.tasks.enabled = false;
    Harness none(off, "2026-07-28", tasks_client());
    none.install();
    CHECK_FALSE(none.dispatcher.options().capabilities.contains("extensions"));
    CHECK(none.call("tasks/get", {{"taskId", "x"}})["error"]["code"] == error_code::method_not_found);
}

TEST_CASE("tasks: CreateTaskResult only for clients that declare the extension; required tools refuse others") {
    Harness plain({}, "2026-07-28");
    plain.server.add_tool(task_tool("maybe", mcpsse::TaskSupport::optional), sleepy_tool);
    plain.server.add_tool(task_tool("always", mcpsse::TaskSupport::required), sleepy_tool);
    plain.install();
    const json sync = plain.call("tools/call", {{"name", "maybe"}, {"arguments", {{"ms", 1}}}});
    CHECK(sync["result"]["resultType"] == "complete");
    CHECK(sync["result"]["content"][0]["text"] == "slept 1");
    const json refused = plain.call("tools/call", {{"name", "always"}}, 2);
    CHECK(refused["error"]["code"] == error_code::missing_client_capability);
    CHECK(refused["error"]["data"]["requiredCapabilities"]["extensions"].contains("io.modelcontextprotocol/tasks"));
    CHECK(plain.server.task_count() == 0);

    Harness h({}, "2026-07-28", tasks_client());
    h.server.add_tool(task_tool("maybe", mcpsse::TaskSupport::optional), sleepy_tool);
    h.install();
    const json created = h.call("tools/call", {{"name", "maybe"}, {"arguments", {{"ms", 20}}}, {"task", {{"ttl", 5}}}});
    const json& task = created["result"];
    CHECK(task["resultType"] == "task");
    CHECK(task["status"] == "working");
    CHECK(task["taskId"].get<std::string>().size() == 32);
    CHECK(task["createdAt"].get<std::string>().size() == 24);  // 2026-07-28T10:30:00.000Z
    CHECK(task["lastUpdatedAt"].is_string());
    CHECK(task["ttlMs"] == 3'600'000);
    CHECK(task["pollIntervalMs"] == 500);
    for (const char* absent : {"result", "error", "inputRequests", "requestState", "ttl", "pollInterval", "task"})
        CHECK_FALSE(task.contains(absent));
    // Strongly consistent: retrievable at once.
    const json got = h.call("tasks/get", {{"taskId", task["taskId"]}}, 2);
    CHECK(got["result"]["taskId"] == task["taskId"]);
    CHECK(got["result"]["resultType"] == "complete");
    int rpc_id = 10;
    const json done = poll_task(h, task["taskId"].get<std::string>(), "completed", rpc_id);
    CHECK(done["status"] == "completed");
    CHECK(done["result"]["content"][0]["text"] == "slept 20");
    CHECK(done["result"]["resultType"] == "complete");
    CHECK_FALSE(done.contains("error"));
}

TEST_CASE("tasks: tool errors complete with isError; RpcErrors fail with the error inlined") {
    Harness h({}, "2026-07-28", tasks_client());
    h.server.add_tool(task_tool("tool_error", mcpsse::TaskSupport::required), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw std::runtime_error("bad input");
        co_return json{};
    });
    h.server.add_tool(task_tool("rpc_error", mcpsse::TaskSupport::required), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        throw mcpsse::RpcError(error_code::internal_error, "crashed", {{"why", "test"}});
        co_return json{};
    });
    h.install();
    int rpc_id = 1;
    const std::string a = h.call("tools/call", {{"name", "tool_error"}}, ++rpc_id)["result"]["taskId"].get<std::string>();
    const json completed = poll_task(h, a, "completed", rpc_id);
    CHECK(completed["status"] == "completed");
    CHECK(completed["result"]["isError"] == true);
    CHECK(completed["result"]["content"][0]["text"] == "bad input");
    const std::string b = h.call("tools/call", {{"name", "rpc_error"}}, ++rpc_id)["result"]["taskId"].get<std::string>();
    const json failed = poll_task(h, b, "failed", rpc_id);
    CHECK(failed["status"] == "failed");
    CHECK(failed["error"]["code"] == error_code::internal_error);
    CHECK(failed["error"]["message"] == "crashed");
    CHECK(failed["error"]["data"]["why"] == "test");
    CHECK(failed["statusMessage"] == "crashed");
    CHECK_FALSE(failed.contains("result"));
}

TEST_CASE("tasks: input_required waits for tasks/update; partial answers keep it waiting; keys never repeat") {
    Harness h({}, "2026-07-28", tasks_client({{"elicitation", json::object()}}));
    // Round 1 asks for a and b; round 2 asks for a again (a new wire key).
    h.server.add_tool(task_tool("ask", mcpsse::TaskSupport::optional),
                      [](mcpsse::ToolCall call, mcpsse::RequestContext&) -> asio::awaitable<json> {
                          const json question = {{"method", "elicitation/create"},
                                                 {"params", {{"message", "?"}, {"requestedSchema", {{"type", "object"}}}}}};
                          if (call.input.empty()) co_return mcpsse::input_required_result({{"a", question}, {"b", question}}, "r1");
                          if (call.input.request_state == "r1")
                              co_return mcpsse::input_required_result({{"a", question}}, "r2:" + call.input.response("b")["content"]["v"].get<std::string>());
                          co_return mcpsse::tool_text_result(*call.input.request_state + "," +
                                                             call.input.response("a")["content"]["v"].get<std::string>() + "," +
                                                             call.task_id.substr(0, 4));
                      });
    h.install();
    int rpc_id = 1;
    const std::string id = h.call("tools/call", {{"name", "ask"}}, ++rpc_id)["result"]["taskId"].get<std::string>();
    json task = poll_task(h, id, "input_required", rpc_id);
    REQUIRE(task["status"] == "input_required");
    CHECK(task["inputRequests"].size() == 2);
    CHECK(task["inputRequests"]["a"]["method"] == "elicitation/create");
    const json answer = {{"action", "accept"}, {"content", {{"v", "B"}}}};
    const json ack = h.call("tasks/update", {{"taskId", id}, {"inputResponses", {{"b", answer}, {"zzz", answer}}}}, ++rpc_id);
    CHECK(ack["result"] == json{{"resultType", "complete"}});
    h.run_until([] { return false; });
    task = h.call("tasks/get", {{"taskId", id}}, ++rpc_id)["result"];
    CHECK(task["status"] == "input_required");
    CHECK(task["inputRequests"].contains("a"));
    CHECK_FALSE(task["inputRequests"].contains("b"));
    h.call("tasks/update", {{"taskId", id}, {"inputResponses", {{"a", {{"action", "accept"}, {"content", {{"v", "A1"}}}}}}}}, ++rpc_id);
    task = poll_task(h, id, "input_required", rpc_id);
    REQUIRE(task["status"] == "input_required");
    CHECK_FALSE(task["inputRequests"].contains("a"));  // answered keys are never reused
    REQUIRE(task["inputRequests"].contains("a-2"));
    h.call("tasks/update", {{"taskId", id}, {"inputResponses", {{"a", answer}, {"a-2", {{"action", "accept"}, {"content", {{"v", "A2"}}}}}}}},
           ++rpc_id);
    task = poll_task(h, id, "completed", rpc_id);
    CHECK(task["status"] == "completed");
    CHECK(task["result"]["content"][0]["text"] == "r2:B,A2," + id.substr(0, 4));
    CHECK_FALSE(task.contains("inputRequests"));
    // Updates of unknown tasks are acknowledged; a malformed one is -32602.
    CHECK(h.call("tasks/update", {{"taskId", "nope"}, {"inputResponses", json::object()}}, ++rpc_id)["result"]["resultType"] == "complete");
    CHECK(h.call("tasks/update", {{"taskId", id}}, ++rpc_id)["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("tasks/update", {{"taskId", id}, {"inputResponses", {{"a", 5}}}}, ++rpc_id)["error"]["code"] ==
          error_code::invalid_params);
}

TEST_CASE("tasks: an input request the client cannot serve fails the task with -32021") {
    Harness h({}, "2026-07-28", tasks_client());
    h.server.add_tool(task_tool("ask", mcpsse::TaskSupport::optional), asking_tool);
    h.install();
    int rpc_id = 1;
    const std::string id = h.call("tools/call", {{"name", "ask"}}, ++rpc_id)["result"]["taskId"].get<std::string>();
    const json task = poll_task(h, id, "failed", rpc_id);
    CHECK(task["status"] == "failed");
    CHECK(task["error"]["code"] == error_code::missing_client_capability);
}

TEST_CASE("tasks: tasks/cancel cancels the running handler and acks; unknown ids are -32602") {
    Harness h({}, "2026-07-28", tasks_client());
    auto aborted = std::make_shared<bool>(false);
    h.server.add_tool(task_tool("long", mcpsse::TaskSupport::optional),
                      [aborted](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
                          const auto executor = co_await asio::this_coro::executor;
                          asio::steady_timer timer(executor, std::chrono::seconds(30));
                          try {
                              co_await timer.async_wait(asio::use_awaitable);
                          } catch (const std::system_error& e) {
                              *aborted = e.code() == asio::error::operation_aborted;
                              throw;
                          }
                          co_return mcpsse::tool_text_result("finished");
                      });
    h.install();
    int rpc_id = 1;
    const std::string id = h.call("tools/call", {{"name", "long"}}, ++rpc_id)["result"]["taskId"].get<std::string>();
    const json ack = h.call("tasks/cancel", {{"taskId", id}}, ++rpc_id);
    CHECK(ack["result"] == json{{"resultType", "complete"}});
    h.run_until([&] { return *aborted; });
    CHECK(*aborted);
    json task = h.call("tasks/get", {{"taskId", id}}, ++rpc_id)["result"];
    CHECK(task["status"] == "cancelled");
    CHECK_FALSE(task.contains("result"));
    CHECK(h.call("tasks/cancel", {{"taskId", id}}, ++rpc_id)["result"] == json{{"resultType", "complete"}});
    CHECK(h.call("tasks/get", {{"taskId", id}}, ++rpc_id)["result"]["status"] == "cancelled");
    const json unknown = h.call("tasks/get", {{"taskId", "nope"}}, ++rpc_id);
    CHECK(unknown["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("tasks/cancel", {{"taskId", "nope"}}, ++rpc_id)["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("tasks/result", {{"taskId", id}}, ++rpc_id)["error"]["code"] == error_code::method_not_found);
    CHECK(h.call("tasks/list", json::object(), ++rpc_id)["error"]["code"] == error_code::method_not_found);
}

TEST_CASE("tasks: tasks/* need the extension (-32021); over HTTP Mcp-Name must carry the task id (-32020)") {
    Harness h({}, "2026-07-28");
    h.install();
    for (const char* method : {"tasks/get", "tasks/update", "tasks/cancel"}) {
        const json reply = h.call(method, {{"taskId", "t"}, {"inputResponses", json::object()}});
        CHECK(reply["error"]["code"] == error_code::missing_client_capability);
        CHECK(reply["error"]["data"]["requiredCapabilities"]["extensions"].contains("io.modelcontextprotocol/tasks"));
    }
    Harness t({}, "2026-07-28", tasks_client());
    t.server.add_tool(task_tool("long", mcpsse::TaskSupport::optional), sleepy_tool);
    t.install();
    const std::string id = t.call("tools/call", {{"name", "long"}, {"arguments", {{"ms", 10}}}})["result"]["taskId"].get<std::string>();
    t.sink->headers = {{"mcp-method", "tasks/get"}, {"mcp-name", id}};
    CHECK(t.call("tasks/get", {{"taskId", id}}, 2)["result"]["taskId"] == id);
    t.sink->headers["mcp-name"] = "someone-else";
    CHECK(t.call("tasks/get", {{"taskId", id}}, 3)["error"]["code"] == error_code::header_mismatch);
    t.sink->headers.erase("mcp-name");
    CHECK(t.call("tasks/get", {{"taskId", id}}, 4)["error"]["code"] == error_code::header_mismatch);
}

TEST_CASE("tasks: TaskStart::on_request gathers input synchronously, then continues as a task") {
    Harness h({}, "2026-07-28", tasks_client({{"elicitation", json::object()}}));
    auto tool = task_tool("compose", mcpsse::TaskSupport::required, mcpsse::TaskStart::on_request);
    h.server.add_tool(tool, [](mcpsse::ToolCall call, mcpsse::RequestContext&) -> asio::awaitable<json> {
        const json& name = call.input.response("who");
        if (name.is_null()) {
            const json question = {{"method", "elicitation/create"}, {"params", {{"message", "Name?"}, {"requestedSchema", {{"type", "object"}}}}}};
            co_return mcpsse::input_required_result({{"who", question}}, "st");
        }
        if (call.may_start_task) co_return mcpsse::start_task_result();
        co_return mcpsse::tool_text_result("Hi " + name["content"]["name"].get<std::string>() + " in " +
                                           (call.task_id.empty() ? "no task" : "a task"));
    });
    h.install();
    const json first = h.call("tools/call", {{"name", "compose"}});
    CHECK(first["result"]["resultType"] == "input_required");
    CHECK_FALSE(first["result"].contains("taskId"));
    const json second = h.call("tools/call", {{"name", "compose"},
                                              {"inputResponses", {{"who", {{"action", "accept"}, {"content", {{"name", "Alice"}}}}}}},
                                              {"requestState", "st"}},
                               2);
    REQUIRE(second["result"]["resultType"] == "task");
    CHECK_FALSE(second["result"].contains("requestState"));
    CHECK_FALSE(second["result"].contains("inputRequests"));
    int rpc_id = 3;
    const json done = poll_task(h, second["result"]["taskId"].get<std::string>(), "completed", rpc_id);
    CHECK(done["result"]["content"][0]["text"] == "Hi Alice in a task");
}

TEST_CASE("tasks: a handler asking for a task where none may start is -32603") {
    Harness h({}, "2026-07-28");
    h.server.add_tool(tool_named("rogue"), [](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return mcpsse::start_task_result();
    });
    h.install();
    CHECK(h.call("tools/call", {{"name", "rogue"}})["error"]["code"] == error_code::internal_error);
}

TEST_CASE("tasks: expired tasks are discarded; max_tasks bounds the table") {
    mcpsse::ServerOptions options;
    options.tasks.ttl = std::chrono::milliseconds(30);
    options.tasks.poll_interval = std::chrono::milliseconds(0);
    options.tasks.max_tasks = 2;
    Harness h(options, "2026-07-28", tasks_client());
    h.server.add_tool(task_tool("quick", mcpsse::TaskSupport::optional), sleepy_tool);
    h.server.add_tool(task_tool("long", mcpsse::TaskSupport::optional), sleepy_tool);
    h.install();
    const json created = h.call("tools/call", {{"name", "quick"}, {"arguments", {{"ms", 1}}}});
    CHECK(created["result"]["ttlMs"] == 30);
    CHECK_FALSE(created["result"].contains("pollIntervalMs"));
    const std::string id = created["result"]["taskId"].get<std::string>();
    h.run_until([] { return false; });  // the task finishes
    std::this_thread::sleep_for(60ms);  // and expires
    CHECK(h.call("tasks/get", {{"taskId", id}}, 2)["error"]["code"] == error_code::invalid_params);
    CHECK(h.server.task_count() == 0);
    // Two running tasks fill the table; a third cannot start.
    CHECK(h.call("tools/call", {{"name", "long"}, {"arguments", {{"ms", 10'000}}}}, 3)["result"]["resultType"] == "task");
    CHECK(h.call("tools/call", {{"name", "long"}, {"arguments", {{"ms", 10'000}}}}, 4)["result"]["resultType"] == "task");
    CHECK(h.call("tools/call", {{"name", "long"}, {"arguments", {{"ms", 10'000}}}}, 5)["error"]["code"] == error_code::internal_error);
}

TEST_CASE("tasks: ISO 8601 timestamps and unguessable ids") {
    using namespace std::chrono;
    CHECK(mcpsse::detail::iso8601_utc(system_clock::time_point(milliseconds(1'785'234'600'125))) == "2026-07-28T10:30:00.125Z");
    const auto a = mcpsse::detail::random_task_id();
    const auto b = mcpsse::detail::random_task_id();
    CHECK(a.size() == 32);
    CHECK(a != b);
    CHECK(mcpsse::to_string(mcpsse::TaskStatus::input_required) == "input_required");
    CHECK(mcpsse::is_terminal(mcpsse::TaskStatus::cancelled));
    CHECK_FALSE(mcpsse::is_terminal(mcpsse::TaskStatus::working));
}

namespace {
std::shared_ptr<const mcpsse::Principal> principal_named(std::string subject) {
    mcpsse::Principal p;
    p.subject = std::move(subject);
    return std::make_shared<const mcpsse::Principal>(std::move(p));
}
}  // namespace

TEST_CASE("principals: a task is found only by the subject that created it") {
    Harness h({}, "2026-07-28", tasks_client());
    h.server.add_tool(task_tool("maybe", mcpsse::TaskSupport::optional), sleepy_tool);
    h.install();
    h.sink->who = principal_named("alice");
    const json created = h.call("tools/call", {{"name", "maybe"}, {"arguments", {{"ms", 200}}}, {"task", {{"ttl", 5}}}});
    const std::string id = created["result"]["taskId"].get<std::string>();
    h.sink->who = principal_named("bob");
    CHECK(h.call("tasks/get", {{"taskId", id}}, 2)["error"]["code"] == error_code::invalid_params);
    CHECK(h.call("tasks/cancel", {{"taskId", id}}, 3)["error"]["code"] == error_code::invalid_params);
    h.sink->who = nullptr;  // no principal is not the creator either
    CHECK(h.call("tasks/get", {{"taskId", id}}, 4)["error"]["code"] == error_code::invalid_params);
    h.sink->who = principal_named("alice");
    const json mine = h.call("tasks/get", {{"taskId", id}}, 5);
    CHECK(mine["result"]["taskId"] == id);
    CHECK_FALSE(mine["result"].contains("io.mcpsse/owner"));
    CHECK(h.call("tasks/cancel", {{"taskId", id}}, 6)["result"]["resultType"] == "complete");
}

TEST_CASE("principals: a requestState goes out bound to the subject and is accepted only back from it") {
    Harness h({}, "2026-07-28", {{"elicitation", json::object()}});
    h.server.add_tool(tool_named("ask"), asking_tool);
    h.install();
    h.sink->who = principal_named("alice");
    const json first = h.call("tools/call", {{"name", "ask"}});
    const std::string state = first["result"]["requestState"].get<std::string>();
    CHECK(state.starts_with("s1~"));
    const json answers = {{"who", {{"action", "accept"}, {"content", {{"name", "Bo"}}}}}};
    h.sink->who = principal_named("bob");
    const json stolen = h.call("tools/call", {{"name", "ask"}, {"inputResponses", answers}, {"requestState", state}}, 2);
    CHECK(stolen["error"]["code"] == error_code::invalid_params);
    h.sink->who = principal_named("alice");
    CHECK(h.call("tools/call", {{"name", "ask"}, {"inputResponses", answers}, {"requestState", "s1"}}, 3)["error"]["code"] ==
          error_code::invalid_params);  // an unbound state from a principal
    const json second = h.call("tools/call", {{"name", "ask"}, {"inputResponses", answers}, {"requestState", state}}, 4);
    CHECK(second["result"]["content"][0]["text"] == "Hello, Bo (s1)");
}

TEST_CASE("principals: the scope rule names what tools, prompts, resources and listen streams need") {
    Harness h;
    auto tool = tool_named("reset");
    tool.required_scopes = {"admin"};
    h.server.add_tool(tool, ok_tool);
    h.server.add_tool(tool_named("free"), ok_tool);
    mcpsse::Resource secret;
    secret.uri = "file:///secret";
    secret.name = "secret";
    secret.required_scopes = {"secrets"};
    h.server.add_resource(secret, [](mcpsse::ResourceRead, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"contents", json::array()}};
    });
    mcpsse::ResourceTemplate logs;
    logs.uri_template = "logs://{day}";
    logs.name = "logs";
    logs.required_scopes = {"ops"};
    h.server.add_resource_template(logs, [](mcpsse::ResourceRead, mcpsse::RequestContext&) -> asio::awaitable<json> {
        co_return json{{"contents", json::array()}};
    });
    h.install();
    const auto& rule = h.dispatcher.scope_rule();
    REQUIRE(rule);
    using V = std::vector<std::string>;
    CHECK(rule("tools/call", {{"name", "reset"}}) == V{"admin"});
    CHECK(rule("tools/call", {{"name", "free"}}).empty());
    CHECK(rule("tools/call", {{"name", "unknown"}}).empty());
    CHECK(rule("resources/read", {{"uri", "file:///secret"}}) == V{"secrets"});
    CHECK(rule("resources/subscribe", {{"uri", "logs://monday"}}) == V{"ops"});
    CHECK(rule("subscriptions/listen", {{"notifications", {{"resourceSubscriptions", {"file:///secret", "logs://x"}}}}}) ==
          V{"secrets", "ops"});
    CHECK(rule("ping", json::object()).empty());
}
