// everything_server: every MCP server feature the conformance suite exercises, written
// only against mcpsse's public API (Dispatcher, RequestContext, Server, transports).
//
//   everything_server [--host 127.0.0.1] [--port 3000] [--sessionless] [--stdio]
//                     [--tls-cert FILE --tls-key FILE] [--resource URL --auth-issuer URL
//                     --auth-jwks FILE --auth-token TOKEN --auth-scope S]
//                     [--log-format json|text|none] [--log-level LEVEL]
//                     [--state-key KEY | --state-key-file FILE]
//                     [--redis redis://HOST:PORT [--redis-prefix P] [--instance-lease-ms MS]] [--help]
//
// HTTP clients connect to http://127.0.0.1:3000/mcp (Streamable HTTP, every revision,
// including stateless 2026-07-28) or http://127.0.0.1:3000/sse (legacy HTTP+SSE).
#include <mcpsse/access_log.hpp>
#include <mcpsse/mcpsse.hpp>
#include <mcpsse/server.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/static_token_verifier.hpp>
#if MCPSSE_EXAMPLE_TLS
#include <mcpsse/tls.hpp>
#endif
#if MCPSSE_EXAMPLE_JWT
#include <mcpsse/jwt.hpp>
#endif
#if MCPSSE_EXAMPLE_REDIS
#include <mcpsse/redis_store.hpp>
#endif

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using mcpsse::RequestContext;
using Awaitable = asio::awaitable<json>;

// A 1x1 red PNG and a minimal WAV file, base64-encoded.
constexpr const char* png_base64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr const char* wav_base64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

// ---- small helpers -------------------------------------------------------------------

asio::awaitable<void> sleep_ms(int ms) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, std::chrono::milliseconds(ms));
    co_await timer.async_wait(asio::use_awaitable);
}

mcpsse::Tool make_tool(std::string name, std::string description, json input_schema = {{"type", "object"}}) {
    mcpsse::Tool tool;
    tool.name = std::move(name);
    tool.description = std::move(description);
    tool.input_schema = std::move(input_schema);
    return tool;
}

json string_argument_schema(const char* name, const char* description) {
    return {{"type", "object"},
            {"properties", {{name, {{"type", "string"}, {"description", description}}}}},
            {"required", {name}}};
}

json content_result(json blocks) { return {{"content", std::move(blocks)}}; }

json image_block() { return {{"type", "image"}, {"data", png_base64}, {"mimeType", "image/png"}}; }

json embedded_text(std::string uri, std::string mime, std::string text) {
    return {{"type", "resource"}, {"resource", {{"uri", std::move(uri)}, {"mimeType", std::move(mime)}, {"text", std::move(text)}}}};
}

bool has_capability(const RequestContext& ctx, const char* name) {
    return ctx.client_capabilities().is_object() && ctx.client_capabilities().contains(name);
}

// Sends a request to the client after checking it declared `capability`.
asio::awaitable<json> ask_client(RequestContext& ctx, const char* capability, std::string method, json params) {
    if (!has_capability(ctx, capability)) throw mcpsse::missing_capability_error({{capability, json::object()}});
    co_return co_await ctx.async_request(std::move(method), std::move(params));
}

json elicitation_request(std::string message, json properties, json required) {
    return {{"method", "elicitation/create"},
            {"params",
             {{"message", std::move(message)},
              {"requestedSchema", {{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}}}}}};
}

json sampling_request(std::string prompt, int max_tokens) {
    json message = {{"role", "user"}, {"content", mcpsse::text_content(std::move(prompt))}};
    return {{"method", "sampling/createMessage"},
            {"params", {{"messages", json::array({message})}, {"maxTokens", max_tokens}}}};
}

json roots_request() { return {{"method", "roots/list"}, {"params", json::object()}}; }

// The text a sampling result carries ("content" may be one block or an array).
std::string sampled_text(const json& result) {
    const json& content = result.contains("content") ? result["content"] : json();
    const json& block = content.is_array() && !content.empty() ? content[0] : content;
    return block.is_object() ? block.value("text", std::string("(no text)")) : std::string("(no text)");
}

// ---- content tools (tools-call-*) ---------------------------------------------------

void add_content_tools(mcpsse::Server& server) {
    server.add_tool(make_tool("test_simple_text", "Returns a simple text response"), [](json, RequestContext&) -> Awaitable {
        co_return mcpsse::tool_text_result("This is a simple text response for testing.");
    });
    server.add_tool(make_tool("test_image_content", "Returns an image"), [](json, RequestContext&) -> Awaitable {
        co_return content_result(json::array({image_block()}));
    });
    server.add_tool(make_tool("test_audio_content", "Returns audio"), [](json, RequestContext&) -> Awaitable {
        json audio = {{"type", "audio"}, {"data", wav_base64}, {"mimeType", "audio/wav"}};
        co_return content_result(json::array({audio}));
    });
    server.add_tool(make_tool("test_embedded_resource", "Returns an embedded resource"), [](json, RequestContext&) -> Awaitable {
        co_return content_result(json::array(
            {embedded_text("test://embedded-resource", "text/plain", "This is an embedded resource content.")}));
    });
    server.add_tool(make_tool("test_multiple_content_types", "Returns text, an image and a resource"),
                    [](json, RequestContext&) -> Awaitable {
                        json blocks = json::array();
                        blocks.push_back(mcpsse::text_content("Multiple content types test:"));
                        blocks.push_back(image_block());
                        blocks.push_back(embedded_text("test://mixed-content-resource", "application/json",
                                                       json{{"test", "data"}, {"value", 123}}.dump()));
                        co_return content_result(std::move(blocks));
                    });
    server.add_tool(make_tool("test_error_handling", "Always fails (reported with isError: true)"),
                    [](json, RequestContext&) -> Awaitable {
                        throw std::runtime_error("This tool intentionally returns an error for testing");
                        co_return json{};
                    });
}

// ---- logging and progress ----------------------------------------------------------

asio::awaitable<json> log_three_times(RequestContext& ctx) {
    co_await ctx.async_log(mcpsse::LoggingLevel::info, "Tool execution started");
    co_await sleep_ms(50);
    co_await ctx.async_log(mcpsse::LoggingLevel::info, "Tool processing data");
    co_await sleep_ms(50);
    co_await ctx.async_log(mcpsse::LoggingLevel::info, "Tool execution completed");
    co_return mcpsse::tool_text_result("Tool with logging executed successfully");
}

void add_logging_and_progress_tools(mcpsse::Server& server) {
    server.add_tool(make_tool("test_tool_with_logging", "Sends three info log messages"),
                    [](json, RequestContext& ctx) -> Awaitable { co_return co_await log_three_times(ctx); });
    server.add_tool(make_tool("test_logging_tool", "Logs at info level (logged only when the client asked)"),
                    [](json, RequestContext& ctx) -> Awaitable { co_return co_await log_three_times(ctx); });
    server.add_tool(make_tool("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100"),
                    [](json, RequestContext& ctx) -> Awaitable {
                        for (int step : {0, 50, 100}) {
                            co_await ctx.async_progress(step, 100, "Completed step " + std::to_string(step) + " of 100");
                            if (step < 100) co_await sleep_ms(50);
                        }
                        const json& token = ctx.progress_token();
                        co_return mcpsse::tool_text_result(token.is_string() ? token.get<std::string>() : token.dump());
                    });
    server.add_tool(make_tool("test_reconnection", "Takes a moment, so clients can exercise SSE polling"),
                    [](json, RequestContext&) -> Awaitable {
                        co_await sleep_ms(100);
                        co_return mcpsse::tool_text_result("Reconnection test completed successfully.");
                    });
}

