// Tests of include/mcpsse/json_rpc.hpp: JSON-RPC 2.0 validation, errors, serialization.
#include <mcpsse/json_rpc.hpp>

#include "support/catch.hpp"

#include <limits>
#include <string>
#include <string_view>
#include <vector>

using mcpsse::ErrorResponse;
using mcpsse::Message;
using mcpsse::Notification;
using mcpsse::Request;
using mcpsse::RequestId;
using mcpsse::Response;
using nlohmann::json;
namespace json_rpc = mcpsse::json_rpc;
namespace error_code = mcpsse::error_code;

namespace {
// Parses text expected to yield exactly one error; returns it.
ErrorResponse only_error(std::string_view text, mcpsse::ParseOptions options = {}) {
    auto parsed = json_rpc::parse_messages(text, options);
    REQUIRE(parsed.messages.empty());
    REQUIRE(parsed.errors.size() == 1);
    return parsed.errors.front();
}
}  // namespace

TEST_CASE("a request with an integer id, a method and params parses as Request") {
    auto parsed = json_rpc::parse_messages(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}})");
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.messages.size() == 1);
    const auto& request = std::get<Request>(parsed.messages[0]);
    CHECK(std::get<std::int64_t>(request.id) == 7);
    CHECK(request.method == "tools/call");
    CHECK(request.params == json{{"name", "x"}});
    CHECK_FALSE(parsed.batch);
}

TEST_CASE("string ids are kept as strings and integer ids as integers") {
    auto s = json_rpc::parse_messages(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})");
    CHECK(std::get<std::string>(std::get<Request>(s.messages.at(0)).id) == "abc");
    auto big = json_rpc::parse_messages(R"({"jsonrpc":"2.0","id":9223372036854775807,"method":"ping"})");
    CHECK(std::get<std::int64_t>(std::get<Request>(big.messages.at(0)).id) ==
          std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("a message without id is a Notification; params absent stay null") {
    auto parsed = json_rpc::parse_messages(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    const auto& n = std::get<Notification>(parsed.messages.at(0));
    CHECK(n.method == "notifications/initialized");
    CHECK(n.params.is_null());
}

TEST_CASE("responses and error responses from the client parse") {
    auto ok = json_rpc::parse_messages(R"({"jsonrpc":"2.0","id":3,"result":{"a":1}})");
    CHECK(std::get<Response>(ok.messages.at(0)).result == json{{"a", 1}});
    auto err = json_rpc::parse_messages(
        R"({"jsonrpc":"2.0","id":4,"error":{"code":-1,"message":"no","data":[1]}})");
    const auto& e = std::get<ErrorResponse>(err.messages.at(0));
    CHECK(e.code == -1);
    CHECK(e.message == "no");
    CHECK(e.data == json::array({1}));
    CHECK(std::get<std::int64_t>(*e.id) == 4);
    auto no_id = json_rpc::parse_messages(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}})");
    CHECK_FALSE(std::get<ErrorResponse>(no_id.messages.at(0)).id.has_value());
}

TEST_CASE("invalid JSON and invalid UTF-8 give -32700 without id") {
    for (std::string_view text : {std::string_view{"{"}, std::string_view{"nope"},
                                  std::string_view{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}"},
                                  std::string_view{""}}) {
        INFO(text);
        const auto error = only_error(text);
        CHECK(error.code == error_code::parse_error);
        CHECK_FALSE(error.id.has_value());
    }
}

TEST_CASE("invalid requests give -32600, with the id when it is readable") {
    struct Case { const char* text; bool has_id; };
    const Case cases[] = {
        {R"(42)", false},
        {R"({"id":1,"method":"ping"})", true},                      // no jsonrpc
        {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", true},      // wrong version
        {R"({"jsonrpc":"2.0","id":1,"method":5})", true},           // method not a string
        {R"({"jsonrpc":"2.0","id":1,"method":"x","params":3})", true},  // params scalar
        {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", false},  // null id (MCP forbids)
        {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", false},   // fractional id
        {R"({"jsonrpc":"2.0","id":true,"method":"ping"})", false},  // boolean id
        {R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})", false},  // > int64
        {R"({"jsonrpc":"2.0","id":1})", true},                      // neither method nor result
        {R"({"jsonrpc":"2.0","id":1,"result":1,"error":{}})", true},  // both
        {R"({"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}})", true},
        {R"({"jsonrpc":"2.0","result":{}})", false},                // response without id
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto error = only_error(c.text);
        CHECK(error.code == error_code::invalid_request);
        CHECK(error.id.has_value() == c.has_id);
    }
}