// ---- sampling and elicitation through server-to-client requests ----------------------

void add_client_request_tools(mcpsse::Server& server) {
    server.add_tool(make_tool("test_sampling", "Asks the client's LLM", string_argument_schema("prompt", "The prompt to send")),
                    [](json args, RequestContext& ctx) -> Awaitable {
                        json request = sampling_request(args.value("prompt", std::string()), 100);
                        const json result = co_await ask_client(ctx, "sampling", "sampling/createMessage", request["params"]);
                        co_return mcpsse::tool_text_result("LLM response: " + sampled_text(result));
                    });
    server.add_tool(make_tool("test_elicitation", "Asks the user for input",
                              string_argument_schema("message", "The message to show the user")),
                    [](json args, RequestContext& ctx) -> Awaitable {
                        json properties = {{"username", {{"type", "string"}, {"description", "User's response"}}},
                                           {"email", {{"type", "string"}, {"description", "User's email address"}}}};
                        json request = elicitation_request(args.value("message", std::string()), properties,
                                                           json::array({"username", "email"}));
                        const json result = co_await ask_client(ctx, "elicitation", "elicitation/create", request["params"]);
                        co_return mcpsse::tool_text_result("User response: action=" + result.value("action", std::string()) +
                                                           ", content=" + result.value("content", json::object()).dump());
                    });
    server.add_tool(make_tool("test_elicitation_sep1034_defaults", "Elicitation with defaults (SEP-1034)"),
                    [](json, RequestContext& ctx) -> Awaitable {
                        json properties = {
                            {"name", {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
                            {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
                            {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
                            {"status",
                             {{"type", "string"}, {"description", "User status"}, {"enum", {"active", "inactive", "pending"}}, {"default", "active"}}},
                            {"verified", {{"type", "boolean"}, {"description", "Verification status"}, {"default", true}}}};
                        json request = elicitation_request("Please review and update the form fields with defaults", properties,
                                                           json::array());
                        const json result = co_await ask_client(ctx, "elicitation", "elicitation/create", request["params"]);
                        co_return mcpsse::tool_text_result("Elicitation completed: action=" + result.value("action", std::string()) +
                                                           ", content=" + result.value("content", json::object()).dump());
                    });
    server.add_tool(make_tool("test_elicitation_sep1330_enums", "Elicitation with every enum form (SEP-1330)"),
                    [](json, RequestContext& ctx) -> Awaitable {
                        auto titled = [](const char* prefix, const char* a, const char* b, const char* c) {
                            return json::array({{{"const", std::string(prefix) + "1"}, {"title", a}},
                                                {{"const", std::string(prefix) + "2"}, {"title", b}},
                                                {{"const", std::string(prefix) + "3"}, {"title", c}}});
                        };
                        json properties = {
                            {"untitledSingle", {{"type", "string"}, {"description", "Select one option"}, {"enum", {"option1", "option2", "option3"}}}},
                            {"titledSingle",
                             {{"type", "string"}, {"description", "Select one option with titles"},
                              {"oneOf", titled("value", "First Option", "Second Option", "Third Option")}}},
                            {"legacyEnum",
                             {{"type", "string"}, {"description", "Select one option (legacy)"}, {"enum", {"opt1", "opt2", "opt3"}},
                              {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
                            {"untitledMulti",
                             {{"type", "array"}, {"description", "Select multiple options"}, {"minItems", 1}, {"maxItems", 3},
                              {"items", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}}}},
                            {"titledMulti",
                             {{"type", "array"}, {"description", "Select multiple options with titles"}, {"minItems", 1}, {"maxItems", 3},
                              {"items", {{"anyOf", titled("value", "First Choice", "Second Choice", "Third Choice")}}}}}};
                        json request = elicitation_request("Please select options from the enum fields", properties, json::array());
                        const json result = co_await ask_client(ctx, "elicitation", "elicitation/create", request["params"]);
                        co_return mcpsse::tool_text_result("Elicitation completed: action=" + result.value("action", std::string()) +
                                                           ", content=" + result.value("content", json::object()).dump());
                    });
}

// ---- schemas: JSON Schema 2020-12 and x-mcp-header ---------------------------------------

void add_schema_tools(mcpsse::Server& server) {
    const json schema = json::parse(R"({
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "type": "object",
      "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                            "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
      "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"},
                     "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                     "phone": {"type": "string"}, "email": {"type": "string"}},
      "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
      "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
      "then": {"required": ["phone"]},
      "else": {"required": ["email"]},
      "additionalProperties": false})");
    server.add_tool(make_tool("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features", schema),
                    [](json args, RequestContext&) -> Awaitable {
                        co_return mcpsse::tool_text_result("Received: " + args.dump());
                    });
    // 2026-07-28: the `region` argument is mirrored into the `Mcp-Param-Region` header.
    const json header_schema = {
        {"type", "object"},
        {"properties", {{"region", {{"type", "string"}, {"description", "Deployment region"}, {"x-mcp-header", "Region"}}}}},
        {"required", {"region"}}};
    server.add_tool(make_tool("test_custom_header", "Echoes an argument that travels in an HTTP header too", header_schema),
                    [](json args, RequestContext&) -> Awaitable {
                        co_return mcpsse::tool_text_result("Region: " + args.value("region", std::string()));
                    });
}

// ---- input-required results (2026-07-28 MRTR; fulfilled by the Server for sessions) ----

std::string elicited(const json& response, const char* field) {
    if (response.value("action", std::string()) != "accept") return "(" + response.value("action", std::string("none")) + ")";
    const json content = response.value("content", json::object());
    return content.contains(field) ? (content[field].is_string() ? content[field].get<std::string>() : content[field].dump())
                                   : std::string("(missing)");
}

json name_question(const char* message) {
    return elicitation_request(message, {{"name", {{"type", "string"}}}}, json::array({"name"}));
}

void add_input_required_tools(mcpsse::Server& server) {
    using mcpsse::ToolCall;
    server.add_tool(make_tool("test_input_required_result_elicitation", "Asks for the user's name, then greets"),
                    [](ToolCall call, RequestContext&) -> Awaitable {
                        const json& answer = call.input.response("user_name");
                        if (answer.is_null()) co_return mcpsse::input_required_result({{"user_name", name_question("What is your name?")}});
                        co_return mcpsse::tool_text_result("Hello, " + elicited(answer, "name") + "!");
                    });
    server.add_tool(make_tool("test_input_required_result_sampling", "Asks the client's LLM a question"),
                    [](ToolCall call, RequestContext&) -> Awaitable {
                        const json& answer = call.input.response("capital_question");
                        if (answer.is_null())
                            co_return mcpsse::input_required_result(
                                {{"capital_question", sampling_request("What is the capital of France?", 100)}});
                        co_return mcpsse::tool_text_result("Sampling response: " + sampled_text(answer));
                    });
    server.add_tool(make_tool("test_input_required_result_list_roots", "Asks for the client's roots"),
                    [](ToolCall call, RequestContext&) -> Awaitable {
                        const json& answer = call.input.response("client_roots");
                        if (answer.is_null()) co_return mcpsse::input_required_result({{"client_roots", roots_request()}});
                        std::string uris;
                        for (const auto& root : answer.value("roots", json::array())) uris += " " + root.value("uri", std::string());
                        co_return mcpsse::tool_text_result("Roots:" + uris);
                    });
    server.add_tool(make_tool("test_input_required_result_capabilities", "Asks only for what the client supports"),
                    [](ToolCall call, RequestContext& ctx) -> Awaitable {
                        if (!call.input.empty()) co_return mcpsse::tool_text_result("Received " + std::to_string(call.input.responses.size()) + " input responses");
                        json requests = json::object();
                        if (has_capability(ctx, "elicitation")) requests["user_name"] = name_question("What is your name?");
                        if (has_capability(ctx, "sampling")) requests["greeting"] = sampling_request("Generate a greeting", 50);
                        if (has_capability(ctx, "roots")) requests["client_roots"] = roots_request();
                        if (requests.empty()) co_return mcpsse::tool_text_result("The client supports no input requests");
                        co_return mcpsse::input_required_result(std::move(requests));
                    });
}

// Tools whose requestState matters: sealed by the Server, verified on the retry.
void add_stateful_input_tools(mcpsse::Server& server) {
    using mcpsse::ToolCall;
    auto open = [&server](const mcpsse::RetryInput& input) -> std::string {
        const auto payload = input.request_state ? server.open_state(*input.request_state) : std::nullopt;
        if (!payload) throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "Invalid requestState: integrity check failed");
        return *payload;
    };
    server.add_tool(make_tool("test_input_required_result_request_state", "Round-trips a sealed requestState"),
                    [&server, open](ToolCall call, RequestContext&) -> Awaitable {
                        json confirm = elicitation_request("Please confirm", {{"ok", {{"type", "boolean"}}}}, json::array({"ok"}));
                        if (call.input.empty()) co_return mcpsse::input_required_result({{"confirm", confirm}}, server.seal_state("confirm"));
                        if (open(call.input) != "confirm") throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "Unexpected requestState");
                        co_return mcpsse::tool_text_result("state-ok: confirmed=" + elicited(call.input.response("confirm"), "ok"));
                    });
    server.add_tool(make_tool("test_input_required_result_tampered_state", "Rejects an altered requestState"),
                    [&server, open](ToolCall call, RequestContext&) -> Awaitable {
                        json confirm = elicitation_request("Please confirm", {{"ok", {{"type", "boolean"}}}}, json::array({"ok"}));
                        if (call.input.empty()) co_return mcpsse::input_required_result({{"confirm", confirm}}, server.seal_state("tamper-check"));
                        open(call.input);
                        co_return mcpsse::tool_text_result("state-ok");
                    });
    server.add_tool(make_tool("test_input_required_result_multiple_inputs", "Asks for three inputs at once"),
                    [&server, open](ToolCall call, RequestContext&) -> Awaitable {
                        json all = {{"user_name", name_question("What is your name?")},
                                    {"greeting", sampling_request("Generate a greeting", 50)},
                                    {"client_roots", roots_request()}};
                        if (!call.input.empty()) open(call.input);
                        json missing = json::object();
                        for (auto it = all.begin(); it != all.end(); ++it)
                            if (call.input.response(it.key()).is_null()) missing[it.key()] = it.value();
                        if (!missing.empty()) co_return mcpsse::input_required_result(std::move(missing), server.seal_state("multiple"));
                        co_return mcpsse::tool_text_result("Name: " + elicited(call.input.response("user_name"), "name") +
                                                           ", greeting: " + sampled_text(call.input.response("greeting")));
                    });
    server.add_tool(make_tool("test_input_required_result_multi_round", "Asks two questions in two rounds"),
                    [&server, open](ToolCall call, RequestContext&) -> Awaitable {
                        if (call.input.empty())
                            co_return mcpsse::input_required_result({{"step1", name_question("Step 1: What is your name?")}},
                                                                    server.seal_state("round=1"));
                        const std::string state = open(call.input);
                        if (state == "round=1") {
                            const json& step1 = call.input.response("step1");
                            if (step1.is_null())
                                co_return mcpsse::input_required_result({{"step1", name_question("Step 1: What is your name?")}},
                                                                        server.seal_state("round=1"));
                            json color = elicitation_request("Step 2: What is your favorite color?", {{"color", {{"type", "string"}}}},
                                                             json::array({"color"}));
                            co_return mcpsse::input_required_result({{"step2", color}},
                                                                    server.seal_state("round=2;name=" + elicited(step1, "name")));
                        }
                        const json& step2 = call.input.response("step2");
                        if (state.rfind("round=2;name=", 0) != 0 || step2.is_null())
                            throw mcpsse::RpcError(mcpsse::error_code::invalid_params, "Unexpected round");
                        co_return mcpsse::tool_text_result("Name: " + state.substr(13) + ", color: " + elicited(step2, "color"));
                    });
}

// ---- diagnostics the 2026-07-28 scenarios call -----------------------------------------

void add_stateless_diagnostics(mcpsse::Server& server) {
    server.add_tool(make_tool("test_missing_capability", "Needs the client's sampling capability"),
                    [](json, RequestContext& ctx) -> Awaitable {
                        if (!has_capability(ctx, "sampling")) throw mcpsse::missing_capability_error({{"sampling", json::object()}});
                        co_return mcpsse::tool_text_result("The client declared sampling");
                    });
    server.add_tool(make_tool("test_streaming_elicitation", "Streams a notification, then asks for input"),
                    [](mcpsse::ToolCall call, RequestContext& ctx) -> Awaitable {
                        if (!call.input.empty()) co_return mcpsse::tool_text_result("Thanks, " + elicited(call.input.response("user_name"), "name"));
                        co_await ctx.async_progress(1, 2, "About to ask for input");
                        co_return mcpsse::input_required_result({{"user_name", name_question("What is your name?")}});
                    });
    server.add_tool(make_tool("test_trigger_tool_change", "Adds or removes a tool (tools/list_changed)"),
                    [&server](json, RequestContext&) -> Awaitable {
                        if (!server.remove_tool("test_dynamic_tool"))
                            server.add_tool(make_tool("test_dynamic_tool", "Appears and disappears"), [](json, RequestContext&) -> Awaitable {
                                co_return mcpsse::tool_text_result("dynamic");
                            });
                        co_return mcpsse::tool_text_result("Tool list changed");
                    });
    // notifications/resources/updated to the sessions subscribed to the uri (with
    // --redis: subscribed at any instance, each reached where its standalone stream is).
    json uri_schema = string_argument_schema("uri", "The resource (default test://watched-resource)");
    uri_schema.erase("required");
    server.add_tool(make_tool("test_trigger_resource_update", "Announces that a resource changed (resources/updated)",
                              std::move(uri_schema)),
                    [&server](json args, RequestContext&) -> Awaitable {
                        server.notify_resource_updated(args.value("uri", std::string("test://watched-resource")));
                        co_return mcpsse::tool_text_result("Resource update announced");
                    });
    server.add_tool(make_tool("test_trigger_prompt_change", "Adds or removes a prompt (prompts/list_changed)"),
                    [&server](json, RequestContext&) -> Awaitable {
                        if (!server.remove_prompt("test_dynamic_prompt")) {
                            mcpsse::Prompt prompt;
                            prompt.name = "test_dynamic_prompt";
                            prompt.description = "Appears and disappears";
                            server.add_prompt(prompt, [](mcpsse::PromptGet, RequestContext&) -> Awaitable {
                                json message = {{"role", "user"}, {"content", mcpsse::text_content("dynamic")}};
                                co_return json{{"messages", json::array({message})}};
                            });
                        }
                        co_return mcpsse::tool_text_result("Prompt list changed");
                    });
}

// ---- tasks extension (io.modelcontextprotocol/tasks, SEP-2663) ---------------------------
//
// Clients that declare the extension get a CreateTaskResult from the task-supporting
// tools and poll tasks/get; the Server runs the handlers as tasks, parks them on
// InputRequiredResults until tasks/update answers, and cancels them on tasks/cancel.

mcpsse::Tool task_tool(std::string name, std::string description, json schema, mcpsse::TaskSupport support,
                       mcpsse::TaskStart start = mcpsse::TaskStart::immediately) {
    mcpsse::Tool tool = make_tool(std::move(name), std::move(description), std::move(schema));
    tool.task_support = support;
    tool.task_start = start;
    return tool;
}

json confirm_question(const std::string& message) {
    return elicitation_request(message, {{"confirm", {{"type", "boolean"}}}}, json::array({"confirm"}));
}

void add_task_tools(mcpsse::Server& server) {
    using mcpsse::TaskSupport;
    using mcpsse::ToolCall;
    server.add_tool(make_tool("greet", "Greets synchronously (never a task)", string_argument_schema("name", "Who to greet")),
                    [](json args, RequestContext&) -> Awaitable {
                        co_return mcpsse::tool_text_result("Hello, " + args.value("name", std::string("World")) + "!");
                    });
    const json compute_schema = {{"type", "object"},
                                 {"properties",
                                  {{"seconds", {{"type", "number"}, {"description", "How long to work, in seconds"}}},
                                   {"label", {{"type", "string"}, {"description", "A label echoed in the result"}}},
                                   {"progress_ms",
                                    {{"type", "integer"},
                                     {"description", "When the request has a progress token: a progress notification every this many ms "
                                                     "(progress = elapsed ms, total = the work's ms); absent or 0: none"}}}}}};
    server.add_tool(task_tool("slow_compute", "Works for `seconds` seconds; runs as a task when the client supports tasks",
                              compute_schema, TaskSupport::optional),
                    [](json args, RequestContext& ctx) -> Awaitable {
                        const double seconds = args.contains("seconds") && args["seconds"].is_number() ? args["seconds"].get<double>() : 1.0;
                        const int ms = static_cast<int>(std::clamp(seconds, 0.0, 3600.0) * 1000.0);
                        // Optional progress on a fixed schedule (10 ms at least): at progress_ms,
                        // 2 * progress_ms, ... below ms, then ms; so the client can tell which were lost.
                        const int step = args.contains("progress_ms") && args["progress_ms"].is_number_integer()
                                             ? static_cast<int>(std::clamp<std::int64_t>(args["progress_ms"].get<std::int64_t>(), 0, 3600000))
                                             : 0;
                        if (step > 0 && !ctx.progress_token().is_null()) {
                            const int every = std::max(step, 10);
                            int done = 0;
                            while (done < ms) {
                                const int next = std::min(done + every, ms);
                                co_await sleep_ms(next - done);
                                done = next;
                                co_await ctx.async_progress(done, ms, "Computed " + std::to_string(done) + " of " + std::to_string(ms) + " ms");
                            }
                        } else if (ms > 0) {
                            co_await sleep_ms(ms);
                        }
                        co_return mcpsse::tool_text_result("Computed " + args.value("label", std::string("result")) + " in " +
                                                           std::to_string(ms) + " ms");
                    });
    server.add_tool(task_tool("failing_job", "Fails with a tool execution error after about a second (task required)",
                              json{{"type", "object"}}, TaskSupport::required),
                    [](json, RequestContext&) -> Awaitable {
                        co_await sleep_ms(1000);
                        throw std::runtime_error("The job failed");
                        co_return json{};
                    });
    server.add_tool(task_tool("protocol_error_job", "Fails with a JSON-RPC error (the task ends failed)", json{{"type", "object"}},
                              TaskSupport::optional),
                    [](json, RequestContext&) -> Awaitable {
                        co_await sleep_ms(100);
                        throw mcpsse::RpcError(mcpsse::error_code::internal_error, "Internal error: the job crashed");
                        co_return json{};
                    });
    server.add_tool(task_tool("confirm_delete", "Asks for confirmation, then deletes (pretends to)",
                              string_argument_schema("filename", "The file to delete"), TaskSupport::optional),
                    [](ToolCall call, RequestContext&) -> Awaitable {
                        const std::string file = call.arguments.value("filename", std::string("file"));
                        const json& answer = call.input.response("confirm");
                        if (answer.is_null())
                            co_return mcpsse::input_required_result({{"confirm", confirm_question("Delete " + file + "?")}});
                        const bool yes = answer.value("action", std::string()) == "accept" &&
                                         answer.value("content", json::object()).value("confirm", false);
                        co_return mcpsse::tool_text_result(yes ? "Deleted " + file : "Kept " + file);
                    });
    server.add_tool(task_tool("multi_input", "Asks two questions at once", json{{"type", "object"}}, TaskSupport::optional),
                    [](ToolCall call, RequestContext&) -> Awaitable {
                        const json& first = call.input.response("first");
                        const json& second = call.input.response("second");
                        if (first.is_null() || second.is_null())
                            co_return mcpsse::input_required_result({{"first", name_question("First: what is your name?")},
                                                                     {"second", confirm_question("Second: continue?")}});
                        co_return mcpsse::tool_text_result("First: " + elicited(first, "name") + ", second: " + elicited(second, "confirm"));
                    });
    // Multi-round-trip first (synchronous), then a task on the final round.
    server.add_tool(task_tool("test_tool_with_task", "Asks for a name, then continues as a task", json{{"type", "object"}},
                              TaskSupport::required, mcpsse::TaskStart::on_request),
                    [](ToolCall call, RequestContext&) -> Awaitable {
                        const json& answer = call.input.response("user_name");
                        if (answer.is_null()) co_return mcpsse::input_required_result({{"user_name", name_question("What is your name?")}});
                        if (call.may_start_task) co_return mcpsse::start_task_result();
                        co_await sleep_ms(100);
                        co_return mcpsse::tool_text_result("Hello, " + elicited(answer, "name") + "! (task " + call.task_id + ")");
                    });
}

// ---- resources -------------------------------------------------------------------------

mcpsse::Resource make_resource(std::string uri, std::string name, std::string description, std::string mime) {
    mcpsse::Resource resource;
    resource.uri = std::move(uri);
    resource.name = std::move(name);
    resource.description = std::move(description);
    resource.mime_type = std::move(mime);
    return resource;
}

mcpsse::ResourceHandler fixed_text(std::string mime, std::string text) {
    return [mime, text](mcpsse::ResourceRead read, RequestContext&) -> Awaitable {
        co_return json::array({{{"uri", read.uri}, {"mimeType", mime}, {"text", text}}});
    };
}

void add_resources(mcpsse::Server& server) {
    server.add_resource(make_resource("test://static-text", "static-text", "A static text resource", "text/plain"),
                        fixed_text("text/plain", "This is the content of the static text resource."));
    server.add_resource(make_resource("test://static-binary", "static-binary", "A static binary resource (PNG)", "image/png"),
                        [](mcpsse::ResourceRead read, RequestContext&) -> Awaitable {
                            co_return json::array({{{"uri", read.uri}, {"mimeType", "image/png"}, {"blob", png_base64}}});
                        });
    server.add_resource(make_resource("test://watched-resource", "watched-resource", "A resource clients may subscribe to", "text/plain"),
                        fixed_text("text/plain", "Watched resource content"));
    mcpsse::ResourceTemplate item;
    item.uri_template = "test://template/{id}/data";
    item.name = "template-data";
    item.description = "Data for any id";
    item.mime_type = "application/json";
    std::map<std::string, mcpsse::Completer> completers;
    completers["id"] = [](std::string_view prefix, const json&) {
        std::vector<std::string> out;
        for (const char* id : {"1", "2", "3", "42", "123"})
            if (std::string_view(id).starts_with(prefix)) out.emplace_back(id);
        return out;
    };
    server.add_resource_template(item, [](mcpsse::ResourceRead read, RequestContext&) -> Awaitable {
        const std::string id = read.variables["id"];
        json data = {{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
        co_return json::array({{{"uri", read.uri}, {"mimeType", "application/json"}, {"text", data.dump()}}});
    }, completers);
}

// ---- prompts ---------------------------------------------------------------------------

json user_message(json content) { return {{"role", "user"}, {"content", std::move(content)}}; }

mcpsse::Prompt make_prompt(std::string name, std::string description, std::vector<mcpsse::PromptArgument> arguments = {}) {
    mcpsse::Prompt prompt;
    prompt.name = std::move(name);
    prompt.description = std::move(description);
    prompt.arguments = std::move(arguments);
    return prompt;
}

void add_prompts(mcpsse::Server& server) {
    server.add_prompt(make_prompt("test_simple_prompt", "A prompt without arguments"),
                      [](mcpsse::PromptGet, RequestContext&) -> Awaitable {
                          json message = user_message(mcpsse::text_content("This is a simple prompt for testing."));
                          co_return json{{"messages", json::array({message})}};
                      });
    std::map<std::string, mcpsse::Completer> completers;
    completers["arg1"] = [](std::string_view prefix, const json&) {
        std::vector<std::string> out;
        for (const char* word : {"paris", "park", "party", "test", "testing"})
            if (std::string_view(word).starts_with(prefix)) out.emplace_back(word);
        return out;
    };
    server.add_prompt(make_prompt("test_prompt_with_arguments", "A prompt with two arguments",
                                  {{"arg1", "First test argument", true}, {"arg2", "Second test argument", true}}),
                      [](mcpsse::PromptGet get, RequestContext&) -> Awaitable {
                          json message = user_message(mcpsse::text_content(
                              "Prompt with arguments: arg1='" + get.arguments.value("arg1", std::string()) + "', arg2='" +
                              get.arguments.value("arg2", std::string()) + "'"));
                          co_return json{{"messages", json::array({message})}};
                      },
                      completers);
    server.add_prompt(make_prompt("test_prompt_with_embedded_resource", "A prompt embedding a resource",
                                  {{"resourceUri", "URI of the resource to embed", true}}),
                      [](mcpsse::PromptGet get, RequestContext&) -> Awaitable {
                          json messages = json::array();
                          messages.push_back(user_message(embedded_text(get.arguments.value("resourceUri", std::string()), "text/plain",
                                                                        "Embedded resource content for testing.")));
                          messages.push_back(user_message(mcpsse::text_content("Please process the embedded resource above.")));
                          co_return json{{"messages", std::move(messages)}};
                      });
    server.add_prompt(make_prompt("test_prompt_with_image", "A prompt with an image"),
                      [](mcpsse::PromptGet, RequestContext&) -> Awaitable {
                          json messages = json::array({user_message(image_block()),
                                                       user_message(mcpsse::text_content("Please analyze the image above."))});
                          co_return json{{"messages", std::move(messages)}};
                      });
    server.add_prompt(make_prompt("test_input_required_result_prompt", "A prompt that first asks for context"),
                      [](mcpsse::PromptGet get, RequestContext&) -> Awaitable {
                          const json& answer = get.input.response("user_context");
                          if (answer.is_null()) {
                              json question = elicitation_request("What context should the prompt use?",
                                                                  {{"context", {{"type", "string"}}}}, json::array({"context"}));
                              co_return mcpsse::input_required_result({{"user_context", question}});
                          }
                          json message = user_message(mcpsse::text_content("Use this context: " + elicited(answer, "context")));
                          co_return json{{"messages", json::array({message})}};
                      });
}

// ---- command line and main -------------------------------------------------------------

struct Settings {
    std::string host = "127.0.0.1";
    unsigned short port = 3000;
    bool sessionless = false;
    bool stdio = false;
    unsigned threads = 1;
    bool share_nothing = false;
    std::string tls_cert;  // PEM certificate chain: serve HTTPS
    std::string tls_key;   // PEM private key
    // Authorization (on when --resource is given).
    std::string resource;                  // the resource identifier, e.g. https://host/mcp
    std::string auth_issuer;               // accepted JWT issuer, listed in the metadata
    std::string auth_jwks;                 // JWKS file with the issuer's keys
    std::vector<std::string> auth_tokens;  // static tokens (every scope)
    std::vector<std::string> auth_scopes;  // scopes every request needs
    // Per-client limits (ClientLimits); negative: the library's default.
    double client_rate = -1;         // requests per second per client, 0: off
    long client_burst = -1;          // bucket size
    long client_sessions = -1;       // sessions per client, 0: off
    std::vector<std::string> trusted_proxies;
    std::optional<unsigned short> metrics_port;  // metrics on a listener of their own
    bool metrics = true;                         // --no-metrics: nothing counted, no /metrics
    // The access log on standard error (mcpsse::AccessLog); nullopt: none.
    std::optional<mcpsse::LogFormat> log_format = mcpsse::LogFormat::text;
    mcpsse::LoggingLevel log_level = mcpsse::LoggingLevel::info;
    // ServerOptions::state_key: the key sealing input-required requestState. Empty: a
    // random one per process; several instances behind a load balancer share one.
    std::string state_key;
    // --redis: sessions, stored events and tasks shared through this Redis (a
    // redis://[[user]:password@]host[:port][/db] URL); empty: all in this process's memory.
    std::string redis_url;
    // --redis-prefix: put before every Redis key (empty: RedisStoreOptions' default).
    std::string redis_prefix;
    // --instance-lease-ms: RedisStoreOptions::instance_lease_ttl (0: its default, 10 s).
    long instance_lease_ms = 0;
};

// The shortest state key accepted (bytes): 16 random bytes are 128 bits of key.
constexpr std::size_t min_state_key_bytes = 16;

// The first line of `path` (without its line break), or nullopt when it cannot be read.
std::optional<std::string> read_key_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string key;
    std::getline(in, key);
    if (!key.empty() && key.back() == '\r') key.pop_back();
    return key;
}

// Static tokens first (compared in constant time), then JWT access tokens when an issuer
// and its keys were given.
class ExampleVerifier {
public:
    std::shared_ptr<mcpsse::StaticTokenVerifier> statics = std::make_shared<mcpsse::StaticTokenVerifier>();
#if MCPSSE_EXAMPLE_JWT
    std::shared_ptr<mcpsse::JwtVerifier> jwt;
#endif

    asio::awaitable<mcpsse::TokenVerdict> async_verify(std::string token) {
        mcpsse::TokenVerdict verdict = statics->verify(token);
#if MCPSSE_EXAMPLE_JWT
        if (!verdict && jwt) verdict = jwt->verify(token);
#endif
        co_return verdict;
    }
};

// The authorization settings of `settings`, or nullopt when it has none.
std::optional<mcpsse::AuthorizationOptions> authorization_of(const Settings& settings) {
    if (settings.resource.empty()) return std::nullopt;
    auto verifier = std::make_shared<ExampleVerifier>();
    for (const auto& token : settings.auth_tokens) verifier->statics->add(token, settings.auth_scopes);
    mcpsse::AuthorizationOptions auth;
    auth.resource = settings.resource;
    auth.required_scopes = settings.auth_scopes;
    auth.scopes_supported = settings.auth_scopes;
    if (!settings.auth_issuer.empty()) auth.authorization_servers = {settings.auth_issuer};
    if (!settings.auth_jwks.empty()) {
#if MCPSSE_EXAMPLE_JWT
        mcpsse::JwtVerifierOptions jwt;
        jwt.issuer = settings.auth_issuer;
        jwt.audience = settings.resource;
        verifier->jwt = std::make_shared<mcpsse::JwtVerifier>(jwt, mcpsse::JwtVerifier::load_jwks_file(settings.auth_jwks));
#else
        throw std::runtime_error("built without JWT support (OpenSSL was not found): --auth-jwks is unavailable");
#endif
    }
    auth.verifier = verifier;
    return auth;
}

void usage(std::FILE* out) {
    std::fputs("usage: everything_server [--host ADDR] [--port N] [--threads N [--share-nothing]] [--sessionless]\n"
               "                         [--stdio] [--log-format json|text|none] [--log-level LEVEL] [--help]\n"
               "  --host ADDR   address to bind (default 127.0.0.1)\n"
               "  --port N      TCP port (default 3000; 0 picks a free one)\n"
               "  --threads N   threads running the server (default 1, at most 64)\n"
               "  --share-nothing  one io_context per thread; requests run on their connection's thread\n"
               "  --sessionless serve the session-based revisions without sessions (--stateless: the same)\n"
               "  --stdio       serve MCP on standard input/output instead of HTTP\n"
               "  --tls-cert FILE --tls-key FILE  serve HTTPS with this PEM certificate chain and key\n"
               "  --resource URL     require OAuth bearer tokens; URL is the resource identifier (e.g.\n"
               "                     https://host/mcp), served as the protected resource metadata's resource\n"
               "  --auth-issuer URL  accept JWT access tokens from this issuer (listed in authorization_servers)\n"
               "  --auth-jwks FILE   the issuer's public keys (a JWKS JSON file)\n"
               "  --auth-token T     accept static bearer token T with every scope (repeatable)\n"
               "  --auth-scope S     scope every request needs (repeatable; none by default)\n"
               "  --client-rate R    requests per second per client (token subject or address; default 50, 0: off)\n"
               "  --client-burst N   requests a client may send at once (default 100)\n"
               "  --client-sessions N  sessions per client (default 1000, 0: off)\n"
               "  --trusted-proxy A  believe Forwarded / X-Forwarded-For from this address or CIDR (repeatable)\n"
               "  --metrics-port N   serve /metrics on this port of HOST instead of the MCP port (0: any free one)\n"
               "  --no-metrics       count no metrics and serve no /metrics\n"
               "  --log-format F     access log on stderr: text (default, key=value), json (JSON lines) or none\n"
               "  --log-level L      least severe events logged: error, warning, info (default) or debug\n"
               "  --state-key KEY    key sealing input-required requestState (at least 16 bytes); give every\n"
               "                     instance behind one load balancer the same key (default: random per process)\n"
               "  --state-key-file F the same, read from the first line of file F (keeps the key out of ps)\n"
               "  --redis URL        share sessions, resumable stream events and tasks with every instance using\n"
               "                     this Redis: redis://[[user]:password@]host[:port][/db] (port 6379, db 0 by\n"
               "                     default); /readyz answers 503 while Redis is unreachable. Give all instances\n"
               "                     the same --state-key. Needs a build with hiredis (mcpsse::redis)\n"
               "  --redis-prefix P   put P before every Redis key (default \"mcpsse:\"), so deployments can share one\n"
               "                     Redis database\n"
               "  --instance-lease-ms MS  with --redis: life of this instance's lease in Redis (default 10000, at\n"
               "                     least 3); this long after a crash, other instances answer the requests it had\n"
               "                     in flight with -32603 when their clients resume\n"
               "Endpoints: http://HOST:PORT/mcp (Streamable HTTP), /sse + /messages (legacy HTTP+SSE),\n"
               "  /healthz, /readyz, /metrics (Prometheus), /stats (JSON). SIGTERM drains (readiness 503, requests finish), SIGINT stops\n",
               out);
}

std::optional<Settings> parse(int argc, char** argv) {
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--help" || arg == "-h") {
            usage(stdout);
            std::exit(0);
        } else if (arg == "--host" && has_value) {
            settings.host = argv[++i];
        } else if (arg == "--port" && has_value) {
            const long port = std::strtol(argv[++i], nullptr, 10);
            if (port < 0 || port > 65535) return std::nullopt;
            settings.port = static_cast<unsigned short>(port);
        } else if (arg == "--threads" && has_value) {
            const long threads = std::strtol(argv[++i], nullptr, 10);
            if (threads < 1 || threads > 64) return std::nullopt;
            settings.threads = static_cast<unsigned>(threads);
        } else if (arg == "--share-nothing") {
            settings.share_nothing = true;
        } else if (arg == "--sessionless" || arg == "--stateless") {  // --stateless: the older name
            settings.sessionless = true;
        } else if (arg == "--stdio") {
            settings.stdio = true;
        } else if (arg == "--tls-cert" && has_value) {
            settings.tls_cert = argv[++i];
        } else if (arg == "--tls-key" && has_value) {
            settings.tls_key = argv[++i];
        } else if (arg == "--resource" && has_value) {
            settings.resource = argv[++i];
        } else if (arg == "--auth-issuer" && has_value) {
            settings.auth_issuer = argv[++i];
        } else if (arg == "--auth-jwks" && has_value) {
            settings.auth_jwks = argv[++i];
        } else if (arg == "--auth-token" && has_value) {
            settings.auth_tokens.emplace_back(argv[++i]);
        } else if (arg == "--auth-scope" && has_value) {
            settings.auth_scopes.emplace_back(argv[++i]);
        } else if (arg == "--client-rate" && has_value) {
            settings.client_rate = std::strtod(argv[++i], nullptr);
            if (settings.client_rate < 0) return std::nullopt;
        } else if (arg == "--client-burst" && has_value) {
            settings.client_burst = std::strtol(argv[++i], nullptr, 10);
            if (settings.client_burst < 1) return std::nullopt;
        } else if (arg == "--client-sessions" && has_value) {
            settings.client_sessions = std::strtol(argv[++i], nullptr, 10);
            if (settings.client_sessions < 0) return std::nullopt;
        } else if (arg == "--no-metrics") {
            settings.metrics = false;
        } else if (arg == "--metrics-port" && has_value) {
            const long port = std::strtol(argv[++i], nullptr, 10);
            if (port < 0 || port > 65535) return std::nullopt;
            settings.metrics_port = static_cast<unsigned short>(port);
        } else if (arg == "--trusted-proxy" && has_value) {
            settings.trusted_proxies.emplace_back(argv[++i]);
        } else if (arg == "--log-format" && has_value) {
            const std::string_view name = argv[++i];
            settings.log_format = mcpsse::parse_log_format(name);
            if (!settings.log_format && name != "none") return std::nullopt;
        } else if (arg == "--state-key" && has_value) {
            settings.state_key = argv[++i];
            if (settings.state_key.size() < min_state_key_bytes) {
                std::fprintf(stderr, "everything_server: --state-key needs at least %zu bytes\n", min_state_key_bytes);
                return std::nullopt;
            }
        } else if (arg == "--state-key-file" && has_value) {
            const char* path = argv[++i];
            const auto key = read_key_file(path);
            if (!key || key->size() < min_state_key_bytes) {
                std::fprintf(stderr, "everything_server: %s: %s\n", path,
                             key ? "the key (its first line) is too short" : "cannot be read");
                return std::nullopt;
            }
            settings.state_key = *key;
        } else if (arg == "--redis" && has_value) {
            settings.redis_url = argv[++i];
            if (settings.redis_url.empty()) return std::nullopt;
        } else if (arg == "--redis-prefix" && has_value) {
            settings.redis_prefix = argv[++i];
        } else if (arg == "--instance-lease-ms" && has_value) {
            settings.instance_lease_ms = std::strtol(argv[++i], nullptr, 10);
            if (settings.instance_lease_ms < 3) return std::nullopt;
        } else if (arg == "--log-level" && has_value) {
            const auto level = mcpsse::logging_level_from_string(argv[++i]);
            if (!level) return std::nullopt;
            settings.log_level = *level;
        } else {
            return std::nullopt;
        }
    }
    if (settings.tls_cert.empty() != settings.tls_key.empty()) return std::nullopt;
    // The authorization flags need --resource; JWT needs both an issuer and its keys.
    const bool auth_flags = !settings.auth_issuer.empty() || !settings.auth_jwks.empty() ||
                            !settings.auth_tokens.empty() || !settings.auth_scopes.empty();
    if (auth_flags && settings.resource.empty()) return std::nullopt;
    if (settings.auth_issuer.empty() != settings.auth_jwks.empty()) return std::nullopt;
    // Redis shares what HTTP sessions keep; a stdio server has none to share.
    if (!settings.redis_url.empty() && settings.stdio) return std::nullopt;
    if ((!settings.redis_prefix.empty() || settings.instance_lease_ms != 0) && settings.redis_url.empty())
        return std::nullopt;
    return settings;
}

void report(std::exception_ptr error, int& status) {
    if (!error) return;
    status = 1;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "everything_server: %s\n", e.what());
    }
}