TEST_CASE("batches are refused unless allowed, and then validated element by element") {
    const std::string batch = R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2},5])";
    const auto refused = only_error(batch);
    CHECK(refused.code == error_code::invalid_request);
    CHECK_FALSE(refused.id.has_value());

    auto accepted = json_rpc::parse_messages(batch, {.allow_batches = true, .max_batch_size = 8});
    CHECK(accepted.batch);
    CHECK(accepted.messages.size() == 1);
    REQUIRE(accepted.errors.size() == 2);
    CHECK(std::get<std::int64_t>(*accepted.errors[0].id) == 2);
    CHECK_FALSE(accepted.errors[1].id.has_value());

    CHECK(only_error("[]", {.allow_batches = true, .max_batch_size = 8}).code == error_code::invalid_request);
    CHECK(only_error(R"([{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}])",
                     {.allow_batches = true, .max_batch_size = 1})
              .code == error_code::invalid_request);
}

namespace {
// What validate() says of the whole document: the reference the streaming read of a
// single message must agree with (same messages, same errors, same ids).
std::vector<std::string> by_document(std::string_view text) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) return {"parse error"};
    auto checked = json_rpc::validate(std::move(document));
    if (auto* message = std::get_if<Message>(&checked)) return {"message", json_rpc::serialize(*message)};
    return {"error", json_rpc::serialize(Message{std::get<ErrorResponse>(checked)})};
}

std::vector<std::string> by_stream(std::string_view text) {
    auto parsed = json_rpc::parse_messages(text);
    REQUIRE(parsed.messages.size() + parsed.errors.size() == 1);
    if (!parsed.messages.empty()) return {"message", json_rpc::serialize(parsed.messages.front())};
    const auto& e = parsed.errors.front();
    if (e.code == error_code::parse_error) return {"parse error"};
    return {"error", json_rpc::serialize(Message{e})};
}
}  // namespace

TEST_CASE("a single message read without building its object agrees with validate on the document") {
    // Duplicate members (the last wins), members of every type in every envelope
    // position, unknown members holding structures, deep params, and broken texts.
    const char* texts[] = {
        R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,{"b":null},"s",2.5,true]}}})",
        R"({"method":"ping","id":"a","jsonrpc":"2.0"})",
        R"({"jsonrpc":"2.0","id":1,"id":"two","method":"ping"})",
        R"({"jsonrpc":"2.0","id":"one","id":2,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})",
        R"({"jsonrpc":"2.0","id":[1],"method":"ping"})",
        R"({"jsonrpc":"2.0","id":1,"id":null,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":9223372036854775808,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":1e2,"method":"ping"})",
        R"({"jsonrpc":"2.0","jsonrpc":"1.0","id":1,"method":"ping"})",
        R"({"jsonrpc":"1.0","jsonrpc":"2.0","id":1,"method":"ping"})",
        R"({"jsonrpc":["2.0"],"id":1,"method":"ping"})",
        R"({"jsonrpc":2,"id":1,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":1,"method":{"name":"ping"}})",
        R"({"jsonrpc":"2.0","id":1,"method":"a","method":"b"})",
        R"({"jsonrpc":"2.0","id":1,"method":["a"],"method":"b"})",
        R"({"jsonrpc":"2.0","id":1,"method":"a","method":null})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":[1,[2,[3,[4,[5,[6,[7,[8,[9,[10,[11,[12,[13,[14,[15,[16,[17,[18]]]]]]]]]]]]]]]]]]})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1,"a":{"b":2}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1},"params":[2]})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":"s"})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":null})",
        R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}})",
        R"({"jsonrpc":"2.0","method":"x","extra":{"deep":[{"jsonrpc":"1.0","id":5,"method":3}]},"other":[[]]})",
        R"({"jsonrpc":"2.0","id":3,"result":{"a":[{}]}})",
        R"({"jsonrpc":"2.0","id":3,"result":null})",
        R"({"jsonrpc":"2.0","id":3,"result":1,"error":{"code":1,"message":"m"}})",
        R"({"jsonrpc":"2.0","id":true,"error":{"code":-32000,"message":"m","data":{"k":[1,2]}}})",
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"m"}})",
        R"({"jsonrpc":"2.0","id":4,"error":{"code":99999999999,"message":"m"}})",
        R"({"jsonrpc":"2.0","id":4,"error":{"code":1.5,"message":"m"}})",
        R"({"jsonrpc":"2.0","id":4,"error":"boom"})",
        R"({"jsonrpc":"2.0","result":{}})",
        R"({})", R"(42)", R"("text")", R"(null)", R"({"jsonrpc":"2.0"} {})", R"({"jsonrpc":"2.0",})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":)", "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\",\"method\":\"x\"}",
        R"( {"jsonrpc" : "2.0" , "id" : 1 , "method" : "ping" } )",
    };
    for (const char* text : texts) {
        INFO(text);
        CHECK(by_stream(text) == by_document(text));
    }
}

TEST_CASE("serialize writes compact JSON-RPC that parses back to the same message") {
    const Message messages[] = {
        Request{RequestId{std::int64_t{5}}, "sampling/createMessage", json{{"k", "v"}}},
        Request{RequestId{std::string{"s-1"}}, "ping", nullptr},
        Notification{"notifications/progress", json{{"progress", 1}}},
        Response{RequestId{std::int64_t{-3}}, json::object()},
        ErrorResponse{RequestId{std::string{"q"}}, -32602, "bad", json{{"why", "x"}}},
    };
    for (const auto& message : messages) {
        const std::string text = json_rpc::serialize(message);
        INFO(text);
        CHECK(text.find('\n') == std::string::npos);
        auto parsed = json_rpc::parse_messages(text);
        REQUIRE(parsed.messages.size() == 1);
        CHECK(parsed.messages[0].index() == message.index());
        CHECK(json::parse(json_rpc::serialize(parsed.messages[0])) == json::parse(text));
    }
    CHECK(json::parse(json_rpc::serialize(Request{RequestId{std::int64_t{1}}, "ping", nullptr})) ==
          json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}});
}

TEST_CASE("an error whose id could not be read omits the id member") {
    const auto text = json_rpc::serialize(ErrorResponse{std::nullopt, error_code::parse_error, "Parse error", nullptr});
    const auto value = json::parse(text);
    CHECK_FALSE(value.contains("id"));
    CHECK(value["error"]["code"] == -32700);
    CHECK_FALSE(value["error"].contains("data"));
}

TEST_CASE("serialize replaces invalid UTF-8 from the host instead of throwing") {
    std::string text;
    REQUIRE_NOTHROW(text = json_rpc::serialize(Response{RequestId{std::int64_t{1}}, json{{"t", "\xff"}}}));
    CHECK(json::parse(text)["result"]["t"] == "\xEF\xBF\xBD");
}

TEST_CASE("serialize gives each message its own text, whatever was serialized before") {
    // The serializer is reused between calls: a large value must not leak into a small one.
    const json big = {{"blob", std::string(100 * 1024, 'b')}};
    const std::string first = json_rpc::serialize(Response{RequestId{std::int64_t{1}}, big});
    const std::string second = json_rpc::serialize(Response{RequestId{std::int64_t{2}}, json{{"n", 2}}});
    const std::string third = json_rpc::serialize(Notification{"notifications/message", json{{"level", "info"}}});
    CHECK(json::parse(first)["result"] == big);
    CHECK(second == R"({"jsonrpc":"2.0","id":2,"result":{"n":2}})");
    CHECK(third == R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}})");
}

TEST_CASE("serialize_batch joins replies into one array") {
    CHECK(json::parse(json_rpc::serialize_batch({R"({"a":1})", R"({"b":2})"})) ==
          json::array({{{"a", 1}}, {{"b", 2}}}));
}

// ---- JSON limits (issue: deep JSON crashed the server) ----------------------------------------