// Runs `runners[0]` on this thread and each other entry on a thread of its own (one
// context may appear several times: several threads run it).
template <class Transport>
int serve(const std::vector<asio::io_context*>& runners, Transport& transport, mcpsse::Dispatcher& dispatcher,
          mcpsse::Server& server, const std::function<void()>& after_run = {}) {
    int status = 0;
    asio::signal_set signals(*runners.front(), SIGINT, SIGTERM);
    // SIGTERM drains an HTTP transport (readiness turns 503, requests in flight finish,
    // then it stops); SIGINT, or a second SIGTERM, stops at once.
    std::function<void(std::error_code, int)> on_signal = [&](std::error_code ec, int signal) {
        if (ec) return;
        if constexpr (requires { transport.drain(); }) {
            if (signal == SIGTERM && !transport.draining()) {
                std::fprintf(stderr, "everything_server: draining\n");
                transport.drain();
                signals.async_wait(on_signal);
                return;
            }
        }
        mcpsse::stop_serving(server, transport);
    };
    signals.async_wait(on_signal);
    // Installs the server on the dispatcher and delivers its change notifications.
    mcpsse::async_serve(server, dispatcher, transport, [&](std::exception_ptr error) {
        report(error, status);
        signals.cancel();
        if (after_run) after_run();
    });
    std::vector<std::thread> extra;
    for (std::size_t i = 1; i < runners.size(); ++i) extra.emplace_back([io = runners[i]] { io->run(); });
    runners.front()->run();
    for (auto& thread : extra) thread.join();
    return status;
}