namespace {
// A request whose params hold `levels` nested arrays: the message's depth is 2 + levels - 1
// (object, params array, its nested arrays).
std::string nested_params(std::size_t levels) {
    return R"({"jsonrpc":"2.0","id":7,"method":"x","params":)" + std::string(levels, '[') +
           std::string(levels, ']') + "}";
}
}  // namespace

TEST_CASE("JSON limits: nesting up to max_depth is accepted, one level more is a parse error naming the limit") {
    const mcpsse::ParseOptions options{.max_depth = 8};
    // The message object is level 1, params level 2: 7 levels of params reach depth 8.
    auto at_limit = json_rpc::parse_messages(nested_params(7), options);
    CHECK(at_limit.errors.empty());
    CHECK(at_limit.messages.size() == 1);
    const auto over = only_error(nested_params(8), options);
    CHECK(over.code == error_code::parse_error);
    CHECK_FALSE(over.id.has_value());
    CHECK(over.data["limit"] == "max_depth");
    CHECK(over.data["max"] == 8);
    CHECK(over.message.find("deeper than 8 levels") != std::string::npos);
    // A structure in an unread member counts as well as one in params.
    CHECK(only_error(R"({"jsonrpc":"2.0","method":"x","other":[[[[[[[[]]]]]]]]})", options).data["limit"] ==
          "max_depth");
}

TEST_CASE("JSON limits: 150,000 levels in each position are refused without recursion") {
    const std::string deep = std::string(150'000, '[') + std::string(150'000, ']');
    const std::vector<std::string> texts{
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"a":)" + deep + "}}}",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"a":)" + deep + "}}}",
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{"a":)" + deep + "}}}",
        R"({"jsonrpc":"2.0","method":"notifications/x","params":)" + deep + "}",
        R"({"jsonrpc":"2.0","id":1,"result":)" + deep + "}",
        std::string("[") + R"({"jsonrpc":"2.0","id":1,"method":"x","params":)" + deep + "}]",
        deep,
    };
    for (const auto& text : texts) {
        const auto error = only_error(text, {.allow_batches = true});
        CHECK(error.code == error_code::parse_error);
        CHECK(error.data["limit"] == "max_depth");
        CHECK(error.data["max"] == mcpsse::JsonLimits{}.max_depth);
    }
}

TEST_CASE("JSON limits: at most max_values values per text, in a message and in a batch") {
    // {"jsonrpc":"2.0","method":"x","params":[1,2,3]}: object, "2.0", "x", array, 3 numbers = 7 values.
    const std::string message = R"({"jsonrpc":"2.0","method":"x","params":[1,2,3]})";
    CHECK(json_rpc::parse_messages(message, {.max_values = 7}).messages.size() == 1);
    const auto over = only_error(message, {.max_values = 6});
    CHECK(over.code == error_code::parse_error);
    CHECK(over.data["limit"] == "max_values");
    CHECK(over.data["max"] == 6);
    // The id, jsonrpc and method members count too.
    CHECK(only_error(R"({"jsonrpc":"2.0","id":1,"method":"x"})", {.max_values = 3}).data["limit"] == "max_values");
    // A batch: the array and its two messages of 3 values each = 7.
    const std::string batch = R"([{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}])";
    CHECK(json_rpc::parse_messages(batch, {.allow_batches = true, .max_values = 7}).messages.size() == 2);
    CHECK(only_error(batch, {.allow_batches = true, .max_values = 6}).data["limit"] == "max_values");
    // The worst case for memory: many empty objects.
    std::string wide = R"({"jsonrpc":"2.0","method":"x","params":[)";
    for (int i = 0; i < 200'000; ++i) wide += i == 0 ? "{}" : ",{}";
    wide += "]}";
    CHECK(only_error(wide).data["limit"] == "max_values");
}

TEST_CASE("JSON limits: ParseOptions::with carries every JsonLimits member") {
    const mcpsse::JsonLimits limits{.max_depth = 3, .max_values = 9, .max_batch_size = 2};
    const auto options = mcpsse::ParseOptions::with(limits, true);
    CHECK(options.allow_batches);
    CHECK(options.max_depth == 3);
    CHECK(options.max_values == 9);
    CHECK(options.max_batch_size == 2);
}