// What main() sets up before it picks a store: the threads and contexts, the
// dispatcher and the server.
struct Runtime {
    const Settings& settings;
    std::vector<asio::io_context*> runners;        // runners[i] is run by thread i
    std::vector<asio::any_io_executor> executors;  // one per context
    unsigned threads = 1;
    bool share_nothing = false;
    mcpsse::Dispatcher& dispatcher;
    mcpsse::Server& server;
};

// Serves HTTP (or HTTPS) with `store` as the transport's event store and session store:
// an InMemoryEventStore (move-only), or with --redis a RedisStore (a copyable handle). A
// store that can be down (it has ready()) decides readiness, and one with a connection
// (close()) is closed once the transport has stopped, so the contexts run out of work
// and the threads end.
template <class Store>
int serve_http(Runtime& rt, Store store) {
    const Settings& settings = rt.settings;
    mcpsse::SseTransportOptions http;
    http.host = settings.host;
    http.port = settings.port;
    http.sessionless = settings.sessionless;
    http.single_threaded = rt.threads == 1;  // no strands needed when one thread runs the context
    http.authorization = authorization_of(settings);
    if (settings.client_rate >= 0) http.client_limits.requests_per_second = settings.client_rate;
    if (settings.client_burst > 0) http.client_limits.request_burst = static_cast<std::size_t>(settings.client_burst);
    if (settings.client_sessions >= 0) http.client_limits.max_sessions = static_cast<std::size_t>(settings.client_sessions);
    http.client_limits.trusted_proxies = settings.trusted_proxies;
    // What load balancers and monitoring ask for (see the README's operations section).
    http.operations.health_path = "/healthz";
    http.operations.readiness_path = "/readyz";
    if constexpr (requires { store.ready(); }) {
        // Unready (503) while the shared store is unreachable: a balancer then sends
        // new requests to instances that can load and save sessions.
        http.operations.ready = [store] { return store.ready(); };
    }
    std::function<void()> close_store = [] {};
    if constexpr (requires { store.close(); }) close_store = [store]() mutable { store.close(); };
    // /stats: a snapshot of connections and sessions (session ids only on the metrics
    // listener, which operators keep private). Set once the transport exists.
    std::function<mcpsse::TransportStats()> stats;
    const auto stats_route = [&stats](bool include_sessions) {
        return mcpsse::HttpRoute{"GET", "/stats", [&stats, include_sessions](const mcpsse::HttpRequestHead&) -> asio::awaitable<mcpsse::HttpResponse> {
            mcpsse::HttpResponse response;
            response.content_type = "application/json";
            response.body = mcpsse::to_json(stats(), include_sessions).dump();
            co_return response;
        }};
    };
    http.routes.push_back(stats_route(false));
    if (settings.metrics && settings.metrics_port) http.operations.metrics = true;  // served by the listener below
    else if (settings.metrics) http.operations.metrics_path = "/metrics";
    if (settings.log_format) {
        mcpsse::AccessLogOptions log;
        log.format = *settings.log_format;
        log.level = settings.log_level;
        http.observers.push_back(std::make_shared<mcpsse::AccessLog>(std::move(log)));
    }
    // Serves on `transport` (HTTP or HTTPS).
    const auto run = [&](auto& transport, const char* scheme) {
        std::fprintf(stderr, "everything_server: listening on %s://%s:%u/mcp\n", scheme, settings.host.c_str(),
                     static_cast<unsigned>(transport.local_port()));
        stats = [&transport] { return transport.stats(); };
        if (!settings.metrics_port || !transport.metrics())
            return serve(rt.runners, transport, rt.dispatcher, rt.server, close_store);
        // Metrics on a listener of their own (no MCP endpoint there), stopped with the server.
        mcpsse::SseTransportOptions side;
        side.host = settings.host;
        side.port = *settings.metrics_port;
        side.mcp_path.clear();
        side.sse_path.clear();
        side.single_threaded = rt.threads == 1;
        side.routes.push_back(transport.metrics()->route("/metrics"));
        side.routes.push_back(stats_route(true));
        mcpsse::SseTransport<asio::any_io_executor> metrics_listener{rt.executors.front(), side};
        std::fprintf(stderr, "everything_server: metrics on http://%s:%u/metrics\n", settings.host.c_str(),
                     static_cast<unsigned>(metrics_listener.local_port()));
        mcpsse::Dispatcher none;
        metrics_listener.async_run(none, [](const std::exception_ptr&) {});
        return serve(rt.runners, transport, rt.dispatcher, rt.server, [&] {
            metrics_listener.stop();
            close_store();
        });
    };
    if (!settings.tls_cert.empty()) {
#if MCPSSE_EXAMPLE_TLS
        mcpsse::TlsOptions tls_options;
        tls_options.certificate_chain_file = settings.tls_cert;
        tls_options.private_key_file = settings.tls_key;
        const mcpsse::Tls tls{tls_options};
        using Https = mcpsse::TlsSseTransport<asio::any_io_executor, Store>;
        Https transport = rt.share_nothing ? Https{rt.executors, http, std::move(store), tls}
                                           : Https{rt.executors.front(), http, std::move(store), tls};
        return run(transport, "https");
#else
        std::fprintf(stderr, "everything_server: built without TLS (OpenSSL was not found)\n");
        close_store();
        return 2;
#endif
    }
    using Http = mcpsse::SseTransport<asio::any_io_executor, Store>;
    Http transport = rt.share_nothing ? Http{rt.executors, http, std::move(store)}
                                      : Http{rt.executors.front(), http, std::move(store)};
    return run(transport, "http");
}

}  // namespace

int main(int argc, char** argv) {
    const auto settings = parse(argc, argv);
    if (!settings) {
        usage(stderr);
        return 2;
    }
#if !MCPSSE_EXAMPLE_REDIS
    if (!settings->redis_url.empty()) {
        std::fprintf(stderr,
                     "everything_server: built without Redis support (hiredis was not found, or MCPSSE_REDIS=OFF): "
                     "--redis is unavailable\n");
        return 2;
    }
#endif
    // Threads and contexts: one context run by every thread (strands serialize each
    // connection and session), or with --share-nothing one context per thread. Made
    // first, so that they outlive the Redis store and the server's handle on it.
    const unsigned threads = settings->stdio ? 1 : settings->threads;
    const bool share_nothing = settings->share_nothing && !settings->stdio;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::io_context*> runners;
    std::vector<asio::any_io_executor> executors;
    for (unsigned i = 0; i < (share_nothing ? threads : 1); ++i) {
        contexts.push_back(std::make_unique<asio::io_context>(share_nothing ? 1 : static_cast<int>(threads)));
        executors.push_back(contexts.back()->get_executor());
    }
    for (unsigned i = 0; i < threads; ++i) runners.push_back(contexts[share_nothing ? i : 0].get());
    try {
        mcpsse::DispatcherOptions options;
        options.server_info.name = "mcpsse-everything-server";
        options.server_info.version = "1.0.0";
        options.instructions = "A test server exposing every MCP feature.";
        mcpsse::Dispatcher dispatcher{options};
        mcpsse::ServerOptions server_options;
        server_options.state_key = settings->state_key;  // empty: the Server draws a random key
#if MCPSSE_EXAMPLE_REDIS
        // --redis: one connection (on the first context) holds sessions, stored events and
        // tasks; it connects in the background (and again whenever it drops).
        std::optional<mcpsse::RedisStore> redis;
        if (!settings->redis_url.empty()) {
            mcpsse::RedisStoreOptions redis_options;
            redis_options.url = settings->redis_url;
            if (!settings->redis_prefix.empty()) redis_options.key_prefix = settings->redis_prefix;
            if (settings->instance_lease_ms != 0)
                redis_options.instance_lease_ttl = std::chrono::milliseconds(settings->instance_lease_ms);
            try {
                redis.emplace(executors.front(), std::move(redis_options));
            } catch (const std::system_error& e) {  // RedisErrc::bad_url: a usage error
                std::fprintf(stderr, "everything_server: --redis %s\n", e.what());
                return 2;
            }
            server_options.tasks.store = redis->task_store();
            server_options.subscription_store = redis->subscription_store();
        }
#endif
        mcpsse::Server server{server_options};
        add_content_tools(server);
        add_logging_and_progress_tools(server);
        add_client_request_tools(server);
        add_schema_tools(server);
        add_input_required_tools(server);
        add_stateful_input_tools(server);
        add_stateless_diagnostics(server);
        add_task_tools(server);
        add_resources(server);
        add_prompts(server);

        if (settings->stdio) {
            mcpsse::StdioTransport<asio::any_io_executor> transport{executors.front()};
            return serve(runners, transport, dispatcher, server);
        }
        Runtime runtime{*settings, runners, executors, threads, share_nothing, dispatcher, server};
#if MCPSSE_EXAMPLE_REDIS
        if (redis) {
            std::fprintf(stderr, "everything_server: sessions, events and tasks in Redis at %s\n",
                         settings->redis_url.c_str());
            return serve_http(runtime, *redis);
        }
#endif
        return serve_http(runtime, mcpsse::InMemoryEventStore{});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "everything_server: %s\n", e.what());
        return 1;
    }
}
